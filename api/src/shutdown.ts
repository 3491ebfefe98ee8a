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
  /** Requests whose response has not yet finished or closed. */
  inFlight: number;
}

/** Counts connections and requests, so a shutdown can report that it cut none. */
export function trackConnections(server: Server): ConnectionStats {
  const stats: ConnectionStats = { accepted: 0, withoutRequest: 0, requests: 0, unfinished: 0, inFlight: 0 };
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
    stats.inFlight++;
    res.once('close', () => {
      stats.inFlight--;
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
  /**
   * Longest wait for in-flight requests after the listener closes, before remaining sockets are destroyed
   * (SHUTDOWN_FINISH_MS; the chart derives it from the pod's grace period).
   */
  finishMs: number;
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
export interface ShutdownOutcome {
  /** Requests still running when the finish window ended, whose sockets were destroyed. */
  cut: number;
}

export async function gracefulShutdown(options: ShutdownOptions): Promise<ShutdownOutcome> {
  const { server, lifecycle, log, finishMs } = options;
  lifecycle.shuttingDown = true;
  log.info({ drainMs: options.drainMs }, 'shutdown: readiness is now 503; draining');
  await sleep(options.drainMs);

  const closed = new Promise<void>((resolve) => net.Server.prototype.close.call(server, () => resolve()));
  log.info('shutdown: listener closed; finishing in-flight requests');
  // The beat for sockets accepted just before the close is part of the finish window, so the window is the whole bound.
  const forced = sleep(finishMs).then(() => 'timeout' as const);
  await sleep(Math.min(1_000, finishMs));
  server.closeIdleConnections();
  const idleSweep = setInterval(() => server.closeIdleConnections(), 250);
  const outcome = await Promise.race([closed.then(() => 'done' as const), forced]);
  clearInterval(idleSweep);
  let cut = 0;
  if (outcome === 'timeout') {
    cut = options.stats?.inFlight ?? 0;
    log.error({ finishMs, cut }, `shutdown: ${cut} request(s) still running after SHUTDOWN_FINISH_MS; cutting them`);
    server.closeAllConnections();
  }
  await options.close();
  log.info({ connections: options.stats, cut }, 'shutdown: complete');
  return { cut };
}
