import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import path from 'node:path';

/**
 * The pieces of a real Kubernetes node beside the control plane of cluster.ts: containerd with its own config, root,
 * state and socket; a Linux bridge the harness creates for the pods (CNI `bridge` plugin, host-local addresses from a
 * range used nowhere else); kubelet; kube-proxy (iptables mode); CoreDNS as a host process on the bridge's gateway.
 *
 * Everything shares the host's network namespace (the bridge, the iptables chains), so only one such node may exist
 * on a machine at a time: `acquireNodeLock()`. Everything the node leaves on the machine outside its directory is
 * recorded in `node.json` in that directory, so `teardownNode()` can remove it — after a normal stop, and from the
 * reaper when the test process was SIGKILLed.
 */

/** Addresses of the node's network: the pods' range on the bridge, and the Service range routed onto it. */
export const NODE_NETWORK = {
  bridge: 'airq-e2e0',
  podCidr: '10.213.0.0/24',
  gateway: '10.213.0.1',
  serviceCidr: '10.213.128.0/24',
  kubernetesServiceIp: '10.213.128.1',
} as const;

export const NODE_NAME = 'airq-e2e-node';
/** The sandbox image, made from tools/build.sh's static pause binary: no registry can be reached for the real one. */
export const PAUSE_IMAGE = 'airq.local/e2e/pause:1';

/** Marks this harness's iptables rules so teardown removes exactly them. */
const RULE_COMMENT = 'airq-e2e-node';
const LOCK_FILE = path.join(tmpdir(), 'airq-e2e-node.lock');
const STATE_FILE = 'node.json';
const CNI_NETWORK = 'airq-e2e';

/** What teardownNode() needs to undo, written before anything is created. */
export interface NodeState {
  bridge: string;
  serviceCidr: string;
  containerdSocket: string;
  kubeProxy: string;
  /** Directories whose mounts are removed (containerd's state and root, kubelet's root). */
  mountRoots: string[];
}

export function nodeStatePath(dir: string): string {
  return path.join(dir, STATE_FILE);
}

export function readNodeState(dir: string): NodeState | undefined {
  try {
    return JSON.parse(readFileSync(nodeStatePath(dir), 'utf8')) as NodeState;
  } catch {
    return undefined;
  }
}

export interface NodeLock {
  release(): void;
}

/**
 * Waits for the machine-wide node lock. The lock is held by a `flock` child whose stdin is this process: when this
 * process dies, even by SIGKILL, the pipe closes and the lock is released, and the next holder reaps what it left.
 */
export async function acquireNodeLock(timeoutMs: number): Promise<NodeLock> {
  const child = spawn(
    'flock',
    ['-w', String(Math.ceil(timeoutMs / 1000)), LOCK_FILE, 'sh', '-c', 'echo locked; exec cat >/dev/null'],
    {
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
      if (out.includes('locked')) resolve();
    });
    child.once('error', (error) =>
      reject(new Error(`e2e node: cannot run flock for ${LOCK_FILE}: ${error.message}; install util-linux`)),
    );
    child.once('exit', (code) =>
      reject(
        new Error(
          `e2e node: another real-node cluster held ${LOCK_FILE} for ${timeoutMs / 1000} s (flock exited ${code}${stderr ? `: ${stderr.trim()}` : ''}); one real node per machine: wait for the other run or stop it`,
        ),
      ),
    );
  });
  child.stdout.removeAllListeners('data');
  // The lock must not keep the test process alive on its own.
  child.unref();
  (child.stdin as unknown as { unref?: () => void }).unref?.();
  (child.stdout as unknown as { unref?: () => void }).unref?.();
  (child.stderr as unknown as { unref?: () => void }).unref?.();
  return { release: () => child.stdin.end() };
}

