import http from 'node:http';
import https from 'node:https';
import type { Observation } from './judge.ts';

const MAX_BODY = 1 << 20;

/**
 * One GET on a fresh connection (no keep-alive agent), so that successive requests through a Kubernetes Service
 * can land on different pods. Never rejects: failures become an observation with `error`.
 */
export function get(url: string, timeoutMs: number, startedAt: number): Promise<Observation> {
  const at = Date.now() - startedAt;
  return new Promise((resolve) => {
    const client = url.startsWith('https:') ? https : http;
    let settled = false;
    const done = (observation: Observation) => {
      if (!settled) resolve(observation);
      settled = true;
    };
    const request = client.get(
      url,
      { agent: false, headers: { accept: 'application/json', 'user-agent': 'airq-smoke-test' }, timeout: timeoutMs },
      (response) => {
        const chunks: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size <= MAX_BODY) chunks.push(chunk);
        });
        response.on('end', () => {
          const instance = response.headers['x-instance-id'];
          done({
            url,
            at,
            status: response.statusCode,
            instance: Array.isArray(instance) ? instance[0] : instance,
            body: Buffer.concat(chunks).toString('utf8'),
          });
        });
        response.on('error', (error) => done({ url, at, error: error.message }));
      },
    );
    request.on('timeout', () => request.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    request.on('error', (error: NodeJS.ErrnoException) =>
      done({ url, at, error: error.code ? `${error.code}: ${error.message}` : error.message }),
    );
  });
}
