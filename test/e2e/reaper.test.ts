import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { reapOrphanedClusters } from '../../e2e/harness/cluster.ts';
import { controlPlaneTools } from '../../e2e/harness/tools.ts';
import { skipUnlessAvailable } from '../support/requires.ts';

const FIXTURE = fileURLToPath(new URL('./fixtures/start-and-hang.ts', import.meta.url));

const running = (pid: number) => existsSync(`/proc/${pid}`) && !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ');

describe('a control plane left behind by a killed test process', function () {
  it('is stopped and removed by the next cluster start (reapOrphanedClusters)', async function () {
    this.timeout(180_000);
    const tools = controlPlaneTools();
    skipUnlessAvailable(this, 'the end-to-end Kubernetes control plane (etcd, kube-apiserver, kwok)', tools.missing);
    const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, tools.binDir!], { stdio: ['ignore', 'pipe', 'inherit'] });
    const dir = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (chunk) => {
        out += chunk;
        const match = /^ready (.+)$/m.exec(out);
        if (match) resolve(match[1]!);
      });
      child.once('exit', (code) => reject(new Error(`the fixture exited (${code}) before its cluster was ready`)));
    });
    const pids = readFileSync(path.join(dir, 'component.pids'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => Number(line.split(' ')[0]));
    expect(pids).to.have.length(5);

    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    // SIGKILL runs no cleanup: the control plane is still there.
    expect(pids.filter(running)).to.have.length(5);

    expect(reapOrphanedClusters(path.dirname(dir))).to.include(dir);
    const deadline = Date.now() + 10_000;
    while (pids.some(running) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(pids.filter(running)).to.deep.equal([]);
    expect(existsSync(dir)).to.equal(false);
  });
});
