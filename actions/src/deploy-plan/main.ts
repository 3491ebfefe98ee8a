import * as core from '@actions/core';
import path from 'node:path';
import { createGitHubClient, readRunContext } from '../lib/github.ts';
import type { RunContext } from '../lib/github.ts';
import { Helm } from '../lib/helm.ts';
import { Inputs } from '../lib/inputs.ts';
import { plan } from './plan.ts';
import type { PlanSettings } from './plan.ts';

interface PullRequestPayload {
  number?: number;
  pull_request?: { number?: number; base?: { ref?: string; sha?: string }; head?: { sha?: string } };
}

/** Reads deploy-plan's inputs and the pull request it runs for. */
function readPlanSettings(inputs: Inputs, context: RunContext): PlanSettings {
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
  };
}

async function main(): Promise<void> {
  const inputs = new Inputs();
  const context = readRunContext();
  const settings = readPlanSettings(inputs, context);
  const client = createGitHubClient(inputs.required('github-token'));
  await plan(settings, { helm: new Helm(), client, context });
}

main().catch((error: unknown) => core.setFailed(error instanceof Error ? error.message : String(error)));
