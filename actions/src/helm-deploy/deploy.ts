import * as core from '@actions/core';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { stringify as toYaml } from 'yaml';
import type { Deployments } from '../lib/deployments.ts';
import type { RunContext } from '../lib/github.ts';
import type { Helm, ReleaseInfo, UpgradeOptions } from '../lib/helm.ts';
import { HelmError } from '../lib/helm.ts';
import { writeSummary } from '../lib/summary.ts';
import type { Settings } from './settings.ts';

export type DeployStatus = 'deployed' | 'rolled-back' | 'failed' | 'dry-run';

export interface DeployResult {
  status: DeployStatus;
  /** The release's revision after the run ('' when there is none: a failed first install). */
  revision: string;
  previousRevision: string;
  deploymentId: string;
}

export interface Deps {
  helm: Helm;
  context: RunContext;
  /** Undefined: no GitHub Deployment is recorded. */
  deployments: Deployments | undefined;
  /** The clock, in milliseconds (the summary's duration). */
  now: () => number;
  /** Where the environment's values file is written. */
  tempDir: string;
}

/** The image reference the chart runs: `repository@sha256:…` when deployed by digest, else `repository:tag`. */
export function imageReference(settings: Pick<Settings, 'imageRepository' | 'imageTag' | 'imageDigest'>): string {
  const repository = settings.imageRepository || '(chart default)';
  return settings.imageDigest
    ? `${repository}@${settings.imageDigest}`
    : `${repository}:${settings.imageTag || '(chart default)'}`;
}

/**
 * The `--description` helm stores with the revision (what `helm history` shows): which version and, when deployed by
 * digest, which exact image; which commit, who, which run. helm-rollback reads the sha back.
 */
export function releaseDescription(
  settings: Pick<Settings, 'version' | 'imageTag'> & Partial<Pick<Settings, 'imageRepository' | 'imageDigest'>>,
  context: RunContext,
): string {
  const what = settings.version || settings.imageTag || 'chart defaults';
  const image = settings.imageDigest
    ? ` (${imageReference({ imageRepository: settings.imageRepository ?? '', imageTag: settings.imageTag, imageDigest: settings.imageDigest })})`
    : '';
  return `Deploy ${what}${image} from commit ${context.sha || 'unknown'} by ${context.actor || 'unknown'} in run ${context.runId || 'unknown'}`;
}

/** The commit a revision was deployed from, read back from the description helm-deploy gave it. */
export function commitFromDescription(description: string): string | undefined {
  return /from commit ([0-9a-f]{7,40})\b/.exec(description)?.[1];
}

/** The `--set-string` values for the image and app version; empty inputs leave the chart's defaults. */
export function setStringValues(
  settings: Pick<Settings, 'imageRepository' | 'imageTag' | 'version'> & Partial<Pick<Settings, 'imageDigest'>>,
): Record<string, string> {
  const values: Record<string, string> = {};
  if (settings.imageRepository) values['image.repository'] = settings.imageRepository;
  if (settings.imageTag) values['image.tag'] = settings.imageTag;
  if (settings.version) values.appVersion = settings.version;
  // Always set, so an upgrade by tag after one by digest does not keep the old digest from the previous values.
  values['image.digest'] = settings.imageDigest ?? '';
  return values;
}

/** The revision an automatic rollback returned to, from helm's "Rollback to N" description. */
export function rolledBackTo(description: string | undefined): number | undefined {
  const match = /Rollback to (\d+)/.exec(description ?? '');
  return match ? Number(match[1]) : undefined;
}

/** Charts are directories in the repository unless given as an OCI or HTTP(S) reference. */
function isLocalChart(chart: string): boolean {
  return !/^(oci|https?):\/\//.test(chart);
}

/** Hints appended to helm's own error for the failures people meet most. */
function hintFor(error: unknown, settings: Settings): string {
  const text = error instanceof HelmError ? error.stderr : String(error);
  if (/cluster unreachable|connection refused|no such host|i\/o timeout|certificate/i.test(text)) {
    return '; check that the "kubeconfig" input (or KUBECONFIG) points at a reachable API server with valid credentials';
  }
  if (/values don't meet the specifications|schema/i.test(text)) {
    return `; fix the values in ${settings.environment.file} (values:)${settings.valuesFile ? ` or ${settings.valuesFile}` : ''} to match ${settings.chart}/values.schema.json`;
  }
  if (/another operation .* in progress/i.test(text)) {
    return `; wait for it, or roll the release back with the helm-rollback action (\`helm history ${settings.release} -n ${settings.namespace}\`)`;
  }
  return '';
}

