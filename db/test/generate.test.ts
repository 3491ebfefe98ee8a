import path from 'node:path';
import { expect } from 'chai';
import { readFile } from 'node:fs/promises';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { CsvToCopy } from '../src/csv-to-copy.ts';
import { GENERATE_DEFAULTS, generateCsv, type GenerateOptions } from '../src/generate.ts';
import { REPO_ROOT } from '../../test/support/repo-root.ts';

async function text(options: GenerateOptions): Promise<string> {
  let out = '';
  for await (const chunk of generateCsv(options)) out += chunk;
  return out;
}

describe('generate', () => {
  const options: GenerateOptions = { stations: 4, start: '2016-10-01', days: 3, seed: 11 };

  it('writes the same bytes for the same options and different bytes for another seed', async () => {
    const [a, b, c] = await Promise.all([text(options), text(options), text({ ...options, seed: 12 })]);
    expect(a).to.equal(b);
    expect(c).not.to.equal(a);
  });

  it('is what db/data/generated-week.csv was made from (default options)', async () => {
    expect(await text(GENERATE_DEFAULTS)).to.equal(
      await readFile(path.join(REPO_ROOT, 'db/data/generated-week.csv'), 'utf8'),
    );
  });

  it('writes one reading per station every 15 minutes, with a few ms of jitter, that the seeder accepts', async () => {
    const csv = await text(options);
    const lines = csv.trimEnd().split('\n');
    expect(lines[0]).to.equal('TimeInstant,id_entity,so2,no2,co,o3,pm10,pm2_5');
    expect(lines).to.have.length(1 + 4 * 3 * 96);
    const byStation = new Map<string, number[]>();
    for (const line of lines.slice(1)) {
      const [time, station] = line.split(',');
      const ms = Date.parse(`${time!.replace(' ', 'T')}Z`);
      byStation.set(station!, [...(byStation.get(station!) ?? []), ms]);
    }
    expect([...byStation.keys()].sort()).to.deep.equal([
      'aq_alonso_quijano',
      'aq_distrito_telefonica',
      'aq_jaen',
      'aq_salvia',
    ]);
    for (const times of byStation.values()) {
      expect(times).to.have.length(288);
      for (let i = 1; i < times.length; i++) expect(Math.abs(times[i]! - times[i - 1]! - 900_000)).to.be.lessThan(40);
    }
    const validator = new CsvToCopy('generated.csv', 20);
    await pipeline(
      (async function* () {
        yield Buffer.from(csv);
      })(),
      validator,
      new Writable({ write: (_chunk, _encoding, callback) => callback() }),
    );
    expect(validator.rows).to.equal(4 * 3 * 96);
  });

  it('has diurnal cycles, per-station offsets and occasional missing values', async () => {
    const rows = (await text({ stations: 10, start: '2016-10-01', days: 14, seed: 3 }))
      .trimEnd()
      .split('\n')
      .slice(1)
      .map((line) => line.split(','));
    const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
    const no2At = (hours: string[]) =>
      mean(rows.filter((r) => hours.includes(r[0]!.slice(11, 13)) && r[3] !== '').map((r) => Number(r[3])));
    expect(no2At(['08', '09'])).to.be.greaterThan(no2At(['20', '21']) * 1.3);
    const stationMeans = ['aq_salvia', 'aq_jaen', 'aq_uam'].map((s) =>
      mean(rows.filter((r) => r[1] === s && r[5] !== '').map((r) => Number(r[5]))),
    );
    expect(Math.max(...stationMeans) / Math.min(...stationMeans)).to.be.greaterThan(1.05);
    const missing = rows.flatMap((r) => r.slice(2)).filter((v) => v === '').length;
    expect(missing).to.be.within(1, rows.length * 6 * 0.02);
  });

  it('refuses options that cannot make a dataset, naming the flag', () => {
    expect(() => generateCsv({ ...options, start: '2016-02-30' })).to.throw(
      '--start 2016-02-30: expected a calendar date like 2016-10-01',
    );
    expect(() => generateCsv({ ...options, stations: 0 })).to.throw(
      '--stations 0: expected a whole number from 1 to 100000',
    );
    expect(() => generateCsv({ ...options, days: 0 })).to.throw('--days 0: expected a whole number from 1 to 36500');
  });
});
