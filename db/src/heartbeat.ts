import { setTimeout as sleep } from 'node:timers/promises';
import type pg from 'pg';
import { databaseClient } from './connect.ts';

export interface Heartbeat {
  stop(): Promise<void>;
}

/**
 * Watches a database on a connection of its own. A frozen server (SIGSTOP, a network partition) never fails a query,
 * it only stops answering, and a long COPY or index build cannot carry its own timeout; so `silent` is called once
 * when no `SELECT 1` has been answered for `timeoutMs`.
 */
export function watchDatabase(databaseUrl: string, timeoutMs: number, silent: (error: Error) => void): Heartbeat {
  let stopped = false;
  let client: pg.Client | undefined;
  let lastAnswer = Date.now();
  const wake = new AbortController();
  const check = setInterval(
    () => {
      if (stopped || Date.now() - lastAnswer < timeoutMs) return;
      stopped = true;
      clearInterval(check);
      if (client) destroyConnection(client);
      silent(
        new Error(
          `the database did not answer for ${timeoutMs / 1000} s (frozen or unreachable); retry once it answers`,
        ),
      );
    },
    Math.max(50, Math.floor(timeoutMs / 10)),
  );
  const beat = async () => {
    while (!stopped) {
      try {
        if (!client) {
          client = databaseClient(databaseUrl, 'airq-seed-heartbeat');
          await client.connect();
        }
        await client.query('SELECT 1');
        lastAnswer = Date.now();
      } catch {
        // A refused or dropped connection fails the load itself; only silence is this watcher's business.
        if (client) destroyConnection(client);
        client = undefined;
      }
      await sleep(Math.max(50, Math.floor(timeoutMs / 4)), undefined, { signal: wake.signal }).catch(() => {});
    }
    if (client && Date.now() - lastAnswer < timeoutMs) await client.end().catch(() => {});
  };
  const running = beat();
  return {
    async stop() {
      stopped = true;
      clearInterval(check);
      wake.abort();
      await running;
    },
  };
}

/** Cuts a client's connection at once, failing whatever it is doing (end() would wait for a frozen server). */
export function destroyConnection(client: pg.Client): void {
  (client as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy();
}
