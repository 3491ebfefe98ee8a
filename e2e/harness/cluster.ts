import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  acquireNodeLock,
  containerdConfig,
  imageStoreDir,
  cniConfig,
  corefile,
  createBridge,
  importImage,
  kubeletConfig,
  kubeProxyConfig,
  localVolumes,
  NODE_NAME,
  NODE_NETWORK,
  nodeStatePath,
  PAUSE_IMAGE,
  podProcesses,
  readNodeState,
  removePodContainers,
  staticBinaryImage,
  teardownNode,
  type NodeLock,
  type NodeState,
} from './node.ts';
import { killOnExit, rssMiB, Supervisor } from './processes.ts';
import getPort from 'get-port';

/**
 * A real Kubernetes control plane — etcd, kube-apiserver, kube-controller-manager, kube-scheduler — with kwok standing
 * in for kubelets on fake nodes (fast, any number of them), and/or one real node (node.ts: containerd, a CNI bridge,
 * kubelet, kube-proxy, CoreDNS) whose pods really run. Everything lives in one temporary directory (certificates,
 * etcd data, kubeconfig, one log file per component) and every process runs in its own process group, killed by PID
 * on stop().
 */

export interface ClusterOptions {
  /** Directory holding the binaries of e2e/tools/build.sh. */
  binDir: string;
  /** Fake (kwok) nodes to create (each 32 CPU, 64 GiB, 110 pods, in a zone of its own). Default 2 without a real node, else 0. */
  nodes?: number;
  /**
   * Start one real node; its images come from `images` (docker-save archives), pulled from nowhere, or from
   * `registries` (host:port of plain-HTTP registries on this machine, e.g. one a workflow run pushes to).
   */
  realNode?: { images?: string[]; registries?: string[]; volumes?: { count: number; size: string; owner: number } };
  /** Give up on start-up after this long (ms). */
  startTimeoutMs?: number;
}

/** The real node's handles, when the cluster has one. */
export interface RealNode {
  name: string;
  /** containerd's socket (for `ctr --address`). */
  containerdSocket: string;
  /** Loads a docker-save archive into the node's image store. */
  importImage(archive: string): void;
}

export interface Cluster {
  /** The temporary directory: certificates, etcd data, kubeconfig and `<component>.log`. */
  dir: string;
  /** Path of an admin kubeconfig (token auth, CA inlined) for helm, kubectl and the actions. */
  kubeconfig: string;
  server: string;
  nodeNames: string[];
  /** The real node, if one was asked for. */
  node?: RealNode;
  /** Start-up time in ms, from the first process to a cluster that schedules and runs pods. */
  startupMs: number;
  /** A request to the API server as cluster admin; throws on a non-2xx answer unless `allowStatus` lists it. */
  api<T = unknown>(
    method: string,
    apiPath: string,
    body?: unknown,
    allowStatus?: number[],
  ): Promise<{ status: number; body: T }>;
  /** Resident memory (MiB) of each component, and of the real node's pods (their processes and shims) together. */
  memory(): Record<string, number>;
  /** The last `lines` lines of every component's log, for a failure report. */
  logTails(lines?: number): string;
  stop(): Promise<void>;
}

const FAKE_NODES_SERVICE_CIDR = '10.96.0.0/16';
const FAKE_NODES_KUBERNETES_SERVICE_IP = '10.96.0.1';
type Component =
  | 'etcd'
  | 'kube-apiserver'
  | 'kube-controller-manager'
  | 'kube-scheduler'
  | 'kwok'
  | 'containerd'
  | 'kubelet'
  | 'kube-proxy'
  | 'kube-router'
  | 'coredns';
/** The cluster's processes. */
type Components = Supervisor<Component>;

/** Real nodes of this process, torn down on exit if stop() did not run. */
const liveNodes = new Set<NodeState>();
let nodeTeardownInstalled = false;

