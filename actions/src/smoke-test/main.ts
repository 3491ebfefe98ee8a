import * as core from '@actions/core';
import { loadEnvironments } from '../lib/environments.ts';
import { Inputs } from '../lib/inputs.ts';
import { expectedInstances } from './replicas.ts';
import { run, type Settings } from './run.ts';

async function main(): Promise<void> {
  const inputs = new Inputs();
  const url = inputs.required('url');
  if (!/^https?:\/\/[^/]/.test(url)) throw new Error(`input "url": "${url}" is not an http(s) URL like https://airq.example.com`);
  const environmentName = inputs.optional('environment');
  // An environment's smoke test expects every replica it runs to answer; min-instances overrides that.
  const fromEnvironment = environmentName ? expectedInstances(loadEnvironments(inputs.optional('environments-dir', 'environments')).get(environmentName)) : undefined;
  if (fromEnvironment) core.info(`Expecting ${fromEnvironment.count} instances (${fromEnvironment.why})`);
  const minInstances = inputs.integer('min-instances', fromEnvironment?.count ?? 1, { min: 1, max: 100 });
  const settings: Settings = {
    url,
    expectedVersion: inputs.optional('expected-version'),
    minInstances,
    timeoutMs: inputs.duration('timeout', '120s'),
    intervalMs: inputs.duration('interval', '2s'),
    instanceRequests: inputs.integer('instance-requests', Math.max(20, minInstances * 10), { min: 1, max: 1000 }),
  };
  await run(settings);
}

main().catch((error: unknown) => core.setFailed(error instanceof Error ? error.message : String(error)));
