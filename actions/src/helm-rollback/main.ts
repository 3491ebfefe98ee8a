import * as core from '@actions/core';
import { Deployments } from '../lib/deployments.ts';
import { createGitHubClient, readRunContext } from '../lib/github.ts';
import { Helm } from '../lib/helm.ts';
import { Inputs } from '../lib/inputs.ts';
import { kubeconfigFromInput } from '../lib/kubeconfig.ts';
import { rollback } from './rollback.ts';
import { readSettings } from './settings.ts';

async function main(): Promise<void> {
  const settings = readSettings(new Inputs());
  const context = readRunContext();
  const helm = new Helm({ kubeconfig: kubeconfigFromInput(settings.kubeconfig) });
  const client = settings.githubToken ? createGitHubClient(settings.githubToken) : undefined;
  await rollback(settings, {
    helm,
    context,
    deployments: settings.createDeployment && client ? new Deployments(client, context) : undefined,
    failedDeployment:
      settings.failedDeploymentId !== undefined && client ? new Deployments(client, context) : undefined,
  });
}

main().catch((error: unknown) => core.setFailed(error instanceof Error ? error.message : String(error)));