const DIR_PREFIX = 'airq-e2e-cluster-';
const OWNER_FILE = 'owner.pid';
const PIDS_FILE = 'component.pids';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Cleans up after test processes that died without running their cleanup (SIGKILL, OOM): every cluster directory
 * whose owner is gone has its components' process groups killed — only while a pid still runs a binary from that
 * cluster's bin dir, so a reused pid is never touched — and is removed. A cluster with a real node also has its pods,
 * mounts, bridge and iptables rules removed (node.ts teardownNode); that is done only by a caller holding the node
 * lock (`withNodes`), since the next real node reuses the same bridge name.
 */
export function reapOrphanedClusters(root = tmpdir(), options: { withNodes?: boolean } = {}): string[] {
  const reaped: string[] = [];
  for (const name of readdirSync(root)) {
    if (!name.startsWith(DIR_PREFIX)) continue;
    const dir = path.join(root, name);
    let owner: number;
    try {
      owner = Number(readFileSync(path.join(dir, OWNER_FILE), 'utf8'));
    } catch {
      continue; // Being created right now, or not ours.
    }
    if (!Number.isInteger(owner) || owner <= 0 || alive(owner)) continue;
    const nodeState = readNodeState(dir);
    if (existsSync(nodeStatePath(dir)) && !options.withNodes) continue;
    let lines: string[] = [];
    try {
      lines = readFileSync(path.join(dir, PIDS_FILE), 'utf8').split('\n').filter(Boolean);
    } catch {
      // No component was started.
    }
    for (const line of lines) {
      const [pidText, binary] = line.split(' ', 2);
      const pid = Number(pidText);
      let command = '';
      try {
        command = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0] ?? '';
      } catch {
        continue; // Gone already.
      }
      if (command !== binary) continue;
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // Gone in between.
      }
    }
    if (nodeState) {
      const problems = teardownNode(nodeState);
      if (problems.length) {
        console.warn(`  e2e: left ${dir} in place: ${problems.join('; ')}`);
        continue;
      }
    }
    rmSync(dir, { recursive: true, force: true });
    reaped.push(dir);
  }
  return reaped;
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** A certificate `<name>.crt`/`<name>.key` signed by the cluster CA. */
function signCertificate(dir: string, name: string, subject: string, extensions: string): void {
  openssl(dir, [
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.csr`,
    '-subj',
    subject,
  ]);
  writeFileSync(path.join(dir, `${name}.ext`), extensions);
  openssl(dir, [
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    'ca.crt',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    `${name}.crt`,
    '-days',
    '7',
    '-extfile',
    `${name}.ext`,
  ]);
}

const CLIENT_EXTENSIONS = 'extendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\n';

/**
 * A throwaway CA, the API server's serving certificate and the service-account signing key pair; with a real node,
 * also the kubelet's serving and client certificates, the API server's client certificate for kubelets, and
 * kube-proxy's client certificate.
 */
function generateCertificates(dir: string, apiAddresses: string[], realNode: boolean): void {
  openssl(dir, [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
    '-days',
    '7',
    '-subj',
    '/CN=airq-e2e-ca',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign,digitalSignature',
  ]);
  const sans = [
    ...apiAddresses.map((ip) => `IP:${ip}`),
    'DNS:localhost',
    'DNS:kubernetes',
    'DNS:kubernetes.default',
    'DNS:kubernetes.default.svc',
    'DNS:kubernetes.default.svc.cluster.local',
  ];
  signCertificate(
    dir,
    'apiserver',
    '/CN=kube-apiserver',
    `subjectAltName=${sans.join(',')}\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\n`,
  );
  openssl(dir, ['genrsa', '-out', 'sa.key', '2048']);
  openssl(dir, ['rsa', '-in', 'sa.key', '-pubout', '-out', 'sa.pub']);
  if (!realNode) return;
  signCertificate(
    dir,
    'kubelet-serving',
    `/CN=system:node:${NODE_NAME}`,
    `subjectAltName=IP:${NODE_NETWORK.gateway},DNS:${NODE_NAME}\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\n`,
  );
  signCertificate(dir, 'kubelet-client', `/O=system:nodes/CN=system:node:${NODE_NAME}`, CLIENT_EXTENSIONS);
  signCertificate(
    dir,
    'apiserver-kubelet-client',
    '/O=system:masters/CN=kube-apiserver-kubelet-client',
    CLIENT_EXTENSIONS,
  );
  signCertificate(dir, 'kube-proxy', '/CN=system:kube-proxy', CLIENT_EXTENSIONS);
}

/** A kubeconfig authenticating with token `token`, or with the client certificate `<dir>/<name>.crt` when given. */
function kubeconfigYaml(
  server: string,
  caPem: string,
  token: string,
  clientCert?: { dir: string; name: string },
): string {
  const ca = Buffer.from(caPem).toString('base64');
  const user = clientCert
    ? [
        `    client-certificate: ${path.join(clientCert.dir, `${clientCert.name}.crt`)}`,
        `    client-key: ${path.join(clientCert.dir, `${clientCert.name}.key`)}`,
      ]
    : [`    token: ${token}`];
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: airq-e2e',
    '  cluster:',
    `    server: ${server}`,
    `    certificate-authority-data: ${ca}`,
    'users:',
    '- name: airq-e2e-admin',
    '  user:',
    ...user,
    'contexts:',
    '- name: airq-e2e',
    '  context:',
    '    cluster: airq-e2e',
    '    user: airq-e2e-admin',
    'current-context: airq-e2e',
    '',
  ].join('\n');
}

interface HttpAnswer {
  status: number;
  text: string;
}

/**
 * One request to a cluster component. HTTPS trusts the cluster CA only; `verify: false` is for the controller-manager
 * and scheduler health endpoints, which serve self-signed certificates. `token` sends the admin bearer token.
 */
function clusterRequest(
  url: string,
  options: { caPem: string; method?: string; token?: string; payload?: string; verify?: boolean; timeoutMs?: number },
): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const isHttps = url.startsWith('https:');
    const req = (isHttps ? httpsRequest : httpRequest)(
      url,
      {
        method: options.method ?? 'GET',
        ...(isHttps ? { ca: options.caPem, rejectUnauthorized: options.verify ?? true } : {}),
        headers: {
          ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
          accept: 'application/json',
          ...(options.payload
            ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(options.payload) }
            : {}),
        },
        ...(options.timeoutMs ? { timeout: options.timeoutMs } : {}),
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${url}: no answer within ${options.timeoutMs} ms`)));
    req.on('error', reject);
    req.end(options.payload);
  });
}

