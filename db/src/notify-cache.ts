import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';

export interface CacheNotification {
  /**
   * `CACHE_BAN_URL`: the cache's ban endpoint (Varnish in the chart). A host name is resolved to every address it has
   * and each one is sent the BAN: in the chart it names the cache's headless Service, one address per cache pod, since
   * every Varnish replica holds its own copy of the objects.
   */
  url: string;
  /** `CACHE_BAN_TOKEN`, sent as `X-Ban-Token`. */
  token?: string;
  attempts?: number;
  retryDelayMs?: number;
  timeoutMs?: number;
  /** Every address of a host name; by default the system resolver (getaddrinfo, as DNS in a pod). */
  resolve?: (host: string) => Promise<string[]>;
}

export interface NotificationResult {
  ok: boolean;
  message: string;
}

async function resolveAll(host: string): Promise<string[]> {
  return (await lookup(host, { all: true, verbatim: true })).map((entry) => entry.address);
}

/** The URL of one cache address, and how messages name it: the URL itself, or the URL with the address it reached. */
function targetOf(base: URL, address: string | undefined): { url: string; label: string } {
  if (address === undefined) return { url: base.href, label: base.href };
  const url = new URL(base.href);
  url.hostname = isIP(address) === 6 ? `[${address}]` : address;
  return { url: url.href, label: `${base.href} (${address})` };
}

/**
 * Sends `BAN <url>` with `X-Dataset-Version` to every address of the URL's host, so each cache drops every object
 * cached for another dataset. Retries a few times what has not answered yet (a cache may be restarting, its name may
 * not resolve until a pod is ready) and reports, never throws: the load already happened.
 */
export async function notifyCache(target: CacheNotification, version: string): Promise<NotificationResult> {
  const attempts = target.attempts ?? 3;
  const headers: Record<string, string> = { 'X-Dataset-Version': version };
  if (target.token) headers['X-Ban-Token'] = target.token;
  const base = new URL(target.url);
  // URL keeps an IPv6 literal's brackets; isIP does not take them.
  const literal = isIP(base.hostname.replace(/^\[(.*)\]$/, '$1')) !== 0;
  const resolve = target.resolve ?? resolveAll;
  /** What each address answered last, by label. */
  const outcome = new Map<string, Answer>();
  /** The addresses of the last resolution, by label: those that must all accept. */
  let current: string[] = [];
  let unresolved = '';
  for (let attempt = 1; attempt <= attempts; attempt++) {
    let addresses: (string | undefined)[] = [undefined];
    unresolved = '';
    if (!literal) {
      try {
        addresses = [...new Set(await resolve(base.hostname))];
        if (!addresses.length) unresolved = `cannot resolve ${base.hostname}: no addresses`;
      } catch (error) {
        unresolved = `cannot resolve ${base.hostname}: ${(error as Error).message}`;
      }
    }
    if (!unresolved) {
      // Every address of this resolution must accept; one banned in an earlier attempt is not banned again.
      const pending = addresses
        .map((address) => targetOf(base, address))
        .filter(({ label }) => !outcome.get(label)?.ok);
      await Promise.all(
        pending.map(async ({ url, label }) => outcome.set(label, await sendBan(url, headers, target.timeoutMs))),
      );
      current = addresses.map((address) => targetOf(base, address).label);
      if (current.every((label) => outcome.get(label)?.ok)) {
        return {
          ok: true,
          message: `cache notified: ${current.map((label) => `BAN ${label} ${outcome.get(label)!.text}`).join('; ')}`,
        };
      }
    }
    if (attempt < attempts) await new Promise((resolve) => setTimeout(resolve, target.retryDelayMs ?? 1_000));
  }
  const failures = unresolved
    ? [`BAN ${base.href} ${unresolved}`]
    : current
        .filter((label) => !outcome.get(label)?.ok)
        .map((label) => `BAN ${label} ${outcome.get(label)?.text ?? 'not sent'}`);
  return {
    ok: false,
    message:
      `cache not notified: ${failures.join('; ')} after ${attempts} attempt(s); the new dataset is active, ` +
      `but cached responses of the previous one may be served until they expire: check CACHE_BAN_URL and CACHE_BAN_TOKEN`,
  };
}

interface Answer {
  ok: boolean;
  text: string;
}

/** One BAN and what came of it. */
async function sendBan(url: string, headers: Record<string, string>, timeoutMs = 5_000): Promise<Answer> {
  try {
    const response = await fetch(url, { method: 'BAN', headers, signal: AbortSignal.timeout(timeoutMs) });
    await response.arrayBuffer().catch(() => undefined);
    if (response.ok) return { ok: true, text: `answered ${response.status}` };
    return { ok: false, text: `answered ${response.status} ${response.statusText}`.trim() };
  } catch (error) {
    const cause = (error as { cause?: { message?: string } }).cause?.message;
    return { ok: false, text: `failed: ${(error as Error).message}${cause ? ` (${cause})` : ''}` };
  }
}