function run(file: string, args: string[]): string {
  return execFileSync(file, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Runs a command whose failure only means "nothing to undo". */
function tryRun(file: string, args: string[]): boolean {
  return spawnSync(file, args, { stdio: 'ignore' }).status === 0;
}

function iptablesRules(): string[][] {
  const forward = [
    '-i',
    NODE_NETWORK.bridge,
    '!',
    '-o',
    NODE_NETWORK.bridge,
    '-m',
    'comment',
    '--comment',
    RULE_COMMENT,
    '-j',
    'DROP',
  ];
  return [['filter', 'FORWARD', ...forward]];
}

/**
 * The pods' bridge: the gateway address (the node's and the API server's address for pods), the Service range routed
 * onto it (so a Service address that kube-proxy has not translated yet still goes nowhere but the bridge), and a rule
 * that drops whatever pods send towards any other interface: pods reach each other and this host, nothing else.
 */
export function createBridge(state: NodeState): void {
  const prefix = NODE_NETWORK.podCidr.split('/')[1];
  run('ip', ['link', 'add', state.bridge, 'type', 'bridge']);
  run('ip', ['addr', 'add', `${NODE_NETWORK.gateway}/${prefix}`, 'dev', state.bridge]);
  run('ip', ['link', 'set', state.bridge, 'up']);
  run('ip', ['route', 'add', state.serviceCidr, 'dev', state.bridge]);
  for (const [table, chain, ...rule] of iptablesRules()) run('iptables', ['-t', table!, '-I', chain!, ...rule]);
}

/** Mount points under `roots`, deepest first. */
function mountsUnder(roots: string[]): string[] {
  const points = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((point): point is string => Boolean(point))
    .map((point) => point.replace(/\\040/g, ' '))
    .filter((point) => roots.some((root) => point === root || point.startsWith(`${root}/`)));
  return [...new Set(points)].sort((a, b) => b.length - a.length);
}

function processTable(): Map<number, { ppid: number; cmdline: string[] }> {
  const table = new Map<number, { ppid: number; cmdline: string[] }>();
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid)) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
      table.set(pid, { ppid, cmdline });
    } catch {
      // Exited while we looked.
    }
  }
  return table;
}

/**
 * containerd's shims for this node (`-address <our socket>`), and every process below them: the pods' containers.
 * Only processes descending from a shim of this node's own socket are ever touched.
 */
export function podProcesses(socket: string): { shims: number[]; containers: number[] } {
  const table = processTable();
  const shims = [...table]
    .filter(([, p]) => p.cmdline[0]?.includes('containerd-shim') && p.cmdline.includes(socket))
    .map(([pid]) => pid);
  const containers: number[] = [];
  const below = new Set(shims);
  let grew = true;
  while (grew) {
    grew = false;
    for (const [pid, p] of table) {
      if (!below.has(pid) && below.has(p.ppid)) {
        below.add(pid);
        containers.push(pid);
        grew = true;
      }
    }
  }
  return { shims, containers };
}

/**
 * kubelet's own chains, which it leaves behind: KUBE-FIREWALL (jumped to from INPUT and OUTPUT; drops connections to
 * 127.0.0.0/8 from other addresses), and the KUBE-KUBELET-CANARY / KUBE-IPTABLES-HINT markers, for IPv4 and IPv6.
 */
/** kube-router's NetworkPolicy chains (filter table) and ipsets. */
const KUBE_ROUTER_CHAIN = /^KUBE-(ROUTER|NWPLCY|POD-FW)-/;
const KUBE_ROUTER_SET = /^(inet6:)?(TMP-)?KUBE-(SRC|DST)-/;

/**
 * Removes what kube-router's network policy controller leaves when it stops: its chains, the jumps to them from INPUT,
 * FORWARD and OUTPUT, and its ipsets; they would filter the next node's pods. (Its own `--cleanup-config` also cleans
 * up the service proxy, which crashes where IPVS is missing.) Returns what is still there afterwards.
 */
