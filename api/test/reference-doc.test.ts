import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { DOCS_API, END, START, renderReference, withReference } from '../src/reference-doc.ts';

describe('docs/api.md', () => {
  it('holds the reference rendered from the current contract (npm run docs:api rewrites it)', () => {
    const page = readFileSync(DOCS_API, 'utf8');
    expect(page, 'docs/api.md is stale: run npm run docs:api').to.equal(withReference(page, renderReference()));
  });

  it('lists every route, parameter and problem type of the OpenAPI document', () => {
    const section = renderReference();
    for (const text of [
      '`/air_quality/aggregates`',
      '`interval`',
      '`pollutants`',
      'problems/database-unavailable',
      'problems/cursor-expired',
    ]) {
      expect(section).to.contain(text);
    }
  });

  it('refuses a page that lost its markers, naming them', () => {
    expect(() => withReference('# no markers', renderReference()))
      .to.throw(Error)
      .with.property('message')
      .that.contains(START)
      .and.contains(END);
  });
});
