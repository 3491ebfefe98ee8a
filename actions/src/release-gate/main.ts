import * as core from '@actions/core';
import { createGitHubClient, readRunContext } from '../lib/github.ts';
import { Helm } from '../lib/helm.ts';
import { Inputs } from '../lib/inputs.ts';
import { kubeconfigFromInput } from '../lib/kubeconfig.ts';
import { run } from './run.ts';
import { readSettings } from './settings.ts';

async function main(): Promise<void> {
  const context = readRunContext();
  const settings = readSettings(new Inputs(), context);
  await run(settings, {
    context,
    github: settings.githubToken ? createGitHubClient(settings.githubToken) : undefined,
    // Built when the gate needs the running version: a bad kubeconfig then refuses that rule, not the whole gate.
    helm: () => new Helm({ kubeconfig: kubeconfigFromInput(settings.kubeconfig) }),
  });
}

main().catch((error: unknown) => core.setFailed(error instanceof Error ? error.message : String(error)));
