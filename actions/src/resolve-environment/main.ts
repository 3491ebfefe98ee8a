import * as core from '@actions/core';
import { readRunContext } from '../lib/github.ts';
import { Inputs } from '../lib/inputs.ts';
import { defaultTempDir, run, type Settings } from './run.ts';

async function main(): Promise<void> {
  const inputs = new Inputs();
  const settings: Settings = {
    environmentsDir: inputs.optional('environments-dir', 'environments'),
    environment: inputs.optional('environment'),
    tempDir: defaultTempDir(),
  };
  await run(settings, { context: readRunContext() });
}

main().catch((error: unknown) => core.setFailed(error instanceof Error ? error.message : String(error)));
