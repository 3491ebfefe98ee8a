import { expect } from 'chai';
import { staleness } from '../../scripts/generated-page.ts';
import { END, START, apiPage, renderReference, withReference } from '../scripts/reference-doc.ts';

describe('docs/api.md', () => {
  it('holds the reference rendered from the current contract (npm run docs:api rewrites it)', () => {
    expect(staleness(apiPage)).to.equal(undefined);
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