function removeKubeRouterRules(): string[] {
  const left: string[] = [];
  for (const command of ['iptables', 'ip6tables']) {
    const chains = () =>
      [...(spawnSync(`${command}-save`, ['-t', 'filter'], { encoding: 'utf8' }).stdout ?? '').matchAll(/^:(\S+)/gm)]
        .map((match) => match[1]!)
        .filter((chain) => KUBE_ROUTER_CHAIN.test(chain));
    const ours = chains();
    if (!ours.length) continue;
    for (const builtIn of ['INPUT', 'FORWARD', 'OUTPUT']) {
      // The jumps carry comments, so they are deleted by number, last first.
      const listing = spawnSync(command, ['-t', 'filter', '-L', builtIn, '--line-numbers', '-n'], { encoding: 'utf8' });
      const numbers = (listing.stdout ?? '')
        .split('\n')
        .map((line) => /^(\d+)\s+(\S+)/.exec(line))
        .filter((match) => match && KUBE_ROUTER_CHAIN.test(match[2]!))
        .map((match) => Number(match![1]))
        .sort((a, b) => b - a);
      for (const number of numbers) tryRun(command, ['-t', 'filter', '-D', builtIn, String(number)]);
    }
    for (const chain of ours) tryRun(command, ['-t', 'filter', '-F', chain]);
    for (const chain of ours) tryRun(command, ['-t', 'filter', '-X', chain]);
    left.push(...chains().map((chain) => `${command} chain ${chain}`));
  }
  const sets = () =>
    (spawnSync('ipset', ['list', '-n'], { encoding: 'utf8' }).stdout ?? '')
      .split('\n')
      .filter((set) => KUBE_ROUTER_SET.test(set));
  for (const set of sets()) tryRun('ipset', ['destroy', set]);
  left.push(...sets().map((set) => `ipset ${set}`));
  return left;
}

function removeKubeletChains(): void {
  for (const command of ['iptables', 'ip6tables']) {
    for (const chain of ['INPUT', 'OUTPUT']) {
      while (tryRun(command, ['-t', 'filter', '-D', chain, '-j', 'KUBE-FIREWALL']));
    }
    for (const table of ['filter', 'nat', 'mangle']) {
      for (const chain of ['KUBE-FIREWALL', 'KUBE-KUBELET-CANARY', 'KUBE-IPTABLES-HINT']) {
        if (tryRun(command, ['-t', table, '-F', chain])) tryRun(command, ['-t', table, '-X', chain]);
      }
    }
  }
}

function removeMatching(dir: string, matches: (name: string) => boolean): void {
  let names: string[] = [];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names.filter(matches)) rmSync(path.join(dir, name), { force: true });
}

function kill(pids: number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Gone already.
    }
  }
}

/** Whether `pid` still runs: neither gone nor a zombie. It may exit between any two reads of /proc. */
function running(pid: number): boolean {
  try {
    return !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ');
  } catch {
    return false;
  }
}

function waitGone(pids: number[], ms: number): void {
  const deadline = Date.now() + ms;
  while (pids.some(running) && Date.now() < deadline) {
    spawnSync('sleep', ['0.1']);
  }
}

/**
 * Kills the pods' processes and deletes their containers from the (persistent) image store's metadata, while
 * containerd still runs: the next node then starts with no leftover sandboxes.
 */
export function removePodContainers(state: NodeState): void {
  const { shims, containers } = podProcesses(state.containerdSocket);
  kill(containers);
  waitGone(containers, 5_000);
  const ctr = (...args: string[]) =>
    spawnSync('ctr', ['--address', state.containerdSocket, '--namespace', 'k8s.io', ...args], {
      encoding: 'utf8',
      timeout: 15_000,
    });
  const ids = (ctr('containers', 'ls', '-q').stdout ?? '').split('\n').filter(Boolean);
  for (const id of ids) {
    ctr('tasks', 'delete', '--force', id);
    ctr('containers', 'delete', id);
  }
  // CRI's implicit loopback network keeps a libcni result per sandbox.
  removeMatching('/var/lib/cni/results', (name) => ids.some((id) => name === `cni-loopback-${id}-lo`));
  kill(shims);
}

