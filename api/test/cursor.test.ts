import { createHmac } from 'node:crypto';
import { expect } from 'chai';
import { createTestDatabase, type TestDatabase } from '../../test/support/postgres.ts';
import { queryDigest } from '../src/cursor.ts';
import { POLLUTANTS } from '../src/domain.ts';
import { filterKey } from '../src/pagination.ts';
import { startApp, type RunningApp } from './support/app-server.ts';
import { createFixtureDataset } from './support/fixtures.ts';

const KEY = 'a-test-cursor-key-of-at-least-32-characters';
const PAGE = '/air_quality?limit=2&station=aq_01';
const DIGEST = queryDigest(
  filterKey({ stations: ['aq_01'], from: undefined, to: undefined, pollutants: [...POLLUTANTS], order: 'desc' }),
);

/** A cursor as the API builds one, from arbitrary decoded values, sealed with `key`. */
function forge(values: unknown, key: string): string {
  const payload = Buffer.from(JSON.stringify(values)).toString('base64url');
  return `${payload}.${createHmac('sha256', key).update(payload).digest('base64url').slice(0, 22)}`;
}

describe('page cursors', () => {
  let database: TestDatabase;
  let api: RunningApp;
  let version: string;

  before(async () => {
    database = await createTestDatabase();
    ({ version } = await createFixtureDataset(database.url, { perStation: 20 }));
    api = await startApp(database.url, { cursorKey: KEY });
  });
  after(async () => {
    await api?.close();
    await database?.drop();
  });

  async function status(cursor: string): Promise<{ status: number; param?: string }> {
    const response = await api.get(`${PAGE}&cursor=${encodeURIComponent(cursor)}`);
    const body = (await response.json()) as { errors?: { param: string }[] };
    return { status: response.status, param: body.errors?.[0]?.param };
  }

  it('refuses a cursor sealed with the key that used to be a constant in the source, whatever it holds', async () => {
    expect(
      await status(forge(['2016-13-45 99:99:99+00', 'aq_01', DIGEST, version], 'airq-keyset-cursor-v1')),
    ).to.deep.equal({
      status: 400,
      param: 'cursor',
    });
  });

  it('answers 400, never a database error, for a validly sealed cursor holding impossible values', async () => {
    const bad = [
      ['2016-13-45 99:99:99+00', 'aq_01', DIGEST, version],
      ['2016-02-30 00:00:00+00', 'aq_01', DIGEST, version],
      ['0000-01-01 00:00:00+00', 'aq_01', DIGEST, version],
      ['2016-10-01 00:00:00+00', 'aq\u0000_01', DIGEST, version],
      ['2016-10-01 00:00:00+00', 'x'.repeat(201), DIGEST, version],
      ['2016-10-01 00:00:00+00', '', DIGEST, version],
      [20161001, 'aq_01', DIGEST, version],
      ['2016-10-01 00:00:00+00', 'aq_01', DIGEST],
      ['2016-10-01 00:00:00+00', 'aq_01', DIGEST, 'not-a-version'],
      { at: '2016-10-01 00:00:00+00' },
    ];
    for (const values of bad) {
      expect(await status(forge(values, KEY)), JSON.stringify(values)).to.deep.equal({ status: 400, param: 'cursor' });
    }
    expect((await status(forge(['2016-10-01 05:00:00.012+00', 'aq_01', DIGEST, version], KEY))).status).to.equal(200);
  });

  it('answers 410 saying the data changed when a seed replaced the dataset midway through a walk, for readings and aggregates', async () => {
    const readings = (await (await api.get(PAGE)).json()) as { next: string };
    const aggregates = (await (await api.get('/air_quality/aggregates?interval=hour&limit=2')).json()) as {
      next: string;
    };
    expect((await api.get(readings.next)).status).to.equal(200);
    const replaced = await createFixtureDataset(database.url, { perStation: 20, label: 'reseeded' });
    try {
      for (const next of [readings.next, aggregates.next]) {
        const response = await api.get(next);
        const body = (await response.json()) as { status: number; detail: string };
        expect(response.status, next).to.equal(410);
        expect(response.headers.get('content-type')).to.equal('application/problem+json');
        expect(body.detail).to.equal(
          `the data changed since this cursor was issued: dataset ${version} was replaced by ${replaced.version}; ` +
            'start the walk again from the first page (the same query without cursor)',
        );
      }
      const again = (await (await api.get(PAGE)).json()) as { next: string; dataset: { version: string } };
      expect(again.dataset.version).to.equal(replaced.version);
      expect((await api.get(again.next)).status).to.equal(200);
    } finally {
      version = replaced.version;
    }
  });

  it('is accepted by a replica sharing CURSOR_KEY and refused by one with another key', async () => {
    const page = (await (await api.get(PAGE)).json()) as { next: string };
    const replica = await startApp(database.url, { cursorKey: KEY });
    const stranger = await startApp(database.url);
    try {
      expect((await replica.get(page.next)).status).to.equal(200);
      expect((await stranger.get(page.next)).status).to.equal(400);
    } finally {
      await replica.close();
      await stranger.close();
    }
  });
});
