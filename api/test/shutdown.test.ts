import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'chai';
import { createTestDatabase, type TestDatabase } from '../../test/support/postgres.ts';
import { createFixtureDataset } from './support/fixtures.ts';
import getPort from 'get-port';

type Outcome = { kind: 'ok' | 'refused' | 'reset' | 'cut'; at: number; status?: number; detail?: string };

let completed = 0;

function request(
  port: number,
  path: string,
  agent: http.Agent,
  accept = 'application/json',
): Promise<{ outcome: Outcome; body: string }> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent, headers: { Accept: accept } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => {
        const complete = res.complete;
        if (complete) completed++;
        resolve({
          outcome: complete
            ? { kind: 'ok', at: Date.now(), status: res.statusCode }
            : { kind: 'cut', at: Date.now(), detail: 'incomplete body' },
          body,
        });
      });
      res.on('error', (error) => resolve({ outcome: { kind: 'cut', at: Date.now(), detail: error.message }, body }));
    });
    req.on('error', (error: NodeJS.ErrnoException) =>
      resolve({
        // ECONNRESET before any byte of a response: the kernel had completed the handshake but the process never
        // accepted the socket (the listener closed with it queued). The server's own counts below prove it.
        outcome: {
          kind: error.code === 'ECONNREFUSED' ? 'refused' : error.code === 'ECONNRESET' ? 'reset' : 'cut',
          at: Date.now(),
          detail: `${error.code}: ${error.message}`,
        },
        body: '',
      }),
    );
  });
}

describe('graceful shutdown of server.ts under load', function () {
  this.timeout(120_000);
  let database: TestDatabase;
  let child: ChildProcess | undefined;

  before(async () => {
    database = await createTestDatabase();
    await createFixtureDataset(database.url, { perStation: 20_000 });
  });
  after(async () => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    await database?.drop();
  });

  /** Starts server.ts on a free port with `env` added, and resolves once it answers /health/ready. */
  async function startServer(env: Record<string, string>) {
    const port = await getPort();
    const server = spawn(process.execPath, ['--import', 'tsx', 'api/src/server.ts'], {
      env: { ...process.env, DATABASE_URL: database.url, PORT: String(port), LOG_LEVEL: 'info', ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    child = server;
    const output = { stdout: '' };
    server.stdout!.setEncoding('utf8').on('data', (chunk: string) => (output.stdout += chunk));
    const exited = new Promise<number | null>((resolve) => server.once('exit', (code) => resolve(code)));
    const probe = new http.Agent({ keepAlive: false });
    for (let i = 0; ; i++) {
      const { outcome } = await request(port, '/health/ready', probe);
      if (outcome.status === 200) break;
      if (i > 200) throw new Error('server.ts did not become ready within 20 s');
      await sleep(100);
    }
    return { port, server, output, exited };
  }

  it('keeps serving through the drain delay, finishes in-flight requests and exits 0, cutting no request', async () => {
    const drainMs = 1500;
    // Readiness probes count too: the server's own request count is compared with this one at the end.
    completed = 0;
    const { port, server, output, exited } = await startServer({ SHUTDOWN_DRAIN_MS: String(drainMs) });
    const probe = new http.Agent({ keepAlive: false });

    const outcomes: Outcome[] = [];
    let running = true;
    let signalledAt = Infinity;
    let exitedAt = Infinity;
    void exited.then(() => (exitedAt = Date.now()));
    const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
    const workers = Array.from({ length: 12 }, async () => {
      while (running) {
        const { outcome, body } = await request(port, '/air_quality?limit=100', agent);
        if (
          outcome.kind === 'ok' &&
          (outcome.status !== 200 || (JSON.parse(body) as { count: number }).count !== 100)
        ) {
          outcome.kind = 'cut';
          outcome.detail = `status ${outcome.status}`;
        }
        outcomes.push(outcome);
        if (outcome.kind === 'refused') await sleep(20);
      }
    });

    await sleep(700);
    server.kill('SIGTERM');
    signalledAt = Date.now();
    await sleep(200);
    const readyDuringDrain = await request(port, '/health/ready', probe);
    // A long export started just before the listener closes must run to its last line.
    // Timed from the signal, not from the probe, with room for a busy event loop to accept it before the close.
    await sleep(Math.max(0, signalledAt + drainMs - 750 - Date.now()));
    const exportAgent = new http.Agent({ keepAlive: false });
    const longExport = request(port, '/air_quality', exportAgent, 'application/x-ndjson');

    const code = await exited;
    await sleep(300);
    running = false;
    await Promise.all(workers);
    agent.destroy();
    const exported = await longExport;

    expect(code, 'exit code').to.equal(0);
    expect(readyDuringDrain.outcome.status, 'readiness during the drain').to.equal(503);
    const cut = outcomes.filter((o) => o.kind === 'cut');
    expect(cut, JSON.stringify(cut.slice(0, 5))).to.deep.equal([]);
    const servedWhileDraining = outcomes.filter((o) => o.kind === 'ok' && o.at > signalledAt + 100).length;
    const refusedAfterExit = outcomes.filter((o) => o.kind === 'refused' && o.at >= exitedAt).length;
    expect(servedWhileDraining, 'requests served after SIGTERM').to.be.greaterThan(20);
    expect(refusedAfterExit, 'requests refused once the process was gone').to.be.greaterThan(0);
    expect(exported.outcome.kind, exported.outcome.detail).to.equal('ok');
    expect(exported.body.trimEnd().split('\n')).to.have.length(200_000);

    // Every request the server received was answered in full, every connection it accepted carried one, and every
    // response the clients completed was counted there: the failed attempts never reached the process.
    const complete = output.stdout.split('\n').find((line) => line.includes('"shutdown: complete"'));
    expect(complete, 'shutdown log line').to.be.a('string');
    const stats = (
      JSON.parse(complete!) as { connections: { requests: number; unfinished: number; withoutRequest: number } }
    ).connections;
    expect(stats.unfinished, 'requests cut by the server').to.equal(0);
    expect(stats.withoutRequest, 'accepted connections closed without a request').to.equal(0);
    expect(stats.requests, 'requests received = responses completed').to.equal(completed);
  });

  it('cuts an export that outlives SHUTDOWN_FINISH_MS, logs and counts it, and exits 1', async () => {
    const { port, server, output, exited } = await startServer({ SHUTDOWN_DRAIN_MS: '0', SHUTDOWN_FINISH_MS: '1500' });
    // A client that reads one chunk and stops: the export can never finish.
    const response = await new Promise<http.IncomingMessage>((resolve) =>
      http.get(
        { host: '127.0.0.1', port, path: '/air_quality', headers: { Accept: 'application/x-ndjson' } },
        (res) => {
          res.once('data', () => {
            res.pause();
            resolve(res);
          });
        },
      ),
    );
    response.on('error', () => {});
    server.kill('SIGTERM');
    const code = await Promise.race([exited, sleep(30_000).then(() => 'still running')]);
    expect(code, 'exit code').to.equal(1);
    const cutLine = output.stdout.split('\n').find((line) => line.includes('still running after SHUTDOWN_FINISH_MS'));
    expect(cutLine, 'log line naming the cut').to.be.a('string');
    expect(JSON.parse(cutLine!)).to.include({ cut: 1, finishMs: 1500 });
    response.destroy();
  });
});
