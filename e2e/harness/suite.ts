import { skipUnlessAvailable } from '../../test/support/requires.ts';
import { startCluster, type Cluster } from './cluster.ts';
import { projectImages, type ProjectImage } from './images.ts';
import { controlPlaneTools, realNodeMissing } from './tools.ts';

export interface ClusterSuite {
  /** The running cluster; only valid inside tests and hooks after the suite's `before`. */
  readonly cluster: Cluster;
  /** The project's images loaded into the real node (only with `realNode`). */
  readonly images: Record<ProjectImage['name'], ProjectImage>;
}

/**
 * Mocha hooks for a suite that needs the cluster: builds or reuses the tools (and, for a real node, the project's
 * images), starts the cluster once for the suite, prints every component's log tail when a test fails, and stops the
 * cluster (by PID) afterwards, pass or fail. Skips the suite loudly when the toolchain cannot be had — and fails
 * instead under CI=true.
 */
export function useCluster(
  options: {
    nodes?: number;
    realNode?: boolean;
    /** Plain-HTTP registries (host:port) the real node pulls from; read when the cluster starts. */
    registries?: () => string[];
    /** How long start-up may take, waiting for another run's real node included (cluster.ts's default otherwise). */
    startTimeoutMs?: number;
  } = {},
): ClusterSuite {
  let current: Cluster | undefined;
  let images: Record<ProjectImage['name'], ProjectImage> | undefined;

  before(async function () {
    // A cold cache builds the toolchain from the Go module proxy first: minutes, once per machine.
    this.timeout(60 * 60_000);
    const what = options.realNode
      ? 'a real Kubernetes node (containerd, kubelet, kube-proxy, CoreDNS) beside the control plane'
      : 'the end-to-end Kubernetes control plane (etcd, kube-apiserver, kwok)';
    if (options.realNode) skipUnlessAvailable(this, what, realNodeMissing());
    const tools = controlPlaneTools();
    skipUnlessAvailable(this, what, tools.missing);
    if (!tools.binDir) return;
    if (options.realNode) {
      const lookup = projectImages();
      skipUnlessAvailable(this, `${what}: the project's images`, lookup.missing);
      images = lookup.images;
    }
    current = await startCluster({
      binDir: tools.binDir,
      nodes: options.nodes,
      ...(options.startTimeoutMs ? { startTimeoutMs: options.startTimeoutMs } : {}),
      ...(options.realNode
        ? {
            realNode: {
              images: images ? [images.api.archive, images.postgres.archive, images.varnish.archive] : [],
              registries: options.registries?.() ?? [],
            },
          }
        : {}),
    });
    const nodes = current.node ? `real node ${current.node.name}` : `${current.nodeNames.length} fake nodes`;
    console.log(`      (cluster ready in ${(current.startupMs / 1000).toFixed(1)} s: ${current.server}, ${nodes})`);
  });

  afterEach(function () {
    if (this.currentTest?.state === 'failed' && current) {
      console.error(`\n  Cluster logs for "${this.currentTest.fullTitle()}":\n${current.logTails(25)}\n`);
    }
  });

  after(async function () {
    this.timeout(120_000);
    await current?.stop();
  });

  return {
    get cluster(): Cluster {
      if (!current) throw new Error('useCluster(): the cluster is not running (its before hook failed or was skipped)');
      return current;
    },
    get images(): Record<ProjectImage['name'], ProjectImage> {
      if (!images) throw new Error('useCluster(): no images (ask for realNode: true)');
      return images;
    },
  };
}
