import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { SCHEMA_FILE, VALUES_DOC, VALUES_FILE, renderValuesDoc, valueRows, valuesPage } from '../scripts/values-doc.ts';
import { staleness } from '../../scripts/generated-page.ts';

/** Dotted paths of every value in values.yaml, descending into maps that have keys. */
function keysOf(value: unknown, prefix = ''): string[] {
  if (!value || typeof value !== 'object' || Array.isArray(value) || !Object.keys(value).length)
    return [prefix.slice(0, -1)];
  return Object.entries(value).flatMap(([key, child]) => keysOf(child, `${prefix}${key}.`));
}

describe('the chart values reference docs/values.md', function () {
  const valuesText = readFileSync(VALUES_FILE, 'utf8');
  const schemaText = readFileSync(SCHEMA_FILE, 'utf8');

  it('is exactly what `npm run docs:values` generates from values.yaml and values.schema.json', function () {
    expect(staleness(valuesPage)).to.equal(undefined);
  });

  it('goes stale when a comment in values.yaml changes', function () {
    const edited = valuesText.replace('# The uid varnishd runs as (never root).', '# The uid varnishd runs as.');
    expect(edited).not.to.equal(valuesText);
    expect(renderValuesDoc(edited, schemaText)).not.to.equal(readFileSync(VALUES_DOC, 'utf8'));
  });

  it('documents every value of values.yaml with its schema type, its default and a description', function () {
    const rows = valueRows(valuesText, JSON.parse(schemaText));
    const documented = new Set(rows.map((row) => row.key));
    // A value inside a documented whole (resources, a NetworkPolicy peer) is documented by it.
    const covered = (key: string) => [...documented].some((d) => key === d || key.startsWith(`${d}.`));
    const missing = keysOf(parseYaml(valuesText)).filter((key) => !covered(key));
    expect(missing, 'values without a row').to.deep.equal([]);
    const undescribed = rows.filter((row) => !row.description).map((row) => row.key);
    expect(undescribed, 'add a comment above these keys in helm/airq/values.yaml').to.deep.equal([]);
    const untyped = rows.filter((row) => !row.type).map((row) => row.key);
    expect(untyped, 'keys values.schema.json does not describe').to.deep.equal([]);
    expect(rows.find((row) => row.key === 'cache.replicas')).to.deep.include({ type: 'integer, ≥ 1', default: '`1`' });
    expect(rows.find((row) => row.key === 'api.logLevel')?.type).to.match(/^one of `fatal`, `error`, /);
  });
});