/** What the control plane gives the node phases: where the API server is, and how to reach it and the components. */
interface ControlPlane {
  server: string;
  kubeconfig: string;
  caPem: string;
  token: string;
  api: Cluster['api'];
  /** A health-check GET with a 5 s timeout (`https://127.0.0.1:<port>/healthz` and the like); unverified TLS. */
  probe(url: string): Promise<HttpAnswer>;
}

/** Addresses of the cluster: pods on a real node reach the API server at the bridge's gateway; otherwise nothing leaves loopback. */
function clusterNetwork(realNode: boolean) {
  return realNode
    ? {
        apiHost: NODE_NETWORK.gateway,
        serviceCidr: NODE_NETWORK.serviceCidr,
        kubernetesServiceIp: NODE_NETWORK.kubernetesServiceIp,
      }
    : {
        apiHost: '127.0.0.1',
        serviceCidr: FAKE_NODES_SERVICE_CIDR,
        kubernetesServiceIp: FAKE_NODES_KUBERNETES_SERVICE_IP,
      };
}

/** The real node's network state, recorded before anything exists outside the directory (so the reaper can always undo it), and its bridge. */
function createNodeNetwork(dir: string, binDir: string): NodeState {
  const state: NodeState = {
    bridge: NODE_NETWORK.bridge,
    serviceCidr: NODE_NETWORK.serviceCidr,
    containerdSocket: path.join(dir, 'containerd', 'containerd.sock'),
    kubeProxy: path.join(binDir, 'kube-proxy'),
    mountRoots: [dir, imageStoreDir()],
  };
  writeFileSync(nodeStatePath(dir), JSON.stringify(state, null, 2));
  liveNodes.add(state);
  createBridge(state);
  return state;
}

