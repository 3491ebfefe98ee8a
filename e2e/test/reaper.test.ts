import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { reapOrphanedClusters } from '../harness/cluster.ts';
import { NODE_NETWORK, podProcesses, readNodeState } from '../harness/node.ts';
import { controlPlaneTools, realNodeMissing } from '../harness/tools.ts';
import { skipUnlessAvailable } from '../../test/support/requires.ts';

const FIXTURE = fileURLToPath(new URL('./fixtures/start-and-hang.ts', import.meta.url));

const running = (pid: number) =>
  existsSync(`/proc/${pid}`) && !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ');

/** Starts the fixture, waits for its cluster, SIGKILLs it; returns the cluster's directory and component pids. */
async function startAndKill(binDir: string, args: string[] = []): Promise<{ dir: string; pids: number[] }> {
  const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, binDir, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
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
  child.kill('SIGKILL');
  await new Promise((resolve) => child.once('exit', resolve));
  return { dir, pids };
}

async function waitGone(pids: number[]): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (pids.some(running) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
}

const mountsUnder = (dir: string) =>
  readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter((line) => line.split(' ')[4]?.startsWith(`${dir}/`));

describe('a cluster left behind by a killed test process', function () {
  it('is stopped and removed by the next cluster start (reapOrphanedClusters)', async function () {
    this.timeout(180_000);
    const tools = controlPlaneTools();
    skipUnlessAvailable(this, 'the end-to-end Kubernetes control plane (etcd, kube-apiserver, kwok)', tools.missing);
    const { dir, pids } = await startAndKill(tools.binDir!);
    expect(pids).to.have.length(5);
    // SIGKILL runs no cleanup: the control plane is still there.
    expect(pids.filter(running)).to.have.length(5);

    expect(reapOrphanedClusters(path.dirname(dir))).to.include(dir);
    await waitGone(pids);
    expect(pids.filter(running)).to.deep.equal([]);
    expect(existsSync(dir)).to.equal(false);
  });

  it('with a real node: its pods, shims, mounts, bridge, iptables rules and NetworkPolicy chains are removed too, by a start that holds the node lock', async function () {
    this.timeout(300_000);
    skipUnlessAvailable(this, 'a real Kubernetes node', realNodeMissing());
    const tools = controlPlaneTools();
    skipUnlessAvailable(this, 'the end-to-end Kubernetes tools', tools.missing);
    const { dir, pids } = await startAndKill(tools.binDir!, ['--real-node']);
    const state = readNodeState(dir)!;
    const pods = podProcesses(state.containerdSocket);
    // Left behind: containerd, kubelet & co., the pod's shim and sandbox, its mounts, the bridge, the FORWARD rule.
    expect(pids.filter(running).length).to.be.greaterThan(5);
    expect(pods.shims).to.not.deep.equal([]);
    expect(pods.containers).to.not.deep.equal([]);
    expect(mountsUnder(dir)).to.not.deep.equal([]);
    expect(existsSync(`/sys/class/net/${NODE_NETWORK.bridge}`)).to.equal(true);
    const policyChains = () => spawnSync('iptables', ['-S'], { encoding: 'utf8' }).stdout.includes('KUBE-ROUTER-');
    expect(policyChains(), "kube-router's chains are there").to.equal(true);

    // A start without the node lock leaves a node alone: the next real node reuses the bridge's name.
    expect(reapOrphanedClusters(path.dirname(dir))).to.not.include(dir);
    expect(reapOrphanedClusters(path.dirname(dir), { withNodes: true })).to.include(dir);
    await waitGone([...pids, ...pods.shims, ...pods.containers]);
    expect([...pids, ...pods.shims, ...pods.containers].filter(running)).to.deep.equal([]);
    expect(mountsUnder(dir)).to.deep.equal([]);
    expect(existsSync(`/sys/class/net/${NODE_NETWORK.bridge}`)).to.equal(false);
    expect(spawnSync('iptables', ['-S', 'FORWARD'], { encoding: 'utf8' }).stdout).to.not.include(NODE_NETWORK.bridge);
    expect(spawnSync('iptables', ['-t', 'nat', '-S'], { encoding: 'utf8' }).stdout).to.not.include('KUBE-SERVICES');
    expect(spawnSync('ip', ['route'], { encoding: 'utf8' }).stdout).to.not.include(NODE_NETWORK.serviceCidr);
    expect(policyChains(), "kube-router's chains are gone").to.equal(false);
    expect(existsSync(dir)).to.equal(false);
  });
});
