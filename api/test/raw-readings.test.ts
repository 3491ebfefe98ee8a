import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'chai';
import { parse } from 'csv-parse/sync';
import pg from 'pg';
import { POLLUTANTS } from '../src/domain.ts';
import { readingsPageBody, jsonNumber } from '../src/raw-readings.ts';
import { isoTime, reading, readingsPage } from '../src/shape.ts';
import { listReadings, readingsSql, type ReadingRow } from '../src/sql/measurements.ts';
import { createTestDatabase, type TestDatabase } from '../../test/support/postgres.ts';
import { startApp, type RunningApp } from './support/app-server.ts';
import { createFixtureDataset, type FixtureDataset } from './support/fixtures.ts';

// Station ids that need JSON escaping or CSV quoting, and values whose PostgreSQL text is not JavaScript's.
const STATIONS = ['plain', 'comma,id', 'quote"id', 'back\\slash', 'ünï €', 'x'.repeat(64)];
const EDGE_VALUES = [
  "so2 = 'NaN'",
  "no2 = 'Infinity'",
  'co = 1e-05',
  'o3 = 1e21',
  'pm10 = 123456789.123',
  'pm2_5 = 0.1::float8 + 0.2::float8',
  "so2 = '-0'",
  'no2 = 2.5e-300',
  'co = 1.7976931348623157e308',
  'o3 = 1e15',
  'pm10 = 0.000123',
];