/** Certificates, etcd, kube-apiserver, kube-controller-manager and kube-scheduler, each waited for until healthy. */
async function startControlPlane(components: Components, dir: string, realNode: boolean): Promise<ControlPlane> {
  const { apiHost, serviceCidr, kubernetesServiceIp } = clusterNetwork(realNode);
  generateCertificates(dir, ['127.0.0.1', kubernetesServiceIp, ...(realNode ? [NODE_NETWORK.gateway] : [])], realNode);
  const caPem = readFileSync(path.join(dir, 'ca.crt'), 'utf8');
  const token = randomBytes(24).toString('hex');
  writeFileSync(path.join(dir, 'tokens.csv'), `${token},airq-e2e-admin,airq-e2e-admin,"system:masters"\n`);
  const [etcdClient, etcdPeer, apiPort, kcmPort, schedulerPort] = await Promise.all([
    getPort(),
    getPort(),
    getPort(),
    getPort(),
    getPort(),
  ]);
  const server = `https://${apiHost}:${apiPort}`;
  const kubeconfig = path.join(dir, 'kubeconfig');
  writeFileSync(kubeconfig, kubeconfigYaml(server, caPem, token), { mode: 0o600 });

  const probe = (url: string) => clusterRequest(url, { caPem, verify: false, timeoutMs: 5_000 });
  const api = async <T>(method: string, apiPath: string, body?: unknown, allowStatus: number[] = []) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const { status, text } = await clusterRequest(`${server}${apiPath}`, {
      caPem,
      method,
      token,
      ...(payload ? { payload } : {}),
    });
    if ((status < 200 || status > 299) && !allowStatus.includes(status))
      throw new Error(`${method} ${apiPath}: HTTP ${status}: ${text}`);
    return { status, body: (text ? JSON.parse(text) : undefined) as T };
  };

  components.launch('etcd', [
    '--name=e2e',
    `--data-dir=${path.join(dir, 'etcd')}`,
    `--listen-client-urls=http://127.0.0.1:${etcdClient}`,
    `--advertise-client-urls=http://127.0.0.1:${etcdClient}`,
    `--listen-peer-urls=http://127.0.0.1:${etcdPeer}`,
    `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeer}`,
    `--initial-cluster=e2e=http://127.0.0.1:${etcdPeer}`,
    // A throwaway store: durability costs fsyncs the shared machine does not need to pay.
    '--unsafe-no-fsync=true',
    '--log-level=warn',
  ]);
  await components.waitFor('etcd /health', async () =>
    (await probe(`http://127.0.0.1:${etcdClient}/health`)).text.includes('"true"'),
  );

  components.launch('kube-apiserver', [
    `--etcd-servers=http://127.0.0.1:${etcdClient}`,
    `--bind-address=${apiHost}`,
    `--advertise-address=${apiHost}`,
    `--secure-port=${apiPort}`,
    `--cert-dir=${path.join(dir, 'apiserver-certs')}`,
    `--tls-cert-file=${path.join(dir, 'apiserver.crt')}`,
    `--tls-private-key-file=${path.join(dir, 'apiserver.key')}`,
    `--client-ca-file=${path.join(dir, 'ca.crt')}`,
    // Published in kube-system/extension-apiserver-authentication, which the controller-manager and scheduler read.
    `--requestheader-client-ca-file=${path.join(dir, 'ca.crt')}`,
    '--requestheader-allowed-names=front-proxy-client',
    '--requestheader-username-headers=X-Remote-User',
    '--requestheader-group-headers=X-Remote-Group',
    '--requestheader-extra-headers-prefix=X-Remote-Extra-',
    `--token-auth-file=${path.join(dir, 'tokens.csv')}`,
    ...(realNode
      ? [
          '--authorization-mode=Node,RBAC',
          `--kubelet-client-certificate=${path.join(dir, 'apiserver-kubelet-client.crt')}`,
          `--kubelet-client-key=${path.join(dir, 'apiserver-kubelet-client.key')}`,
          `--kubelet-certificate-authority=${path.join(dir, 'ca.crt')}`,
          '--kubelet-preferred-address-types=InternalIP',
        ]
      : ['--authorization-mode=RBAC']),
    `--service-account-issuer=https://kubernetes.default.svc.cluster.local`,
    `--service-account-key-file=${path.join(dir, 'sa.pub')}`,
    `--service-account-signing-key-file=${path.join(dir, 'sa.key')}`,
    `--service-cluster-ip-range=${serviceCidr}`,
    // With fake nodes only, the `kubernetes` Service would point at 127.0.0.1, which no pod could reach anyway.
    ...(realNode ? [] : ['--endpoint-reconciler-type=none']),
    '--allow-privileged=true',
    '--enable-priority-and-fairness=false',
    '--profiling=false',
    '--v=1',
  ]);
  await components.waitFor(
    'kube-apiserver /readyz',
    async () => (await clusterRequest(`${server}/readyz`, { caPem, token, timeoutMs: 5_000 })).status === 200,
  );

  const componentFlags = (port: number) => [
    `--kubeconfig=${kubeconfig}`,
    `--authentication-kubeconfig=${kubeconfig}`,
    `--authorization-kubeconfig=${kubeconfig}`,
    '--bind-address=127.0.0.1',
    `--secure-port=${port}`,
    '--leader-elect=false',
    '--profiling=false',
  ];
  components.launch('kube-controller-manager', [
    ...componentFlags(kcmPort),
    `--cert-dir=${path.join(dir, 'kcm-certs')}`,
    '--controllers=*',
    `--service-account-private-key-file=${path.join(dir, 'sa.key')}`,
    `--root-ca-file=${path.join(dir, 'ca.crt')}`,
    `--cluster-signing-cert-file=${path.join(dir, 'ca.crt')}`,
    `--cluster-signing-key-file=${path.join(dir, 'ca.key')}`,
    `--service-cluster-ip-range=${serviceCidr}`,
    '--use-service-account-credentials=false',
    '--v=1',
  ]);
  components.launch('kube-scheduler', [...componentFlags(schedulerPort), '--v=1']);
  const healthy = async (port: number) => (await probe(`https://127.0.0.1:${port}/healthz`)).status === 200;
  await components.waitFor('kube-controller-manager /healthz', () => healthy(kcmPort));
  await components.waitFor('kube-scheduler /healthz', () => healthy(schedulerPort));
  return { server, kubeconfig, caPem, token, api, probe };
}

