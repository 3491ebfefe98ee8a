import * as core from '@actions/core';
import { Inputs } from '../lib/inputs.ts';
import { get } from './http.ts';
import { run } from './run.ts';
import { readSettings } from './settings.ts';

async function main(): Promise<void> {
  const settings = readSettings(new Inputs());
  await run(settings, { get, now: Date.now });
}

main().catch((error: unknown) => core.setFailed(error instanceof Error ? error.message : String(error)));
