import { randomBytes } from 'node:crypto';
import Router from '@koa/router';
import Koa from 'koa';
import pino, { type Logger } from 'pino';
import { latestMigrationVersion } from '../../db/src/migrate.ts';
import type { Config } from './config.ts';
import type { Db } from './db.ts';
import { createLifecycle, type Lifecycle } from './lifecycle.ts';
import { createMetrics } from './metrics.ts';
import { cors } from './middleware/cors.ts';
import { problems } from './middleware/problems.ts';
import { requestContext } from './middleware/request-context.ts';
import { aggregatesRoutes } from './routes/aggregates.ts';
import type { RouteDeps } from './routes/deps.ts';
import { docsRoutes } from './routes/docs.ts';
import { operationsRoutes } from './routes/operations.ts';
import { readingsRoutes } from './routes/readings.ts';
import { stationsRoutes } from './routes/stations.ts';

export interface AppDeps {
  db: Db;
  config: Config;
  /** Milliseconds, for request durations; injectable so tests can pin time. */
  clock?: () => number;
  log?: Logger;
  lifecycle?: Lifecycle;
  /** Random per process unless given: tells which replica answered. */
  instanceId?: string;
}

/** Every route module, in the order their routes are matched. */
export const ROUTE_MODULES = [readingsRoutes, stationsRoutes, aggregatesRoutes, operationsRoutes, docsRoutes];

/** A random id generated once per process. */
export const PROCESS_INSTANCE_ID = randomBytes(6).toString('hex');

/** Builds the Koa app; it never listens (server.ts does) so tests mount it on their own sockets. */
export function createApp(deps: AppDeps): Koa {
  const log = deps.log ?? pino({ level: 'silent' });
  const lifecycle = deps.lifecycle ?? createLifecycle();
  const instanceId = deps.instanceId ?? PROCESS_INSTANCE_ID;
  const metrics = createMetrics(deps.db);
  let required: Promise<number> | undefined;
  const routeDeps: RouteDeps = {
    db: deps.db,
    config: deps.config,
    log,
    lifecycle,
    metrics,
    instanceId,
    requiredSchemaVersion: () => (required ??= latestMigrationVersion()),
  };

  const app = new Koa();
  app.proxy = true;
  // Errors are rendered by the problems middleware; Koa's own handler would only log client disconnects twice.
  app.silent = true;
  app.use(requestContext({ instanceId, log, metrics, lifecycle, clock: deps.clock ?? (() => performance.now()) }));
  app.use(problems(log));
  app.use(cors(deps.config));
  const router = new Router();
  for (const routes of ROUTE_MODULES) routes(router, routeDeps);
  app.use(router.routes());
  app.use(router.allowedMethods());
  return app;
}