/** kwok and `count` fake nodes (each 32 CPU, 64 GiB, 110 pods, in a zone of its own) for it to play the kubelet of. */
async function startFakeNodes(
  components: Components,
  dir: string,
  plane: ControlPlane,
  count: number,
): Promise<string[]> {
  const nodeNames = Array.from({ length: count }, (_, index) => `kwok-node-${index}`);
  if (!count) return nodeNames;
  // The pod lifecycle of fake nodes, written out rather than kwok's built-in defaults (see the file).
  const stagesFile = fileURLToPath(new URL('./kwok-stages.yaml', import.meta.url));
  components.launch('kwok', [
    `--kubeconfig=${plane.kubeconfig}`,
    `--config=${stagesFile}`,
    '--manage-all-nodes=false',
    '--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake',
    `--server-address=127.0.0.1:${await getPort()}`,
    '--node-lease-duration-seconds=40',
  ]);
  const resources = { cpu: '32', memory: '64Gi', pods: '110', 'ephemeral-storage': '100Gi' };
  for (const [index, name] of nodeNames.entries()) {
    await plane.api('POST', '/api/v1/nodes', {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: {
        name,
        annotations: { 'kwok.x-k8s.io/node': 'fake', 'node.alpha.kubernetes.io/ttl': '0' },
        // A zone per node: the scheduler ignores topology spread constraints on nodes lacking one of their keys.
        labels: {
          'kubernetes.io/hostname': name,
          'topology.kubernetes.io/zone': `e2e-zone-${index}`,
          'kubernetes.io/os': 'linux',
          'kubernetes.io/arch': 'amd64',
          type: 'kwok',
        },
      },
      status: { allocatable: resources, capacity: resources },
    });
  }
  return nodeNames;
}

