/**
 * GitHub's documented concurrency behaviour, for runs that arrive one after another while the first still runs:
 * in a group at most one job runs; a job arriving at a busy group waits as pending. With `queue: single` (the
 * default) a group holds one pending job, and a newer arrival cancels the pending one and takes its place; with
 * `queue: max` arrivals wait in order (first in, first out). `cancel-in-progress: true` cancels the running job (and
 * the pending one) instead. Jobs of different groups do not wait for each other.
 */
import type { Concurrency } from './simulate.ts';

export interface Arrival {
  label: string;
  /** The job's evaluated concurrency; undefined means no group: it runs at once. */
  concurrency: Concurrency | undefined;
}

export interface Outcome {
  /** Labels in the order they started running. */
  started: string[];
  /** Labels cancelled before or while running. */
  cancelled: string[];
  /** Pairs of labels that ran at the same time. */
  overlapping: Array<[string, string]>;
}

interface Group {
  running: string | undefined;
  pending: string[];
}

/** Plays `arrivals` in order, each arriving while everything before it is still running or pending, then drains. */
export function playConcurrency(arrivals: readonly Arrival[]): Outcome {
  const groups = new Map<string, Group>();
  const started: string[] = [];
  const cancelled: string[] = [];
  const runningNow: string[] = [];
  const overlapping: Array<[string, string]> = [];
  const start = (label: string) => {
    for (const other of runningNow) overlapping.push([other, label]);
    runningNow.push(label);
    started.push(label);
  };

  for (const { label, concurrency } of arrivals) {
    if (!concurrency) {
      start(label);
      continue;
    }
    const group = groups.get(concurrency.group) ?? { running: undefined, pending: [] };
    groups.set(concurrency.group, group);
    if (group.running === undefined) {
      group.running = label;
      start(label);
      continue;
    }
    if (concurrency.cancelInProgress) {
      cancelled.push(group.running, ...group.pending);
      runningNow.splice(runningNow.indexOf(group.running), 1);
      group.pending = [];
      group.running = label;
      start(label);
      continue;
    }
    if (concurrency.queue === 'single') {
      cancelled.push(...group.pending);
      group.pending = [label];
    } else {
      group.pending.push(label);
    }
  }

  // Drain: the running job of each group finishes, then its next pending one starts.
  for (const group of groups.values()) {
    while (group.running !== undefined) {
      runningNow.splice(runningNow.indexOf(group.running), 1);
      group.running = group.pending.shift();
      if (group.running !== undefined) start(group.running);
    }
  }
  return { started, cancelled, overlapping };
}
