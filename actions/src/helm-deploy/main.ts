import * as core from '@actions/core';
import { Deployments } from '../lib/deployments.ts';
import { createGitHubClient, readRunContext } from '../lib/github.ts';
import { Helm } from '../lib/helm.ts';
import { Inputs } from '../lib/inputs.ts';
import { kubeconfigFromInput } from '../lib/kubeconfig.ts';
import { runnerTemp } from '../lib/runner-temp.ts';
import { deploy } from './deploy.ts';
import { readSettings } from './settings.ts';

async function main(): Promise<void> {
  const settings = readSettings(new Inputs());
  const context = readRunContext();
  await deploy(settings, {
    helm: new Helm({ kubeconfig: kubeconfigFromInput(settings.kubeconfig) }),
    context,
    deployments: settings.createDeployment
      ? new Deployments(createGitHubClient(settings.githubToken), context)
      : undefined,
    now: Date.now,
    tempDir: runnerTemp(),
  });
}

main().catch((error: unknown) => core.setFailed(error instanceof Error ? error.message : String(error)));
