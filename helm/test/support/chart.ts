import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { parseAllDocuments, parse as parseYaml, stringify } from 'yaml';
import { kubeBinaries } from '../../../test/support/kube-binaries.ts';
import { REPO_ROOT } from '../../../test/support/repo-root.ts';

const run = promisify(execFile);

export const CHART = path.join(REPO_ROOT, 'helm', 'airq');
export const ENVIRONMENTS = ['development', 'staging', 'production'] as const;
export type EnvironmentName = (typeof ENVIRONMENTS)[number];

/** A rendered Kubernetes object, loosely typed: tests reach into it by path. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  spec?: any;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  data?: any;
  automountServiceAccountToken?: boolean;
}

export interface RenderOptions {
  /** An environment whose `values:` part is passed as a values file. */
  environment?: EnvironmentName;
  /** More values, as a parsed object (written to a values file). */
  values?: unknown;
  /** `--set` expressions. */
  set?: string[];
  release?: string;
  namespace?: string;
}

/** The `values:` part of environments/<name>.yaml, as the deploy action passes it to Helm. */
export function environmentValues(name: string, dir = path.join(REPO_ROOT, 'environments')): unknown {
  const file = path.join(dir, `${name}.yaml`);
  const parsed = parseYaml(readFileSync(file, 'utf8')) as { values?: unknown } | null;
  if (!parsed || typeof parsed !== 'object') throw new Error(`${file}: not a YAML mapping`);
  return parsed.values ?? {};
}

export class HelmError extends Error {
  readonly output: string;
  constructor(message: string, output: string) {
    super(message);
    this.output = output;
  }
}

/** Runs the official helm binary on the chart with values files built from the options. */
async function helm(command: 'template' | 'lint' | 'install', options: RenderOptions): Promise<string> {
  const dir = mkdtempSync(path.join(tmpdir(), 'airq-helm-'));
  try {
    const namespace = ['--namespace', options.namespace ?? 'airq-test'];
    const release = options.release ?? 'airq';
    const args: string[] = {
      template: ['template', release, CHART, ...namespace],
      lint: ['lint', CHART, '--strict', ...namespace],
      // A client-side dry run renders NOTES.txt, which `helm template` leaves out; it never contacts a cluster.
      install: ['install', release, CHART, ...namespace, '--dry-run=client'],
    }[command];
    const files: unknown[] = [];
    if (options.environment) files.push(environmentValues(options.environment));
    if (options.values !== undefined) files.push(options.values);
    files.forEach((values, i) => {
      const file = path.join(dir, `values-${i}.yaml`);
      // YAML 1.1 output quotes strings such as "yes" or "on", which Helm's parser would otherwise read as booleans.
      writeFileSync(file, stringify(values, { version: '1.1' }));
      args.push('--values', file);
    });
    for (const expression of options.set ?? []) args.push('--set', expression);
    try {
      const { stdout } = await run(kubeBinaries().helm, args, {
        maxBuffer: 64 * 1024 * 1024,
        env: { ...process.env, KUBECONFIG: path.join(dir, 'no-cluster') },
      });
      return stdout;
    } catch (error) {
      const { stderr = '', stdout = '' } = error as { stderr?: string; stdout?: string };
      throw new HelmError(
        `helm ${command} failed: ${[stdout.trim(), stderr.trim()].filter(Boolean).join('\n')}`,
        `${stdout}${stderr}`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `helm template` of the chart, parsed into objects. */
export async function renderChart(options: RenderOptions = {}): Promise<KubeObject[]> {
  const stdout = await helm('template', options);
  return parseAllDocuments(stdout)
    .map((doc) => {
      if (doc.errors.length > 0) throw new Error(`helm template produced invalid YAML: ${doc.errors[0]?.message}`);
      return doc.toJS() as KubeObject | null;
    })
    .filter((o): o is KubeObject => o !== null);
}

/** NOTES.txt as `helm install` would print it. */
export async function renderNotes(options: RenderOptions = {}): Promise<string> {
  const stdout = await helm('install', options);
  const start = stdout.indexOf('\nNOTES:\n');
  if (start < 0) throw new Error(`helm install --dry-run printed no NOTES:\n${stdout.slice(0, 500)}`);
  return stdout.slice(start + '\nNOTES:\n'.length);
}

export async function lintChart(options: RenderOptions = {}): Promise<string> {
  return helm('lint', options);
}

export function find(objects: KubeObject[], kind: string, name?: string): KubeObject[] {
  return objects.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
}

export function one(objects: KubeObject[], kind: string, name: string): KubeObject {
  const found = find(objects, kind, name);
  if (found.length !== 1) {
    const present = objects.map((o) => `${o.kind}/${o.metadata.name}`).join(', ');
    throw new Error(`expected exactly one ${kind}/${name}, found ${found.length} among: ${present}`);
  }
  return found[0]!;
}

/** The pod template (or the pod itself) of a workload-like object, or undefined for other kinds. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function podSpecOf(o: KubeObject): { metadata?: any; spec: any } | undefined {
  switch (o.kind) {
    case 'Deployment':
    case 'StatefulSet':
    case 'Job':
      return o.spec.template;
    case 'CronJob':
      return o.spec.jobTemplate.spec.template;
    case 'Pod':
      return { metadata: o.metadata, spec: o.spec };
    default:
      return undefined;
  }
}

/** Every container of a pod spec, init containers included. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function containersOf(podSpec: any): any[] {
  return [...(podSpec.initContainers ?? []), ...(podSpec.containers ?? [])];
}

/** Whether a label selector (matchLabels + matchExpressions) selects these labels. */
export function selects(
  selector: {
    matchLabels?: Record<string, string>;
    matchExpressions?: { key: string; operator: string; values?: string[] }[];
  },
  labels: Record<string, string> = {},
): boolean {
  const byLabels = Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
  const byExpressions = (selector.matchExpressions ?? []).every(({ key, operator, values = [] }) => {
    switch (operator) {
      case 'In':
        return key in labels && values.includes(labels[key]!);
      case 'NotIn':
        return !(key in labels) || !values.includes(labels[key]!);
      case 'Exists':
        return key in labels;
      case 'DoesNotExist':
        return !(key in labels);
      default:
        throw new Error(`unknown selector operator ${operator}`);
    }
  });
  return byLabels && byExpressions;
}
