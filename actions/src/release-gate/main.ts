import * as core from '@actions/core';
import { readRunContext } from '../lib/github.ts';
import { Inputs } from '../lib/inputs.ts';
import { run, type Settings } from './run.ts';

async function main(): Promise<void> {
  const inputs = new Inputs();
  const context = readRunContext();
  const refTag = context.ref.startsWith('refs/tags/') ? context.ref.slice('refs/tags/'.length) : '';
  const settings: Settings = {
    tag: inputs.optional('tag', refTag),
    sha: inputs.optional('sha', context.sha),
    environment: inputs.optional('environment', 'production'),
    environmentsDir: inputs.optional('environments-dir', 'environments'),
    releaseBranch: inputs.optional('release-branch'),
    currentVersion: inputs.optional('current-version'),
    release: inputs.optional('release'),
    namespace: inputs.optional('namespace'),
    kubeconfig: inputs.optional('kubeconfig'),
    allowDowngrade: inputs.boolean('allow-downgrade', false),
    requireChecks: inputs.boolean('require-checks', true),
    requiredChecks: inputs.lines('required-checks'),
    githubToken: inputs.optional('github-token'),
    repositoryPath: inputs.optional('repository-path', '.'),
  };
  await run(settings, { context });
}

main().catch((error: unknown) => core.setFailed(error instanceof Error ? error.message : String(error)));
