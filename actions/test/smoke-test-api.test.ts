import { expect } from 'chai';
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { BUNDLED_DATASET, seed } from '../../db/src/seed.ts';
import { startApp, type RunningApp } from '../../api/test/support/app-server.ts';
import { createTestDatabase, type TestDatabase } from '../../test/support/postgres.ts';
import { errors, runAction, type ActionRun } from './support/run-action.ts';

/** A round-robin TCP balancer: each new connection goes to the next backend, as kube-proxy spreads a Service's. */
async function roundRobin(backends: string[]): Promise<{ url: string; close(): Promise<void> }> {
  let next = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const target = new URL(backends[next++ % backends.length] ?? '');
    const upstream = connect(Number(target.port), target.hostname);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

describe('smoke-test against the real API', function () {
  this.timeout(120_000);
  let database: TestDatabase | undefined;
  const apps: RunningApp[] = [];
  let balancer: { url: string; close(): Promise<void> } | undefined;
  const runs: ActionRun[] = [];

  before(async function () {
    database = await createTestDatabase({ migrated: true });
    await seed({ databaseUrl: database.url, file: BUNDLED_DATASET, log: () => {} });
    for (const instanceId of ['replica-one', 'replica-two']) {
      apps.push(await startApp(database.url, { appVersion: '1.2.3' }, { instanceId }));
    }
    balancer = await roundRobin(apps.map((app) => app.base));
  });

  after(async function () {
    for (const run of runs) run.cleanup();
    await balancer?.close();
    for (const app of apps) await app.close();
    await database?.drop();
  });

  it('passes against two replicas of the seeded API reporting the expected version', async function () {
    const run = await runAction('smoke-test', {
      inputs: {
        url: balancer!.url,
        'expected-version': '1.2.3',
        'min-instances': 2,
        timeout: '30s',
        interval: '100ms',
      },
    });
    runs.push(run);
    expect(run.exitCode, run.stdout + run.stderr).to.equal(0);
    expect(run.outputs).to.deep.equal({ version: '1.2.3', instances: '2' });
    expect(run.summary).to.include('replica-one (1.2.3), replica-two (1.2.3)');
  });

  it('fails against the same API when it expects another version, reporting what readiness said', async function () {
    const run = await runAction('smoke-test', {
      inputs: { url: balancer!.url, 'expected-version': '1.2.4', timeout: '1s', interval: '200ms' },
    });
    runs.push(run);
    expect(run.exitCode).to.equal(1);
    expect(errors(run)).to.match(/not ready with version 1\.2\.4: version is "1\.2\.3", expected "1\.2\.4"/);
    expect(errors(run)).to.match(/HTTP 200 from instance replica-(one|two): \{"status":"ready","version":"1\.2\.3"/);
  });

  it('fails when more instances are required than answer until the timeout', async function () {
    const run = await runAction('smoke-test', {
      inputs: { url: apps[0]!.base, 'min-instances': 2, 'instance-requests': 5, timeout: '1s', interval: '100ms' },
    });
    runs.push(run);
    expect(run.exitCode).to.equal(1);
    expect(errors(run)).to.include(
      'only 1 distinct X-Instance-Id (replica-one) answered 5 requests; expected at least 2',
    );
  });
});
