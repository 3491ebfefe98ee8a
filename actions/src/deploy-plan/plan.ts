import * as core from '@actions/core';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { stringify as toYaml } from 'yaml';
import { loadEnvironments } from '../lib/environments.ts';
import { git } from '../lib/git.ts';
import type { GitHubClient, RunContext } from '../lib/github.ts';
import { requireRepository } from '../lib/github.ts';
import type { Helm } from '../lib/helm.ts';
import { diffManifests, maskVolatile, parseManifests, renderPlan } from './diff.ts';
import type { RenderedObject } from './diff.ts';
import type { Settings } from './settings.ts';
import { planTarget } from './target.ts';

export interface Deps {
  helm: Helm;
  client: GitHubClient;
  context: RunContext;
  /** Where the base worktree and the values files go. */
  tempDir: string;
}

export interface PlanResult {
  environment: string;
  changed: boolean;
  commentId: string;
}

/** The hidden marker that identifies this action's comment for one environment on a pull request. */
export function commentMarker(environment: string): string {
  return `<!-- airq-deploy-plan:${environment} -->`;
}

/** Checks the base commit out into a temporary worktree, fetching it from origin when the clone lacks it. */
async function addBaseWorktree(settings: Settings, dir: string): Promise<void> {
  const add = () => git(settings.repositoryPath, ['worktree', 'add', '--detach', dir, settings.baseSha]);
  let result = await add();
  if (result.exitCode !== 0) {
    core.info(`base commit ${settings.baseSha} is not in the clone; fetching it from origin`);
    const fetched = await git(settings.repositoryPath, ['fetch', '--no-tags', '--depth=1', 'origin', settings.baseSha]);
    result = fetched.exitCode === 0 ? await add() : fetched;
  }
  if (result.exitCode !== 0) {
    throw new Error(
      `cannot check out the pull request's base commit ${settings.baseSha} (${settings.baseRef}) in ${settings.repositoryPath}: ${result.stderr}; ` +
        'use actions/checkout with `fetch-depth: 0`, or make sure origin can serve the commit',
    );
  }
}

/** Renders the chart as one side of the pull request (a directory holding the repository) would deploy it. */
async function renderSide(
  helm: Helm,
  root: string,
  side: 'base' | 'head',
  settings: Settings,
  environmentName: string,
  tempDir: string,
): Promise<{ objects: Map<string, RenderedObject>; note?: string }> {
  const chart = path.join(root, settings.chart);
  if (!existsSync(path.join(chart, 'Chart.yaml'))) {
    if (side === 'head')
      throw new Error(
        `chart "${settings.chart}": no Chart.yaml in the pull request's head at ${chart}; set the "chart" input`,
      );
    return {
      objects: new Map(),
      note: `The chart \`${settings.chart}\` does not exist at the base: every object is new.`,
    };
  }
  const environment = loadEnvironments(path.join(root, settings.environmentsDir)).find(environmentName);
  if (!environment) {
    if (side === 'head')
      throw new Error(
        `environment "${environmentName}" is not in ${settings.environmentsDir}/ at the pull request's head`,
      );
    return {
      objects: new Map(),
      note: `\`${settings.environmentsDir}/${environmentName}.yaml\` does not exist at the base: every object is new.`,
    };
  }
  const valuesFile = path.join(mkdtempSync(path.join(tempDir, `deploy-plan-${side}-`)), 'values.yaml');
  writeFileSync(valuesFile, toYaml(environment.values));
  const render = async () =>
    parseManifests(
      await helm.template({
        release: environment.pipeline.release,
        namespace: environment.pipeline.namespace,
        chart,
        valuesFiles: [valuesFile],
      }),
      environment.pipeline.namespace,
      `helm template at the ${side}`,
    );
  // Twice: what differs between two renders of the same commit is generated at random, not changed by the PR.
  return { objects: maskVolatile(await render(), await render()) };
}

/** Creates the plan comment, or updates the one carrying the same marker: never a second one. */
async function upsertComment(deps: Deps, pullNumber: number, marker: string, body: string): Promise<number> {
  const { owner, repo } = requireRepository(deps.context);
  const comments = await deps.client.paginate(deps.client.rest.issues.listComments, {
    owner,
    repo,
    issue_number: pullNumber,
    per_page: 100,
  });
  // Ours starts with the marker; a reply quoting it ("> <!-- ...") is someone else's comment.
  const existing = comments.find((comment) => comment.body?.startsWith(marker));
  if (existing) {
    await deps.client.rest.issues.updateComment({ owner, repo, comment_id: existing.id, body });
    core.info(`updated deploy plan comment ${existing.id} on #${pullNumber}`);
    return existing.id;
  }
  const created = await deps.client.rest.issues.createComment({ owner, repo, issue_number: pullNumber, body });
  core.info(`created deploy plan comment ${created.data.id} on #${pullNumber}`);
  return created.data.id;
}

/** Renders base and head, diffs them, and posts the plan to the pull request and the job summary. */
export async function plan(settings: Settings, deps: Deps): Promise<PlanResult> {
  const { tempDir } = deps;
  const target = planTarget(
    loadEnvironments(path.join(settings.repositoryPath, settings.environmentsDir)),
    settings.baseRef,
  );
  if (!target.environment) {
    core.notice(target.explanation);
    await core.summary.addHeading('Deploy plan', 3).addRaw(target.explanation, true).write();
    core.setOutput('environment', '');
    core.setOutput('changed', 'false');
    core.setOutput('comment-id', '');
    return { environment: '', changed: false, commentId: '' };
  }
  const environment = target.environment.name;

  const worktreeParent = mkdtempSync(path.join(tempDir, 'deploy-plan-base-'));
  const worktree = path.join(worktreeParent, 'base');
  let base: Awaited<ReturnType<typeof renderSide>>;
  let head: Awaited<ReturnType<typeof renderSide>>;
  try {
    await addBaseWorktree(settings, worktree);
    base = await renderSide(deps.helm, worktree, 'base', settings, environment, tempDir);
    head = await renderSide(deps.helm, settings.repositoryPath, 'head', settings, environment, tempDir);
  } finally {
    await git(settings.repositoryPath, ['worktree', 'remove', '--force', worktree]);
    rmSync(worktreeParent, { recursive: true, force: true });
  }

  const diff = diffManifests(base.objects, head.objects);
  const body = renderPlan({
    marker: commentMarker(environment),
    environment,
    production: target.production,
    explanation: target.explanation,
    chart: settings.chart,
    baseSha: settings.baseSha,
    headSha: settings.headSha,
    diff,
    notes: [base.note, head.note].filter((note): note is string => Boolean(note)),
  });
  const commentId = await upsertComment(deps, settings.pullNumber, commentMarker(environment), body);
  await core.summary.addRaw(body, true).write();

  const changed = diff.changes.length > 0;
  core.setOutput('environment', environment);
  core.setOutput('changed', String(changed));
  core.setOutput('comment-id', String(commentId));
  core.setOutput('production', String(target.production));
  return { environment, changed, commentId: String(commentId) };
}
