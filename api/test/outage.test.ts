import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'chai';
import getPort from 'get-port';
import { startOwnedPostgres, type OwnedPostgres } from '../../test/support/owned-postgres.ts';
import { startApp, type RunningApp } from './support/app-server.ts';
import { createFixtureDataset } from './support/fixtures.ts';

interface Server {
  port: number;
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

async function startServer(databaseUrl: string, env: Record<string, string> = {}): Promise<Server> {
  const port = await getPort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'api/src/server.ts'], {
    env: { ...process.env, DATABASE_URL: databaseUrl, PORT: String(port), LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  for (let i = 0; ; i++) {
    const status = await fetch(`http://127.0.0.1:${port}/health/live`).then(
      (r) => r.status,
      () => 0,
    );
    if (status === 200) break;
    if (child.exitCode !== null || i > 300) throw new Error(`server.ts did not start:\n${output}`);
    await sleep(100);
  }
  return { port, child, output: () => output, exited };
}

/** Starts an export and reads only its first chunk, then stops reading, like a slow client. */
function slowExport(
  port: number,
): Promise<{ response: http.IncomingMessage; ended: Promise<{ complete: boolean; error?: string }> }> {
  return new Promise((resolve, reject) => {
    const req = http.get(
      { host: '127.0.0.1', port, path: '/air_quality', headers: { Accept: 'application/x-ndjson' } },
      (response) => {
        const ended = new Promise<{ complete: boolean; error?: string }>((done) => {
          response.on('end', () => done({ complete: response.complete }));
          response.on('error', (error) => done({ complete: false, error: error.message }));
          response.on('close', () => done({ complete: response.complete }));
        });
        response.once('data', () => {
          response.pause();
          resolve({ response, ended });
        });
      },
    );
    req.on('error', reject);
  });
}

describe('the API when its database fails', function () {
  this.timeout(120_000);
  let postgres: OwnedPostgres;
  let server: Server | undefined;

  before(async () => {
    postgres = await startOwnedPostgres();
    await createFixtureDataset(postgres.url, { perStation: 20_000 });
  });
  afterEach(async () => {
    if (server && server.child.exitCode === null) {
      server.child.kill('SIGKILL');
      await server.exited;
    }
    server = undefined;
  });
  after(async () => {
    await postgres?.destroy();
  });

  it('keeps serving when the database stops in the middle of an export, which ends truncated', async () => {
    server = await startServer(postgres.url);
    const { response, ended } = await slowExport(server.port);
    await postgres.stop();
    response.resume();
    const outcome = await ended;
    expect(outcome.complete, 'the export is marked incomplete').to.equal(false);
    await postgres.start();
    let status = 0;
    for (let i = 0; i < 50 && status !== 200; i++) {
      status = await fetch(`http://127.0.0.1:${server.port}/air_quality?limit=1`).then(
        (r) => r.status,
        () => -1,
      );
      if (status !== 200) await sleep(200);
    }
    expect(server.child.exitCode, `server.ts exited:\n${server.output()}`).to.equal(null);
    expect(status, 'a request after the database came back').to.equal(200);
  });
});

describe('the API when its database freezes', function () {
  this.timeout(120_000);
  let postgres: OwnedPostgres;
  let api: RunningApp;

  before(async () => {
    postgres = await startOwnedPostgres();
    await createFixtureDataset(postgres.url, { perStation: 100 });
    api = await startApp(postgres.url, {
      dbConnectTimeoutMs: 1_000,
      dbQueryTimeoutMs: 1_500,
      dbStatementTimeoutMs: 1_000,
    });
  });
  after(async () => {
    postgres?.thaw();
    await api?.close();
    await postgres?.destroy();
  });

  it('answers 503 with Retry-After within the configured timeouts while the database is frozen, and 200 once it thaws', async () => {
    expect((await api.get('/air_quality?limit=1')).status).to.equal(200);
    postgres.freeze();
    try {
      // Without client-side timeouts these never return; the signal turns that into a failure rather than a hang.
      const [page, stations, ready] = await Promise.all(
        ['/air_quality?limit=1', '/air_quality/stations', '/health/ready'].map((path) =>
          fetch(api.base + path, { signal: AbortSignal.timeout(15_000) }),
        ),
      );
      for (const response of [page!, stations!, ready!]) {
        expect(response.status, response.url).to.equal(503);
        expect(response.headers.get('retry-after'), response.url).to.equal('5');
      }
      expect(((await page!.json()) as { detail: string }).detail).to.contain('database is unavailable');
    } finally {
      postgres.thaw();
    }
    let status = 0;
    for (let i = 0; i < 50 && status !== 200; i++) {
      status = (await api.get('/air_quality?limit=1')).status;
      if (status !== 200) await sleep(100);
    }
    expect(status).to.equal(200);
  });
});