/** Every node Ready, and the default ServiceAccount there (the ServiceAccount admission plugin rejects pods until it is). */
async function waitUntilSchedulable(components: Components, plane: ControlPlane, nodeCount: number): Promise<void> {
  await components.waitFor(`${nodeCount} node(s) Ready`, async () => {
    const { body } = await plane.api<{ items: { status?: { conditions?: { type: string; status: string }[] } }[] }>(
      'GET',
      '/api/v1/nodes',
    );
    const ready = body.items.filter((item) =>
      item.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
    );
    return ready.length === nodeCount;
  });
  await components.waitFor(
    'ServiceAccount default/default',
    async () =>
      (await plane.api('GET', '/api/v1/namespaces/default/serviceaccounts/default', undefined, [404])).status === 200,
  );
}

/**
 * Starts the control plane (and the real node, if asked) and returns once every node is Ready, the real node's DNS
 * answers, and the default ServiceAccount exists.
 */
export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  if (!nodeTeardownInstalled) {
    nodeTeardownInstalled = true;
    // A crashed or interrupted test process must not leave a real node's network and mounts behind.
    killOnExit(() => {
      for (const state of liveNodes) teardownNode(state);
    });
  }
  const started = Date.now();
  const deadline = started + (options.startTimeoutMs ?? (options.realNode ? 240_000 : 120_000));
  const realNode = options.realNode;
  const lock: NodeLock | undefined = realNode
    ? await acquireNodeLock(Math.max(deadline - Date.now(), 1_000))
    : undefined;
  for (const dir of reapOrphanedClusters(tmpdir(), { withNodes: Boolean(lock) })) {
    console.warn(`  e2e: removed the cluster of a killed test run (${dir})`);
  }
  const dir = mkdtempSync(path.join(tmpdir(), DIR_PREFIX));
  writeFileSync(path.join(dir, OWNER_FILE), String(process.pid));
  const components: Components = new Supervisor({
    dir,
    binDir: options.binDir,
    deadline,
    label: 'e2e cluster',
    pidsFile: PIDS_FILE,
  });
  let nodeState: NodeState | undefined;
  let stopped = false;

  const stop = async () => {
    if (stopped) return;
    stopped = true;
    // containerd's pods go before containerd itself.
    await components.stop((name) => {
      if (name === 'containerd' && nodeState) removePodContainers(nodeState);
    });
    let problems: string[] = [];
    if (nodeState) {
      problems = teardownNode(nodeState);
      liveNodes.delete(nodeState);
    }
    if (problems.length) console.warn(`  e2e: cluster files left in ${dir}: ${problems.join('; ')}`);
    else if (process.env.AIRQ_E2E_KEEP === '1') console.warn(`  e2e cluster files kept in ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
    lock?.release();
  };

  try {
    // The API server binds to the bridge's gateway: with a real node, the bridge comes first.
    if (realNode) nodeState = createNodeNetwork(dir, options.binDir);
    const plane = await startControlPlane(components, dir, Boolean(realNode));
    const nodeNames = await startFakeNodes(components, dir, plane, options.nodes ?? (realNode ? 0 : 2));
    let node: RealNode | undefined;
    if (realNode && nodeState) {
      node = await startRealNode({ dir, binDir: options.binDir, state: nodeState, plane, components, realNode });
      nodeNames.push(node.name);
    }
    await waitUntilSchedulable(components, plane, nodeNames.length);

    const memory = () => {
      const usage = components.memory();
      if (nodeState) {
        const pods = podProcesses(nodeState.containerdSocket);
        usage.pods = rssMiB([...pods.shims, ...pods.containers]);
      }
      return usage;
    };
    const { server, kubeconfig, api } = plane;
    return {
      dir,
      kubeconfig,
      server,
      nodeNames,
      node,
      startupMs: Date.now() - started,
      api,
      memory,
      logTails: (lines) => components.logTails(lines),
      stop,
    };
  } catch (error) {
    await stop().catch(() => undefined);
    throw error;
  }
}

interface RealNodeContext {
  dir: string;
  binDir: string;
  state: NodeState;
  plane: ControlPlane;
  components: Components;
  realNode: NonNullable<ClusterOptions['realNode']>;
}

/** containerd, the images, kubelet, kube-proxy, CoreDNS and the local volumes, beside a running control plane. */
async function startRealNode(ctx: RealNodeContext): Promise<RealNode> {
  const { dir, binDir, state, components } = ctx;
  const { server, caPem, token, api, probe } = ctx.plane;
  const launch = components.launch.bind(components);
  const waitFor = components.waitFor.bind(components);
  const socket = state.containerdSocket;
  const cniConfDir = path.join(dir, 'cni');
  mkdirSync(cniConfDir, { recursive: true });
  writeFileSync(path.join(cniConfDir, '10-airq-e2e.conflist'), cniConfig(dir, state));
  const containerdToml = path.join(dir, 'containerd.toml');
  writeFileSync(containerdToml, containerdConfig(dir, cniConfDir, ctx.realNode.registries));
  launch('containerd', ['--config', containerdToml, '--log-level', 'warn'], '/usr/bin/containerd');
  await waitFor(
    'containerd',
    async () => spawnSync('ctr', ['--address', socket, 'version'], { stdio: 'ignore', timeout: 5_000 }).status === 0,
  );

  const pauseArchive = path.join(dir, 'pause-image.tar');
  staticBinaryImage(path.join(binDir, 'pause'), PAUSE_IMAGE, pauseArchive);
  for (const archive of [pauseArchive, ...(ctx.realNode.images ?? [])]) importImage(socket, archive);

  const [kubeletPort, kubeletHealthz, proxyHealthz, proxyMetrics, dnsHealth, dnsReady, routerHealth] =
    await Promise.all([getPort(), getPort(), getPort(), getPort(), getPort(), getPort(), getPort()]);
  const kubeletDir = path.join(dir, 'kubelet');
  mkdirSync(kubeletDir, { recursive: true });
  const resolvConf = path.join(dir, 'pod-resolv.conf');
  writeFileSync(resolvConf, '');
  const kubeletKubeconfig = path.join(dir, 'kubelet.kubeconfig');
  writeFileSync(kubeletKubeconfig, kubeconfigYaml(server, caPem, token, { dir, name: 'kubelet-client' }), {
    mode: 0o600,
  });
  const kubeletYaml = path.join(dir, 'kubelet.yaml');
  writeFileSync(
    kubeletYaml,
    kubeletConfig({
      dir: kubeletDir,
      socket,
      caFile: path.join(dir, 'ca.crt'),
      certFile: path.join(dir, 'kubelet-serving.crt'),
      keyFile: path.join(dir, 'kubelet-serving.key'),
      resolvConf,
      port: kubeletPort,
      healthzPort: kubeletHealthz,
    }),
  );
  launch('kubelet', [
    `--config=${kubeletYaml}`,
    `--kubeconfig=${kubeletKubeconfig}`,
    `--root-dir=${kubeletDir}`,
    `--cert-dir=${path.join(kubeletDir, 'pki')}`,
    `--hostname-override=${NODE_NAME}`,
    `--node-ip=${NODE_NETWORK.gateway}`,
    '--v=1',
  ]);

  const proxyKubeconfig = path.join(dir, 'kube-proxy.kubeconfig');
  writeFileSync(proxyKubeconfig, kubeconfigYaml(server, caPem, token, { dir, name: 'kube-proxy' }), { mode: 0o600 });
  const proxyYaml = path.join(dir, 'kube-proxy.yaml');
  writeFileSync(proxyYaml, kubeProxyConfig(proxyKubeconfig, proxyHealthz, proxyMetrics));
  launch('kube-proxy', [`--config=${proxyYaml}`, '--v=1']);

  // CoreDNS reads Services and EndpointSlices with the admin kubeconfig (no RBAC to set up for a host process).
  const corefilePath = path.join(dir, 'Corefile');
  writeFileSync(corefilePath, corefile(ctx.plane.kubeconfig, dnsHealth, dnsReady));
  launch('coredns', ['-conf', corefilePath]);

  await createLocalStorage(api, dir, ctx.realNode.volumes ?? { count: 4, size: '20Gi', owner: 999 });

  await waitFor(
    'kubelet /healthz',
    async () => (await probe(`http://127.0.0.1:${kubeletHealthz}/healthz`)).status === 200,
  );
  await waitFor(
    'kube-proxy /healthz',
    async () => (await probe(`http://127.0.0.1:${proxyHealthz}/healthz`)).status === 200,
  );
  await waitFor('CoreDNS /ready', async () => (await probe(`http://127.0.0.1:${dnsReady}/ready`)).status === 200);

  // NetworkPolicy, enforced as a cluster with a policy-capable network would: kube-router's network policy controller
  // alone (no routing, no service proxy: the bridge and kube-proxy do those), with iptables chains and ipsets that
  // admit to a pod a policy selects only what some policy allows. The node's own traffic (kubelet probes, a smoke test
  // run on the host) comes from the node's address, which it always admits.
  // It looks its node up once, at start.
  await waitFor(`the Node ${NODE_NAME} registered by kubelet`, async () => {
    return (await api('GET', `/api/v1/nodes/${NODE_NAME}`, undefined, [404])).status === 200;
  });
  launch('kube-router', [
    `--kubeconfig=${ctx.plane.kubeconfig}`,
    `--hostname-override=${NODE_NAME}`,
    '--run-firewall=true',
    '--run-router=false',
    '--run-service-proxy=false',
    `--service-cluster-ip-range=${NODE_NETWORK.serviceCidr}`,
    `--health-port=${routerHealth}`,
    '--metrics-port=0',
    '--v=1',
  ]);

  await waitFor(
    'kube-router /healthz (its network policy controller)',
    async () => (await probe(`http://127.0.0.1:${routerHealth}/healthz`)).status === 200,
  );
  return { name: NODE_NAME, containerdSocket: socket, importImage: (archive) => importImage(socket, archive) };
}

