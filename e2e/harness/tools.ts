import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../../test/support/repo-root.ts';

export const BUILD_SCRIPT = path.join(REPO_ROOT, 'e2e', 'tools', 'build.sh');
export const CONTROL_PLANE_BINARIES = [
  'etcd',
  'kube-apiserver',
  'kube-controller-manager',
  'kube-scheduler',
  'kwok',
] as const;
export const NODE_BINARIES = ['kubelet', 'kube-proxy', 'coredns', 'pause', 'kube-router'] as const;

export type ToolsLookup = { binDir: string; missing?: undefined } | { binDir?: undefined; missing: string };

function hasGo(): boolean {
  return spawnSync('go', ['version'], { stdio: 'ignore' }).status === 0;
}

/**
 * Where the control-plane binaries are: `AIRQ_TOOLS_BIN` if set, else whatever `e2e/tools/build.sh` reports — which
 * reuses its cache in milliseconds and builds only on a cold cache (minutes). Returns `missing` with the reason and
 * the fix when they cannot be had (no Go and no cache), for `skipUnlessAvailable`.
 */
export function controlPlaneTools(): ToolsLookup {
  const fromEnv = process.env.AIRQ_TOOLS_BIN;
  if (fromEnv) {
    const absent = [...CONTROL_PLANE_BINARIES, ...NODE_BINARIES].filter(
      (name) => !existsSync(path.join(fromEnv, name)),
    );
    if (absent.length)
      return {
        missing: `AIRQ_TOOLS_BIN=${fromEnv} lacks ${absent.join(', ')}; unset it or run bash e2e/tools/build.sh`,
      };
    return { binDir: fromEnv };
  }
  // The script needs Go only to build; on a warm cache it just prints the directory.
  const run = spawnSync('bash', [BUILD_SCRIPT], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  process.stderr.write(run.stderr);
  const binDir = /^AIRQ_TOOLS_BIN=(.+)$/m.exec(run.stdout)?.[1];
  if (run.status === 0 && binDir) return { binDir };
  const reason = hasGo()
    ? `bash e2e/tools/build.sh failed (exit ${run.status}); see its output above`
    : 'Go is not installed, so bash e2e/tools/build.sh cannot build kube-apiserver, etcd and kwok; install Go >= 1.25 (https://go.dev/dl)';
  return { missing: reason };
}

/** What a real node needs from the machine besides the tools: why it cannot run here, or undefined. */
export function realNodeMissing(): string | undefined {
  if (process.getuid?.() !== 0) return 'a real node needs root (containerd, a bridge, iptables and ipset, mounts)';
  const commands: [string, string][] = [
    ['containerd', 'containerd'],
    ['ctr', 'containerd'],
    ['runc', 'runc'],
    ['iptables', 'iptables'],
    ['ip', 'iproute2'],
    ['flock', 'util-linux'],
    ['umount', 'mount'],
    ['ipset', 'ipset'],
  ];
  const absent = commands.filter(
    ([command]) => spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status !== 0,
  );
  if (!existsSync('/usr/lib/cni/bridge') || !existsSync('/usr/lib/cni/host-local'))
    absent.push(['/usr/lib/cni/bridge', 'containernetworking-plugins']);
  if (absent.length) {
    return `missing ${absent.map(([command]) => command).join(', ')}: apt-get install ${[...new Set(absent.map(([, pkg]) => pkg))].join(' ')}`;
  }
  return undefined;
}
