import * as core from '@actions/core';
import { loadEnvironments } from '../lib/environments.ts';
import { InputError, type Inputs } from '../lib/inputs.ts';
import { expectedInstances } from './replicas.ts';

/** smoke-test's inputs, read once. */
export interface Settings {
  /** Base URL of the deployment, e.g. https://airq-staging.example.com. */
  url: string;
  /** '' accepts any version. */
  expectedVersion: string;
  minInstances: number;
  /** Overall budget for the whole test, in ms. */
  timeoutMs: number;
  /** First retry delay; doubles up to 8× this. */
  intervalMs: number;
  /** Readiness requests made to count instances (on fresh connections). */
  instanceRequests: number;
}

export function readSettings(inputs: Inputs): Settings {
  const url = inputs.required('url');
  if (!/^https?:\/\/[^/]/.test(url))
    throw new InputError(`input "url": "${url}" is not an http(s) URL like https://airq.example.com`);
  const environmentName = inputs.optional('environment');
  // An environment's smoke test expects every replica it runs to answer; min-instances overrides that.
  const fromEnvironment = environmentName
    ? expectedInstances(loadEnvironments(inputs.optional('environments-dir', 'environments')).get(environmentName))
    : undefined;
  if (fromEnvironment) core.info(`Expecting ${fromEnvironment.count} instances (${fromEnvironment.why})`);
  const minInstances = inputs.integer('min-instances', fromEnvironment?.count ?? 1, { min: 1, max: 100 });
  return {
    url,
    expectedVersion: inputs.optional('expected-version'),
    minInstances,
    timeoutMs: inputs.duration('timeout', '120s'),
    intervalMs: inputs.duration('interval', '2s'),
    instanceRequests: inputs.integer('instance-requests', Math.max(20, minInstances * 10), { min: 1, max: 1000 }),
  };
}
