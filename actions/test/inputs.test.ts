import { expect } from 'chai';
import { formatDuration, Inputs, parseDuration } from '../src/lib/inputs.ts';

describe('action inputs', function () {
  it('parses durations in ms, s, m and h, alone or combined', function () {
    const table: Array<[string, number | undefined]> = [
      ['300s', 300_000],
      ['5m', 300_000],
      ['1h30m', 5_400_000],
      ['250ms', 250],
      ['1.5s', 1500],
      [' 2m ', 120_000],
      ['5 minutes', undefined],
      ['300', undefined],
      ['5m garbage', undefined],
      ['m', undefined],
      ['', undefined],
    ];
    expect(table.map(([text]) => [text, parseDuration(text)])).to.deep.equal(table);
  });

  it('formats milliseconds the way helm accepts them', function () {
    expect([formatDuration(300_000), formatDuration(1500)]).to.deep.equal(['300s', '1500ms']);
  });

  it('reads typed values and falls back to defaults for empty inputs', function () {
    const inputs = Inputs.fromRecord({
      name: ' staging ',
      flag: 'TRUE',
      off: 'no',
      mode: 'client',
      count: '3',
      timeout: '2m',
      list: 'a, b\nc,,',
    });
    expect(inputs.required('name')).to.equal('staging');
    expect(inputs.optional('missing', 'fallback')).to.equal('fallback');
    expect([inputs.boolean('flag', false), inputs.boolean('off', true), inputs.boolean('missing', true)]).to.deep.equal(
      [true, false, true],
    );
    expect(inputs.oneOf('mode', ['false', 'client', 'server'] as const, 'false')).to.equal('client');
    expect(inputs.integer('count', 1, { min: 1 })).to.equal(3);
    expect(inputs.duration('timeout', '5m')).to.equal(120_000);
    expect(inputs.duration('missing', '5m')).to.equal(300_000);
    expect(inputs.list('list')).to.deep.equal(['a', 'b', 'c']);
  });

  it('names the input and the expected shape in every error', function () {
    const inputs = Inputs.fromRecord({ timeout: '5 minutes', flag: 'maybe', mode: 'both', count: 'three', big: '500' });
    expect(() => inputs.required('url')).to.throw('input "url" is required but was empty');
    expect(() => inputs.duration('timeout', '5m')).to.throw(
      'input "timeout": "5 minutes" is not a duration like 5m or 300s',
    );
    expect(() => inputs.boolean('flag', false)).to.throw('input "flag": "maybe" is not a boolean; use true or false');
    expect(() => inputs.oneOf('mode', ['false', 'client', 'server'], 'false')).to.throw(
      'input "mode": "both" is not one of "false", "client", "server"',
    );
    expect(() => inputs.integer('count', 1)).to.throw('input "count": "three" is not a whole number');
    expect(() => inputs.integer('big', 1, { min: 1, max: 100 })).to.throw(
      'input "big": 500 is out of range; use a number from 1 to 100',
    );
  });
});
