/**
 * The `Helm` class: every helm invocation the actions make goes through here (k8s-deploy's `Kubectl`, for helm).
 * It runs helm and parses what it prints; what the answers mean is up to each action. The kubeconfig it is given
 * comes from `kubeconfig.ts`.
 */
import * as core from '@actions/core';
import { getExecOutput } from '@actions/exec';
import { mkdtempSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { runnerTemp } from './runner-temp.ts';

/** Release statuses as helm prints them (helm.sh/helm/v4/pkg/release/common Status). */
export type ReleaseStatus =
  | 'unknown'
  | 'deployed'
  | 'uninstalled'
  | 'superseded'
  | 'failed'
  | 'uninstalling'
  | 'pending-install'
  | 'pending-upgrade'
  | 'pending-rollback';

/** One row of `helm history -o json`. `app_version` is the chart's appVersion, not our `appVersion` value. */
export interface HistoryEntry {
  revision: number;
  updated: string;
  status: ReleaseStatus | string;
  chart: string;
  app_version: string;
  description: string;
}

/** The subset of a release object (`helm upgrade -o json`, `helm status -o json`) the actions read. */
export interface ReleaseInfo {
  name: string;
  namespace: string;
  version: number;
  info: { status: string; description?: string; notes?: string; last_deployed?: string };
  chart?: { metadata?: { name?: string; version?: string; appVersion?: string } };
  config?: Record<string, unknown>;
}

export interface HelmVersion {
  /** e.g. `4.1.4` */
  version: string;
  major: number;
}

export type DryRun = 'none' | 'client' | 'server';

export interface UpgradeOptions {
  release: string;
  namespace: string;
  chart: string;
  /** Applied in order: later files win. */
  valuesFiles: string[];
  /** `--set-string key=value`, in insertion order. */
  setString: Record<string, string>;
  description: string;
  /** A Go duration such as `5m` or `300s`. */
  timeout: string;
  historyMax: number;
  createNamespace: boolean;
  /** helm 3 `--atomic`, helm 4 `--rollback-on-failure`. */
  rollbackOnFailure: boolean;
  dryRun: DryRun;
}

/** `helm version --short` output (`v4.1.4+g05fa379`) → version and major. */
export function parseHelmVersion(short: string): HelmVersion {
  const match = /v?(\d+)\.(\d+)\.(\d+)/.exec(short.trim());
  if (!match)
    throw new Error(
      `helm version --short printed "${short.trim()}", not a version like v4.1.4: is "helm" on PATH really helm?`,
    );
  return { version: `${match[1]}.${match[2]}.${match[3]}`, major: Number(match[1]) };
}

/** The flag that makes a failed upgrade roll itself back: helm 4 renamed `--atomic` to `--rollback-on-failure`. */
export function rollbackOnFailureFlag(helmMajor: number): string {
  return helmMajor >= 4 ? '--rollback-on-failure' : '--atomic';
}

/** The argument list of `helm upgrade --install` for these options and this helm major version. */
export function upgradeArgs(options: UpgradeOptions, helmMajor: number): string[] {
  const args = ['upgrade', options.release, options.chart, '--install', '--namespace', options.namespace];
  if (options.createNamespace) args.push('--create-namespace');
  for (const file of options.valuesFiles) args.push('--values', file);
  for (const [key, value] of Object.entries(options.setString)) args.push('--set-string', `${key}=${value}`);
  args.push('--description', options.description);
  args.push('--history-max', String(options.historyMax));
  args.push('--timeout', options.timeout);
  if (options.dryRun === 'none') {
    args.push('--wait');
    if (options.rollbackOnFailure) args.push(rollbackOnFailureFlag(helmMajor));
  } else {
    // A dry run waits for nothing and must not print Secret data into the log or summary.
    args.push(`--dry-run=${options.dryRun}`, '--hide-secret');
  }
  args.push('--output', 'json');
  return args;
}

export interface RollbackOptions {
  release: string;
  namespace: string;
  revision: number;
  timeout: string;
}

/** The argument list of `helm rollback`. */
export function rollbackArgs(options: RollbackOptions): string[] {
  return [
    'rollback',
    options.release,
    String(options.revision),
    '--namespace',
    options.namespace,
    '--wait',
    '--timeout',
    options.timeout,
  ];
}

/** A helm command that exited non-zero; `message` carries helm's own error line(s). */
export class HelmError extends Error {
  readonly args: string[];
  readonly exitCode: number;
  readonly stderr: string;
  readonly stdout: string;
  constructor(args: string[], exitCode: number, stderr: string, stdout = '') {
    super(`helm ${args[0] ?? ''} failed (exit ${exitCode}): ${helmErrorLines(stderr)}`);
    this.name = 'HelmError';
    this.args = args;
    this.exitCode = exitCode;
    this.stderr = stderr;
    this.stdout = stdout;
  }

  /** helm's way of saying the release (or the revision asked for) does not exist. */
  get releaseNotFound(): boolean {
    return /release: not found/.test(this.stderr);
  }
}

/** helm's error: from its first `Error:` line to the end (schema errors continue below it), else its last lines. */
export function helmErrorLines(stderr: string): string {
  const lines = stderr
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
  const first = lines.findIndex((line) => line.startsWith('Error:'));
  const chosen =
    first >= 0 ? lines.slice(first, first + 20).map((line) => line.replace(/^Error:\s*/, '')) : lines.slice(-3);
  return chosen.join(' ').replace(/:\s*$/, '') || 'no output on stderr';
}

export interface HelmSettings {
  /** The helm executable; `helm` from PATH by default. */
  binary?: string;
  /** A kubeconfig file; the ambient KUBECONFIG (or ~/.kube/config) when absent. */
  kubeconfig?: string;
  /** Extra environment for every helm process. */
  env?: Record<string, string>;
}

interface RunOptions {
  /** Copy helm's stderr into the log as it arrives (long operations: upgrade, rollback). */
  streamStderr?: boolean;
  env?: Record<string, string>;
}

/** A thin, typed wrapper around the helm CLI. */
export class Helm {
  readonly binary: string;
  private readonly env: Record<string, string>;
  private detected: HelmVersion | undefined;

  constructor(settings: HelmSettings = {}) {
    this.binary = settings.binary ?? 'helm';
    const env: Record<string, string> = {};
    for (const [key, value] of Object.entries(process.env)) if (value !== undefined) env[key] = value;
    if (settings.kubeconfig) env.KUBECONFIG = settings.kubeconfig;
    this.env = { ...env, ...settings.env };
  }

  /** Runs helm; resolves with stdout, rejects with a `HelmError` on a non-zero exit. */
  private async run(args: string[], options: RunOptions = {}): Promise<string> {
    core.info(`[command] ${this.binary} ${args.map(quoteForLog).join(' ')}`);
    const result = await getExecOutput(this.binary, args, {
      silent: true,
      ignoreReturnCode: true,
      env: { ...this.env, ...options.env },
      listeners: options.streamStderr ? { errline: (line) => core.info(line) } : {},
    });
    if (result.exitCode !== 0) throw new HelmError(args, result.exitCode, result.stderr, result.stdout);
    return result.stdout;
  }

  /** The helm version on PATH (detected once). */
  async version(): Promise<HelmVersion> {
    this.detected ??= parseHelmVersion(await this.run(['version', '--short']));
    return this.detected;
  }

  /** `helm upgrade --install`; returns the release helm printed (`-o json`). */
  async upgrade(options: UpgradeOptions): Promise<ReleaseInfo> {
    const { major } = await this.version();
    // Client-side dry runs must not touch the cluster; helm 4's upgrade still reads the release history, so give
    // it an empty in-memory store: the chart renders as a first install.
    const env: Record<string, string> = options.dryRun === 'client' ? emptyMemoryDriver() : {};
    const stdout = await this.run(upgradeArgs(options, major), { streamStderr: true, env });
    return JSON.parse(stdout) as ReleaseInfo;
  }

  /** `helm rollback <release> <revision> --wait`. */
  async rollback(options: RollbackOptions): Promise<void> {
    await this.run(rollbackArgs(options), { streamStderr: true });
  }

  /** `helm history -o json`, oldest first; `undefined` when the release does not exist. */
  async history(release: string, namespace: string): Promise<HistoryEntry[] | undefined> {
    return this.unlessNotFound(async () => {
      const stdout = await this.run(['history', release, '--namespace', namespace, '--max', '256', '--output', 'json']);
      const entries = JSON.parse(stdout) as HistoryEntry[];
      return [...entries].sort((a, b) => a.revision - b.revision);
    });
  }

  /** `helm status -o json`; `undefined` when the release does not exist. */
  async status(release: string, namespace: string): Promise<ReleaseInfo | undefined> {
    return this.unlessNotFound(
      async () =>
        JSON.parse(await this.run(['status', release, '--namespace', namespace, '--output', 'json'])) as ReleaseInfo,
    );
  }

  /** The user-supplied values of a revision (`helm get values -o json`); `undefined` when the release does not exist. */
  async values(release: string, namespace: string, revision?: number): Promise<Record<string, unknown> | undefined> {
    return this.unlessNotFound(async () => {
      const stdout = await this.run([
        'get',
        'values',
        release,
        '--namespace',
        namespace,
        ...revisionArgs(revision),
        '--output',
        'json',
      ]);
      return (JSON.parse(stdout) as Record<string, unknown> | null) ?? {};
    });
  }

  /** `helm template`: the chart's manifests for these values, rendered without a cluster. */
  async template(options: {
    release: string;
    namespace: string;
    chart: string;
    valuesFiles: string[];
    setString?: Record<string, string>;
  }): Promise<string> {
    const args = ['template', options.release, options.chart, '--namespace', options.namespace];
    for (const file of options.valuesFiles) args.push('--values', file);
    for (const [key, value] of Object.entries(options.setString ?? {})) args.push('--set-string', `${key}=${value}`);
    return this.run(args);
  }

  private async unlessNotFound<T>(read: () => Promise<T>): Promise<T | undefined> {
    try {
      return await read();
    } catch (error) {
      if (error instanceof HelmError && error.releaseNotFound) return undefined;
      throw error;
    }
  }
}

/** Environment for helm's in-memory release store, loaded from an empty file (helm requires the file to exist). */
function emptyMemoryDriver(): Record<string, string> {
  const file = path.join(mkdtempSync(path.join(runnerTemp(), 'helm-memory-')), 'releases.yaml');
  writeFileSync(file, '[]\n');
  return { HELM_DRIVER: 'memory', HELM_MEMORY_DRIVER_DATA: file };
}

function revisionArgs(revision: number | undefined): string[] {
  return revision === undefined ? [] : ['--revision', String(revision)];
}

function quoteForLog(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", "'\\''")}'`;
}
