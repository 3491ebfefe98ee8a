import type { RunContext } from '../lib/github.ts';
import type { Inputs } from '../lib/inputs.ts';

/** release-gate's inputs, read once; empty ones fall back to the run (tag, sha) or the environment's file. */
export interface Settings {
  /** The tag to release, e.g. v1.2.3 ('' when the run was not started by a tag). */
  tag: string;
  /** The tagged commit. */
  sha: string;
  environment: string;
  environmentsDir: string;
  /** '' → the environment's `releaseBranch`. */
  releaseBranch: string;
  /** '' → read from the Helm release. */
  currentVersion: string;
  /** '' → the environment's release / namespace. */
  release: string;
  namespace: string;
  kubeconfig: string;
  allowDowngrade: boolean;
  requireChecks: boolean;
  /** Check names that must have reported and passed; [] → the environment's `pipeline.requiredChecks`. */
  requiredChecks: string[];
  githubToken: string;
  repositoryPath: string;
}

export function readSettings(inputs: Inputs, context: RunContext): Settings {
  const refTag = context.ref.startsWith('refs/tags/') ? context.ref.slice('refs/tags/'.length) : '';
  return {
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
}
