/**
 * GitHub's recurring objects — accounts, the repository, the GitHub Actions app, commits — shaped as GitHub sends them
 * in REST answers and webhook payloads, for the API stand-in and the test events. Both are held to GitHub's published
 * schemas (github-contract.ts), which require these objects whole, so they live in one place.
 */

export const OWNER = 'airq-org';
export const REPO = 'airq';
export const FULL_NAME = `${OWNER}/${REPO}`;
const API = 'https://api.github.com';
const WEB = 'https://github.com';
/** The moment every stand-in object was created at (answers are compared in tests; a fixed time keeps them stable). */
export const FIXED_TIME = '2026-11-27T05:00:00Z';

/** A GitHub node id as GitHub forms them: base64 of a type prefix and the database id. */
export function nodeId(type: string, id: number): string {
  return Buffer.from(`${type.length.toString().padStart(2, '0')}:${type}${id}`).toString('base64');
}

/** A user, bot or organization account (the REST `simple-user`, also the webhooks' `user`). */
export function account(
  login: string,
  id: number,
  type: 'User' | 'Bot' | 'Organization' = 'User',
): Record<string, unknown> {
  const kind = type === 'Organization' ? 'orgs' : 'users';
  return {
    login,
    id,
    node_id: nodeId(type, id),
    avatar_url: `https://avatars.githubusercontent.com/u/${id}?v=4`,
    gravatar_id: '',
    url: `${API}/${kind}/${encodeURIComponent(login)}`,
    html_url: type === 'Bot' ? `${WEB}/apps/${login.replace(/\[bot\]$/, '')}` : `${WEB}/${login}`,
    followers_url: `${API}/users/${encodeURIComponent(login)}/followers`,
    following_url: `${API}/users/${encodeURIComponent(login)}/following{/other_user}`,
    gists_url: `${API}/users/${encodeURIComponent(login)}/gists{/gist_id}`,
    starred_url: `${API}/users/${encodeURIComponent(login)}/starred{/owner}{/repo}`,
    subscriptions_url: `${API}/users/${encodeURIComponent(login)}/subscriptions`,
    organizations_url: `${API}/users/${encodeURIComponent(login)}/orgs`,
    repos_url: `${API}/${kind}/${encodeURIComponent(login)}/repos`,
    events_url: `${API}/${kind}/${encodeURIComponent(login)}/events${type === 'Organization' ? '' : '{/privacy}'}`,
    received_events_url: `${API}/users/${encodeURIComponent(login)}/received_events`,
    type,
    user_view_type: 'public',
    site_admin: false,
  };
}

/** The account `login` as the tests know it (the actor, the bot, the organization). */
export function knownAccount(login: string): Record<string, unknown> {
  if (login === OWNER) return account(OWNER, 900_001, 'Organization');
  if (login === 'github-actions[bot]') return account(login, 41_898_282, 'Bot');
  if (login === 'octocat') return account(login, 583_231);
  // A stable id per login, so two mentions of one account agree.
  let id = 7;
  for (const char of login) id = (id * 31 + char.charCodeAt(0)) % 90_000_000;
  return account(login, 10_000_000 + id);
}

/**
 * The repository `owner/name` as the REST API and webhooks describe it: every URL field, counts, flags and dates.
 * The webhooks' `repository` requires more than the REST `minimal-repository`, and both accept the union.
 */
