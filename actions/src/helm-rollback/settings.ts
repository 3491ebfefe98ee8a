import { isProduction, loadEnvironments, type Environment, type Registry } from '../lib/environments.ts';
import type { Inputs } from '../lib/inputs.ts';
import { formatDuration, InputError } from '../lib/inputs.ts';

/** Everything helm-rollback needs, read and validated once from the step's inputs. */
export interface Settings {
  environment: Environment;
  release: string;
  namespace: string;
  /** The revision asked for; undefined picks the last good one before the current. */
  revision: number | undefined;
  reason: string;
  /** A Go duration for helm, e.g. `300s`. */
  timeout: string;
  kubeconfig: string;
  githubToken: string;
  environmentUrl: string;
  createDeployment: boolean;
  production: boolean;
  /** A GitHub Deployment whose release this rollback undoes (a deploy that failed its smoke test): marked failed. */
  failedDeploymentId: number | undefined;
}

/** Reads helm-rollback's inputs; the environment's defaults come from its file in the registry (`environments-dir`). */
export function readSettings(
  inputs: Inputs,
  registry: Registry = loadEnvironments(inputs.optional('environments-dir', 'environments')),
): Settings {
  const environment = registry.get(inputs.required('environment'));
  const revisionText = inputs.optional('revision');
  if (revisionText !== '' && !/^[1-9]\d*$/.test(revisionText)) {
    throw new InputError(
      `input "revision": "${revisionText}" is not a revision number; use a number from \`helm history\`, or leave it empty for the last good revision`,
    );
  }
  const reason = inputs.required('reason');
  const failedDeploymentText = inputs.optional('failed-deployment-id');
  if (failedDeploymentText !== '' && !/^[1-9]\d*$/.test(failedDeploymentText)) {
    throw new InputError(
      `input "failed-deployment-id": "${failedDeploymentText}" is not a deployment id; pass helm-deploy's deployment-id output`,
    );
  }
  const createDeployment = inputs.boolean('create-deployment', true);
  const githubToken = inputs.optional('github-token');
  if ((createDeployment || failedDeploymentText !== '') && githubToken === '') {
    throw new InputError(
      'input "github-token" is required to record the rollback as a GitHub Deployment; pass `github-token: ${{ github.token }}` or set `create-deployment: false`',
    );
  }
  return {
    environment,
    release: inputs.optional('release', environment.pipeline.release),
    namespace: inputs.optional('namespace', environment.pipeline.namespace),
    revision: revisionText === '' ? undefined : Number(revisionText),
    reason,
    timeout: formatDuration(inputs.duration('timeout', '5m')),
    kubeconfig: inputs.optional('kubeconfig'),
    githubToken,
    environmentUrl: inputs.optional('environment-url', environment.pipeline.url),
    createDeployment,
    production: isProduction(environment),
    failedDeploymentId: failedDeploymentText === '' ? undefined : Number(failedDeploymentText),
  };
}
