export interface CacheNotification {
  /** `CACHE_BAN_URL`: the cache's ban endpoint (Varnish in the chart). */
  url: string;
  /** `CACHE_BAN_TOKEN`, sent as `X-Ban-Token`. */
  token?: string;
  attempts?: number;
  retryDelayMs?: number;
  timeoutMs?: number;
}

export interface NotificationResult {
  ok: boolean;
  message: string;
}

/**
 * Sends `BAN <url>` with `X-Dataset-Version`, so the cache drops every object cached for another dataset.
 * Retries a few times (the cache may be restarting) and reports, never throws: the load already happened.
 */
export async function notifyCache(target: CacheNotification, version: string): Promise<NotificationResult> {
  const attempts = target.attempts ?? 3;
  const headers: Record<string, string> = { 'X-Dataset-Version': version };
  if (target.token) headers['X-Ban-Token'] = target.token;
  let last = '';
  for (let attempt = 1; attempt <= attempts; attempt++) {
    try {
      const response = await fetch(target.url, {
        method: 'BAN',
        headers,
        signal: AbortSignal.timeout(target.timeoutMs ?? 5_000),
      });
      await response.arrayBuffer().catch(() => undefined);
      if (response.ok) return { ok: true, message: `cache notified: BAN ${target.url} answered ${response.status}` };
      last = `answered ${response.status} ${response.statusText}`.trim();
    } catch (error) {
      const cause = (error as { cause?: { message?: string } }).cause?.message;
      last = `failed: ${(error as Error).message}${cause ? ` (${cause})` : ''}`;
    }
    if (attempt < attempts) await new Promise((resolve) => setTimeout(resolve, target.retryDelayMs ?? 1_000));
  }
  return {
    ok: false,
    message:
      `cache not notified: BAN ${target.url} ${last} after ${attempts} attempt(s); the new dataset is active, ` +
      `but cached responses of the previous one may be served until they expire: check CACHE_BAN_URL and CACHE_BAN_TOKEN`,
  };
}
