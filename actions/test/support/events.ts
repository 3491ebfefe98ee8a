// Webhook payloads as GitHub sends them, for run-action.ts and the workflow simulation. Each is held to GitHub's
// published webhook schema (test/support/github-contract.ts) wherever it is fed to an action or a workflow.
import { assertEventPayload } from '../../../test/support/github-contract.ts';
import { FIXED_TIME, FULL_NAME, knownAccount, OWNER, REPO, repository } from '../../../test/support/github-objects.ts';

export const REPOSITORY = { owner: OWNER, repo: REPO } as const;
export const DEFAULT_SHA = '3f786850e387550fdab836ed7e6dc881de23001b';
export const ACTOR = 'octocat';
const ZERO_SHA = '0000000000000000000000000000000000000000';

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

/** The refs and sha the runner reads from a payload (GITHUB_REF, GITHUB_SHA, GITHUB_BASE_REF, GITHUB_HEAD_REF). */
export interface RunnerRefs {
  ref: string;
  sha: string;
  baseRef: string;
  headRef: string;
}

/**
 * The runner's GITHUB_REF / GITHUB_SHA / GITHUB_BASE_REF / GITHUB_HEAD_REF for an event, taken from its payload after
 * checking it against GitHub's webhook schema, as GitHub documents them per event ("Events that trigger workflows").
 * A workflow_dispatch payload names no commit: the runner uses the head of its ref, which only `event.sha` knows.
 */
export function runnerRefs(event: GitHubEvent): RunnerRefs {
  assertEventPayload(event.eventName, event.payload);
  // The schema check above guarantees these shapes.
  const payload = event.payload as {
    ref: string;
    after: string;
    pull_request: { number: number; merge_commit_sha: string | null; base: { ref: string }; head: { ref: string } };
    merge_group: { head_ref: string; head_sha: string };
  };
  switch (event.eventName) {
    case 'push':
      return { ref: payload.ref, sha: payload.after, baseRef: '', headRef: '' };
    case 'pull_request': {
      const pull = payload.pull_request;
      return {
        ref: `refs/pull/${pull.number}/merge`,
        sha: pull.merge_commit_sha ?? event.sha,
        baseRef: pull.base.ref,
        headRef: pull.head.ref,
      };
    }
    case 'merge_group': {
      const group = payload.merge_group;
      return { ref: group.head_ref, sha: group.head_sha, baseRef: '', headRef: '' };
    }
    case 'workflow_dispatch':
      return { ref: payload.ref, sha: event.sha, baseRef: '', headRef: '' };
    default:
      return { ref: event.ref, sha: event.sha, baseRef: event.baseRef ?? '', headRef: event.headRef ?? '' };
  }
}

/** Builds the event from its payload, so ref/sha/baseRef/headRef are what the runner would read from it. */
function fromPayload(eventName: string, payload: Record<string, unknown>, sha = ''): GitHubEvent {
  const refs = runnerRefs({ eventName, payload, ref: '', sha });
  const event: GitHubEvent = { eventName, ref: refs.ref, sha: refs.sha, payload };
  if (eventName === 'pull_request') Object.assign(event, { baseRef: refs.baseRef, headRef: refs.headRef });
  return event;
}

const author = { name: 'Octo Cat', email: 'octocat@example.com', username: ACTOR };

function pushPayload(ref: string, sha: string, before: string): Record<string, unknown> {
  const headCommit = {
    id: sha,
    tree_id: 'a0d1cb3f2bfa4d1e3b4a8c1e9a4b5e7f0c6d2e11',
    distinct: true,
    message: 'Change something',
    timestamp: FIXED_TIME,
    url: `https://github.com/${FULL_NAME}/commit/${sha}`,
    author,
    committer: author,
    added: [],
    removed: [],
    modified: ['README.md'],
  };
  const created = before === ZERO_SHA;
  return {
    ref,
    before,
    after: sha,
    repository: repository(),
    pusher: { name: ACTOR, email: 'octocat@example.com' },
    organization: organization(),
    sender: knownAccount(ACTOR),
    created,
    deleted: false,
    forced: false,
    base_ref: null,
    compare: created
      ? `https://github.com/${FULL_NAME}/compare/${ref.replace(/^refs\/(heads|tags)\//, '')}`
      : `https://github.com/${FULL_NAME}/compare/${before.slice(0, 12)}...${sha.slice(0, 12)}`,
    // A new tag points at an existing commit: GitHub lists no commits for it, but still names the head commit.
    commits: created && ref.startsWith('refs/tags/') ? [] : [headCommit],
    head_commit: headCommit,
  };
}

function organization(): Record<string, unknown> {
  const api = `https://api.github.com/orgs/${OWNER}`;
  const org = knownAccount(OWNER);
  return {
    login: OWNER,
    id: org.id,
    node_id: org.node_id,
    url: api,
    repos_url: `${api}/repos`,
    events_url: `${api}/events`,
    hooks_url: `${api}/hooks`,
    issues_url: `${api}/issues`,
    members_url: `${api}/members{/member}`,
    public_members_url: `${api}/public_members{/member}`,
    avatar_url: org.avatar_url,
    description: 'Air quality, delivered',
  };
}

/** A push of commits to a branch. */
export function pushBranch(branch: string, sha = DEFAULT_SHA): GitHubEvent {
  return fromPayload('push', pushPayload(`refs/heads/${branch}`, sha, '9fceb02d0ae598e95dc970b74767f19372d61af8'));
}

