import * as core from '@actions/core';
import type { Deployments } from '../lib/deployments.ts';
import type { RunContext } from '../lib/github.ts';
import type { Helm, HistoryEntry } from '../lib/helm.ts';
import { writeSummary } from '../lib/summary.ts';
import { commitFromDescription } from '../helm-deploy/deploy.ts';
import type { Settings } from './settings.ts';
import { chooseRollbackTarget } from './target.ts';

export interface RollbackResult {
  fromRevision: number;
  toRevision: number;
  /** The revision the rollback created (helm records a rollback as a new revision). */
  newRevision: number;
  fromVersion: string;
  toVersion: string;
}

export interface Deps {
  helm: Helm;
  context: RunContext;
  /** Undefined: the rollback is not recorded as a GitHub Deployment. */
  deployments: Deployments | undefined;
  /** Where to mark `settings.failedDeploymentId` failed (needs the token even when no rollback deployment is recorded). */
  failedDeployment: Deployments | undefined;
}

/** The app version a revision ran: its `appVersion` value (set by helm-deploy), else the chart's appVersion. */
async function versionOf(helm: Helm, settings: Settings, entry: HistoryEntry): Promise<string> {
  const values = await helm.values(settings.release, settings.namespace, entry.revision);
  const fromValues = values?.appVersion;
  return typeof fromValues === 'string' && fromValues !== '' ? fromValues : entry.app_version;
}

/** Rolls a release back to a chosen earlier revision, verifies it, and records it (summary, GitHub Deployment). */
export async function rollback(settings: Settings, deps: Deps): Promise<RollbackResult> {
  if (settings.failedDeploymentId !== undefined && deps.failedDeployment) {
    // First, whatever happens next: the deployment being undone did not succeed, and GitHub should say so.
    await deps.failedDeployment.status(
      settings.failedDeploymentId,
      'failure',
      `${settings.reason}; rolling back`,
      settings.environmentUrl,
    );
  }
  const { current, target } = await choose(settings, deps);
  const fromVersion = await versionOf(deps.helm, settings, current);
  const toVersion = await versionOf(deps.helm, settings, target);
  core.info(
    `Rolling back ${settings.release} in ${settings.namespace}: revision ${current.revision} (${fromVersion}) → ${target.revision} (${toVersion}); reason: ${settings.reason}`,
  );
  const deploymentId = await deps.deployments?.start({
    environment: settings.environment.name,
    ref: commitFromDescription(target.description) ?? deps.context.sha,
    production: settings.production,
    description: `Rollback to revision ${target.revision} (${toVersion}): ${settings.reason}`,
    environmentUrl: settings.environmentUrl,
  });
  let newRevision: number;
  try {
    newRevision = await rollbackAndVerify(settings, deps.helm, current, target, toVersion);
  } catch (error) {
    const message = `helm-rollback of release "${settings.release}" in namespace "${settings.namespace}" to revision ${target.revision} failed: ${(error as Error).message}`;
    if (deps.deployments && deploymentId !== undefined)
      await deps.deployments.status(deploymentId, 'failure', message, settings.environmentUrl);
    await writeSummary({
      heading: `helm-rollback: ${settings.environment.name} failed`,
      paragraphs: [`**Error:** ${message}`, `**Reason given:** ${settings.reason}`],
    });
    throw new Error(message);
  }
  if (deps.deployments && deploymentId !== undefined) {
    await deps.deployments.status(
      deploymentId,
      'success',
      `Rolled back to revision ${target.revision} (${toVersion}) as revision ${newRevision}`,
      settings.environmentUrl,
    );
  }
  const result = { fromRevision: current.revision, toRevision: target.revision, newRevision, fromVersion, toVersion };
  await publish(settings, deps.context, result, current, target);
  return result;
}

