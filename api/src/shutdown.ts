import type { Server } from 'node:http';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { Lifecycle } from './lifecycle.ts';

/** What the server did with the connections it accepted; logged when shutdown completes. */
export interface ConnectionStats {
  accepted: number;
  /** Accepted connections that closed before sending any request (a client that connected and gave up, or a cut). */
  withoutRequest: number;
  requests: number;
  /** Requests whose response did not finish: the number a graceful shutdown must keep at zero. */
  unfinished: number;
}

/** Counts connections and requests, so a shutdown can report that it cut none. */
export function trackConnections(server: Server): ConnectionStats {
  const stats: ConnectionStats = { accepted: 0, withoutRequest: 0, requests: 0, unfinished: 0 };
  const served = new WeakSet<object>();
  server.on('connection', (socket) => {
    stats.accepted++;
    socket.once('close', () => {
      if (!served.has(socket)) stats.withoutRequest++;
    });
  });
  server.on('request', (req, res) => {
    served.add(req.socket);
    stats.requests++;
    res.once('close', () => {
      if (!res.writableFinished) stats.unfinished++;
    });
  });
  return stats;
}

export interface ShutdownOptions {
  server: Server;
  lifecycle: Lifecycle;
  log: Logger;
  drainMs: number;
  /** Longest wait for in-flight requests after the listener closes, before remaining sockets are destroyed. */
  finishMs?: number;
  stats?: ConnectionStats;
  /** Closes what the server used (the pool, an embedded database). */
  close: () => Promise<void>;
}

/**
 * Kubernetes-style graceful shutdown:
 * 1. readiness answers 503 at once, so the endpoints controller and the cache stop sending new traffic;
 * 2. for `drainMs` the process keeps serving (every response now says `Connection: close`, so keep-alive clients
 *    reconnect elsewhere instead of reusing a socket that is about to go);
 * 3. the listener closes: new connections are refused by the kernel, never accepted and cut;
 * 4. in-flight requests finish; sockets left idle are closed; after `finishMs` anything left is destroyed;
 * 5. the pool closes.
 *
 * Node's http `server.close()` would also destroy idle sockets at once, including ones accepted a moment ago whose
 * first request is still in the kernel buffer; closing only the listener and giving such sockets a beat avoids that.
 */
export async function gracefulShutdown(options: ShutdownOptions): Promise<void> {
  const { server, lifecycle, log } = options;
  const finishMs = options.finishMs ?? 10_000;
  lifecycle.shuttingDown = true;
  log.info({ drainMs: options.drainMs }, 'shutdown: readiness is now 503; draining');
  await sleep(options.drainMs);

  const closed = new Promise<void>((resolve) => net.Server.prototype.close.call(server, () => resolve()));
  log.info('shutdown: listener closed; finishing in-flight requests');
  await sleep(Math.min(1_000, finishMs));
  server.closeIdleConnections();
  const idleSweep = setInterval(() => server.closeIdleConnections(), 250);
  const forced = sleep(finishMs).then(() => 'timeout' as const);
  const outcome = await Promise.race([closed.then(() => 'done' as const), forced]);
  clearInterval(idleSweep);
  if (outcome === 'timeout') {
    log.warn({ finishMs }, 'shutdown: requests still running after the finish timeout; closing their sockets');
    server.closeAllConnections();
  }
  await options.close();
  log.info({ connections: options.stats }, 'shutdown: complete');
}
