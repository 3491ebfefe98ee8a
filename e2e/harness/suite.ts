import { skipUnlessAvailable } from '../../test/support/requires.ts';
import { startCluster, type Cluster } from './cluster.ts';
import { controlPlaneTools } from './tools.ts';

export interface ClusterSuite {
  /** The running cluster; only valid inside tests and hooks after the suite's `before`. */
  readonly cluster: Cluster;
}

/**
 * Mocha hooks for a suite that needs the cluster: builds or reuses the tools, starts the cluster once for the suite,
 * prints every component's log tail when a test fails, and stops the cluster (by PID) afterwards, pass or fail.
 * Skips the suite loudly when the toolchain cannot be had — and fails instead under CI=true.
 */
export function useCluster(options: { nodes?: number } = {}): ClusterSuite {
  let current: Cluster | undefined;

  before(async function () {
    // A cold cache builds the toolchain from the Go module proxy first: minutes, once per machine.
    this.timeout(60 * 60_000);
    const tools = controlPlaneTools();
    skipUnlessAvailable(this, 'the end-to-end Kubernetes control plane (etcd, kube-apiserver, kwok)', tools.missing);
    if (!tools.binDir) return;
    current = await startCluster({ binDir: tools.binDir, nodes: options.nodes });
    console.log(`      (cluster ready in ${(current.startupMs / 1000).toFixed(1)} s: ${current.server}, ${current.nodeNames.length} fake nodes)`);
  });

  afterEach(function () {
    if (this.currentTest?.state === 'failed' && current) {
      console.error(`\n  Control-plane logs for "${this.currentTest.fullTitle()}":\n${current.logTails(25)}\n`);
    }
  });

  after(async function () {
    this.timeout(60_000);
    await current?.stop();
  });

  return {
    get cluster(): Cluster {
      if (!current) throw new Error('useCluster(): the cluster is not running (its before hook failed or was skipped)');
      return current;
    },
  };
}
