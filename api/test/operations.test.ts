import { spawnSync } from 'node:child_process';
import Router from '@koa/router';
import { Validator } from '@seriousme/openapi-schema-validator';
import { expect } from 'chai';
import pg from 'pg';
import { migrate } from '../../db/src/migrate.ts';
import { createTestDatabase, type TestDatabase } from '../../test/support/postgres.ts';
import { ConfigError, loadConfig } from '../src/config.ts';
import { ROUTE_MODULES } from '../src/app.ts';
import { aggregatesQuery, readingsQuery } from '../src/contract.ts';
import { POLLUTANTS, type ReadingFilter } from '../src/domain.ts';
import { ROUTES } from '../src/openapi.ts';
import { readConsistently, type RouteDeps } from '../src/routes/deps.ts';
import { activeDataset } from '../src/sql/datasets.ts';
import { listReadings } from '../src/sql/measurements.ts';
import { startApp, type RunningApp } from './support/app-server.ts';
import { createFixtureDataset } from './support/fixtures.ts';

type Doc = {
  paths: Record<
    string,
    Record<string, { parameters: { name: string; in: string }[]; responses: Record<string, unknown> }>
  >;
};

describe('API operations: readiness, OpenAPI, configuration, internal errors', () => {
  let database: TestDatabase;
  let api: RunningApp;

  before(async () => {
    database = await createTestDatabase({ migrated: false });
    api = await startApp(database.url, { appVersion: '1.2.3' });
  });
  after(async () => {
    await api?.close();
    await database?.drop();
  });

  describe('readiness', () => {
    it('is 503 naming the migrate command while the database is not migrated, but liveness is 200', async () => {
      const ready = await api.get('/health/ready');
      expect(ready.status).to.equal(503);
      expect(ready.headers.get('content-type')).to.equal('application/problem+json');
      expect(ready.headers.get('cache-control')).to.equal('no-store');
      expect(((await ready.json()) as { detail: string }).detail).to.contain('db/src/cli.ts migrate');
      const live = await api.get('/health/live');
      expect(live.status).to.equal(200);
      expect(await live.json()).to.include({ status: 'live', version: '1.2.3' });
    });

    it('is 200 with dataset null once migrated, while data endpoints answer 503 until a dataset is seeded', async () => {
      await migrate(database.url);
      const ready = await api.get('/health/ready');
      expect(ready.status).to.equal(200);
      expect(await ready.json()).to.include({ status: 'ready', version: '1.2.3', dataset: null });
      const data = await api.get('/air_quality');
      expect(data.status).to.equal(503);
      expect(data.headers.get('retry-after')).to.equal('5');
      expect(((await data.json()) as { detail: string }).detail).to.contain('seed');
    });

    it('names the active dataset once one is seeded', async () => {
      const dataset = await createFixtureDataset(database.url, { perStation: 4 });
      expect(await (await api.get('/health/ready')).json()).to.include({ dataset: dataset.version });
      expect((await api.get('/air_quality')).status).to.equal(200);
    });

    it('is 503 from the moment shutdown begins while data is still served', async () => {
      api.lifecycle.shuttingDown = true;
      try {
        const ready = await api.get('/health/ready');
        expect(ready.status).to.equal(503);
        expect(((await ready.json()) as { detail: string }).detail).to.contain('shutting down');
        const data = await api.get('/air_quality?limit=1');
        expect(data.status).to.equal(200);
        expect(data.headers.get('connection')).to.equal('close');
      } finally {
        api.lifecycle.shuttingDown = false;
      }
    });

    it('is 503, never 500, when the database cannot be reached, and data endpoints say so too', async () => {
      const unreachable = await startApp('postgres://postgres@127.0.0.1:9/none');
      try {
        const ready = await unreachable.get('/health/ready');
        expect(ready.status).to.equal(503);
        expect(((await ready.json()) as { detail: string }).detail).to.contain('unreachable');
        const data = await unreachable.get('/air_quality');
        expect(data.status).to.equal(503);
        expect(((await data.json()) as { detail: string }).detail).to.contain('database is unavailable');
      } finally {
        await unreachable.close();
      }
    });
  });

  it('answers 503 with Retry-After, never 500, when the database host name does not resolve (getaddrinfo ENOTFOUND)', async () => {
    // What pg reports while a headless Service's name has no address (its only pod restarting); made without a DNS query.
    const enotfound = () =>
      Object.assign(new Error('getaddrinfo ENOTFOUND airq-postgresql.airq-development.svc'), {
        errno: -3008,
        code: 'ENOTFOUND',
        syscall: 'getaddrinfo',
        hostname: 'airq-postgresql.airq-development.svc',
      });
    const unresolvable = await startApp('postgres://postgres@127.0.0.1:9/none');
    const pool = unresolvable.db as unknown as { connect: () => Promise<never>; query: () => Promise<never> };
    pool.connect = () => Promise.reject(enotfound());
    pool.query = () => Promise.reject(enotfound());
    try {
      const data = await unresolvable.get('/air_quality');
      expect(data.status).to.equal(503);
      expect(data.headers.get('retry-after')).to.equal('5');
      expect(((await data.json()) as { detail: string }).detail).to.contain('database is unavailable');
    } finally {
      await unresolvable.close();
    }
  });

  describe('internal errors', () => {
    it('answers 500 with only the request id when a query fails unexpectedly, never the database message', async () => {
      const client = new pg.Client(database.url);
      await client.connect();
      await client.query('ALTER TABLE stations RENAME TO stations_moved');
      try {
        const response = await api.get('/air_quality/stations', { 'X-Request-Id': 'trace-500' });
        expect(response.status).to.equal(500);
        const body = (await response.json()) as Record<string, unknown>;
        expect(body).to.include({ status: 500, title: 'Internal Server Error', requestId: 'trace-500' });
        expect(JSON.stringify(body)).to.not.match(/stations_moved|relation|select|stack|at /i);
      } finally {
        await client.query('ALTER TABLE stations_moved RENAME TO stations');
        await client.end();
      }
    });
  });

  describe('OpenAPI document', () => {
    let doc: Doc;
    before(async () => {
      const response = await api.get('/openapi.json');
      expect(response.status).to.equal(200);
      doc = (await response.json()) as Doc;
    });

    it('is a valid OpenAPI 3.1 document', async () => {
      const validator = new Validator();
      const result = await validator.validate(doc as unknown as Parameters<Validator['validate']>[0]);
      expect(result.errors ?? [], JSON.stringify(result.errors)).to.deep.equal([]);
      expect(result.valid).to.equal(true);
      expect((doc as unknown as { openapi: string }).openapi).to.equal('3.1.0');
    });

    it('describes every route the app serves, and no other', () => {
      const router = new Router();
      const deps = { config: { cacheMaxAgeSeconds: 60 } } as RouteDeps;
      for (const routes of ROUTE_MODULES) routes(router, deps);
      const served = router.stack
        .flatMap((layer) =>
          layer.methods
            .filter((m) => m !== 'HEAD')
            .map((m) => `${m.toLowerCase()} ${String(layer.path).replace(/:(\w+)/g, '{$1}')}`),
        )
        .sort();
      const described = Object.entries(doc.paths)
        .flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m} ${path}`))
        .sort();
      expect(described).to.deep.equal(served);
      expect(ROUTES.map(([p, m]) => `${m} ${p}`).sort()).to.deep.equal(served);
    });

    it('describes every query parameter each data route accepts, and the errors it can answer', () => {
      const names = (path: string) =>
        doc.paths[path]!.get!.parameters.filter((p) => p.in === 'query')
          .map((p) => p.name)
          .sort();
      expect(names('/air_quality')).to.deep.equal(Object.keys(readingsQuery.shape).sort());
      expect(names('/air_quality/aggregates')).to.deep.equal(Object.keys(aggregatesQuery.shape).sort());
      for (const path of [
        '/air_quality',
        '/air_quality/stations',
        '/air_quality/stations/{id}',
        '/air_quality/aggregates',
      ]) {
        const paged = path === '/air_quality' || path === '/air_quality/aggregates';
        expect(Object.keys(doc.paths[path]!.get!.responses).sort(), path).to.deep.equal(
          ['200', '304', '400', '404', '405', '406', '431', '500', '503', ...(paged ? ['410'] : [])].sort(),
        );
      }
    });
  });

  describe('configuration', () => {
    it('uses the documented defaults and reads every variable', () => {
      expect(loadConfig({})).to.deep.include({ port: 8080, appVersion: 'dev', dbPoolMax: 10, shutdownDrainMs: 5000 });
      const config = loadConfig({
        PORT: '9000',
        DATABASE_URL: 'postgres://u:p@h/db',
        APP_VERSION: '2.0.0',
        LOG_LEVEL: 'warn',
        DB_POOL_MAX: '4',
        DB_STATEMENT_TIMEOUT_MS: '2500',
        CACHE_MAX_AGE_SECONDS: '10',
        CACHE_STALE_WHILE_REVALIDATE_SECONDS: '20',
        SHUTDOWN_DRAIN_MS: '0',
        CORS_ORIGINS: 'https://a.example, http://localhost:3000',
        CURSOR_KEY: 'k'.repeat(32),
      });
      expect(config).to.deep.equal({
        port: 9000,
        databaseUrl: 'postgres://u:p@h/db',
        appVersion: '2.0.0',
        logLevel: 'warn',
        dbPoolMax: 4,
        dbStatementTimeoutMs: 2500,
        dbConnectTimeoutMs: 5000,
        dbQueryTimeoutMs: 12000,
        cacheMaxAgeSeconds: 10,
        cacheStaleWhileRevalidateSeconds: 20,
        shutdownDrainMs: 0,
        shutdownFinishMs: 10000,
        corsOrigins: ['https://a.example', 'http://localhost:3000'],
        cursorKey: 'k'.repeat(32),
        cursorKeyGenerated: false,
      });
    });

    it('allows any origin by default and refuses a CORS_ORIGINS entry that is not an origin, naming it', () => {
      expect(loadConfig({}).corsOrigins).to.equal('*');
      expect(loadConfig({ CORS_ORIGINS: '*' }).corsOrigins).to.equal('*');
      for (const bad of ['https://a.example/path', 'a.example', 'ftp://a.example', 'https://a.example,*']) {
        expect(() => loadConfig({ CORS_ORIGINS: bad }), bad)
          .to.throw(ConfigError)
          .with.property('message')
          .that.matches(/CORS_ORIGINS=.*is not an origin; give \* or a comma-separated list/);
      }
    });

    it('names every bad variable, hiding the database URL', () => {
      expect(() => loadConfig({ PORT: 'eighty', DB_POOL_MAX: '0', DATABASE_URL: 'mysql://secret@x' }))
        .to.throw(ConfigError)
        .with.property('message')
        .that.matches(/PORT="eighty"/)
        .and.matches(/DB_POOL_MAX="0"/)
        .and.matches(/DATABASE_URL=\(value hidden\)/)
        .and.not.match(/secret/);
    });

    it('stops server.ts with a non-zero exit and a message naming the variable', () => {
      const result = spawnSync(process.execPath, ['--import', 'tsx', 'api/src/server.ts'], {
        env: { ...process.env, LOG_LEVEL: 'loud', DATABASE_URL: 'postgres://127.0.0.1:9/x' },
        encoding: 'utf8',
        timeout: 30_000,
      });
      expect(result.status).to.equal(1);
      expect(result.stderr).to.contain('LOG_LEVEL="loud"');
    });
  });

  describe('a seed switching datasets between the two queries of a request', () => {
    const all: ReadingFilter = {
      stations: undefined,
      from: undefined,
      to: undefined,
      pollutants: [...POLLUTANTS],
      order: 'desc',
    };

    it('reads the new dataset when the one the request started with was dropped by the switch', async () => {
      const before = (await activeDataset(api.db))!;
      const next = await createFixtureDataset(database.url, { label: 'switched', perStation: 3 });
      // The seeder drops the retired dataset's partition in the switching transaction.
      const client = new pg.Client(database.url);
      await client.connect();
      await client.query(`DROP TABLE measurements_fixture_${before.id}`);
      await client.end();

      const read = await readConsistently(
        api.db,
        before,
        (d) => listReadings(api.db, d.id, all, undefined, 5),
        (r) => !r.length,
      );
      expect(read.dataset.version).to.equal(next.version);
      expect(read.result).to.have.length(5);
      const page = (await (await api.get('/air_quality?limit=5')).json()) as { dataset: { version: string } };
      expect(page.dataset.version).to.equal(next.version);
    });

    it('keeps an empty answer when the dataset did not change', async () => {
      const current = (await activeDataset(api.db))!;
      const nowhere = { ...all, stations: ['nowhere'] };
      const read = await readConsistently(
        api.db,
        current,
        (d) => listReadings(api.db, d.id, nowhere, undefined, 5),
        (r) => !r.length,
      );
      expect(read.dataset).to.equal(current);
      expect(read.result).to.deep.equal([]);
    });
  });
});
