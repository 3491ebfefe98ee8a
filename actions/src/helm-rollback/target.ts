import type { HistoryEntry } from '../lib/helm.ts';

/** Revisions in these states were, at some point, successfully deployed: safe to return to. */
const GOOD = new Set(['deployed', 'superseded']);

export type RollbackChoice =
  | { ok: true; current: HistoryEntry; target: HistoryEntry }
  | { ok: false; reason: string };

export interface RollbackRequest {
  release: string;
  namespace: string;
  /** The revision asked for; the last good one before the current when absent. */
  revision?: number;
}

/**
 * Which revision to roll back to, from `helm history` (undefined: no such release). The current revision is the
 * newest one, whatever its status — that is what `helm status` reports and what a rollback replaces.
 */
export function chooseRollbackTarget(history: HistoryEntry[] | undefined, request: RollbackRequest): RollbackChoice {
  const { release, namespace } = request;
  const seeHistory = `see \`helm history ${release} -n ${namespace}\``;
  if (!history || history.length === 0) {
    return {
      ok: false,
      reason: `release "${release}" not found in namespace "${namespace}": nothing to roll back; check the release and namespace inputs (\`helm list -n ${namespace}\`)`,
    };
  }
  const sorted = [...history].sort((a, b) => a.revision - b.revision);
  const current = sorted[sorted.length - 1] as HistoryEntry;

  if (request.revision === undefined) {
    const target = sorted.filter((entry) => entry.revision < current.revision && GOOD.has(entry.status)).pop();
    if (!target) {
      return {
        ok: false,
        reason:
          `release "${release}" has nothing to roll back to: no revision before the current ${current.revision} ` +
          `(${current.status}) was successfully deployed; ${seeHistory}`,
      };
    }
    return { ok: true, current, target };
  }

  const target = sorted.find((entry) => entry.revision === request.revision);
  if (!target) {
    const kept = sorted.map((entry) => entry.revision);
    return {
      ok: false,
      reason:
        `revision ${request.revision} of release "${release}" does not exist (helm keeps revisions ` +
        `${kept[0]}..${kept[kept.length - 1]}); pick one of them, ${seeHistory}`,
    };
  }
  if (target.revision === current.revision) {
    return {
      ok: false,
      reason: `revision ${target.revision} is the current revision of release "${release}": nothing to roll back; pick an earlier one, ${seeHistory}`,
    };
  }
  if (!GOOD.has(target.status)) {
    const why = target.status.startsWith('pending-')
      ? `never finished (${target.status})`
      : `was never successfully deployed (${target.status}: ${target.description})`;
    return {
      ok: false,
      reason: `revision ${target.revision} of release "${release}" ${why}; roll back to a deployed or superseded revision instead, ${seeHistory}`,
    };
  }
  return { ok: true, current, target };
}
