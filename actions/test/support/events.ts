// Realistic webhook payloads (trimmed to the fields actions read, shaped as GitHub sends them) for run-action.ts.

export const REPOSITORY = { owner: 'airq-org', repo: 'airq' } as const;
export const DEFAULT_SHA = '3f786850e387550fdab836ed7e6dc881de23001b';
export const ACTOR = 'octocat';

/** What the runner derives from an event: the name, GITHUB_REF, GITHUB_SHA and the payload in GITHUB_EVENT_PATH. */
export interface GitHubEvent {
  eventName: string;
  ref: string;
  sha: string;
  payload: Record<string, unknown>;
  /** GITHUB_BASE_REF / GITHUB_HEAD_REF, set for pull_request events only. */
  baseRef?: string;
  headRef?: string;
}

function repository(): Record<string, unknown> {
  const fullName = `${REPOSITORY.owner}/${REPOSITORY.repo}`;
  return {
    id: 700_001,
    name: REPOSITORY.repo,
    full_name: fullName,
    private: false,
    owner: { login: REPOSITORY.owner, id: 900_001, type: 'Organization' },
    html_url: `https://github.com/${fullName}`,
    clone_url: `https://github.com/${fullName}.git`,
    default_branch: 'master',
  };
}

const sender = { login: ACTOR, id: 583_231, type: 'User' };

function pushPayload(ref: string, sha: string, before: string): Record<string, unknown> {
  return {
    ref,
    before,
    after: sha,
    created: before === '0000000000000000000000000000000000000000',
    deleted: false,
    forced: false,
    base_ref: null,
    compare: `https://github.com/${REPOSITORY.owner}/${REPOSITORY.repo}/compare/${before.slice(0, 12)}...${sha.slice(0, 12)}`,
    commits: [],
    head_commit: {
      id: sha,
      tree_id: 'a0d1cb3f2bfa4d1e3b4a8c1e9a4b5e7f0c6d2e11',
      message: 'Change something',
      timestamp: '2026-11-27T05:00:00Z',
      author: { name: 'Octo Cat', email: 'octocat@example.com', username: ACTOR },
    },
    pusher: { name: ACTOR, email: 'octocat@example.com' },
    repository: repository(),
    sender,
  };
}

/** A push of commits to a branch. */
export function pushBranch(branch: string, sha = DEFAULT_SHA): GitHubEvent {
  const ref = `refs/heads/${branch}`;
  return { eventName: 'push', ref, sha, payload: pushPayload(ref, sha, '9fceb02d0ae598e95dc970b74767f19372d61af8') };
}

/** A push of a (new) tag pointing at `sha`. */
export function pushTag(tag: string, sha = DEFAULT_SHA): GitHubEvent {
  const ref = `refs/tags/${tag}`;
  return { eventName: 'push', ref, sha, payload: pushPayload(ref, sha, '0000000000000000000000000000000000000000') };
}

/** A pull request opened from `head` into `base`; GITHUB_SHA is the merge commit, as on the runner. */
export function pullRequest(options: { base: string; head: string; number?: number; headSha?: string; baseSha?: string; mergeSha?: string; action?: string }): GitHubEvent {
  const number = options.number ?? 42;
  const headSha = options.headSha ?? 'c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00';
  const baseSha = options.baseSha ?? 'ba5eba11ba5eba11ba5eba11ba5eba11ba5eba11';
  const mergeSha = options.mergeSha ?? DEFAULT_SHA;
  const repo = repository();
  return {
    eventName: 'pull_request',
    ref: `refs/pull/${number}/merge`,
    sha: mergeSha,
    baseRef: options.base,
    headRef: options.head,
    payload: {
      action: options.action ?? 'opened',
      number,
      pull_request: {
        id: 1_000_000 + number,
        number,
        state: 'open',
        draft: false,
        title: `Change ${options.head}`,
        user: sender,
        html_url: `https://github.com/${REPOSITORY.owner}/${REPOSITORY.repo}/pull/${number}`,
        head: { label: `${REPOSITORY.owner}:${options.head}`, ref: options.head, sha: headSha, repo },
        base: { label: `${REPOSITORY.owner}:${options.base}`, ref: options.base, sha: baseSha, repo },
        merged: false,
        mergeable: null,
      },
      repository: repo,
      sender,
    },
  };
}

/** A manual run of a workflow on `ref` (a branch name) with its `inputs`. */
export function workflowDispatch(branch: string, inputs: Record<string, string> = {}, sha = DEFAULT_SHA): GitHubEvent {
  const ref = `refs/heads/${branch}`;
  return {
    eventName: 'workflow_dispatch',
    ref,
    sha,
    payload: { inputs, ref, repository: repository(), sender, workflow: '.github/workflows/deploy.yml' },
  };
}

/**
 * The merge queue asking for checks on a merge group: the queue's temporary branch
 * `gh-readonly-queue/<base>/pr-<number>-<base sha>` holds the pull request merged onto `base`.
 */
export function mergeGroup(base: string, options: { number?: number; headSha?: string; baseSha?: string } = {}): GitHubEvent {
  const number = options.number ?? 42;
  const headSha = options.headSha ?? DEFAULT_SHA;
  const baseSha = options.baseSha ?? 'ba5eba11ba5eba11ba5eba11ba5eba11ba5eba11';
  const headRef = `refs/heads/gh-readonly-queue/${base}/pr-${number}-${baseSha}`;
  return {
    eventName: 'merge_group',
    ref: headRef,
    sha: headSha,
    payload: {
      action: 'checks_requested',
      merge_group: {
        head_sha: headSha,
        head_ref: headRef,
        base_sha: baseSha,
        base_ref: `refs/heads/${base}`,
        head_commit: {
          id: headSha,
          tree_id: 'a0d1cb3f2bfa4d1e3b4a8c1e9a4b5e7f0c6d2e11',
          message: `Merge pull request #${number}`,
          timestamp: '2026-11-27T05:00:00Z',
          author: { name: 'Octo Cat', email: 'octocat@example.com' },
          committer: { name: 'GitHub', email: 'noreply@github.com' },
        },
      },
      repository: repository(),
      sender,
    },
  };
}
