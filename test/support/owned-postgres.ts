import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startEmbeddedPostgres, type EmbeddedServer } from '../../db/src/embedded-postgres.ts';
import { ensureDatabase } from '../../db/src/local-database.ts';
import { migrate } from '../../db/src/migrate.ts';

/**
 * A PostgreSQL server this test alone owns, so it may stop, freeze (SIGSTOP) and restart it: never the machine's shared
 * server, never the suite-wide embedded one other tests use.
 */
export interface OwnedPostgres {
  /** A migrated database `airq` on the owned server. */
  url: string;
  adminUrl: string;
  /** Fast shutdown: every connection is cut. */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** SIGSTOP to the postmaster and every backend: connections stay open, nothing answers (a hung host, a partition). */
  freeze(): void;
  thaw(): void;
  destroy(): Promise<void>;
}

function descendants(root: number): number[] {
  const parents = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // Field 4 of /proc/<pid>/stat is the parent; the command name (field 2) may hold spaces, so split after ')'.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parents.set(ppid, [...(parents.get(ppid) ?? []), Number(entry)]);
    } catch {
      // The process ended while we looked.
    }
  }
  const found: number[] = [];
  const queue = [root];
  while (queue.length) {
    const pid = queue.shift()!;
    found.push(pid);
    queue.push(...(parents.get(pid) ?? []));
  }
  return found;
}

export async function startOwnedPostgres(): Promise<OwnedPostgres> {
  const dataDir = path.join(os.tmpdir(), `airq-owned-pg-${process.pid}-${randomBytes(3).toString('hex')}`);
  const server: EmbeddedServer = await startEmbeddedPostgres({ dataDir, persistent: true });
  await ensureDatabase(server.adminUrl, 'airq');
  const url = server.urlFor('airq');
  await migrate(url);
  let frozen: number[] = [];
  const signal = (pids: number[], name: NodeJS.Signals) => {
    for (const pid of pids) {
      try {
        process.kill(pid, name);
      } catch {
        // Gone already.
      }
    }
  };
  const thaw = () => {
    signal(frozen, 'SIGCONT');
    frozen = [];
  };
  return {
    url,
    adminUrl: server.adminUrl,
    stop: () => server.stop(),
    start: () => server.start(),
    freeze() {
      if (server.pid === undefined) throw new Error('the owned PostgreSQL is not running; start() it before freeze()');
      frozen = descendants(server.pid);
      signal(frozen, 'SIGSTOP');
    },
    thaw,
    async destroy() {
      thaw();
      await server.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
