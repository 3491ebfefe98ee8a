import type { Context } from 'koa';
import type { Logger } from 'pino';
import { cacheable } from '../caching.ts';
import type { Config } from '../config.ts';
import { checkCursorDataset, type OpenedCursor } from '../cursor.ts';
import type { Db } from '../db.ts';
import type { Lifecycle } from '../lifecycle.ts';
import type { Metrics } from '../metrics.ts';
import { Problem } from '../problem.ts';
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

/** The 503 of a data request before the first seed. */
export const noDatasetYet = () =>
  new Problem('no-dataset', 'no dataset is loaded yet; run `node db/src/cli.ts seed` (npm run db:seed)');

/** The dataset to serve, or 503 before the first seed. */
export async function servedDataset(db: Db): Promise<ActiveDataset> {
  const dataset = await activeDataset(db);
  if (!dataset) throw noDatasetYet();
  return dataset;
}

/**
 * Runs `read` against the dataset the request started with. A seed's switch drops the old dataset's partition in the
 * same transaction that activates the new one, so a read that begins just after the switch finds nothing: when that
 * happens and another dataset is now active, the read runs once more against it. (A read already under way holds its
 * lock on the partition, so the switch waits for it: results are never partial.)
 */
export async function readConsistently<T>(
  db: Db,
  dataset: ActiveDataset,
  read: (dataset: ActiveDataset) => Promise<T>,
  isEmpty: (result: T) => boolean,
): Promise<{ dataset: ActiveDataset; result: T }> {
  const result = await read(dataset);
  if (!isEmpty(result)) return { dataset, result };
  const now = await activeDataset(db);
  if (!now || now.id === dataset.id) return { dataset, result };
  return { dataset: now, result: await read(now) };
}

/**
 * When `readConsistently` moved to the dataset a seed just activated: the cursor must belong to that dataset, and the
 * answer's validators (ETag, X-Dataset-Version) name it rather than the one the request started with.
 */
export function afterDatasetSwitch(
  ctx: Context,
  config: Config,
  started: ActiveDataset,
  read: ActiveDataset,
  cursor: OpenedCursor | undefined,
  normalisedRequest: string,
): void {
  if (read === started) return;
  checkCursorDataset(cursor, read.version);
  cacheable(ctx, config, read.version, normalisedRequest);
}