/** A push of a (new) tag pointing at `sha`. */
export function pushTag(tag: string, sha = DEFAULT_SHA): GitHubEvent {
  return fromPayload('push', pushPayload(`refs/tags/${tag}`, sha, ZERO_SHA));
}

/** A pull request opened from `head` into `base`; GITHUB_SHA is the merge commit, as on the runner. */
export function pullRequest(options: {
  base: string;
  head: string;
  number?: number;
  headSha?: string;
  baseSha?: string;
  mergeSha?: string;
  action?: string;
}): GitHubEvent {
  const number = options.number ?? 42;
  const headSha = options.headSha ?? 'c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00';
  const baseSha = options.baseSha ?? 'ba5eba11ba5eba11ba5eba11ba5eba11ba5eba11';
  const mergeSha = options.mergeSha ?? DEFAULT_SHA;
  const user = knownAccount(ACTOR);
  const api = `https://api.github.com/repos/${FULL_NAME}`;
  const web = `https://github.com/${FULL_NAME}`;
  const branch = (ref: string, sha: string) => ({
    label: `${OWNER}:${ref}`,
    ref,
    sha,
    user: knownAccount(OWNER),
    repo: repository(),
  });
  const action = options.action ?? 'opened';
  return fromPayload('pull_request', {
    action,
    number,
    // A synchronize event says which head the push replaced.
    ...(action === 'synchronize' ? { before: 'c0ffee11c0ffee11c0ffee11c0ffee11c0ffee11', after: headSha } : {}),
    pull_request: {
      url: `${api}/pulls/${number}`,
      id: 1_000_000 + number,
      node_id: `PR_kwDOAKrdwc4${String(number).padStart(7, '0')}`,
      html_url: `${web}/pull/${number}`,
      diff_url: `${web}/pull/${number}.diff`,
      patch_url: `${web}/pull/${number}.patch`,
      issue_url: `${api}/issues/${number}`,
      number,
      state: 'open',
      locked: false,
      title: `Change ${options.head}`,
      user,
      body: null,
      created_at: FIXED_TIME,
      updated_at: FIXED_TIME,
      closed_at: null,
      merged_at: null,
      merge_commit_sha: mergeSha,
      assignee: null,
      assignees: [],
      requested_reviewers: [],
      requested_teams: [],
      labels: [],
      milestone: null,
      draft: false,
      commits_url: `${api}/pulls/${number}/commits`,
      review_comments_url: `${api}/pulls/${number}/comments`,
      review_comment_url: `${api}/pulls/comments{/number}`,
      comments_url: `${api}/issues/${number}/comments`,
      statuses_url: `${api}/statuses/${headSha}`,
      head: branch(options.head, headSha),
      base: branch(options.base, baseSha),
      _links: {
        self: { href: `${api}/pulls/${number}` },
        html: { href: `${web}/pull/${number}` },
        issue: { href: `${api}/issues/${number}` },
        comments: { href: `${api}/issues/${number}/comments` },
        review_comments: { href: `${api}/pulls/${number}/comments` },
        review_comment: { href: `${api}/pulls/comments{/number}` },
        commits: { href: `${api}/pulls/${number}/commits` },
        statuses: { href: `${api}/statuses/${headSha}` },
      },
      author_association: 'MEMBER',
      auto_merge: null,
      active_lock_reason: null,
      merged: false,
      mergeable: null,
      rebaseable: null,
      mergeable_state: 'unknown',
      merged_by: null,
      comments: 0,
      review_comments: 0,
      maintainer_can_modify: false,
      commits: 1,
      additions: 1,
      deletions: 1,
      changed_files: 1,
    },
    repository: repository(),
    organization: organization(),
    sender: user,
  });
}

/** A manual run of a workflow on `ref` (a branch name) with its `inputs`. */
export function workflowDispatch(branch: string, inputs: Record<string, string> = {}, sha = DEFAULT_SHA): GitHubEvent {
  const ref = branch.startsWith('refs/') ? branch : `refs/heads/${branch}`;
  return fromPayload(
    'workflow_dispatch',
    {
      inputs,
      ref,
      repository: repository(),
      organization: organization(),
      sender: knownAccount(ACTOR),
      workflow: '.github/workflows/deploy.yml',
    },
    sha,
  );
}

/** A merge queue asking for checks on the group it built for pull request `number` into `base`. */
export function mergeGroup(options: {
  base: string;
  number?: number;
  headSha?: string;
  baseSha?: string;
}): GitHubEvent {
  const number = options.number ?? 42;
  const headSha = options.headSha ?? DEFAULT_SHA;
  const baseSha = options.baseSha ?? 'ba5eba11ba5eba11ba5eba11ba5eba11ba5eba11';
  const author = { name: 'Octo Cat', email: 'octocat@example.com' };
  return fromPayload('merge_group', {
    action: 'checks_requested',
    merge_group: {
      head_sha: headSha,
      head_ref: `refs/heads/gh-readonly-queue/${options.base}/pr-${number}-${baseSha}`,
      base_sha: baseSha,
      base_ref: `refs/heads/${options.base}`,
      head_commit: {
        id: headSha,
        tree_id: 'a0d1cb3f2bfa4d1e3b4a8c1e9a4b5e7f0c6d2e11',
        message: `Merge pull request #${number}`,
        timestamp: FIXED_TIME,
        author,
        committer: author,
      },
    },
    repository: repository(),
    organization: organization(),
    sender: knownAccount(ACTOR),
  });
}