/** Writes the environment's `values:` to a values file for helm. */
function writeEnvironmentValues(settings: Settings, tempDir: string): string {
  const file = path.join(mkdtempSync(path.join(tempDir, 'helm-deploy-')), `${settings.environment.name}.values.yaml`);
  writeFileSync(file, `# from ${settings.environment.file} (values:)\n${toYaml(settings.environment.values)}`);
  return file;
}

/** Runs `helm upgrade --install` for one environment and records the outcome (outputs, summary, GitHub Deployment). */
export async function deploy(settings: Settings, deps: Deps): Promise<DeployResult> {
  const started = deps.now();
  const result: DeployResult = { status: 'failed', revision: '', previousRevision: '', deploymentId: '' };
  const deploymentId = await startDeployment(settings, deps);
  result.deploymentId = deploymentId === undefined ? '' : String(deploymentId);
  const { release, failure } = await upgrade(settings, deps, result);
  const rollbackRevision = failure ? await afterFailure(settings, deps, result, failure) : undefined;
  const seconds = ((deps.now() - started) / 1000).toFixed(1);
  await finishDeployment(settings, deps, deploymentId, result, failure, seconds);
  await publish(settings, result, release, failure, rollbackRevision, seconds);
  if (failure) throw failure;
  core.info(
    `${where(settings)}: ${result.status}, revision ${result.previousRevision || 'none'} → ${result.revision} in ${seconds}s`,
  );
  return result;
}

function where(settings: Settings): string {
  return `release "${settings.release}" in namespace "${settings.namespace}"`;
}

/** Phase 1: the GitHub Deployment, created in progress (not for dry runs, nor without `deployments`). */
async function startDeployment(settings: Settings, { deployments, context }: Deps): Promise<number | undefined> {
  if (!deployments || settings.dryRun !== 'none') return undefined;
  return deployments.start({
    environment: settings.environment.name,
    ref: context.sha,
    production: settings.production,
    description: `Deploying ${settings.version || settings.imageTag || settings.chart} to ${settings.environment.name}`,
    environmentUrl: settings.environmentUrl,
    payload: {
      image: imageReference(settings),
      ...(settings.imageDigest ? { digest: settings.imageDigest } : {}),
      version: settings.version,
      release: settings.release,
      namespace: settings.namespace,
    },
  });
}

/** Refuses a local chart without Chart.yaml and a values file that does not exist, before helm runs. */
function checkFiles(settings: Settings): void {
  if (isLocalChart(settings.chart) && !existsSync(path.join(settings.chart, 'Chart.yaml'))) {
    throw new Error(
      `chart "${settings.chart}": no Chart.yaml at ${path.resolve(settings.chart, 'Chart.yaml')}; set the "chart" input to the chart's directory (default helm/airq) and check out the repository first`,
    );
  }
  if (settings.valuesFile && !existsSync(settings.valuesFile)) {
    throw new Error(`values file "${settings.valuesFile}" does not exist; fix the "values-file" input or drop it`);
  }
}

/**
 * Phase 2: render client-side (a bad chart or invalid values fail before anything touches the cluster), note the
 * current revision, then upgrade. A failure is returned, its message saying what failed and how to fix it.
 */
async function upgrade(
  settings: Settings,
  { helm, context, tempDir }: Deps,
  result: DeployResult,
): Promise<{ release?: ReleaseInfo; failure?: Error }> {
  try {
    checkFiles(settings);
    const options: UpgradeOptions = {
      release: settings.release,
      namespace: settings.namespace,
      chart: settings.chart,
      valuesFiles: [writeEnvironmentValues(settings, tempDir), ...(settings.valuesFile ? [settings.valuesFile] : [])],
      setString: setStringValues(settings),
      description: releaseDescription(settings, context),
      timeout: settings.timeout,
      historyMax: settings.historyMax,
      createNamespace: true,
      rollbackOnFailure: true,
      dryRun: settings.dryRun,
    };
    if (settings.dryRun !== 'client') {
      await helm.upgrade({ ...options, dryRun: 'client' });
      const before = await helm.status(settings.release, settings.namespace);
      result.previousRevision = before ? String(before.version) : '';
    }
    const release = await helm.upgrade(options);
    result.status = settings.dryRun === 'none' ? 'deployed' : 'dry-run';
    result.revision = String(release.version);
    return { release };
  } catch (error) {
    const failure = error instanceof Error ? error : new Error(String(error));
    failure.message = `helm-deploy of ${where(settings)} to ${settings.environment.name} failed: ${failure.message}${hintFor(error, settings)}`;
    return { failure };
  }
}

