import client from 'prom-client';
import type { Db } from './db.ts';

export interface Metrics {
  registry: client.Registry;
  requestDuration: client.Histogram<'method' | 'route' | 'status'>;
}

/** A registry per app (tests build several apps in one process): request histogram, pool gauges, process defaults. */
export function createMetrics(db: Db): Metrics {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry });
  const requestDuration = new client.Histogram({
    name: 'http_request_duration_seconds',
    help: 'Time to answer an HTTP request, by method, route template and status.',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const gauge = (name: string, help: string, read: () => number) =>
    new client.Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(read());
      },
    });
  gauge('db_pool_connections_total', 'Connections the pool holds, busy or idle.', () => db.totalCount);
  gauge('db_pool_connections_idle', 'Idle connections in the pool.', () => db.idleCount);
  gauge('db_pool_requests_waiting', 'Queries waiting for a connection.', () => db.waitingCount);
  return { registry, requestDuration };
}
