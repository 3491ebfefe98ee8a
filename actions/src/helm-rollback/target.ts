import type { HistoryEntry } from '../lib/helm.ts';

/** Revisions in these states were, at some point, successfully deployed: safe to return to. */
const GOOD = new Set(['deployed', 'superseded']);

export type RollbackChoice = { ok: true; current: HistoryEntry; target: HistoryEntry } | { ok: false; reason: string };

export interface RollbackRequest {
  release: string;
  namespace: string;
  /** The revision asked for; the last good one before the current when absent. */
  revision?: number;
}

/**
 * The revision whose release a revision reproduces: helm records a rollback to N as a new revision described
 * "Rollback to N", which runs N's chart and values again. Followed through chains of rollbacks.
 */
export function originOf(entry: HistoryEntry, byRevision: Map<number, HistoryEntry>): number {
  let current = entry;
  for (let hops = 0; hops < byRevision.size; hops++) {
    const match = /^Rollback to (\d+)$/.exec(current.description.trim());
    const previous = match ? byRevision.get(Number(match[1])) : undefined;
    if (!previous || previous.revision >= current.revision) return match ? Number(match[1]) : current.revision;
    current = previous;
  }
  return current.revision;
}

/**
 * Which revision to roll back to, from `helm history` (undefined: no such release). The current revision is the
 * newest one, whatever its status — that is what `helm status` reports and what a rollback replaces. Without a
 * requested revision: the newest earlier one that was successfully deployed and does not run what runs now.
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

  const byRevision = new Map(sorted.map((entry) => [entry.revision, entry]));
  const runningNow = originOf(current, byRevision);

  if (request.revision === undefined) {
    // Skip revisions that run what the current one runs (after an automatic rollback the current revision is a
    // copy of the previous good one): rolling back to them would change nothing.
    const target = sorted
      .filter(
        (entry) =>
          entry.revision < current.revision && GOOD.has(entry.status) && originOf(entry, byRevision) !== runningNow,
      )
      .pop();
    if (!target) {
      return {
        ok: false,
        reason:
          `release "${release}" has nothing to roll back to: no revision before the current ${current.revision} ` +
          `(${current.status}) was successfully deployed with a different release; ${seeHistory}`,
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
      : `was never successfully deployed (${target.status}: ${target.description.replace(/\s+/g, ' ')})`;
    return {
      ok: false,
      reason: `revision ${target.revision} of release "${release}" ${why}; roll back to a deployed or superseded revision instead, ${seeHistory}`,
    };
  }
  if (originOf(target, byRevision) === runningNow) {
    return {
      ok: false,
      reason:
        `revision ${target.revision} of release "${release}" runs what the current revision ${current.revision} already runs ` +
        `(${current.description}): rolling back to it would change nothing; pick another one, ${seeHistory}`,
    };
  }
  return { ok: true, current, target };
}