export function repository(fullName = FULL_NAME, id = 700_001): Record<string, unknown> {
  const [owner = OWNER, name = REPO] = fullName.split('/');
  const api = `${API}/repos/${fullName}`;
  return {
    id,
    node_id: nodeId('Repository', id),
    name,
    full_name: fullName,
    private: false,
    owner: owner === OWNER ? knownAccount(OWNER) : knownAccount(owner),
    html_url: `${WEB}/${fullName}`,
    description: 'Air-quality API and its delivery pipeline',
    fork: fullName !== FULL_NAME,
    url: api,
    forks_url: `${api}/forks`,
    keys_url: `${api}/keys{/key_id}`,
    collaborators_url: `${api}/collaborators{/collaborator}`,
    teams_url: `${api}/teams`,
    hooks_url: `${api}/hooks`,
    issue_events_url: `${api}/issues/events{/number}`,
    events_url: `${api}/events`,
    assignees_url: `${api}/assignees{/user}`,
    branches_url: `${api}/branches{/branch}`,
    tags_url: `${api}/tags`,
    blobs_url: `${api}/git/blobs{/sha}`,
    git_tags_url: `${api}/git/tags{/sha}`,
    git_refs_url: `${api}/git/refs{/sha}`,
    trees_url: `${api}/git/trees{/sha}`,
    statuses_url: `${api}/statuses/{sha}`,
    languages_url: `${api}/languages`,
    stargazers_url: `${api}/stargazers`,
    contributors_url: `${api}/contributors`,
    subscribers_url: `${api}/subscribers`,
    subscription_url: `${api}/subscription`,
    commits_url: `${api}/commits{/sha}`,
    git_commits_url: `${api}/git/commits{/sha}`,
    comments_url: `${api}/comments{/number}`,
    issue_comment_url: `${api}/issues/comments{/number}`,
    contents_url: `${api}/contents/{+path}`,
    compare_url: `${api}/compare/{base}...{head}`,
    merges_url: `${api}/merges`,
    archive_url: `${api}/{archive_format}{/ref}`,
    downloads_url: `${api}/downloads`,
    issues_url: `${api}/issues{/number}`,
    pulls_url: `${api}/pulls{/number}`,
    milestones_url: `${api}/milestones{/number}`,
    notifications_url: `${api}/notifications{?since,all,participating}`,
    labels_url: `${api}/labels{/name}`,
    releases_url: `${api}/releases{/id}`,
    deployments_url: `${api}/deployments`,
    created_at: '2026-01-05T09:00:00Z',
    updated_at: '2026-11-26T17:00:00Z',
    pushed_at: '2026-11-27T04:59:00Z',
    git_url: `git://github.com/${fullName}.git`,
    ssh_url: `git@github.com:${fullName}.git`,
    clone_url: `${WEB}/${fullName}.git`,
    svn_url: `${WEB}/${fullName}`,
    homepage: null,
    size: 2048,
    stargazers_count: 0,
    watchers_count: 0,
    language: 'TypeScript',
    has_issues: true,
    has_projects: false,
    has_downloads: true,
    has_wiki: false,
    has_pages: false,
    has_discussions: false,
    forks_count: 0,
    mirror_url: null,
    archived: false,
    disabled: false,
    open_issues_count: 0,
    license: {
      key: 'mit',
      name: 'MIT License',
      spdx_id: 'MIT',
      url: `${API}/licenses/mit`,
      node_id: 'MDc6TGljZW5zZTEz',
    },
    allow_forking: true,
    is_template: false,
    web_commit_signoff_required: false,
    topics: [],
    visibility: 'public',
    forks: 0,
    open_issues: 0,
    watchers: 0,
    default_branch: 'master',
  };
}

/** The GitHub Actions app, which owns the check runs of workflow jobs (REST `integration`). */
export function githubActionsApp(): Record<string, unknown> {
  return {
    id: 15_368,
    slug: 'github-actions',
    client_id: 'Iv1.05c79e9ad1f6bdfa',
    node_id: nodeId('Integration', 15_368),
    owner: account('github', 9_919, 'Organization'),
    name: 'GitHub Actions',
    description: 'Automate your workflow from idea to production',
    external_url: 'https://help.github.com/en/actions',
    html_url: `${WEB}/apps/github-actions`,
    created_at: '2018-07-30T09:30:17Z',
    updated_at: '2024-04-10T20:33:16Z',
    permissions: {
      actions: 'write',
      checks: 'write',
      contents: 'write',
      deployments: 'write',
      issues: 'write',
      metadata: 'read',
      pull_requests: 'write',
      statuses: 'write',
    },
    events: [
      'check_run',
      'check_suite',
      'deployment',
      'deployment_status',
      'pull_request',
      'push',
      'status',
      'workflow_dispatch',
    ],
  };
}

/** A commit of the repository as the REST API lists it (`commit`). */
export function commit(sha: string, message = 'Change something'): Record<string, unknown> {
  const api = `${API}/repos/${FULL_NAME}`;
  const person = { name: 'Octo Cat', email: 'octocat@example.com', date: FIXED_TIME };
  return {
    url: `${api}/commits/${sha}`,
    sha,
    node_id: nodeId('Commit', parseInt(sha.slice(0, 7), 16) || 1),
    html_url: `${WEB}/${FULL_NAME}/commit/${sha}`,
    comments_url: `${api}/commits/${sha}/comments`,
    commit: {
      url: `${api}/git/commits/${sha}`,
      author: person,
      committer: person,
      message,
      tree: {
        sha: 'a0d1cb3f2bfa4d1e3b4a8c1e9a4b5e7f0c6d2e11',
        url: `${api}/git/trees/a0d1cb3f2bfa4d1e3b4a8c1e9a4b5e7f0c6d2e11`,
      },
      comment_count: 0,
      verification: { verified: false, reason: 'unsigned', signature: null, payload: null, verified_at: null },
    },
    author: knownAccount('octocat'),
    committer: knownAccount('octocat'),
    parents: [],
  };
}
