import { expect } from 'chai';
import pg from 'pg';
import { createTestDatabase, type TestDatabase } from '../../test/support/postgres.ts';
import { databaseFailure } from '../src/middleware/problems.ts';
import { PROBLEM_BASE, PROBLEM_TYPES, type ProblemKind } from '../src/problem.ts';
import { startApp, type RunningApp } from './support/app-server.ts';
import { ContractChecker, type Document } from './support/contract.ts';
import { createFixtureDataset } from './support/fixtures.ts';

describe('the contract: every response of every route holds to the OpenAPI document the API serves', () => {
  let database: TestDatabase;
  let empty: TestDatabase;
  let api: RunningApp;
  let unseeded: RunningApp;
  let unreachable: RunningApp;
  let contract: ContractChecker;

  before(async () => {
    database = await createTestDatabase();
    empty = await createTestDatabase();
    await createFixtureDataset(database.url, { perStation: 20 });
    api = await startApp(database.url);
    unseeded = await startApp(empty.url);
    // A host name that never resolves (RFC 6761): the pool fails with ENOTFOUND, as during a database pod restart.
    unreachable = await startApp('postgres://airq:airq@db.invalid:5432/airq', { dbConnectTimeoutMs: 2000 });
    const response = await api.get('/openapi.json');
    contract = new ContractChecker((await response.json()) as Document);
  });
  after(async () => {
    await Promise.all([api?.close(), unseeded?.close(), unreachable?.close()]);
    await Promise.all([database?.drop(), empty?.drop()]);
  });

  /** Sends a request, holds the response to the document and returns it with its body. */
  async function call(
    app: RunningApp,
    url: string,
    { method = 'GET', headers = {} }: { method?: string; headers?: Record<string, string> } = {},
  ): Promise<{ response: Response; text: string }> {
    const response = await fetch(app.base + url, { method, headers });
    const text = await response.text();
    contract.check(method, url, { status: response.status, contentType: response.headers.get('content-type') }, text);
    return { response, text };
  }

  async function expectProblem(
    app: RunningApp,
    url: string,
    kind: ProblemKind,
    init: { method?: string; headers?: Record<string, string> } = {},
  ) {
    const { response, text } = await call(app, url, init);
    const body = JSON.parse(text) as { type: string; status: number };
    expect(body.type, `${url}: ${text}`).to.equal(PROBLEM_BASE + kind);
    expect(body.status).to.equal(response.status);
    if (response.status === 503) expect(response.headers.get('retry-after'), url).to.equal('5');
    return { response, body };
  }

  it('answers every route with a body its schema describes', async () => {
    const { text } = await call(api, '/air_quality?limit=2');
    const page = JSON.parse(text) as { next: string };
    await call(api, page.next);
    await call(
      api,
      '/air_quality?station=aq_01,aq_02&from=2016-10-01&to=2016-10-01T03:00:00%2B01:00&pollutants=no2&order=asc',
    );
    await call(api, '/air_quality?station=aq_01', { headers: { Accept: 'application/x-ndjson' } });
    await call(api, '/air_quality?station=aq_01', { headers: { Accept: 'text/csv' } });
    await call(api, '/air_quality?limit=1', { method: 'HEAD' });
    await call(api, '/air_quality/stations');
    await call(api, '/air_quality/stations/aq_03');
    await call(api, '/air_quality/aggregates?interval=hour&limit=3');
    await call(api, '/health/live');
    await call(api, '/health/ready');
    await call(api, '/metrics');
    await call(api, '/openapi.json');
    await call(api, '/docs');
    await call(api, '/docs/assets/start.js');
    const { text: index } = await call(api, '/');
    expect(JSON.parse(index)).to.deep.include({
      links: {
        data: '/air_quality',
        aggregates: '/air_quality/aggregates',
        stations: '/air_quality/stations',
        docs: '/docs',
        openapi: '/openapi.json',
        health: '/health/ready',
      },
    });
  });

  it('answers 304 without a body when the copy named by If-None-Match is current', async () => {
    for (const url of [
      '/air_quality?limit=5',
      '/air_quality/stations',
      '/air_quality/stations/aq_01',
      '/air_quality/aggregates?interval=day',
    ]) {
      const { response } = await call(api, url);
      const { response: again } = await call(api, url, { headers: { 'If-None-Match': response.headers.get('etag')! } });
      expect(again.status, url).to.equal(304);
    }
  });

  it('gives each kind of client error its own problem type', async () => {
    const { body } = await expectProblem(api, '/air_quality?colour=red&limit=0', 'invalid-query');
    expect(body).to.have.property('errors').with.length(2);
    await expectProblem(api, '/air_quality/aggregates', 'invalid-query');
    await expectProblem(api, '/air_quality/stations?x=1', 'invalid-query');
    await expectProblem(api, '/air_quality/stations/%01', 'invalid-query');
    await expectProblem(api, '/health/live?verbose=1', 'invalid-query');
    await expectProblem(api, '/?a=b', 'invalid-query');
    await expectProblem(api, '/air_quality/stations/nowhere', 'unknown-station');
    await expectProblem(api, '/air_quality/nothing', 'not-found');
    await expectProblem(api, '/docs/assets/secret.js', 'not-found');
    await expectProblem(api, '/docs/assets/..%2F..%2Fpackage.json', 'not-found');
    const { response } = await expectProblem(api, '/air_quality', 'method-not-allowed', { method: 'DELETE' });
    expect(response.headers.get('allow')).to.contain('GET');
    await expectProblem(api, '/health/ready', 'method-not-allowed', { method: 'POST' });
    await expectProblem(api, '/air_quality', 'not-acceptable', { headers: { Accept: 'image/png' } });
    await expectProblem(api, '/air_quality/stations', 'not-acceptable', { headers: { Accept: 'text/csv' } });
    await expectProblem(api, '/', 'not-acceptable', { headers: { Accept: 'text/html' } });
    await expectProblem(api, `/air_quality?station=${'x'.repeat(70_000)}`, 'headers-too-large');
  });

  it('answers cursor-expired (410) when a seed replaced the dataset a walk started in', async () => {
    const first = JSON.parse((await call(api, '/air_quality?limit=1')).text) as { next: string };
    const aggregates = JSON.parse((await call(api, '/air_quality/aggregates?interval=day&limit=1')).text) as {
      next: string;
    };
    await createFixtureDataset(database.url, { perStation: 5, label: 'reseeded' });
    await expectProblem(api, first.next, 'cursor-expired');
    await expectProblem(api, aggregates.next, 'cursor-expired');
  });

  it('answers no-dataset (503) before the first seed, and shutting-down from readiness while draining', async () => {
    for (const url of [
      '/air_quality',
      '/air_quality/stations',
      '/air_quality/stations/aq_01',
      '/air_quality/aggregates?interval=day',
    ]) {
      await expectProblem(unseeded, url, 'no-dataset');
    }
    await call(unseeded, '/health/ready');
    unseeded.lifecycle.shuttingDown = true;
    try {
      await expectProblem(unseeded, '/health/ready', 'shutting-down');
    } finally {
      unseeded.lifecycle.shuttingDown = false;
    }
  });

  it('answers database-unavailable (503) when the database host name does not resolve', async () => {
    await expectProblem(unreachable, '/air_quality', 'database-unavailable');
    await expectProblem(unreachable, '/health/ready', 'database-unavailable');
  });

  it('answers database-unavailable (503) when PostgreSQL refuses the connection for lack of resources (SQLSTATE 53300)', async () => {
    const role = `airq_limited_${process.pid}`;
    const admin = new pg.Client(database.url);
    await admin.connect();
    await admin.query(`CREATE ROLE ${role} LOGIN PASSWORD 'limited' CONNECTION LIMIT 0`);
    const url = new URL(database.url);
    url.username = role;
    url.password = 'limited';
    const limited = await startApp(url.toString());
    try {
      await expectProblem(limited, '/air_quality', 'database-unavailable');
    } finally {
      await limited.close();
      await admin.query(`DROP ROLE ${role}`);
      await admin.end();
    }
  });

  it('answers database-unavailable (503) when an administrator terminates the query (SQLSTATE 57P01)', async () => {
    const locker = new pg.Client(database.url);
    const admin = new pg.Client(database.url);
    await Promise.all([locker.connect(), admin.connect()]);
    try {
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE stations IN ACCESS EXCLUSIVE MODE');
      const pending = call(api, '/air_quality/stations');
      let terminated = false;
      for (let attempt = 0; attempt < 100 && !terminated; attempt++) {
        const { rows } = await admin.query<{ terminated: boolean }>(
          `SELECT pg_terminate_backend(pid) AS terminated FROM pg_stat_activity
            WHERE application_name = 'airq-api' AND wait_event_type = 'Lock' AND datname = current_database()`,
        );
        terminated = rows.some((row) => row.terminated);
        if (!terminated) await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(terminated, 'the API query never waited on the lock').to.equal(true);
      const { response, text } = await pending;
      expect(response.status, text).to.equal(503);
      expect(JSON.parse(text)).to.include({ type: `${PROBLEM_BASE}database-unavailable` });
    } finally {
      await locker.query('ROLLBACK');
      await Promise.all([locker.end(), admin.end()]);
    }
  });

  it('maps SQLSTATE classes 08, 53 and 57P and network failures to database-unavailable, 57014 to query-timeout', () => {
    const cases: [Record<string, unknown>, ReturnType<typeof databaseFailure>][] = [
      [{ code: '08000' }, 'database-unavailable'],
      [{ code: '08006' }, 'database-unavailable'],
      [{ code: '08P01' }, 'database-unavailable'],
      [{ code: '53000' }, 'database-unavailable'],
      [{ code: '53100' }, 'database-unavailable'],
      [{ code: '53200' }, 'database-unavailable'],
      [{ code: '53300' }, 'database-unavailable'],
      [{ code: '57P01' }, 'database-unavailable'],
      [{ code: '57P02' }, 'database-unavailable'],
      [{ code: '57P03' }, 'database-unavailable'],
      [{ code: '57P04' }, 'database-unavailable'],
      [{ code: '57P05' }, 'database-unavailable'],
      [{ code: '57014' }, 'query-timeout'],
      [{ code: '57000' }, null],
      [{ code: '42P01' }, null],
      [{ code: '23505' }, null],
      [{ code: '0800' }, null],
      [{ code: 'ENOTFOUND' }, 'database-unavailable'],
      [{ code: 'EAI_AGAIN' }, 'database-unavailable'],
      [{ code: 'ECONNREFUSED' }, 'database-unavailable'],
      [{ message: 'Connection terminated unexpectedly' }, 'database-unavailable'],
      [{ message: 'timeout exceeded when trying to connect' }, 'database-unavailable'],
      [{ message: 'Query read timeout' }, 'database-unavailable'],
      [{ message: 'column "x" does not exist' }, null],
      [{}, null],
    ];
    for (const [error, expected] of cases) expect(databaseFailure(error), JSON.stringify(error)).to.equal(expected);
  });

  it('answers schema-outdated (503) from readiness while the database is not migrated', async () => {
    const bare = await createTestDatabase({ migrated: false });
    const app = await startApp(bare.url);
    try {
      await expectProblem(app, '/health/ready', 'schema-outdated');
    } finally {
      await app.close();
      await bare.drop();
    }
  });

  it('answers internal-error (500) with only the request id when a query fails unexpectedly', async () => {
    const client = new pg.Client(database.url);
    await client.connect();
    await client.query('ALTER TABLE stations RENAME TO stations_moved');
    try {
      const { body } = await expectProblem(api, '/air_quality/stations', 'internal-error');
      expect(JSON.stringify(body)).to.not.match(/stations_moved|relation/);
    } finally {
      await client.query('ALTER TABLE stations_moved RENAME TO stations');
      await client.end();
    }
  });

  it('exercised every response the document declares (each shared error response at least once)', () => {
    const missing = [...contract.documented()].filter((pointer) => !contract.seen.has(pointer));
    expect(missing).to.deep.equal([]);
  });

  it('documents every problem type, each once, as a stable URI', () => {
    const problem = contract.doc.components.schemas.Problem as { properties: { type: { enum: string[] } } };
    const documented = problem.properties.type.enum;
    expect(documented).to.deep.equal(PROBLEM_TYPES.map((kind) => PROBLEM_BASE + kind));
    expect(new Set(documented).size).to.equal(PROBLEM_TYPES.length);
  });
});
