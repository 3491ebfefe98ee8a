import type { AddressInfo } from 'node:net';
import { createApp, type AppDeps } from '../../src/app.ts';
import { defaultConfig, type Config } from '../../src/config.ts';
import { createPool, type Db } from '../../src/db.ts';
import { createHttpServer } from '../../src/http-server.ts';
import { createLifecycle, type Lifecycle } from '../../src/lifecycle.ts';

export interface RunningApp {
  base: string;
  db: Db;
  lifecycle: Lifecycle;
  get(path: string, headers?: Record<string, string>): Promise<Response>;
  close(): Promise<void>;
}

/** The real app on a real loopback socket against `databaseUrl`; one per suite. */
export async function startApp(
  databaseUrl: string,
  overrides: Partial<Config> = {},
  deps: Partial<AppDeps> = {},
): Promise<RunningApp> {
  const config = defaultConfig(overrides);
  const db = createPool(config, databaseUrl);
  const lifecycle = createLifecycle();
  const app = createApp({ db, config, lifecycle, ...deps });
  const server = createHttpServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    base,
    db,
    lifecycle,
    get: (path, headers = {}) => fetch(base + path, { headers }),
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await db.end();
    },
  };
}
