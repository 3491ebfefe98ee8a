import * as core from '@actions/core';
import { readRunContext } from '../lib/github.ts';
import { Inputs } from '../lib/inputs.ts';
import { runnerTemp } from '../lib/runner-temp.ts';
import { run } from './run.ts';
import { readSettings } from './settings.ts';

async function main(): Promise<void> {
  const settings = readSettings(new Inputs());
  await run(settings, { context: readRunContext(), tempDir: runnerTemp() });
}

main().catch((error: unknown) => core.setFailed(error instanceof Error ? error.message : String(error)));
