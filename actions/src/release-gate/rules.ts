import semver from 'semver';

/** One rule of the gate and what it concluded. `skipped` when an earlier failure left nothing to judge. */
export interface Verdict {
  rule: string;
  outcome: 'passed' | 'refused' | 'skipped';
  detail: string;
  /** How to get past a refusal. */
  fix?: string;
}

export const RULES = {
  tag: 'release tag is strict semver vMAJOR.MINOR.PATCH',
  ancestry: 'tagged commit is on the release branch',
  version: 'version is newer than the one running',
  checks: "commit's checks passed",
} as const;

const passed = (rule: string, detail: string): Verdict => ({ rule, outcome: 'passed', detail });
const refused = (rule: string, detail: string, fix: string): Verdict => ({ rule, outcome: 'refused', detail, fix });
export const skipped = (rule: string, detail: string): Verdict => ({ rule, outcome: 'skipped', detail });

/** The tag rule: `v1.2.3` passes with version `1.2.3`; pre-releases, build metadata, missing `v` and partial versions are refused. */
export function checkTag(tag: string, environment: string): { verdict: Verdict; version?: string } {
  const rule = RULES.tag;
  if (tag === '') {
    return {
      verdict: refused(
        rule,
        'no tag: the run was not started by a tag push',
        'run the gate on a tag push (on: push: tags: [v*.*.*]) or pass the `tag` input',
      ),
    };
  }
  if (/^v(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$/.test(tag))
    return { verdict: passed(rule, `${tag} → version ${tag.slice(1)}`), version: tag.slice(1) };
  const parsed = semver.parse(tag.startsWith('v') ? tag.slice(1) : tag);
  if (parsed && !tag.startsWith('v')) {
    return { verdict: refused(rule, `${tag} has no "v" prefix`, `tag the release v${parsed.version}`) };
  }
  if (parsed && parsed.prerelease.length > 0) {
    const release = `v${parsed.major}.${parsed.minor}.${parsed.patch}`;
    return {
      verdict: refused(
        rule,
        `${tag} is a pre-release; pre-releases are not deployed to ${environment}`,
        `deploy pre-releases to staging, and tag ${release} on master when it is ready for ${environment}`,
      ),
    };
  }
  if (parsed && parsed.build.length > 0) {
    return {
      verdict: refused(
        rule,
        `${tag} carries build metadata (+${parsed.build.join('.')})`,
        `tag the release v${parsed.major}.${parsed.minor}.${parsed.patch}`,
      ),
    };
  }
  const guess = semver.coerce(tag);
  return {
    verdict: refused(
      rule,
      `${tag} is not strict semver vMAJOR.MINOR.PATCH`,
      guess
        ? `tag the release v${guess.version} (three numbers, "v" prefix)`
        : 'tag the release like v1.2.3 (three numbers, "v" prefix)',
    ),
  };
}

/** The ancestry rule, from whether the commit was found on the branch. */
export function checkAncestry(onBranch: boolean, sha: string, branch: string, how: string): Verdict {
  const short = sha.slice(0, 12);
  if (onBranch) return passed(RULES.ancestry, `${short} is on ${branch} (${how})`);
  return refused(
    RULES.ancestry,
    `${short} is not on ${branch} (${how})`,
    `merge the change into ${branch} first, then tag the merged commit on ${branch}`,
  );
}

/** Compare API: `GET /compare/{sha}...{branch}` says `ahead`/`identical` exactly when the commit is in the branch's history. */
export function compareMeansOnBranch(status: string): boolean {
  return status === 'ahead' || status === 'identical';
}

/** The version rule: strictly newer than what runs now, unless downgrades (and re-deploys) are allowed. */
export function checkVersion(
  version: string,
  current: string | undefined,
  allowDowngrade: boolean,
  environment: string,
): Verdict {
  const rule = RULES.version;
  if (current === undefined || current === '') return passed(rule, `first release: nothing runs in ${environment} yet`);
  const running = semver.valid(current.replace(/^v/, ''));
  if (!running) {
    if (allowDowngrade)
      return passed(rule, `${environment} runs "${current}" (not semver); allowed by allow-downgrade`);
    return refused(
      rule,
      `${environment} runs "${current}", which is not a semver version to compare with`,
      'set allow-downgrade: true to deploy anyway',
    );
  }
  if (semver.gt(version, running)) return passed(rule, `${version} > ${running} running in ${environment}`);
  if (allowDowngrade) {
    const relation = semver.eq(version, running) ? 're-deploying' : 'downgrading from';
    return passed(rule, `${relation} ${running}: allowed by allow-downgrade`);
  }
  if (semver.eq(version, running)) {
    return refused(
      rule,
      `${version} already runs in ${environment}`,
      `tag a newer version (v${semver.inc(running, 'patch')}), or set allow-downgrade: true to re-deploy it`,
    );
  }
  return refused(
    rule,
    `${version} is older than ${running} running in ${environment}`,
    `tag a version above ${running}; for a deliberate downgrade set allow-downgrade: true (or use the rollback workflow)`,
  );
}

export interface CheckRunInfo {
  name: string;
  status: string;
  conclusion: string | null;
  details_url?: string | null;
  html_url?: string | null;
}

export interface CommitStatusInfo {
  context: string;
  state: string;
}

const GOOD_CONCLUSIONS = new Set(['success', 'neutral', 'skipped']);

/**
 * The checks rule over the commit's check runs and legacy statuses. Check runs of the current workflow run are
 * ignored (they are this very job and its siblings, still in progress). Every check named in `required` must have
 * reported (a check run of that name or a status of that context); any other check that reported must not have failed.
 */
export function checkChecks(
  sha: string,
  checkRuns: CheckRunInfo[],
  statuses: CommitStatusInfo[],
  ownRunId: string,
  required: readonly string[] = [],
): Verdict {
  const rule = RULES.checks;
  const ownRun = ownRunId ? `/actions/runs/${ownRunId}/` : undefined;
  const runs = checkRuns.filter((run) => !ownRun || !`${run.details_url ?? ''} ${run.html_url ?? ''}`.includes(ownRun));
  const short = sha.slice(0, 12);
  const reported = new Set([...runs.map((run) => run.name), ...statuses.map((status) => status.context)]);
  const missing = required.filter((name) => !reported.has(name));
  const failed = [
    ...runs
      .filter((run) => run.status === 'completed' && !GOOD_CONCLUSIONS.has(run.conclusion ?? ''))
      .map((run) => `${run.name} (${run.conclusion})`),
    ...statuses
      .filter((status) => status.state === 'failure' || status.state === 'error')
      .map((status) => `${status.context} (${status.state})`),
  ];
  const pending = [
    ...runs.filter((run) => run.status !== 'completed').map((run) => `${run.name} (${run.status})`),
    ...statuses.filter((status) => status.state === 'pending').map((status) => `${status.context} (pending)`),
  ];
  const problems: string[] = [];
  if (failed.length > 0) problems.push(`failed on ${short}: ${failed.join(', ')}`);
  if (missing.length > 0) problems.push(`missing on ${short} (never reported): ${missing.join(', ')}`);
  if (problems.length > 0) {
    const fixes = [
      ...(failed.length > 0
        ? ['fix the failures on master and tag a new commit (or re-run the failed checks, then this workflow)']
        : []),
      ...(missing.length > 0
        ? ['let CI run on the commit (push it to master; ci.yml runs on every push) and tag it once it is green']
        : []),
    ];
    return refused(rule, problems.join('; '), fixes.join('; '));
  }
  if (runs.length === 0 && statuses.length === 0) {
    return refused(
      rule,
      `no checks reported on ${short}`,
      'let CI run on the commit (push it to master) before tagging it, or set require-checks: false',
    );
  }
  if (pending.length > 0)
    return refused(
      rule,
      `still running on ${short}: ${pending.join(', ')}`,
      'wait for them to finish, then re-run this workflow',
    );
  const requiredNote = required.length > 0 ? ` (required: ${required.join(', ')})` : '';
  return passed(rule, `${runs.length + statuses.length} checks passed on ${short}${requiredNote}`);
}

/** The refusal message: every refused rule with its fix. */
export function refusalMessage(tag: string, environment: string, verdicts: Verdict[]): string {
  const lines = verdicts
    .filter((verdict) => verdict.outcome === 'refused')
    .map((verdict) => `- ${verdict.rule}: ${verdict.detail}. Fix: ${verdict.fix ?? ''}`);
  return `release gate refused ${tag || '(no tag)'} for ${environment}:\n${lines.join('\n')}`;
}
