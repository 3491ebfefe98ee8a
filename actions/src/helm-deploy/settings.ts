import { isProduction, loadEnvironments, type Environment, type Registry } from '../lib/environments.ts';
import type { DryRun } from '../lib/helm.ts';
import type { Inputs } from '../lib/inputs.ts';
import { formatDuration, InputError } from '../lib/inputs.ts';

/** Everything helm-deploy needs, read and validated once from the step's inputs. */
export interface Settings {
  environment: Environment;
  release: string;
  namespace: string;
  chart: string;
  imageRepository: string;
  imageTag: string;
  /** `sha256:<64 hex>`: the exact image (`--set-string image.digest=`, the chart runs repository@digest); '' uses the tag. */
  imageDigest: string;
  /** The app version (`--set-string appVersion=`); '' leaves the chart's default. */
  version: string;
  /** An extra values file applied after the environment's values. */
  valuesFile: string;
  /** A Go duration for helm, e.g. `300s`. */
  timeout: string;
  historyMax: number;
  dryRun: DryRun;
  /** Kubeconfig content from a secret; '' uses the ambient KUBECONFIG. */
  kubeconfig: string;
  githubToken: string;
  environmentUrl: string;
  createDeployment: boolean;
  production: boolean;
}

function readDigest(inputs: Inputs): string {
  const digest = inputs.optional('image-digest');
  if (digest !== '' && !/^sha256:[0-9a-f]{64}$/.test(digest)) {
    throw new InputError(
      `input "image-digest": "${digest}" is not a digest like sha256:<64 lowercase hex>; pass the digest the image build printed (docker push, buildx imagetools inspect)`,
    );
  }
  return digest;
}

/** Reads helm-deploy's inputs; the environment's defaults come from its file in the registry (`environments-dir`). */
export function readSettings(
  inputs: Inputs,
  registry: Registry = loadEnvironments(inputs.optional('environments-dir', 'environments')),
): Settings {
  const environment = registry.get(inputs.required('environment'));
  const dryRunInput = inputs.oneOf('dry-run', ['false', 'client', 'server', 'true'] as const, 'false');
  const dryRun: DryRun = dryRunInput === 'false' ? 'none' : dryRunInput === 'true' ? 'client' : dryRunInput;
  const createDeployment = inputs.boolean('create-deployment', true) && dryRun === 'none';
  const githubToken = inputs.optional('github-token');
  if (createDeployment && githubToken === '') {
    throw new InputError(
      'input "github-token" is required to record a GitHub Deployment; pass `github-token: ${{ github.token }}` ' +
        '(with `permissions: deployments: write`) or set `create-deployment: false`',
    );
  }
  return {
    environment,
    release: inputs.optional('release', environment.pipeline.release),
    namespace: inputs.optional('namespace', environment.pipeline.namespace),
    chart: inputs.optional('chart', 'helm/airq'),
    imageRepository: inputs.optional('image-repository'),
    imageTag: inputs.optional('image-tag'),
    imageDigest: readDigest(inputs),
    version: inputs.optional('version'),
    valuesFile: inputs.optional('values-file'),
    timeout: formatDuration(inputs.duration('timeout', '5m')),
    historyMax: inputs.integer('history-max', 10, { min: 0, max: 1000 }),
    dryRun,
    kubeconfig: inputs.optional('kubeconfig'),
    githubToken,
    environmentUrl: inputs.optional('environment-url', environment.pipeline.url),
    createDeployment,
    production: isProduction(environment),
  };
}