describe('readings written from PostgreSQL text', () => {
  let database: TestDatabase;
  let dataset: FixtureDataset;
  let api: RunningApp;

  before(async () => {
    database = await createTestDatabase();
    dataset = await createFixtureDataset(database.url, { stations: STATIONS, perStation: 40 });
    const client = new pg.Client(database.url);
    await client.connect();
    try {
      // One edge value per reading at the newest instants, and sub-millisecond timestamps on a few others.
      for (const [i, set] of EDGE_VALUES.entries()) {
        await client.query(
          `UPDATE measurements SET ${set} WHERE dataset_id = $1 AND station_id = $2 AND measured_at = (
             SELECT max(measured_at) FROM measurements WHERE dataset_id = $1 AND station_id = $2)`,
          [dataset.id, STATIONS[i % STATIONS.length]],
        );
      }
      await client.query(
        `UPDATE measurements SET measured_at = measured_at + interval '1 microsecond' * (station_id = 'plain')::int * 123
          WHERE dataset_id = $1 AND measured_at < '2016-10-01T02:00:00Z'`,
        [dataset.id],
      );
    } finally {
      await client.end();
    }
    api = await startApp(database.url);
  });
  after(async () => {
    await api?.close();
    await database?.drop();
  });

  /** Every reading parsed the generic way: pg's float parser, then the shaping functions. */
  async function parsedRows(order: 'asc' | 'desc' = 'desc'): Promise<ReadingRow[]> {
    const filter = { stations: undefined, from: undefined, to: undefined, pollutants: [...POLLUTANTS], order };
    const { text, values } = readingsSql(dataset.id, filter, undefined, undefined);
    return (await api.db.query<ReadingRow>(text, values)).rows;
  }

  it('prints numbers as JSON.stringify prints the same double, and null for NaN, Infinity and NULL', () => {
    const cases: [string | null, string][] = [
      ['12.5', '12.5'],
      ['1e-05', '0.00001'],
      ['1e+21', '1e+21'],
      ['1e+15', '1000000000000000'],
      ['-0', '0'],
      ['NaN', 'null'],
      ['Infinity', 'null'],
      ['-Infinity', 'null'],
      [null, 'null'],
      ['', 'null'],
    ];
    for (const [text, json] of cases) {
      expect(jsonNumber(text), String(text)).to.equal(json);
      if (text)
        expect(jsonNumber(text), String(text)).to.equal(
          JSON.stringify(Number.isFinite(Number(text)) ? Number(text) : null),
        );
    }
  });

  it('writes a page byte for byte as JSON.stringify of the generically shaped rows', async () => {
    const expected = await parsedRows();
    const filter = {
      stations: undefined,
      from: undefined,
      to: undefined,
      pollutants: [...POLLUTANTS],
      order: 'desc' as const,
    };
    const raw = await listReadings(api.db, dataset.id, filter, undefined, 1000);
    const args = { version: dataset.version, order: 'desc' as const, pollutants: POLLUTANTS, next: 'next?cursor="x"' };
    expect(raw).to.have.length(expected.length);
    expect(readingsPageBody({ ...args, rows: raw }).toString('utf8')).to.equal(
      JSON.stringify(readingsPage({ ...args, rows: expected })),
    );
  });

  it('serves /air_quality with exactly that body, for every pollutant subset order given', async () => {
    const rows = await parsedRows();
    const response = await api.get('/air_quality?limit=1000');
    expect(response.headers.get('content-type')).to.equal('application/json; charset=utf-8');
    const body = await response.text();
    expect(body).to.equal(
      JSON.stringify(
        readingsPage({ version: dataset.version, order: 'desc', rows, pollutants: POLLUTANTS, next: null }),
      ),
    );
    const subset = (await (await api.get('/air_quality?limit=3&pollutants=pm2_5,so2')).json()) as {
      data: ReturnType<typeof reading>[];
    };
    expect(subset.data).to.deep.equal(rows.slice(0, 3).map((row) => reading(row, ['so2', 'pm2_5'])));
  });

  it('answers a conditional page 304 for its ETag, and a stale one exactly as an unconditional request', async () => {
    const plain = await api.get('/air_quality?limit=7&order=asc');
    const etag = plain.headers.get('etag')!;
    const body = await plain.text();
    expect((await api.get('/air_quality?limit=7&order=asc', { 'If-None-Match': etag })).status).to.equal(304);
    const stale = await api.get('/air_quality?limit=7&order=asc', { 'If-None-Match': '"old-version"' });
    expect(stale.status).to.equal(200);
    expect(await stale.text()).to.equal(body);
    for (const header of ['etag', 'link', 'x-dataset-version', 'content-type']) {
      expect(stale.headers.get(header), header).to.equal(plain.headers.get(header));
    }
  });

  it('exports NDJSON whose every line is the JSON of that reading in a page', async () => {
    const rows = await parsedRows('asc');
    const body = await (await api.get('/air_quality?order=asc', { Accept: 'application/x-ndjson' })).text();
    expect(body.endsWith('\n')).to.equal(true);
    expect(body.slice(0, -1).split('\n')).to.deep.equal(rows.map((row) => JSON.stringify(reading(row, POLLUTANTS))));
  });

  it('exports CSV that a CSV parser reads back into the same stations, instants and values', async () => {
    const rows = await parsedRows('asc');
    const body = await (await api.get('/air_quality?order=asc', { Accept: 'text/csv' })).text();
    const records = parse(body) as string[][];
    expect(records[0]).to.deep.equal(['TimeInstant', 'id_entity', ...POLLUTANTS]);
    const number = (field: string) => (field === '' ? null : Number(field));
    expect(records.slice(1).map(([time, station, ...values]) => [time, station, ...values.map(number)])).to.deep.equal(
      rows.map((row) => [
        isoTime(row.measured_at),
        row.station_id,
        ...POLLUTANTS.map((p) => (typeof row[p] === 'number' && Number.isFinite(row[p]) ? row[p] : null)),
      ]),
    );
  });

  it('exports only the header as CSV and nothing as NDJSON when no reading matches', async () => {
    expect(await (await api.get('/air_quality?station=nowhere', { Accept: 'text/csv' })).text()).to.equal(
      'TimeInstant,id_entity,so2,no2,co,o3,pm10,pm2_5\n',
    );
    expect(await (await api.get('/air_quality?station=nowhere', { Accept: 'application/x-ndjson' })).text()).to.equal(
      '',
    );
  });

  it('continues an export from a cursor and bounds it by limit, with the filter quoted into COPY', async () => {
    const stations = `station=${encodeURIComponent('quote"id')}&station=${encodeURIComponent('back\\slash')}`;
    const first = (await (await api.get(`/air_quality?order=asc&limit=5&${stations}`)).json()) as {
      data: unknown[];
      next: string;
    };
    const page2 = (await (await api.get(first.next)).json()) as { data: unknown[] };
    const exported = await (await api.get(first.next, { Accept: 'application/x-ndjson' })).text();
    expect(
      exported
        .trimEnd()
        .split('\n')
        .map((line) => JSON.parse(line) as unknown),
    ).to.deep.equal(page2.data);
  });

  it('ends the COPY and frees its connection when the client hangs up mid-export', async () => {
    const admin = new pg.Client(database.url);
    await admin.connect();
    try {
      await admin.query(
        `INSERT INTO measurements (dataset_id, station_id, measured_at, no2)
         SELECT $1::bigint, 'bulk', '2020-01-01T00:00:00Z'::timestamptz + n * interval '1 second', n
           FROM generate_series(1, 300000) n`,
        [dataset.id],
      );
      const port = new URL(api.base).port;
      await new Promise<void>((resolve, reject) => {
        const request = http.get(
          { host: '127.0.0.1', port, path: '/air_quality', headers: { Accept: 'application/x-ndjson' } },
          (res) => {
            res.once('data', () => {
              // Read nothing more: the server stalls on backpressure, then sees the hang-up.
              res.pause();
              setTimeout(() => {
                request.destroy();
                resolve();
              }, 200);
            });
          },
        );
        request.on('error', (error) =>
          (error as { code?: string }).code === 'ECONNRESET' ? undefined : reject(error),
        );
      });
      let copies = -1;
      for (let i = 0; i < 100 && copies !== 0; i++) {
        await sleep(100);
        const { rows } = await admin.query<{ n: number }>(
          "SELECT count(*)::int AS n FROM pg_stat_activity WHERE query LIKE 'COPY (SELECT measured_at%' AND pid <> pg_backend_pid()",
        );
        copies = rows[0]!.n;
      }
      expect(copies, 'COPY statements still running after the client left').to.equal(0);
      expect(api.db.totalCount - api.db.idleCount, 'pool connections still checked out').to.equal(0);
    } finally {
      await admin.query("DELETE FROM measurements WHERE station_id = 'bulk'");
      await admin.end();
    }
  });
});
