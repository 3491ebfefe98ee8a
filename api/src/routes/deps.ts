import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import type { Db } from '../db.ts';
import type { Lifecycle } from '../lifecycle.ts';
import type { Metrics } from '../metrics.ts';
import { unavailable } from '../problem.ts';
import { activeDataset, type ActiveDataset } from '../sql/datasets.ts';

/** What every route module is given by createApp. */
export interface RouteDeps {
  db: Db;
  config: Config;
  log: Logger;
  lifecycle: Lifecycle;
  metrics: Metrics;
  instanceId: string;
  requiredSchemaVersion: () => Promise<number>;
}

/** The dataset to serve, or 503 before the first seed. */
export async function servedDataset(db: Db): Promise<ActiveDataset> {
  const dataset = await activeDataset(db);
  if (!dataset) throw unavailable('no dataset is loaded yet; run `node db/src/cli.ts seed` (npm run db:seed)');
  return dataset;
}
