import * as core from '@actions/core';
import { loadEnvironments } from '../lib/environments.ts';
import { createGitHubClient, requireRepository, type GitHubClient, type RunContext } from '../lib/github.ts';
import { Helm, writeKubeconfig } from '../lib/helm.ts';
import { writeSummary } from '../lib/summary.ts';
import { isOnBranch } from './ancestry.ts';
import { checkAncestry, checkChecks, checkTag, checkVersion, refusalMessage, RULES, skipped, type Verdict } from './rules.ts';

export interface Settings {
  /** The tag to release, e.g. v1.2.3 ('' when the run was not started by a tag). */
  tag: string;
  /** The tagged commit. */
  sha: string;
  environment: string;
  environmentsDir: string;
  /** '' → the environment's `releaseBranch`. */
  releaseBranch: string;
  /** '' → read from the Helm release. */
  currentVersion: string;
  /** '' → the environment's release / namespace. */
  release: string;
  namespace: string;
  kubeconfig: string;
  allowDowngrade: boolean;
  requireChecks: boolean;
  /** Check names that must have reported and passed; [] → the environment's `pipeline.requiredChecks`. */
  requiredChecks: string[];
  githubToken: string;
  repositoryPath: string;
}

export interface Deps {
  context: RunContext;
}

/** Judges every rule, publishes outputs and a summary table, and throws (with each refusal and its fix) if any refused. */
export async function run(settings: Settings, { context }: Deps): Promise<void> {
  const environment = loadEnvironments(settings.environmentsDir).get(settings.environment);
  const branch = settings.releaseBranch || environment.pipeline.releaseBranch;
  const release = settings.release || environment.pipeline.release;
  const namespace = settings.namespace || environment.pipeline.namespace;
  const github: GitHubClient | undefined = settings.githubToken ? createGitHubClient(settings.githubToken) : undefined;
  const verdicts: Verdict[] = [];

  const { verdict: tagVerdict, version } = checkTag(settings.tag, environment.name);
  verdicts.push(tagVerdict);

  if (settings.sha === '') {
    verdicts.push({ rule: RULES.ancestry, outcome: 'refused', detail: 'no commit: GITHUB_SHA is empty', fix: 'pass the `sha` input' });
  } else {
    try {
      const { owner, repo } = github ? requireRepository(context) : { owner: context.owner, repo: context.repo };
      const result = await isOnBranch(settings.sha, branch, { repositoryPath: settings.repositoryPath, github, owner, repo });
      verdicts.push(checkAncestry(result.onBranch, settings.sha, branch, result.how));
    } catch (error) {
      verdicts.push({ rule: RULES.ancestry, outcome: 'refused', detail: (error as Error).message, fix: 'check out the repository with its history (actions/checkout, fetch-depth: 0) or give github-token read access to it, then re-run' });
    }
  }

  let current: string | undefined = settings.currentVersion || undefined;
  if (!version) {
    verdicts.push(skipped(RULES.version, 'no valid release version to compare'));
  } else {
    let readProblem: string | undefined;
    if (current === undefined) {
      try {
        const helm = new Helm({ kubeconfig: settings.kubeconfig ? writeKubeconfig(settings.kubeconfig) : undefined });
        current = await helm.currentAppVersion(release, namespace);
        core.info(`Helm release ${release} in ${namespace}: ${current ? `runs ${current}` : 'no deployed revision'}`);
      } catch (error) {
        readProblem = (error as Error).message;
      }
    }
    verdicts.push(
      readProblem
        ? {
            rule: RULES.version,
            outcome: 'refused',
            detail: `cannot read the version ${environment.name} runs from Helm release ${release} in ${namespace}: ${readProblem}`,
            fix: 'give the gate cluster access (kubeconfig input or KUBECONFIG), or pass current-version',
          }
        : checkVersion(version, current, settings.allowDowngrade, environment.name),
    );
  }

  if (!settings.requireChecks) {
    verdicts.push(skipped(RULES.checks, 'require-checks is false'));
  } else if (!github) {
    verdicts.push({ rule: RULES.checks, outcome: 'refused', detail: 'require-checks needs the GitHub API', fix: 'pass github-token: ${{ github.token }} with permissions checks: read and statuses: read (or set require-checks: false)' });
  } else if (settings.sha !== '') {
    const { owner, repo } = requireRepository(context);
    const checkRuns = await github.paginate(github.rest.checks.listForRef, { owner, repo, ref: settings.sha, per_page: 100 });
    const { data: combined } = await github.rest.repos.getCombinedStatusForRef({ owner, repo, ref: settings.sha });
    const required = settings.requiredChecks.length > 0 ? settings.requiredChecks : environment.pipeline.requiredChecks;
    verdicts.push(checkChecks(settings.sha, checkRuns, combined.statuses, context.runId, required));
  }

  core.setOutput('version', version ?? '');
  core.setOutput('current-version', current ?? '');
  const refusedAny = verdicts.some((verdict) => verdict.outcome === 'refused');
  const mark = { passed: '✅ passed', refused: '❌ refused', skipped: '⏭️ skipped' } as const;
  await writeSummary({
    heading: `Release gate: ${settings.tag || '(no tag)'} → ${environment.name} ${refusedAny ? 'refused' : 'passed'}`,
    tables: [
      {
        header: ['rule', 'verdict', 'detail'],
        rows: verdicts.map((verdict) => [verdict.rule, mark[verdict.outcome], verdict.fix ? `${verdict.detail}. Fix: ${verdict.fix}` : verdict.detail]),
      },
    ],
  });
  for (const verdict of verdicts) core.info(`${mark[verdict.outcome]}: ${verdict.rule} — ${verdict.detail}`);
  if (refusedAny) throw new Error(refusalMessage(settings.tag, environment.name, verdicts));
}