/** Phase 1: the revision to return to, from the release's history; a refusal is summarised and thrown. */
async function choose(settings: Settings, { helm }: Deps): Promise<{ current: HistoryEntry; target: HistoryEntry }> {
  const history = await helm.history(settings.release, settings.namespace);
  const choice = chooseRollbackTarget(history, {
    release: settings.release,
    namespace: settings.namespace,
    ...(settings.revision !== undefined ? { revision: settings.revision } : {}),
  });
  if (choice.ok) return choice;
  await writeSummary({
    heading: `helm-rollback: ${settings.environment.name} refused`,
    paragraphs: [
      `**Refused:** ${choice.reason}`,
      `**Reason given:** ${settings.reason}`,
      'The release was not changed.',
      ...(settings.failedDeploymentId !== undefined
        ? [`GitHub deployment ${settings.failedDeploymentId} was marked failed.`]
        : []),
    ],
    ...(history ? { tables: [historyTable(history)] } : {}),
  });
  throw new Error(`helm-rollback refused: ${choice.reason}`);
}

/** Phase 2: `helm rollback`, then check that a new deployed revision runs the target's chart and version. Returns it. */
async function rollbackAndVerify(
  settings: Settings,
  helm: Helm,
  current: HistoryEntry,
  target: HistoryEntry,
  toVersion: string,
): Promise<number> {
  await helm.rollback({
    release: settings.release,
    namespace: settings.namespace,
    revision: target.revision,
    timeout: settings.timeout,
  });
  const after = (await helm.history(settings.release, settings.namespace)) ?? [];
  const now = after[after.length - 1];
  if (!now || now.revision <= current.revision || now.status !== 'deployed') {
    throw new Error(
      `helm reported success, but the release's current revision is ${now ? `${now.revision} (${now.status})` : 'missing'}, not a new deployed revision; ` +
        `inspect \`helm history ${settings.release} -n ${settings.namespace}\``,
    );
  }
  const nowVersion = await versionOf(helm, settings, now);
  if (now.chart !== target.chart || nowVersion !== toVersion) {
    throw new Error(
      `revision ${now.revision} runs ${now.chart} ${nowVersion}, expected ${target.chart} ${toVersion} from revision ${target.revision}; ` +
        `inspect \`helm history ${settings.release} -n ${settings.namespace}\``,
    );
  }
  return now.revision;
}

/** Phase 3: the step's outputs and job summary. */
async function publish(
  settings: Settings,
  context: RunContext,
  result: RollbackResult,
  current: HistoryEntry,
  target: HistoryEntry,
): Promise<void> {
  core.setOutput('from-revision', String(result.fromRevision));
  core.setOutput('to-revision', String(result.toRevision));
  core.setOutput('from-version', result.fromVersion);
  core.setOutput('to-version', result.toVersion);
  core.setOutput('revision', String(result.newRevision));
  await writeSummary({
    heading: `helm-rollback: ${settings.environment.name} rolled back to revision ${target.revision}`,
    tables: [
      {
        header: ['Field', 'From', 'To'],
        rows: [
          ['Revision', String(current.revision), `${target.revision} (now revision ${result.newRevision})`],
          ['App version', result.fromVersion, result.toVersion],
          ['Chart', current.chart, target.chart],
          ['Status before', current.status, target.status],
        ],
      },
      {
        header: ['Field', 'Value'],
        rows: [
          ['Environment', settings.environment.name],
          ['Release', `${settings.release} (namespace ${settings.namespace})`],
          ['Reason', settings.reason],
          ['Actor', context.actor || 'unknown'],
          ...(settings.failedDeploymentId !== undefined
            ? [['Failed deployment', `GitHub deployment ${settings.failedDeploymentId} marked failed`]]
            : []),
        ],
      },
    ],
  });
}

function historyTable(history: HistoryEntry[]): { header: string[]; rows: string[][] } {
  return {
    header: ['Revision', 'Status', 'Chart', 'Updated', 'Description'],
    rows: history.map((entry) => [String(entry.revision), entry.status, entry.chart, entry.updated, entry.description]),
  };
}
