import * as core from '@actions/core';
import { Deployments } from '../lib/deployments.ts';
import { loadEnvironments } from '../lib/environments.ts';
import { createGitHubClient, readRunContext } from '../lib/github.ts';
import { Helm, writeKubeconfig } from '../lib/helm.ts';
import { Inputs } from '../lib/inputs.ts';
import { rollback } from './rollback.ts';
import { readRollbackSettings } from './settings.ts';

async function main(): Promise<void> {
  const inputs = new Inputs();
  const settings = readRollbackSettings(inputs, loadEnvironments(inputs.optional('environments-dir', 'environments')));
  const context = readRunContext();
  const helm = new Helm(settings.kubeconfig ? { kubeconfig: writeKubeconfig(settings.kubeconfig) } : {});
  const client = settings.githubToken ? createGitHubClient(settings.githubToken) : undefined;
  const deployments = settings.createDeployment && client ? new Deployments(client, context) : undefined;
  const failedDeployment = settings.failedDeploymentId !== undefined && client ? new Deployments(client, context) : undefined;
  await rollback(settings, { helm, context, ...(deployments ? { deployments } : {}), ...(failedDeployment ? { failedDeployment } : {}) });
}

main().catch((error: unknown) => core.setFailed(error instanceof Error ? error.message : String(error)));
