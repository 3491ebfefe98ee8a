import * as core from '@actions/core';
import { setTimeout as sleep } from 'node:timers/promises';
import pRetry from 'p-retry';
import { writeSummary } from '../lib/summary.ts';
import type { get } from './http.ts';
import type { Settings } from './settings.ts';
import {
  dataProblem,
  describeObservation,
  instancesProblem,
  readinessProblem,
  reportedVersion,
  tallyInstances,
  type Observation,
} from './judge.ts';

export interface Deps {
  /** One GET on a fresh connection (`http.ts`); never rejects. */
  get: typeof get;
  /** The clock, in milliseconds. */
  now: () => number;
}

class NotYet extends Error {
  override name = 'NotYet';
}

/** Polls with exponential backoff until `check` finds no problem or the deadline passes; returns the good observation. */
async function until(
  label: string,
  url: string,
  settings: Settings,
  { get, now }: Deps,
  startedAt: number,
  seen: Observation[],
  problem: (observation: Observation) => string | undefined,
): Promise<Observation> {
  const deadline = startedAt + settings.timeoutMs;
  return pRetry(
    async () => {
      const remaining = deadline - now();
      const observation = await get(url, Math.max(1000, Math.min(10_000, remaining)), startedAt);
      seen.push(observation);
      const why = problem(observation);
      if (why) throw new NotYet(why);
      return observation;
    },
    {
      retries: Number.MAX_SAFE_INTEGER,
      factor: 2,
      minTimeout: settings.intervalMs,
      maxTimeout: settings.intervalMs * 8,
      maxRetryTime: Math.max(0, deadline - now()),
      onFailedAttempt: ({ error, attemptNumber }) => core.info(`${label}: attempt ${attemptNumber}: ${error.message}`),
    },
  );
}

function report(what: string, settings: Settings, seen: Observation[], detail: string): string {
  const recent = seen.slice(-12).map((observation) => `  ${describeObservation(observation)}`);
  const skipped = seen.length > recent.length ? [`  (${seen.length - recent.length} earlier answers omitted)`] : [];
  return [
    `smoke test of ${settings.url} failed: ${what}: ${detail}`,
    `What it saw (${seen.length} requests within ${Math.round(settings.timeoutMs / 1000)}s):`,
    ...skipped,
    ...recent,
  ].join('\n');
}

/** Waits for readiness with the expected version, checks data is served and counts instances; throws a report on failure. */
export async function run(settings: Settings, deps: Deps): Promise<void> {
  const base = settings.url.replace(/\/+$/, '');
  const startedAt = deps.now();
  const seen: Observation[] = [];
  const rows: string[][] = [];
  const finish = async (passed: boolean) =>
    writeSummary({
      heading: `Smoke test of ${base} ${passed ? 'passed' : 'failed'}`,
      tables: [{ header: ['check', 'result'], rows }],
    });

  let ready: Observation;
  try {
    ready = await until('readiness', `${base}/health/ready`, settings, deps, startedAt, seen, (o) =>
      readinessProblem(o, settings.expectedVersion),
    );
  } catch (error) {
    rows.push([
      '/health/ready answers ready' + (settings.expectedVersion ? ` with ${settings.expectedVersion}` : ''),
      `❌ ${(error as Error).message}`,
    ]);
    await finish(false);
    throw new Error(
      report(
        'not ready' + (settings.expectedVersion ? ` with version ${settings.expectedVersion}` : ''),
        settings,
        seen,
        (error as Error).message,
      ),
    );
  }
  const version = reportedVersion(ready);
  rows.push([
    `/health/ready answers ready`,
    `✅ version ${version} after ${((deps.now() - startedAt) / 1000).toFixed(1)}s`,
  ]);
  core.setOutput('version', version);

  const dataSeen: Observation[] = [];
  try {
    const data = await until('data', `${base}/air_quality`, settings, deps, startedAt, dataSeen, dataProblem);
    const count = (JSON.parse(data.body ?? '{}') as { data: unknown[] }).data.length;
    rows.push(['/air_quality returns data', `✅ ${count} readings`]);
  } catch (error) {
    rows.push(['/air_quality returns data', `❌ ${(error as Error).message}`]);
    await finish(false);
    throw new Error(report('/air_quality returned no data', settings, dataSeen, (error as Error).message));
  }

  // Count instances on fresh connections. Right after a rollout (or `helm rollback --wait`) the answers may not have
  // settled: an old pod can still answer while it drains, and a load balancer may not route to a new replica yet (a
  // cache still probing its backends, a NetworkPolicy not yet admitting the pod). Answers not ready with the expected
  // version, or too few distinct instances, therefore start the count again while the budget lasts; the test fails
  // only if that persists to the deadline. A missing X-Instance-Id fails at once.
  const deadline = startedAt + settings.timeoutMs;
  const timeLeft = () => deps.now() + settings.intervalMs < deadline;
  let answers: Observation[] = [];
  let tally = tallyInstances(answers, settings.expectedVersion);
  for (let sample = 1; ; sample++) {
    answers = [];
    for (let i = 0; i < settings.instanceRequests; i++) {
      answers.push(await deps.get(`${base}/health/ready`, 10_000, startedAt));
      tally = tallyInstances(answers, settings.expectedVersion);
      if (tally.problems.length === 0 && tally.instances.size >= settings.minInstances) break;
      // An answer from an old version ends this sample early when there is time for another; any other problem
      // finishes the sample, so that the report shows all of it.
      if (tally.unready > 0 && tally.unready === tally.problems.length && timeLeft()) break;
    }
    const problem = instancesProblem(tally, settings.minInstances, answers.length);
    const settling = tally.unready === tally.problems.length;
    if (!problem || !settling || !timeLeft()) break;
    const latest = tally.problems.at(-1) ?? problem;
    core.info(
      `instances: sample ${sample}: ${latest}; the rollout is still converging, sampling again in ${settings.intervalMs} ms`,
    );
    await sleep(settings.intervalMs);
  }
  core.setOutput('instances', String(tally.instances.size));
  const instanceList = [...tally.instances]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([id, versions]) => `${id} (${[...versions].join(', ')})`)
    .join(', ');
  const problem = instancesProblem(tally, settings.minInstances, answers.length);
  if (problem) {
    rows.push([`at least ${settings.minInstances} instances answer`, `❌ ${problem.split('\n')[0] ?? problem}`]);
    await finish(false);
    throw new Error(report(`instances`, settings, answers, problem));
  }
  rows.push([
    `at least ${settings.minInstances} instances answer`,
    `✅ ${tally.instances.size} in ${answers.length} requests: ${instanceList}`,
  ]);
  core.info(`Smoke test passed: version ${version}, instances ${instanceList}`);
  await finish(true);
}