/**
 * Removes everything a node left on the machine, whether it stopped cleanly or its owner was SIGKILLed: the pods'
 * processes and shims, the mounts (container root filesystems, sandbox shm, network namespaces, pod volumes), the
 * bridge and its route, kube-proxy's and this harness's iptables rules. The node's own processes (containerd,
 * kubelet, kube-proxy, CoreDNS) are stopped by the caller first. Idempotent; returns what it could not undo.
 */
export function teardownNode(state: NodeState): string[] {
  const problems: string[] = [];
  const { shims, containers } = podProcesses(state.containerdSocket);
  kill(containers);
  waitGone(containers, 5_000);
  kill(shims);
  waitGone(shims, 5_000);
  for (const point of mountsUnder(state.mountRoots)) {
    if (!tryRun('umount', [point]) && !tryRun('umount', ['-l', point])) problems.push(`could not unmount ${point}`);
  }
  if (existsSync(`/sys/class/net/${state.bridge}`) && !tryRun('ip', ['link', 'del', state.bridge]))
    problems.push(`could not delete bridge ${state.bridge}`);
  tryRun('ip', ['route', 'del', state.serviceCidr]);
  for (const [table, chain, ...rule] of iptablesRules()) {
    while (tryRun('iptables', ['-t', table!, '-D', chain!, ...rule]));
  }
  if (existsSync(state.kubeProxy) && !tryRun(state.kubeProxy, ['--cleanup', '--v=0']))
    problems.push('kube-proxy --cleanup failed');
  removeKubeletChains();
  const policyLeftovers = removeKubeRouterRules();
  if (policyLeftovers.length) problems.push(`could not remove kube-router's ${policyLeftovers.join(', ')}`);
  // Files outside the directory whose paths are fixed: libcni's result cache and kubelet's log symlinks.
  removeMatching('/var/lib/cni/results', (name) => name.startsWith(`${CNI_NETWORK}-`));
  removeMatching('/var/log/containers', (name) => {
    try {
      return state.mountRoots.some((root) =>
        readlinkSync(path.join('/var/log/containers', name)).startsWith(`${root}/`),
      );
    } catch {
      return false;
    }
  });
  return problems;
}

// ----- configuration files -----

/**
 * containerd's image store outlives the cluster (only one node at a time uses it: the node lock), so the project's
 * images — about 1.5 GB of archives — are imported once per machine instead of once per run.
 */
export function imageStoreDir(): string {
  return (
    process.env.AIRQ_NODE_IMAGE_STORE ??
    path.join(process.env.AIRQ_TOOLS_CACHE ?? path.join(homedir(), '.cache', 'airq-tools'), 'node-containerd-root')
  );
}

export function containerdConfig(dir: string, cniConfDir: string, registries: string[] = []): string {
  const root = path.join(dir, 'containerd');
  // Registries on this machine (host:port), reached over plain HTTP: containerd's hosts directory, one per registry.
  const hostsDir = path.join(root, 'certs.d');
  for (const registry of registries) {
    mkdirSync(path.join(hostsDir, registry), { recursive: true });
    writeFileSync(
      path.join(hostsDir, registry, 'hosts.toml'),
      `server = "http://${registry}"\n\n[host."http://${registry}"]\n  capabilities = ["pull", "resolve"]\n`,
    );
  }
  return `version = 2
root = "${imageStoreDir()}"
state = "${root}/state"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs", "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]

[grpc]
  address = "${root}/containerd.sock"

[ttrpc]
  address = "${root}/containerd.sock.ttrpc"

[debug]
  address = ""

[metrics]
  address = ""

[plugins."io.containerd.internal.v1.opt"]
  path = "${root}/opt"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "${PAUSE_IMAGE}"
  # Without it every sandbox fails here: it lacks CAP_SYS_RESOURCE to lower its OOM score adjustment.
  restrict_oom_score_adj = true
  # Network namespaces live under state, so teardown finds them with the other mounts.
  netns_mounts_under_state_dir = true
  enable_selinux = false
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "${cniConfDir}"
    max_conf_num = 1
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = "${registries.length ? hostsDir : ''}"
`;
}

