import * as core from '@actions/core';
import { createGitHubClient, readRunContext } from '../lib/github.ts';
import { Helm } from '../lib/helm.ts';
import { Inputs } from '../lib/inputs.ts';
import { runnerTemp } from '../lib/runner-temp.ts';
import { plan } from './plan.ts';
import { readSettings } from './settings.ts';

async function main(): Promise<void> {
  const context = readRunContext();
  const settings = readSettings(new Inputs(), context);
  await plan(settings, {
    helm: new Helm(),
    client: createGitHubClient(settings.githubToken),
    context,
    tempDir: runnerTemp(),
  });
}

main().catch((error: unknown) => core.setFailed(error instanceof Error ? error.message : String(error)));
