/** One HTTP exchange as the smoke test saw it. */
export interface Observation {
  url: string;
  /** Milliseconds since the smoke test started. */
  at: number;
  /** HTTP status, or undefined when no response came (connection refused, timeout, DNS). */
  status?: number;
  instance?: string;
  body?: string;
  error?: string;
}

/** Parses a JSON body, or undefined. */
function json(body: string | undefined): Record<string, unknown> | undefined {
  if (!body) return undefined;
  try {
    const value = JSON.parse(body) as unknown;
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function clip(text: string, max = 160): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}

/** A one-line account of an observation for the failure report. */
export function describeObservation(observation: Observation): string {
  const at = `${(observation.at / 1000).toFixed(1)}s`;
  if (observation.status === undefined)
    return `${at} ${observation.url}: no response (${observation.error ?? 'unknown error'})`;
  const instance = observation.instance ? ` from instance ${observation.instance}` : '';
  return `${at} ${observation.url}: HTTP ${observation.status}${instance}: ${clip(observation.body ?? '')}`;
}

/** Why `/health/ready` is not yet what we wait for; undefined when it is ready with the expected version. */
export function readinessProblem(observation: Observation, expectedVersion: string): string | undefined {
  if (observation.status === undefined) return `no response: ${observation.error ?? 'unknown error'}`;
  if (observation.status !== 200) return `HTTP ${observation.status}`;
  const body = json(observation.body);
  if (!body) return 'the body is not a JSON object';
  if (body.status !== 'ready') return `status is ${JSON.stringify(body.status)}, not "ready"`;
  if (expectedVersion && body.version !== expectedVersion) {
    return `version is ${JSON.stringify(body.version)}, expected "${expectedVersion}"`;
  }
  return undefined;
}

/** The version a ready answer reports. */
export function reportedVersion(observation: Observation): string {
  const version = json(observation.body)?.version;
  return typeof version === 'string' ? version : '';
}

/** Why `/air_quality` did not return data; undefined when it returned a non-empty `data` array. */
export function dataProblem(observation: Observation): string | undefined {
  if (observation.status === undefined) return `no response: ${observation.error ?? 'unknown error'}`;
  if (observation.status !== 200) return `HTTP ${observation.status}`;
  const body = json(observation.body);
  if (!body || !Array.isArray(body.data)) return 'the body has no "data" array';
  if (body.data.length === 0) return 'the "data" array is empty (is a dataset seeded and active?)';
  return undefined;
}

export interface InstanceTally {
  /** Instance id → versions it reported. */
  instances: Map<string, Set<string>>;
  /** Answers without an X-Instance-Id header, or that were not ready. */
  problems: string[];
  /**
   * How many of `problems` were answers not (yet) ready with the expected version: what a rollout that is still
   * converging produces (an old pod draining, a new one starting), unlike a missing X-Instance-Id.
   */
  unready: number;
}

/** Tallies the distinct instances among readiness answers. */
export function tallyInstances(observations: Observation[], expectedVersion: string): InstanceTally {
  const instances = new Map<string, Set<string>>();
  const problems: string[] = [];
  let unready = 0;
  for (const observation of observations) {
    const problem = readinessProblem(observation, expectedVersion);
    if (problem) {
      problems.push(`${describeObservation(observation)} (${problem})`);
      unready++;
      continue;
    }
    if (!observation.instance) {
      problems.push(`${describeObservation(observation)} (no X-Instance-Id header)`);
      continue;
    }
    const versions = instances.get(observation.instance) ?? new Set<string>();
    versions.add(reportedVersion(observation));
    instances.set(observation.instance, versions);
  }
  return { instances, problems, unready };
}

/** Why the instance tally falls short; undefined when at least `min` distinct instances answered ready and nothing else. */
export function instancesProblem(tally: InstanceTally, min: number, requests: number): string | undefined {
  if (tally.problems.length > 0) {
    return `${tally.problems.length} of ${requests} readiness answers were not right:\n  ${tally.problems.slice(0, 10).join('\n  ')}`;
  }
  if (tally.instances.size < min) {
    return `only ${tally.instances.size} distinct X-Instance-Id (${[...tally.instances.keys()].sort().join(', ') || 'none'}) answered ${requests} requests; expected at least ${min}`;
  }
  return undefined;
}
