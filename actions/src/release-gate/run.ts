import * as core from '@actions/core';
import { loadEnvironments, type Environment } from '../lib/environments.ts';
import { requireRepository, type GitHubClient, type RunContext } from '../lib/github.ts';
import type { Helm } from '../lib/helm.ts';
import { writeSummary } from '../lib/summary.ts';
import { isOnBranch } from './ancestry.ts';
import { runningVersion } from './running-version.ts';
import type { Settings } from './settings.ts';
import {
  checkAncestry,
  checkChecks,
  checkTag,
  checkVersion,
  refusalMessage,
  RULES,
  skipped,
  type CommitStatusInfo,
  type Verdict,
} from './rules.ts';

export interface Deps {
  context: RunContext;
  /** The GitHub API (compare fallback, checks); undefined when no github-token was given. */
  github: GitHubClient | undefined;
  /** Helm against the environment's cluster, made only when the running version must be read from the release. */
  helm: () => Helm;
}

/** What the rules are judged against: the settings with the environment's defaults filled in. */
interface Subject {
  settings: Settings;
  environment: Environment;
  branch: string;
  release: string;
  namespace: string;
}

/** Judges every rule, publishes outputs and a summary table, and throws (with each refusal and its fix) if any refused. */
export async function run(settings: Settings, deps: Deps): Promise<void> {
  const environment = loadEnvironments(settings.environmentsDir).get(settings.environment);
  const subject: Subject = {
    settings,
    environment,
    branch: settings.releaseBranch || environment.pipeline.releaseBranch,
    release: settings.release || environment.pipeline.release,
    namespace: settings.namespace || environment.pipeline.namespace,
  };
  const { verdict: tagVerdict, version } = checkTag(settings.tag, environment.name);
  const ancestry = await judgeAncestry(subject, deps);
  const { verdict: versionVerdict, current } = await judgeVersion(subject, version, deps);
  const checks = await judgeChecks(subject, deps);
  const verdicts = [tagVerdict, ancestry, versionVerdict, ...(checks ? [checks] : [])];
  await publish(subject, verdicts, version, current);
}

/** Is the tagged commit on the release branch (git, else the compare API)? */
async function judgeAncestry({ settings, branch }: Subject, { context, github }: Deps): Promise<Verdict> {
  if (settings.sha === '') {
    return {
      rule: RULES.ancestry,
      outcome: 'refused',
      detail: 'no commit: GITHUB_SHA is empty',
      fix: 'pass the `sha` input',
    };
  }
  try {
    const { owner, repo } = github ? requireRepository(context) : { owner: context.owner, repo: context.repo };
    const result = await isOnBranch(settings.sha, branch, {
      repositoryPath: settings.repositoryPath,
      github,
      owner,
      repo,
    });
    return checkAncestry(result.onBranch, settings.sha, branch, result.how);
  } catch (error) {
    return {
      rule: RULES.ancestry,
      outcome: 'refused',
      detail: (error as Error).message,
      fix: 'check out the repository with its history (actions/checkout, fetch-depth: 0) or give github-token read access to it, then re-run',
    };
  }
}

/** Is the version newer than the one running (given, or read from the Helm release)? */
async function judgeVersion(
  { settings, environment, release, namespace }: Subject,
  version: string | undefined,
  { helm }: Deps,
): Promise<{ verdict: Verdict; current: string | undefined }> {
  let current: string | undefined = settings.currentVersion || undefined;
  if (!version) return { verdict: skipped(RULES.version, 'no valid release version to compare'), current };
  if (current === undefined) {
    try {
      current = await runningVersion(helm(), release, namespace);
      core.info(`Helm release ${release} in ${namespace}: ${current ? `runs ${current}` : 'no deployed revision'}`);
    } catch (error) {
      return {
        verdict: {
          rule: RULES.version,
          outcome: 'refused',
          detail: `cannot read the version ${environment.name} runs from Helm release ${release} in ${namespace}: ${(error as Error).message}`,
          fix: 'give the gate cluster access (kubeconfig input or KUBECONFIG), or pass current-version',
        },
        current,
      };
    }
  }
  return { verdict: checkVersion(version, current, settings.allowDowngrade, environment.name), current };
}

/** Did the commit's checks pass? Undefined when there is no commit to ask about (the ancestry rule already refused). */
async function judgeChecks(
  { settings, environment }: Subject,
  { context, github }: Deps,
): Promise<Verdict | undefined> {
  if (!settings.requireChecks) return skipped(RULES.checks, 'require-checks is false');
  if (!github) {
    return {
      rule: RULES.checks,
      outcome: 'refused',
      detail: 'require-checks needs the GitHub API',
      fix: 'pass github-token: ${{ github.token }} with permissions checks: read and statuses: read (or set require-checks: false)',
    };
  }
  if (settings.sha === '') return undefined;
  const { owner, repo } = requireRepository(context);
  const checkRuns = await github.paginate(github.rest.checks.listForRef, {
    owner,
    repo,
    ref: settings.sha,
    per_page: 100,
  });
  const statuses = await commitStatuses(github, owner, repo, settings.sha);
  const required = settings.requiredChecks.length > 0 ? settings.requiredChecks : environment.pipeline.requiredChecks;
  return checkChecks(settings.sha, checkRuns, statuses, context.runId, required);
}

/** Outputs, the summary table and the log; throws the refusal message when any rule refused. */
async function publish(
  { settings, environment }: Subject,
  verdicts: Verdict[],
  version: string | undefined,
  current: string | undefined,
): Promise<void> {
  core.setOutput('version', version ?? '');
  core.setOutput('current-version', current ?? '');
  const refusedAny = verdicts.some((verdict) => verdict.outcome === 'refused');
  const mark = { passed: '✅ passed', refused: '❌ refused', skipped: '⏭️ skipped' } as const;
  await writeSummary({
    heading: `Release gate: ${settings.tag || '(no tag)'} → ${environment.name} ${refusedAny ? 'refused' : 'passed'}`,
    tables: [
      {
        header: ['rule', 'verdict', 'detail'],
        rows: verdicts.map((verdict) => [
          verdict.rule,
          mark[verdict.outcome],
          verdict.fix ? `${verdict.detail}. Fix: ${verdict.fix}` : verdict.detail,
        ]),
      },
    ],
  });
  for (const verdict of verdicts) core.info(`${mark[verdict.outcome]}: ${verdict.rule} — ${verdict.detail}`);
  if (refusedAny) throw new Error(refusalMessage(settings.tag, environment.name, verdicts));
}

/**
 * Every commit status of `ref`. The combined status pages its `statuses` (30 by default) while `total_count` counts
 * them all, and octokit's paginate cannot walk it (the answer is no plain list), so the pages are read here.
 */
async function commitStatuses(
  github: GitHubClient,
  owner: string,
  repo: string,
  ref: string,
): Promise<CommitStatusInfo[]> {
  const statuses: CommitStatusInfo[] = [];
  for (let page = 1; ; page++) {
    const { data } = await github.rest.repos.getCombinedStatusForRef({ owner, repo, ref, per_page: 100, page });
    statuses.push(...data.statuses);
    if (data.statuses.length === 0 || statuses.length >= data.total_count) return statuses;
  }
}
