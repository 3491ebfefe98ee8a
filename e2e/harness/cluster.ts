import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { kwokStagesConfig } from './stages.ts';
import { freePort } from '../../db/src/free-port.ts';

/**
 * A real Kubernetes control plane on loopback — etcd, kube-apiserver, kube-controller-manager, kube-scheduler — with
 * kwok standing in for kubelets on fake nodes. Everything lives in one temporary directory (certificates, etcd data,
 * kubeconfig, one log file per component) and every process runs in its own process group, killed by PID on stop().
 */

export interface ClusterOptions {
  /** Directory holding etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kwok. */
  binDir: string;
  /** Fake nodes to create (each 32 CPU, 64 GiB, 110 pods). */
  nodes?: number;
  /** Give up on start-up after this long (ms). */
  startTimeoutMs?: number;
}

export interface Cluster {
  /** The temporary directory: certificates, etcd data, kubeconfig and `<component>.log`. */
  dir: string;
  /** Path of an admin kubeconfig (token auth, CA inlined) for helm, kubectl and the actions. */
  kubeconfig: string;
  server: string;
  nodeNames: string[];
  /** Start-up time in ms, from the first process to a cluster that schedules and runs pods. */
  startupMs: number;
  /** A request to the API server as cluster admin; throws on a non-2xx answer unless `allowStatus` lists it. */
  api<T = unknown>(method: string, apiPath: string, body?: unknown, allowStatus?: number[]): Promise<{ status: number; body: T }>;
  /** The last `lines` lines of every component's log, for a failure report. */
  logTails(lines?: number): string;
  stop(): Promise<void>;
}

const SERVICE_CIDR = '10.96.0.0/16';
const KUBERNETES_SERVICE_IP = '10.96.0.1';
const COMPONENTS = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kwok'] as const;
type Component = (typeof COMPONENTS)[number];

const running = new Set<ChildProcess>();
let cleanupInstalled = false;

function killAll(): void {
  for (const child of running) killGroup(child, 'SIGKILL');
}

/** A crashed or interrupted test process must not leave a control plane behind. */
function installCleanup(): void {
  if (cleanupInstalled) return;
  cleanupInstalled = true;
  process.once('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      killAll();
      // Nobody else handles it (mocha may): die of the signal as if this handler did not exist.
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    });
  }
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // Already gone.
  }
}

