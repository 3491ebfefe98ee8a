import { tmpdir } from 'node:os';

/**
 * Where an action writes its temporary files: the runner's `RUNNER_TEMP` (emptied after every job), else the
 * system's temporary directory, so the actions also run from a terminal. The one place that fallback is made.
 */
export function runnerTemp(env: NodeJS.ProcessEnv = process.env): string {
  return env.RUNNER_TEMP || tmpdir();
}