/**
 * Phase 3, after a failed upgrade of an existing release: --rollback-on-failure has already run, so find out where it
 * left the release. Returns the revision it rolled back to, if it did.
 */
async function afterFailure(
  settings: Settings,
  { helm }: Deps,
  result: DeployResult,
  failure: Error,
): Promise<number | undefined> {
  if (settings.dryRun !== 'none' || result.previousRevision === '') return undefined;
  const after = await helm.status(settings.release, settings.namespace).catch(() => undefined);
  if (after && after.info.status === 'deployed' && String(after.version) !== result.previousRevision) {
    result.status = 'rolled-back';
    result.revision = String(after.version);
    const rollbackRevision = rolledBackTo(after.info.description) ?? Number(result.previousRevision);
    failure.message += `; the release was rolled back automatically to revision ${rollbackRevision} (now revision ${after.version})`;
    return rollbackRevision;
  }
  if (after) result.revision = String(after.version);
  return undefined;
}

/** Phase 4: the GitHub Deployment's final status. */
async function finishDeployment(
  settings: Settings,
  { deployments }: Deps,
  deploymentId: number | undefined,
  result: DeployResult,
  failure: Error | undefined,
  seconds: string,
): Promise<void> {
  if (!deployments || deploymentId === undefined) return;
  if (failure) await deployments.status(deploymentId, 'failure', failure.message, settings.environmentUrl);
  else
    await deployments.status(
      deploymentId,
      'success',
      `Revision ${result.revision} deployed in ${seconds}s`,
      settings.environmentUrl,
    );
}

/** Phase 5: the step's outputs and job summary. */
async function publish(
  settings: Settings,
  result: DeployResult,
  release: ReleaseInfo | undefined,
  failure: Error | undefined,
  rollbackRevision: number | undefined,
  seconds: string,
): Promise<void> {
  const image = imageReference(settings);
  core.setOutput('status', result.status);
  core.setOutput('revision', result.revision);
  core.setOutput('previous-revision', result.previousRevision);
  core.setOutput('deployment-id', result.deploymentId);
  core.setOutput('image', image);

  const chartMeta = release?.chart?.metadata;
  const chart = chartMeta ? `${chartMeta.name}-${chartMeta.version}` : settings.chart;
  const appVersion = settings.version || chartMeta?.appVersion || '(chart default)';
  const heading = failure
    ? `helm-deploy: ${settings.environment.name} failed${result.status === 'rolled-back' ? `, rolled back to revision ${rollbackRevision}` : ''}`
    : settings.dryRun === 'none'
      ? `helm-deploy: ${settings.environment.name} deployed revision ${result.revision}`
      : `helm-deploy: ${settings.environment.name} dry run (${settings.dryRun})`;
  await writeSummary({
    heading,
    paragraphs: failure ? [`**Reason:** ${failure.message}`] : [],
    tables: [
      {
        header: ['Field', 'Value'],
        rows: [
          ['Environment', settings.environment.name],
          ['Release', `${settings.release} (namespace ${settings.namespace})`],
          ['Revision', `${result.previousRevision || 'none'} → ${result.revision || 'none'}`],
          ['Status', result.status],
          ['Chart', chart],
          ['App version', appVersion],
          ['Image', image],
          ...(settings.imageDigest ? [['Image digest', settings.imageDigest]] : []),
          ['Duration', `${seconds}s`],
          ...(result.deploymentId ? [['GitHub deployment', result.deploymentId]] : []),
        ],
      },
    ],
    ...(release?.info.notes
      ? { details: { label: 'Release notes (NOTES.txt)', body: release.info.notes.trimEnd() } }
      : {}),
  });
}