/** The default StorageClass (no provisioner) and `volumes.count` hostPath PersistentVolumes on the real node. */
async function createLocalStorage(
  api: Cluster['api'],
  dir: string,
  volumes: { count: number; size: string; owner: number },
): Promise<void> {
  await api('POST', '/apis/storage.k8s.io/v1/storageclasses', {
    apiVersion: 'storage.k8s.io/v1',
    kind: 'StorageClass',
    metadata: { name: 'airq-e2e-local', annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } },
    provisioner: 'kubernetes.io/no-provisioner',
    // One node: bind at once, so a claim nothing mounts yet (the backup volume) does not hold `helm --wait` forever.
    volumeBindingMode: 'Immediate',
    reclaimPolicy: 'Retain',
  });
  for (const volume of localVolumes(dir, volumes.count, volumes.size, volumes.owner)) {
    await api('POST', '/api/v1/persistentvolumes', {
      apiVersion: 'v1',
      kind: 'PersistentVolume',
      metadata: { name: volume.name },
      spec: {
        capacity: { storage: volume.size },
        accessModes: ['ReadWriteOnce'],
        persistentVolumeReclaimPolicy: 'Retain',
        storageClassName: 'airq-e2e-local',
        hostPath: { path: volume.path, type: 'Directory' },
        nodeAffinity: {
          required: {
            nodeSelectorTerms: [
              { matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [NODE_NAME] }] },
            ],
          },
        },
      },
    });
  }
}
