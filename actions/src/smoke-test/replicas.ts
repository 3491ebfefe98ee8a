import type { Environment } from '../lib/environments.ts';

/**
 * How many distinct API instances an environment runs when it is healthy, from its Helm values: the fixed
 * `api.replicas`, or the HPA's `api.autoscaling.minReplicas` (it may run more, never fewer). 1 when the values say
 * nothing, since the smoke test cannot know the chart's default.
 */
export function expectedInstances(environment: Environment): { count: number; why: string } {
  const api = (environment.values.api ?? {}) as {
    replicas?: unknown;
    autoscaling?: { enabled?: unknown; minReplicas?: unknown };
  };
  if (api.autoscaling?.enabled === true) {
    const min = typeof api.autoscaling.minReplicas === 'number' ? api.autoscaling.minReplicas : 1;
    return { count: min, why: `${environment.file}: api.autoscaling.minReplicas ${min}` };
  }
  if (typeof api.replicas === 'number')
    return { count: api.replicas, why: `${environment.file}: api.replicas ${api.replicas}` };
  return { count: 1, why: `${environment.file} sets no api.replicas` };
}
