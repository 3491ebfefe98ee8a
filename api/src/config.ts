import { randomBytes } from 'node:crypto';
import { z } from 'zod';

const port = z.coerce.number().int().min(1).max(65_535);
const positiveInt = z.coerce.number().int().min(1);
const nonNegativeInt = z.coerce.number().int().min(0);

/** Every variable the API reads, with its default; parsed once at start-up. */
const schema = z.object({
  PORT: port.default(8080),
  DATABASE_URL: z
    .string()
    .refine((value) => /^postgres(ql)?:\/\//.test(value), 'must be a postgres:// or postgresql:// URL')
    .optional(),
  APP_VERSION: z.string().min(1).max(200).default('dev'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  DB_POOL_MAX: positiveInt.max(1000).default(10),
  DB_STATEMENT_TIMEOUT_MS: positiveInt.default(10_000),
  DB_CONNECT_TIMEOUT_MS: positiveInt.default(5_000),
  DB_QUERY_TIMEOUT_MS: positiveInt.default(12_000),
  CACHE_MAX_AGE_SECONDS: nonNegativeInt.default(60),
  CACHE_STALE_WHILE_REVALIDATE_SECONDS: nonNegativeInt.default(300),
  SHUTDOWN_DRAIN_MS: nonNegativeInt.max(600_000).default(5_000),
  SHUTDOWN_FINISH_MS: nonNegativeInt.max(3_600_000).default(10_000),
  CORS_ORIGINS: z
    .string()
    .transform((value, ctx): '*' | string[] => {
      if (value.trim() === '*') return '*';
      const origins = value.split(',').map((origin) => origin.trim());
      for (const origin of origins) {
        if (!(
          URL.canParse(origin) &&
          /^https?:$/.test(new URL(origin).protocol) &&
          new URL(origin).origin === origin
        )) {
          ctx.issues.push({
            code: 'custom',
            input: value,
            message: `${JSON.stringify(origin)} is not an origin; give * or a comma-separated list like https://a.example,https://b.example:8443`,
          });
        }
      }
      return origins;
    })
    .default('*'),
  CURSOR_KEY: z
    .string()
    .min(32, 'must be at least 32 characters (e.g. `openssl rand -base64 32`)')
    .max(1024)
    .optional(),
});

export interface Config {
  port: number;
  databaseUrl: string | undefined;
  appVersion: string;
  logLevel: z.infer<typeof schema>['LOG_LEVEL'];
  dbPoolMax: number;
  dbStatementTimeoutMs: number;
  /** Client-side bound on opening a connection (or waiting for a free one in the pool). */
  dbConnectTimeoutMs: number;
  /** Client-side bound on a query's answer: a frozen server never hits its own statement_timeout. */
  dbQueryTimeoutMs: number;
  cacheMaxAgeSeconds: number;
  cacheStaleWhileRevalidateSeconds: number;
  shutdownDrainMs: number;
  /** After the listener closes, how long in-flight requests may run before they are cut. */
  shutdownFinishMs: number;
  /** Origins whose pages may call the public routes (CORS), or `*` for any. */
  corsOrigins: '*' | string[];
  /** HMAC key sealing page cursors; the same on every replica. */
  cursorKey: string;
  /** True when CURSOR_KEY was unset and the key is random to this process (cursors die with it). */
  cursorKeyGenerated: boolean;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Parses the environment; throws a ConfigError naming every bad variable and what it accepts. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // An empty variable (e.g. `PORT=` in a manifest) means "use the default", not "zero".
  const present = Object.fromEntries(
    Object.keys(schema.shape).flatMap((key) => (env[key] === undefined || env[key] === '' ? [] : [[key, env[key]]])),
  );
  const parsed = schema.safeParse(present);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => {
      const name = String(issue.path[0]);
      const shown = name === 'DATABASE_URL' || name === 'CURSOR_KEY' ? '(value hidden)' : JSON.stringify(present[name]);
      return `environment variable ${name}=${shown}: ${issue.message}`;
    });
    throw new ConfigError(`invalid configuration, fix and restart:\n  ${lines.join('\n  ')}`);
  }
  const v = parsed.data;
  return {
    port: v.PORT,
    databaseUrl: v.DATABASE_URL,
    appVersion: v.APP_VERSION,
    logLevel: v.LOG_LEVEL,
    dbPoolMax: v.DB_POOL_MAX,
    dbStatementTimeoutMs: v.DB_STATEMENT_TIMEOUT_MS,
    dbConnectTimeoutMs: v.DB_CONNECT_TIMEOUT_MS,
    dbQueryTimeoutMs: v.DB_QUERY_TIMEOUT_MS,
    cacheMaxAgeSeconds: v.CACHE_MAX_AGE_SECONDS,
    cacheStaleWhileRevalidateSeconds: v.CACHE_STALE_WHILE_REVALIDATE_SECONDS,
    shutdownDrainMs: v.SHUTDOWN_DRAIN_MS,
    shutdownFinishMs: v.SHUTDOWN_FINISH_MS,
    corsOrigins: v.CORS_ORIGINS,
    cursorKey: v.CURSOR_KEY ?? randomBytes(32).toString('base64url'),
    cursorKeyGenerated: v.CURSOR_KEY === undefined,
  };
}

/** The defaults, for tests and tools that build an app without an environment. */
export function defaultConfig(overrides: Partial<Config> = {}): Config {
  return { ...loadConfig({}), ...overrides };
}
