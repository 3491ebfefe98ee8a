import { expect } from 'chai';
import { execFile } from 'node:child_process';
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
});