async function stopProcess(child: ChildProcess, graceMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  killGroup(child, 'SIGTERM');
  const timer = setTimeout(() => killGroup(child, 'SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
  running.delete(child);
}


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
 * cluster's bin dir, so a reused pid is never touched — and is removed.
 */
export function reapOrphanedClusters(root = tmpdir()): string[] {
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
    rmSync(dir, { recursive: true, force: true });
    reaped.push(dir);
  }
  return reaped;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** A throwaway CA, the API server's serving certificate and the service-account signing key pair. */
function generateCertificates(dir: string): void {
  openssl(dir, ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '7',
    '-subj', '/CN=airq-e2e-ca', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign,digitalSignature']);
  openssl(dir, ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'apiserver.key', '-out', 'apiserver.csr', '-subj', '/CN=kube-apiserver']);
  const sans = ['IP:127.0.0.1', `IP:${KUBERNETES_SERVICE_IP}`, 'DNS:localhost', 'DNS:kubernetes', 'DNS:kubernetes.default',
    'DNS:kubernetes.default.svc', 'DNS:kubernetes.default.svc.cluster.local'];
  writeFileSync(path.join(dir, 'apiserver.ext'),
    `subjectAltName=${sans.join(',')}\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\n`);
  openssl(dir, ['x509', '-req', '-in', 'apiserver.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial',
    '-out', 'apiserver.crt', '-days', '7', '-extfile', 'apiserver.ext']);
  openssl(dir, ['genrsa', '-out', 'sa.key', '2048']);
  openssl(dir, ['rsa', '-in', 'sa.key', '-pubout', '-out', 'sa.pub']);
}

function kubeconfigYaml(server: string, caPem: string, token: string): string {
  const ca = Buffer.from(caPem).toString('base64');
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
    `    token: ${token}`,
    'contexts:',
    '- name: airq-e2e',
    '  context:',
    '    cluster: airq-e2e',
    '    user: airq-e2e-admin',
    'current-context: airq-e2e',
    '',
  ].join('\n');
}

function tail(file: string, lines: number): string {
  if (!existsSync(file)) return '(no log)';
  return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
}

/** Starts the control plane and returns once fake nodes are Ready and the default ServiceAccount exists. */
export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  installCleanup();
  for (const dir of reapOrphanedClusters()) console.warn(`  e2e: removed the control plane of a killed test run (${dir})`);
  const started = Date.now();
  const deadline = started + (options.startTimeoutMs ?? 120_000);
  const dir = mkdtempSync(path.join(tmpdir(), DIR_PREFIX));
  writeFileSync(path.join(dir, OWNER_FILE), String(process.pid));
  const processes = new Map<Component, ChildProcess>();
  const logFile = (name: Component) => path.join(dir, `${name}.log`);
  const token = randomBytes(24).toString('hex');
  let stopped = false;

  const logTails = (lines = 30) =>
    COMPONENTS.map((name) => `----- ${name} (${logFile(name)}) -----\n${tail(logFile(name), lines)}`).join('\n');

  const stop = async () => {
    if (stopped) return;
    stopped = true;
    // Reverse start order: clients before the API server, the API server before etcd.
    for (const name of [...COMPONENTS].reverse()) {
      const child = processes.get(name);
      if (child) await stopProcess(child);
    }
    if (process.env.AIRQ_E2E_KEEP === '1') console.warn(`  e2e cluster files kept in ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  };

  const launch = (name: Component, args: string[]) => {
    const out = openSync(logFile(name), 'a');
    const binary = path.join(options.binDir, name);
    const child = spawn(binary, args, { cwd: dir, detached: true, stdio: ['ignore', out, out] });
    closeSync(out);
    // For reapOrphanedClusters, should this process die without stopping the cluster.
    if (child.pid !== undefined) appendFileSync(path.join(dir, PIDS_FILE), `${child.pid} ${binary}\n`);
    running.add(child);
    processes.set(name, child);
    child.once('exit', () => running.delete(child));
  };

  /** Polls `check` until it returns true; fails early, with the logs, when a component has died. */
  const waitFor = async (what: string, check: () => Promise<boolean>) => {
    for (;;) {
      for (const [name, child] of processes) {
        if (child.exitCode !== null || child.signalCode !== null) {
          throw new Error(`e2e cluster: ${name} exited (${child.exitCode ?? child.signalCode}) while waiting for ${what}; its log is ${logFile(name)}\n${logTails()}`);
        }
      }
      if (await check().catch(() => false)) return;
      if (Date.now() > deadline) {
        throw new Error(`e2e cluster: timed out waiting for ${what}; component logs are in ${dir} (AIRQ_E2E_KEEP=1 keeps them)\n${logTails()}`);
      }
      await sleep(250);
    }
  };

  try {
    generateCertificates(dir);
    const caPem = readFileSync(path.join(dir, 'ca.crt'), 'utf8');
    writeFileSync(path.join(dir, 'tokens.csv'), `${token},airq-e2e-admin,airq-e2e-admin,"system:masters"\n`);
    const [etcdClient, etcdPeer, apiPort, kcmPort, schedulerPort, kwokPort] = await Promise.all([
      freePort(), freePort(), freePort(), freePort(), freePort(), freePort(),
    ]);
    const server = `https://127.0.0.1:${apiPort}`;
    const kubeconfig = path.join(dir, 'kubeconfig');
    writeFileSync(kubeconfig, kubeconfigYaml(server, caPem, token), { mode: 0o600 });

    const get = (url: string, withAuth: boolean) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const isHttps = url.startsWith('https:');
        const req = (isHttps ? httpsRequest : httpRequest)(
          url,
          {
            method: 'GET',
            ...(isHttps ? { ca: caPem, rejectUnauthorized: withAuth } : {}),
            headers: withAuth ? { authorization: `Bearer ${token}` } : {},
            timeout: 5_000,
          },
          (res) => {
            let body = '';
            res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
          },
        );
        req.on('timeout', () => req.destroy(new Error(`${url}: no answer within 5 s`)));
        req.on('error', reject);
        req.end();
      });

    const api = <T>(method: string, apiPath: string, body?: unknown, allowStatus: number[] = []) =>
      new Promise<{ status: number; body: T }>((resolve, reject) => {
        const payload = body === undefined ? undefined : JSON.stringify(body);
        const req = httpsRequest(
          `${server}${apiPath}`,
          {
            method,
            ca: caPem,
            headers: {
              authorization: `Bearer ${token}`,
              accept: 'application/json',
              ...(payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {}),
            },
          },
          (res) => {
            let text = '';
            res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
            res.on('end', () => {
              const status = res.statusCode ?? 0;
              if ((status < 200 || status > 299) && !allowStatus.includes(status)) {
                reject(new Error(`${method} ${apiPath}: HTTP ${status}: ${text}`));
                return;
              }
              resolve({ status, body: (text ? JSON.parse(text) : undefined) as T });
            });
          },
        );
        req.on('error', reject);
        req.end(payload);
      });

    launch('etcd', [
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
    await waitFor('etcd /health', async () => (await get(`http://127.0.0.1:${etcdClient}/health`, false)).body.includes('"true"'));

    launch('kube-apiserver', [
      `--etcd-servers=http://127.0.0.1:${etcdClient}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
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
      '--authorization-mode=RBAC',
      `--service-account-issuer=https://kubernetes.default.svc.cluster.local`,
      `--service-account-key-file=${path.join(dir, 'sa.pub')}`,
      `--service-account-signing-key-file=${path.join(dir, 'sa.key')}`,
      `--service-cluster-ip-range=${SERVICE_CIDR}`,
      // The `kubernetes` Service would point at 127.0.0.1, which nothing in a fake pod could reach anyway.
      '--endpoint-reconciler-type=none',
      '--allow-privileged=true',
      '--enable-priority-and-fairness=false',
      '--profiling=false',
      '--v=1',
    ]);
    await waitFor('kube-apiserver /readyz', async () => (await get(`${server}/readyz`, true)).status === 200);

    const componentFlags = (port: number) => [
      `--kubeconfig=${kubeconfig}`,
      `--authentication-kubeconfig=${kubeconfig}`,
      `--authorization-kubeconfig=${kubeconfig}`,
      '--bind-address=127.0.0.1',
      `--secure-port=${port}`,
      '--leader-elect=false',
      '--profiling=false',
    ];
    launch('kube-controller-manager', [
      ...componentFlags(kcmPort),
      `--cert-dir=${path.join(dir, 'kcm-certs')}`,
      '--controllers=*',
      `--service-account-private-key-file=${path.join(dir, 'sa.key')}`,
      `--root-ca-file=${path.join(dir, 'ca.crt')}`,
      `--cluster-signing-cert-file=${path.join(dir, 'ca.crt')}`,
      `--cluster-signing-key-file=${path.join(dir, 'ca.key')}`,
      `--service-cluster-ip-range=${SERVICE_CIDR}`,
      '--use-service-account-credentials=false',
      '--v=1',
    ]);
    launch('kube-scheduler', [...componentFlags(schedulerPort), '--v=1']);
    const stagesFile = path.join(dir, 'kwok-stages.yaml');
    writeFileSync(stagesFile, kwokStagesConfig());
    launch('kwok', [
      `--kubeconfig=${kubeconfig}`,
      `--config=${stagesFile}`,
      '--manage-all-nodes=false',
      '--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake',
      `--server-address=127.0.0.1:${kwokPort}`,
      '--node-lease-duration-seconds=40',
    ]);

    const nodeNames = Array.from({ length: options.nodes ?? 2 }, (_, index) => `kwok-node-${index}`);
    const resources = { cpu: '32', memory: '64Gi', pods: '110', 'ephemeral-storage': '100Gi' };
    for (const name of nodeNames) {
      await api('POST', '/api/v1/nodes', {
        apiVersion: 'v1',
        kind: 'Node',
        metadata: {
          name,
          annotations: { 'kwok.x-k8s.io/node': 'fake', 'node.alpha.kubernetes.io/ttl': '0' },
          labels: { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64', type: 'kwok' },
        },
        status: { allocatable: resources, capacity: resources },
      });
    }

    const healthy = async (port: number) => (await get(`https://127.0.0.1:${port}/healthz`, false)).status === 200;
    await waitFor('kube-controller-manager /healthz', () => healthy(kcmPort));
    await waitFor('kube-scheduler /healthz', () => healthy(schedulerPort));
    await waitFor(`${nodeNames.length} fake node(s) Ready (kwok)`, async () => {
      const { body } = await api<{ items: { status?: { conditions?: { type: string; status: string }[] } }[] }>('GET', '/api/v1/nodes');
      const ready = body.items.filter((node) => node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
      return ready.length === nodeNames.length;
    });
    await waitFor('ServiceAccount default/default', async () =>
      (await api('GET', '/api/v1/namespaces/default/serviceaccounts/default', undefined, [404])).status === 200);

    return { dir, kubeconfig, server, nodeNames, startupMs: Date.now() - started, api, logTails, stop };
  } catch (error) {
    await stop().catch(() => undefined);
    throw error;
  }
}

