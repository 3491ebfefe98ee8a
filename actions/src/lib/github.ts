import { getOctokit } from '@actions/github';
import { readFileSync } from 'node:fs';

/** The REST client every action uses: `@actions/github`'s Octokit with typed `rest.*` methods and `paginate`. */
export type GitHubClient = ReturnType<typeof getOctokit>;

/**
 * An Octokit whose base URL comes from `GITHUB_API_URL` (set by the runner, GitHub Enterprise included), so a local
 * server can stand in for the API in tests.
 */
export function createGitHubClient(token: string, env: NodeJS.ProcessEnv = process.env): GitHubClient {
  if (token === '') {
    throw new Error(
      'input "github-token" is empty; pass `github-token: ${{ github.token }}` (or a token with the needed scopes)',
    );
  }
  return getOctokit(token, { baseUrl: env.GITHUB_API_URL || 'https://api.github.com' });
}

/** What the runner tells an action about the run that started it (the `github` context, read from the environment). */
export interface RunContext {
  eventName: string;
  /** Fully qualified: `refs/heads/development`, `refs/tags/v1.2.3`, `refs/pull/7/merge`. */
  ref: string;
  sha: string;
  /** Pull request events: the branch the pull request merges into (GITHUB_BASE_REF); '' otherwise. */
  baseRef: string;
  actor: string;
  runId: string;
  runAttempt: string;
  workflow: string;
  job: string;
  owner: string;
  repo: string;
  serverUrl: string;
  apiUrl: string;
  /** The webhook payload from GITHUB_EVENT_PATH; `{}` when there is none. */
  payload: Record<string, unknown>;
}

/** Reads the run context from the runner's environment variables and event payload file. */
export function readRunContext(env: NodeJS.ProcessEnv = process.env): RunContext {
  const repository = env.GITHUB_REPOSITORY ?? '';
  const [owner = '', repo = ''] = repository.split('/');
  let payload: Record<string, unknown> = {};
  const eventPath = env.GITHUB_EVENT_PATH;
  if (eventPath) {
    try {
      payload = JSON.parse(readFileSync(eventPath, 'utf8')) as Record<string, unknown>;
    } catch (error) {
      throw new Error(`GITHUB_EVENT_PATH ${eventPath}: cannot read the event payload (${(error as Error).message})`);
    }
  }
  return {
    eventName: env.GITHUB_EVENT_NAME ?? '',
    ref: env.GITHUB_REF ?? '',
    sha: env.GITHUB_SHA ?? '',
    baseRef: env.GITHUB_BASE_REF ?? '',
    actor: env.GITHUB_ACTOR ?? '',
    runId: env.GITHUB_RUN_ID ?? '',
    runAttempt: env.GITHUB_RUN_ATTEMPT ?? '1',
    workflow: env.GITHUB_WORKFLOW ?? '',
    job: env.GITHUB_JOB ?? '',
    owner,
    repo,
    serverUrl: env.GITHUB_SERVER_URL || 'https://github.com',
    apiUrl: env.GITHUB_API_URL || 'https://api.github.com',
    payload,
  };
}

/** The web page of this workflow run (for deployment statuses' `log_url` and summaries). */
export function runUrl(context: RunContext): string {
  return `${context.serverUrl}/${context.owner}/${context.repo}/actions/runs/${context.runId}`;
}

/** Throws unless the run context names a repository (needed by every API call). */
export function requireRepository(context: RunContext): { owner: string; repo: string } {
  if (context.owner === '' || context.repo === '') {
    throw new Error('GITHUB_REPOSITORY is not set (expected owner/name); the action must run inside a workflow');
  }
  return { owner: context.owner, repo: context.repo };
}