/** The pods' network: the bridge created above, addresses from the pod range, state kept in the node's directory. */
export function cniConfig(dir: string, state: NodeState): string {
  return JSON.stringify(
    {
      cniVersion: '1.0.0',
      name: CNI_NETWORK,
      plugins: [
        {
          type: 'bridge',
          bridge: state.bridge,
          isGateway: true,
          // Pods never leave this machine: no address translation towards other networks.
          ipMasq: false,
          hairpinMode: true,
          ipam: {
            type: 'host-local',
            ranges: [[{ subnet: NODE_NETWORK.podCidr, gateway: NODE_NETWORK.gateway }]],
            routes: [{ dst: '0.0.0.0/0' }],
            dataDir: path.join(dir, 'cni-ipam'),
          },
        },
      ],
    },
    null,
    2,
  );
}

export interface KubeletPaths {
  dir: string;
  socket: string;
  caFile: string;
  certFile: string;
  keyFile: string;
  resolvConf: string;
  port: number;
  healthzPort: number;
}

export function kubeletConfig(p: KubeletPaths): string {
  return `apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: ${NODE_NETWORK.gateway}
port: ${p.port}
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: ${p.healthzPort}
containerRuntimeEndpoint: unix://${p.socket}
cgroupDriver: cgroupfs
# 1.35 refuses cgroup v1 unless told otherwise; this machine has only v1 controllers.
failCgroupV1: false
failSwapOn: false
tlsCertFile: ${p.certFile}
tlsPrivateKeyFile: ${p.keyFile}
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: ${p.caFile}}
authorization:
  mode: Webhook
clusterDomain: cluster.local
clusterDNS: [${NODE_NETWORK.gateway}]
# The pods get only the cluster's resolver, none of the host's search domains.
resolvConf: ${p.resolvConf}
podLogsDir: ${path.join(p.dir, 'pod-logs')}
volumePluginDir: ${path.join(p.dir, 'volume-plugins')}
# A shared test machine: never evict for disk, never collect the imported images (nothing could pull them back).
evictionHard: {memory.available: 100Mi, nodefs.available: 1%, imagefs.available: 1%, nodefs.inodesFree: 1%}
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
serializeImagePulls: false
nodeStatusUpdateFrequency: 4s
syncFrequency: 10s
maxPods: 110
`;
}

export function kubeProxyConfig(kubeconfig: string, healthzPort: number, metricsPort: number): string {
  return `apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: iptables
clusterCIDR: ${NODE_NETWORK.podCidr}
hostnameOverride: ${NODE_NAME}
bindAddress: 127.0.0.1
healthzBindAddress: 127.0.0.1:${healthzPort}
metricsBindAddress: 127.0.0.1:${metricsPort}
clientConnection:
  kubeconfig: ${kubeconfig}
# Leave the machine's conntrack sysctls alone.
conntrack:
  maxPerCore: 0
  min: 0
iptables:
  localhostNodePorts: false
  syncPeriod: 10s
  minSyncPeriod: 0s
`;
}

/** CoreDNS on the gateway: the cluster's names only (kubeadm's defaults for the kubernetes and cache plugins). */
export function corefile(kubeconfig: string, healthPort: number, readyPort: number): string {
  return `.:53 {
    bind ${NODE_NETWORK.gateway}
    errors
    health 127.0.0.1:${healthPort}
    ready 127.0.0.1:${readyPort}
    kubernetes cluster.local in-addr.arpa ip6.arpa {
        kubeconfig ${kubeconfig} airq-e2e
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
        ttl 30
    }
    cache 30
}
`;
}

// ----- images -----

const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

