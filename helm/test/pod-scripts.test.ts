import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { createServer } from 'node:http';
import net from 'node:net';
import { promisify } from 'node:util';
import { one, renderChart } from './support/chart.ts';
import getPort from 'get-port';

describe('the scripts the chart runs in its pods', function () {
  it("waits in the seed Job's wait-for-database container until the database port accepts connections", async function () {
    const objects = await renderChart();
    const container = one(objects, 'Job', 'airq-seed').spec.template.spec.initContainers[0];
    expect(container.name).to.equal('wait-for-database');
    const env = Object.fromEntries(container.env.map((e: { name: string; value: string }) => [e.name, e.value]));
    expect(env).to.deep.equal({ DB_HOST: 'airq-postgresql-primary.airq-test.svc', DB_PORT: '5432' });

    // Nothing listens yet: the script must keep retrying until the "database" comes up.
    const port = await getPort();
    const started = Date.now();
    const [command, ...args] = container.command as string[];
    const waiting = promisify(execFile)(command!, args, {
      env: { ...process.env, DB_HOST: '127.0.0.1', DB_PORT: String(port) },
      timeout: 30_000,
    });
    await new Promise((r) => setTimeout(r, 2_500));
    const database = net.createServer((socket) => socket.end());
    await new Promise<void>((resolve) => database.listen(port, '127.0.0.1', resolve));
    try {
      const { stdout } = await waiting;
      expect(stdout).to.include(`database 127.0.0.1:${port} accepts connections`);
      expect(Date.now() - started).to.be.at.least(2_500);
    } finally {
      await new Promise((resolve) => database.close(resolve));
    }
  });

  it("retries the helm test pod's checks while they are refused (a new pod not yet admitted by the NetworkPolicy enforcer), then passes", async function () {
    this.timeout(30_000);
    const objects = await renderChart();
    const container = one(objects, 'Pod', 'airq-test').spec.containers[0];
    const [command, ...args] = container.command as string[];
    expect([command, args[0]]).to.deep.equal(['node', '-e']);

    // Nothing answers at first: every check must be retried until the "cache" comes up.
    const port = await getPort();
    const checking = promisify(execFile)(command!, args, {
      env: { ...process.env, CACHE_URL: `http://127.0.0.1:${port}` },
      timeout: 30_000,
    });
    await new Promise((r) => setTimeout(r, 1_500));
    const cache = createServer((req, res) => {
      const ready = req.url === '/health/ready';
      res.writeHead(200, { 'content-type': 'application/json', ...(ready ? {} : { 'x-dataset-version': 'abc' }) });
      res.end(JSON.stringify(ready ? { status: 'ready' } : { data: [] }));
    });
    await new Promise<void>((resolve) => cache.listen(port, '127.0.0.1', resolve));
    try {
      const { stdout } = await checking;
      expect(stdout).to.match(/^GET \/health\/ready: fetch failed: ECONNREFUSED; retrying$/m);
      expect(stdout)
        .to.match(/^GET \/health\/ready: 200 /m)
        .and.match(/^GET \/air_quality\?limit=1: 200 /m);
    } finally {
      await new Promise((resolve) => cache.close(resolve));
    }
  });
});
