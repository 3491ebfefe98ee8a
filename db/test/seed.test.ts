import { expect } from 'chai';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo, type Server } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { REPO_ROOT } from '../../test/support/repo-root.ts';
import {
  BUNDLED_DATASET,
  InvalidInputError,
  UsageError,
  seed,
  seedBundledWhenEmpty,
  type SeedOptions,
} from '../src/seed.ts';
import { createTestDatabase, type TestDatabase } from '../../test/support/postgres.ts';

const HEADER = 'TimeInstant,id_entity,so2,no2,co,o3,pm10,pm2_5';
const GENERATED_WEEK = path.join(REPO_ROOT, 'db', 'data', 'generated-week.csv');

/** A valid reading line for `station` at minute `minute` of 2016-10-01. */
function reading(station: string, minute: number, no2 = '48.5'): string {
  const hh = String(Math.floor(minute / 60)).padStart(2, '0');
  const mm = String(minute % 60).padStart(2, '0');
  return `2016-10-01 ${hh}:${mm}:00.004,${station},6.8,${no2},0.65,48.4,20.1,9.1`;
}

interface DatabaseState {
  active: { id: string; sha256: string } | undefined;
  measurements: number;
  statuses: string[];
  strayTables: string[];
}

describe('seed', () => {
  let db: TestDatabase;
  let dir: string;
  let client: pg.Client;
  let counter = 0;

  async function csv(content: string, name = `case-${++counter}.csv`): Promise<string> {
    const file = path.join(dir, name);
    await writeFile(file, content);
    return file;
  }

  const run = (file: string, options: Partial<SeedOptions> = {}) => seed({ databaseUrl: db.url, file, ...options });

  async function state(): Promise<DatabaseState> {
    const active = (await client.query(`SELECT id::text, sha256 FROM datasets WHERE status = 'active'`)).rows[0];
    const measurements = Number((await client.query('SELECT count(*) FROM measurements')).rows[0].count);
    const statuses = (await client.query('SELECT status FROM datasets ORDER BY id')).rows.map((r) => r.status);
    const strayTables = (
      await client.query(
        `SELECT relname FROM pg_class WHERE relkind = 'r' AND NOT relispartition AND relname ~ '^measurements_[0-9]+$'`,
      )
    ).rows.map((r) => r.relname);
    return { active, measurements, statuses, strayTables };
  }

  /** Seeds `content`, expects it refused with exactly `problems`, and checks that nothing changed. */
  async function expectRefused(
    content: string,
    problems: (file: string) => string[],
    options: Partial<SeedOptions> = {},
  ) {
    const file = await csv(content);
    const before = await state();
    let error: unknown;
    try {
      await run(file, options);
    } catch (caught) {
      error = caught;
    }
    expect(error, 'the seed should fail').to.be.instanceOf(InvalidInputError);
    expect((error as InvalidInputError).problems).to.deep.equal(problems(file));
    const after = await state();
    expect(after.active).to.deep.equal(before.active);
    expect(after.measurements).to.equal(before.measurements);
    expect(after.strayTables).to.deep.equal([]);
    expect(after.statuses).not.to.include('loading');
  }

  before(async () => {
    db = await createTestDatabase();
    dir = await mkdtemp(path.join(os.tmpdir(), 'airq-seed-'));
    client = new pg.Client(db.url);
    await client.connect();
    // Every refusal below must leave this dataset serving.
    const first = await run(await csv([HEADER, reading('aq_salvia', 0), reading('aq_jaen', 0)].join('\n') + '\n'));
    expect(first.status).to.equal('loaded');
  });

  after(async () => {
    await client?.end();
    await db?.drop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  describe('refuses bad input, names file, line, column and value, and changes nothing', () => {
    it('refuses a header with a missing column', async () => {
      await expectRefused(`TimeInstant,id_entity,so2,co,o3,pm10,pm2_5\n${reading('a', 0)}\n`, (f) => [
        `${f}:1: header must name the columns ${HEADER}: missing "no2"`,
      ]);
    });

    it('refuses a header with an extra column', async () => {
      await expectRefused(`${HEADER},nh3\n${reading('a', 0)},1\n`, (f) => [
        `${f}:1: header must name the columns ${HEADER}: unexpected "nh3"`,
      ]);
    });

    it('refuses a header with a misspelt column', async () => {
      await expectRefused(`TimeInstant,id_entity,so2,no2,co,o3,pm10,pm25\n${reading('a', 0)}\n`, (f) => [
        `${f}:1: header must name the columns ${HEADER}: missing "pm2_5"; unexpected "pm25"`,
      ]);
    });

    it('refuses lines with too few or too many columns', async () => {
      await expectRefused(
        `${HEADER}\n${reading('a', 0)}\n2016-10-01 00:15:00.000,a,1,2\n${reading('a', 30)},7\n`,
        (f) => [`${f}:3: expected 8 columns (${HEADER}), found 4`, `${f}:4: expected 8 columns (${HEADER}), found 9`],
      );
    });

    it('refuses unparseable and impossible timestamps', async () => {
      const lines = [
        HEADER,
        'yesterday,a,1,2,3,4,5,6',
        '2016-02-30 00:00:00.000,a,1,2,3,4,5,6',
        '2016-10-01 25:00:00.000,a,1,2,3,4,5,6',
      ];
      await expectRefused(lines.join('\n'), (f) => [
        `${f}:2: column "TimeInstant": "yesterday" is not a timestamp like 2016-10-01 00:15:00.012`,
        `${f}:3: column "TimeInstant": "2016-02-30 00:00:00.000" is not a real date: February 2016 has 29 days`,
        `${f}:4: column "TimeInstant": "2016-10-01 25:00:00.000" is not a real time of day: expected 00:00:00 to 23:59:59`,
      ]);
    });

    it('refuses non-numeric values', async () => {
      await expectRefused(`${HEADER}\n${reading('a', 0)}\n${reading('a', 15, 'abc')}\n`, (f) => [
        `${f}:3: column "no2": "abc" is not a number`,
      ]);
    });

    it('refuses NaN and Infinity', async () => {
      await expectRefused(`${HEADER}\n2016-10-01 00:00:00.000,a,NaN,1,1,1,1,Infinity\n`, (f) => [
        `${f}:2: column "so2": "NaN" is not a finite number`,
        `${f}:2: column "pm2_5": "Infinity" is not a finite number`,
      ]);
    });

    it('refuses negative values', async () => {
      await expectRefused(`${HEADER}\n${reading('a', 0, '-3.2')}\n`, (f) => [
        `${f}:2: column "no2": "-3.2" is negative; concentrations cannot be below zero`,
      ]);
    });

    it('refuses an empty station id', async () => {
      await expectRefused(`${HEADER}\n${reading('', 0)}\n`, (f) => [
        `${f}:2: column "id_entity": the station id is empty`,
      ]);
    });

    it('refuses a repeated station and time, naming both lines', async () => {
      const lines = [HEADER, reading('a', 0), reading('b', 0), reading('a', 15), reading('a', 0, '50')];
      await expectRefused(lines.join('\n'), (f) => [
        `${f}:5: station "a" at 2016-10-01 00:00:00.004 (UTC) repeats line 2; keep one reading per station and time`,
      ]);
    });

    it('names the right lines of repeats after blank lines and a quoted record', async () => {
      const lines = [
        HEADER,
        '',
        reading('b', 0),
        '2016-10-01 00:00:00.004,"c d",1,2,3,4,5,6',
        '',
        reading('b', 0),
        reading('e', 0),
        reading('b', 0),
      ];
      await expectRefused(lines.join('\r\n'), (f) => [
        `${f}:6: station "b" at 2016-10-01 00:00:00.004 (UTC) repeats line 3; keep one reading per station and time`,
        `${f}:8: station "b" at 2016-10-01 00:00:00.004 (UTC) repeats line 3; keep one reading per station and time`,
      ]);
    });

    it('refuses station ids the API could not be asked for: a line break inside quotes, a NUL', async () => {
      const lines = [
        HEADER,
        '',
        reading('a', 0),
        reading('a\u0000b', 0),
        '2016-10-01 00:00:00.004,"c',
        'd",1,2,3,4,5,6',
      ];
      await expectRefused(lines.join('\n'), (f) => [
        `${f}:4: column "id_entity": "a\\u0000b": contains control characters or invalid UTF-8`,
        `${f}:5: column "id_entity": "c\\nd": contains control characters or invalid UTF-8`,
      ]);
    });

    it('refuses an empty file', async () => {
      await expectRefused('', (f) => [
        `${f}: the file is empty; expected the header ${HEADER} and one reading per line`,
      ]);
    });

    it('refuses a file with only the header', async () => {
      await expectRefused(`\ufeff${HEADER}\r\n`, (f) => [
        `${f}: the file has a header but no readings; expected one line per station and time`,
      ]);
    });

    it('refuses an unterminated quoted field', async () => {
      await expectRefused(`${HEADER}\n${reading('a', 0)}\n2016-10-01 00:15:00.000,"a,1,2,3,4,5,6\n`, (f) => [
        `${f}:3: malformed CSV: Quote Not Closed: the parsing is finished with an opening quote`,
      ]);
    });

    it('refuses a stray quote inside an unquoted field', async () => {
      await expectRefused(`${HEADER}\n2016-10-01 00:00:00.000,aq"x,1,2,3,4,5,6\n${reading('a', 15)}\n`, (f) => [
        `${f}:2: malformed CSV: Invalid Opening Quote: a quote is found on field 1, value is "aq"`,
      ]);
    });

    it('reports every problem up to --max-errors, then stops', async () => {
      const lines = [HEADER, ...Array.from({ length: 10 }, (_, i) => reading('a', i * 15, 'x'))];
      await expectRefused(
        lines.join('\n'),
        (f) => [2, 3, 4].map((line) => `${f}:${line}: column "no2": "x" is not a number`),
        { maxErrors: 3 },
      );
    });

    it('refuses a file that does not exist', async () => {
      const file = path.join(dir, 'missing.csv');
      let error: unknown;
      await run(file).catch((caught) => (error = caught));
      expect((error as InvalidInputError).problems).to.deep.equal([
        `${file}: cannot read it (ENOENT); pass --file with the path of a CSV file`,
      ]);
    });

    it('refuses a time zone that is not an IANA name', async () => {
      let error: unknown;
      await run(BUNDLED_DATASET, { timezone: 'Mars/Olympus' }).catch((caught) => (error = caught));
      expect(error).to.be.instanceOf(UsageError);
      expect((error as Error).message).to.equal(
        '--timezone "Mars/Olympus": unknown time zone; use an IANA name such as UTC or Europe/Madrid',
      );
    });
  });

  describe('accepts the variations real files have', () => {
    it('loads a file with a BOM, CRLF, quoted fields, empty values and no final newline', async () => {
      const content =
        `\ufeff${HEADER}\r\n` +
        `2016-10-01 00:00:00.004,"aq_salvia",6.8,"48.5",,48.4,20.1,9.1\r\n` +
        `\r\n` +
        `2016-10-01 00:00:00.006,"aq ""jaen"", north",5.4,51.7,0.73,48.4,16.6,9.49`;
      const result = await run(await csv(content));
      expect(result).to.include({ status: 'loaded', rows: 2, stations: 2 });
      const { rows } = await client.query(
        `SELECT station_id, co, no2, measured_at FROM measurements WHERE dataset_id = $1 ORDER BY measured_at`,
        [result.datasetId],
      );
      expect(rows.map((r) => [r.station_id, r.co, r.no2])).to.deep.equal([
        ['aq_salvia', null, 48.5],
        ['aq "jaen", north', 0.73, 51.7],
      ]);
      expect(rows[1].measured_at.toISOString()).to.equal('2016-10-01T00:00:00.006Z');
    });

    it('reads zoneless timestamps in the given time zone, keeping milliseconds', async () => {
      const result = await run(await csv(`${HEADER}\n2016-10-01 00:15:00.012,a,1,1,1,1,1,1\n`), {
        timezone: 'Europe/Madrid',
      });
      expect(result.firstAt?.toISOString()).to.equal('2016-09-30T22:15:00.012Z');
    });
  });

  describe('switching datasets', () => {
    it('activates a new dataset in one step, retires the old one and drops its rows', async () => {
      const before = await state();
      const result = await run(await csv([HEADER, reading('x', 0), reading('y', 0), reading('x', 15)].join('\n')));
      expect(result).to.include({ status: 'loaded', rows: 3, stations: 2 });
      expect(result.version).to.equal(result.sha256.slice(0, 12));
      const after = await state();
      expect(after.active?.id).to.equal(result.datasetId);
      expect(after.measurements).to.equal(3);
      const { rows } = await client.query(`SELECT status FROM datasets WHERE id = $1`, [before.active!.id]);
      expect(rows[0].status).to.equal('retired');
      const partitions = await client.query(
        `SELECT inhrelid::regclass::text AS name FROM pg_inherits WHERE inhparent = 'measurements'::regclass`,
      );
      expect(partitions.rows.map((r) => r.name)).to.deep.equal([`measurements_${result.datasetId}`]);
      const stations = await client.query(`SELECT id FROM stations WHERE dataset_id = $1 ORDER BY id`, [
        result.datasetId,
      ]);
      expect(stations.rows.map((r) => r.id)).to.deep.equal(['x', 'y']);
    });

    it('does nothing, and says so, when the file is already the active dataset', async () => {
      const file = await csv([HEADER, reading('z', 0)].join('\n'));
      const loaded = await run(file);
      const before = await state();
      const again = await run(file);
      expect(again).to.include({ status: 'already-active', datasetId: loaded.datasetId, rows: 1, stations: 1 });
      expect(await state()).to.deep.equal(before);
    });

    it('loads a file once when two seeders start together; the other reports it already loaded', async () => {
      const file = await csv([HEADER, reading('p', 0), reading('q', 0)].join('\n'));
      const results = await Promise.all([run(file), run(file)]);
      expect(results.map((r) => r.status).sort()).to.deep.equal(['already-active', 'loaded']);
      expect(results[0]!.datasetId).to.equal(results[1]!.datasetId);
      const { rows } = await client.query(`SELECT count(*)::int AS n FROM datasets WHERE sha256 = $1`, [
        results[0]!.sha256,
      ]);
      expect(rows[0].n).to.equal(1);
    });

    it('waits out a reader that holds measurements longer than the lock timeout, then switches', async function () {
      this.timeout(30_000);
      const reader = new pg.Client(db.url);
      await reader.connect();
      try {
        await reader.query('BEGIN');
        await reader.query('SELECT count(*) FROM measurements');
        const seeding = run(await csv([HEADER, reading('slow-reader', 0)].join('\n')));
        // Longer than one 3 s lock timeout: the first switch attempt gives up, a later one succeeds.
        await new Promise((resolve) => setTimeout(resolve, 4_000));
        await reader.query('COMMIT');
        const result = await seeding;
        expect(result.status).to.equal('loaded');
        expect((await state()).active?.id).to.equal(result.datasetId);
      } finally {
        await reader.end();
      }
    });

    it('switches while a slow reader holds the old dataset, never making other readers queue, and drops the old table later', async function () {
      this.timeout(60_000);
      const reader = new pg.Client(db.url);
      await reader.connect();
      const probe = new pg.Client(db.url);
      await probe.connect();
      // A reader that would queue behind a waiting exclusive lock fails here instead of stalling.
      await probe.query(`SET lock_timeout = '1s'`);
      try {
        await reader.query('BEGIN');
        await reader.query('SELECT count(*) FROM measurements');
        let seeded = false;
        const seeding = run(await csv([HEADER, reading('slow-reader-2', 0)].join('\n'))).finally(() => (seeded = true));
        const probeErrors: string[] = [];
        let probes = 0;
        while (!seeded) {
          await probe
            .query(
              `SELECT count(*) FROM measurements WHERE dataset_id = (SELECT id FROM datasets WHERE status = 'active')`,
            )
            .then(
              () => probes++,
              (error: Error) => probeErrors.push(error.message),
            );
        }
        const result = await seeding;
        expect(result.status, 'seeded while the slow reader is still reading').to.equal('loaded');
        expect(probeErrors).to.deep.equal([]);
        expect(probes).to.be.greaterThan(0);
        expect((await state()).active?.id).to.equal(result.datasetId);
        await reader.query('COMMIT');
        const next = await run(await csv([HEADER, reading('after-slow-reader', 0)].join('\n')));
        const partitions = await client.query(
          `SELECT inhrelid::regclass::text AS name FROM pg_inherits WHERE inhparent = 'measurements'::regclass`,
        );
        expect(partitions.rows.map((r) => r.name)).to.deep.equal([`measurements_${next.datasetId}`]);
      } finally {
        await reader.end();
        await probe.end();
      }
    });

    it('cleans up after a switch that fails: no loading dataset, no table left', async function () {
      this.timeout(90_000);
      const blocker = new pg.Client(db.url);
      await blocker.connect();
      const before = await state();
      try {
        // Conflicts with ATTACH PARTITION (but not with readers): every switch attempt times out.
        await blocker.query('BEGIN');
        await blocker.query('LOCK TABLE measurements IN SHARE UPDATE EXCLUSIVE MODE');
        const failure = await run(await csv([HEADER, reading('never-switched', 0)].join('\n'))).then(
          () => undefined,
          (error: { code?: string }) => error,
        );
        expect(failure?.code).to.equal('55P03');
      } finally {
        await blocker.query('ROLLBACK');
        await blocker.end();
      }
      const after = await state();
      expect(after.active).to.deep.equal(before.active);
      expect(after.measurements).to.equal(before.measurements);
      expect(after.strayTables).to.deep.equal([]);
      expect(after.statuses).to.not.include('loading');
    });

    it('loads the bundled dataset, the public source file as it is: 960 rows, 10 stations, one day', async () => {
      const result = await run(BUNDLED_DATASET);
      expect(result).to.include({ status: 'loaded', rows: 960, stations: 10 });
      expect(result.firstAt?.toISOString()).to.equal('2016-10-01T00:00:00.004Z');
      expect(result.lastAt?.toISOString()).to.equal('2016-10-01T23:45:00.031Z');
      expect((await run(BUNDLED_DATASET)).status).to.equal('already-active');
    });

    it('loads the generated week as another dataset: 6,720 rows, 10 stations', async () => {
      const result = await run(GENERATED_WEEK);
      expect(result).to.include({ status: 'loaded', rows: 6720, stations: 10 });
    });

    it('seeds the bundled dataset for the embedded default only when no dataset is active', async () => {
      const other = await run(await csv([HEADER, reading('kept', 0)].join('\n')));
      expect(await seedBundledWhenEmpty(db.url)).to.equal(undefined);
      expect((await state()).active?.id).to.equal(other.datasetId);
      const empty = await createTestDatabase();
      try {
        const result = await seedBundledWhenEmpty(empty.url);
        expect(result).to.include({ status: 'loaded', rows: 960, stations: 10 });
      } finally {
        await empty.drop();
      }
    });
  });

  describe('cache notification', () => {
    let server: Server;
    let requests: { method: string; url: string; headers: Record<string, string> }[];
    let status = 200;
    let url: string;

    before(async () => {
      // Node's HTTP parser refuses methods it does not know, BAN among them (Varnish accepts any): read the
      // request head by hand.
      server = createServer((socket) => {
        let head = '';
        socket.on('data', (chunk) => {
          head += chunk;
          if (!head.includes('\r\n\r\n')) return;
          const [requestLine, ...headerLines] = head.split('\r\n\r\n')[0]!.split('\r\n');
          const [method, target] = requestLine!.split(' ');
          const headers = Object.fromEntries(
            headerLines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]),
          );
          requests.push({ method: method!, url: target!, headers });
          const reason = status === 200 ? 'OK' : 'Internal Server Error';
          socket.end(`HTTP/1.1 ${status} ${reason}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
        });
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    });
    beforeEach(() => {
      requests = [];
    });
    after(() => new Promise<void>((resolve) => server.close(() => resolve())));

    it('sends BAN with the token and the new dataset version once the dataset is active', async () => {
      status = 200;
      const result = await run(await csv([HEADER, reading('n1', 0)].join('\n')), { notify: { url, token: 's3cret' } });
      expect(result.notification).to.deep.equal({ ok: true, message: `cache notified: BAN ${url} answered 200` });
      expect(requests).to.have.length(1);
      expect(requests[0]).to.deep.include({ method: 'BAN', url: '/' });
      expect(requests[0]!.headers['x-ban-token']).to.equal('s3cret');
      expect(requests[0]!.headers['x-dataset-version']).to.equal(result.version);
    });

    it('reports a failed notification but keeps the new dataset active', async () => {
      status = 500;
      const result = await run(await csv([HEADER, reading('n2', 0)].join('\n')), {
        notify: { url, token: 's3cret', attempts: 2, retryDelayMs: 10 },
      });
      expect(result.status).to.equal('loaded');
      expect(result.notification?.ok).to.equal(false);
      expect(result.notification?.message).to.equal(
        `cache not notified: BAN ${url} answered 500 Internal Server Error after 2 attempt(s); the new dataset is active, ` +
          'but cached responses of the previous one may be served until they expire: check CACHE_BAN_URL and CACHE_BAN_TOKEN',
      );
      expect(requests).to.have.length(2);
      expect((await state()).active?.id).to.equal(result.datasetId);
    });
  });
});