/**
 * A `docker save` archive of a one-layer image holding one static binary as its entrypoint, without any engine:
 * the pause image, made from tools/build.sh's binary.
 */
export function staticBinaryImage(binary: string, ref: string, out: string): void {
  const work = `${out}.d`;
  rmSync(work, { recursive: true, force: true });
  mkdirSync(path.join(work, 'rootfs'), { recursive: true });
  const name = path.basename(binary);
  copyFileSync(binary, path.join(work, 'rootfs', name));
  chmodSync(path.join(work, 'rootfs', name), 0o755);
  run('tar', [
    '--owner=0',
    '--group=0',
    '--numeric-owner',
    '--mtime=1970-01-01',
    '-C',
    path.join(work, 'rootfs'),
    '-cf',
    path.join(work, 'layer.tar'),
    name,
  ]);
  const diffId = `sha256:${sha256(readFileSync(path.join(work, 'layer.tar')))}`;
  const config = JSON.stringify({
    architecture: 'amd64',
    os: 'linux',
    config: { Entrypoint: [`/${name}`], User: '65535:65535' },
    rootfs: { type: 'layers', diff_ids: [diffId] },
  });
  const configName = `${sha256(config)}.json`;
  writeFileSync(path.join(work, configName), config);
  writeFileSync(
    path.join(work, 'manifest.json'),
    JSON.stringify([{ Config: configName, RepoTags: [ref], Layers: ['layer.tar'] }]),
  );
  run('tar', ['-C', work, '-cf', out, 'manifest.json', configName, 'layer.tar']);
  rmSync(work, { recursive: true, force: true });
}

/**
 * Loads a `docker save` (or OCI) archive into the node's containerd, where the kubelet finds it. An archive already
 * imported into the persistent store (same path, size and mtime; its images still listed) is skipped.
 */
export function importImage(socket: string, archive: string): void {
  const stat = statSync(archive);
  const key = sha256(`${archive}\0${stat.size}\0${stat.mtimeMs}`);
  const marker = path.join(imageStoreDir(), 'airq-imported', key);
  if (existsSync(marker)) {
    const refs = readFileSync(marker, 'utf8').split('\n').filter(Boolean);
    const listed = new Set(
      run('ctr', ['--address', socket, '--namespace', 'k8s.io', 'images', 'ls', '-q']).split('\n'),
    );
    if (refs.length && refs.every((ref) => listed.has(ref))) return;
  }
  let output: string;
  try {
    output = execFileSync('ctr', ['--address', socket, '--namespace', 'k8s.io', 'images', 'import', archive], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      maxBuffer: 16 * 1024 * 1024,
    });
  } catch (error) {
    const failure = error as { stderr?: string };
    throw new Error(`e2e node: ctr images import ${archive} failed: ${failure.stderr ?? String(error)}`);
  }
  // ctr prints "unpacking <ref> (sha256:...)...done" per image.
  const refs = [...output.matchAll(/unpacking (\S+) \(/g)].map((match) => match[1]!);
  mkdirSync(path.dirname(marker), { recursive: true });
  writeFileSync(marker, refs.join('\n') + '\n');
}

// ----- storage -----

/** hostPath PersistentVolumes in the node's directory, for a no-provisioner default StorageClass. */
export function localVolumes(
  dir: string,
  count: number,
  size: string,
  owner: number,
): { name: string; path: string; size: string }[] {
  return Array.from({ length: count }, (_, index) => {
    const volume = path.join(dir, 'volumes', `pv-${index}`);
    mkdirSync(volume, { recursive: true });
    // hostPath ignores fsGroup: the database's uid must own the directory (and anyone may write, for other uids).
    chownSync(volume, owner, owner);
    chmodSync(volume, 0o777);
    return { name: `airq-e2e-pv-${index}`, path: volume, size };
  });
}

export function isDirectory(file: string): boolean {
  try {
    return statSync(file).isDirectory();
  } catch {
    return false;
  }
}
