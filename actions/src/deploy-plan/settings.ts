import path from 'node:path';
import type { RunContext } from '../lib/github.ts';
import type { Inputs } from '../lib/inputs.ts';

/** Everything deploy-plan needs, read once from the inputs and the pull_request payload. */
export interface Settings {
  environmentsDir: string;
  chart: string;
  /** The checked-out repository (the PR head, or its merge commit as actions/checkout leaves it). */
  repositoryPath: string;
  pullNumber: number;
  baseRef: string;
  baseSha: string;
  headSha: string;
  githubToken: string;
}

interface PullRequestPayload {
  number?: number;
  pull_request?: { number?: number; base?: { ref?: string; sha?: string }; head?: { sha?: string } };
}

/** Reads deploy-plan's inputs and the pull request it runs for. */
export function readSettings(inputs: Inputs, context: RunContext): Settings {
  const payload = context.payload as PullRequestPayload;
  const pull = payload.pull_request;
  if (!pull?.base?.ref || !pull.base.sha || !pull.head?.sha) {
    throw new Error(
      `deploy-plan runs for pull requests, but the ${context.eventName || 'unknown'} event payload has no pull_request.base/head; ` +
        'run it `on: pull_request`',
    );
  }
  return {
    environmentsDir: inputs.optional('environments-dir', 'environments'),
    chart: inputs.optional('chart', 'helm/airq'),
    repositoryPath: path.resolve(inputs.optional('repository-path', '.')),
    pullNumber: pull.number ?? payload.number ?? 0,
    baseRef: pull.base.ref,
    baseSha: pull.base.sha,
    headSha: pull.head.sha,
    githubToken: inputs.required('github-token'),
  };
}
