import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import getPort from 'get-port';
import { one, type KubeObject } from './chart.ts';

/** Why varnishd cannot run here, or undefined when it can. */
export function varnishdMissing(): string | undefined {
  const probe = spawnSync('varnishd', ['-V'], { encoding: 'utf8' });
  if (probe.error) return 'varnishd is not on PATH (apt-get install varnish; .ci/run installs it)';
  return probe.status === 0 ? undefined : `varnishd -V exited ${probe.status}: ${probe.stderr}`;
}

/**
 * The VCL exactly as the chart renders it into the cache ConfigMap, with only what differs on a laptop changed: the
 * backend address (the API on loopback instead of the API Service) and the path of the BAN-token include.
 */
export function vclForLoopback(objects: KubeObject[], backendPort: number, dir: string): string {
  const data = one(objects, 'ConfigMap', 'airq-cache').data;
  const tokenVcl = Buffer.from(
    one(objects, 'Secret', 'airq-cache').data['ban-token.vcl'] as string,
    'base64',
  ).toString();
  const tokenFile = path.join(dir, 'ban-token.vcl');
  writeFileSync(tokenFile, tokenVcl);
  const replace = (text: string, pattern: RegExp, replacement: string | (() => string)) => {
    if (!pattern.test(text)) throw new Error(`the rendered VCL no longer matches ${pattern}: update vclForLoopback()`);
    return text.replace(pattern, replacement as string & (() => string));
  };
  const deployment = replace(
    data['deployment.vcl'] as string,
    /(backend api \{\s*\.host = )"[^"]+";(\s*\.port = )"\d+";/,
    `$1"127.0.0.1";$2"${backendPort}";`,
  );
  // Inlined where default.vcl includes it, so the returned VCL is whole.
  let local = replace(
    data['default.vcl'] as string,
    /include "\/etc\/varnish\/vcl\/deployment\.vcl";/,
    () => deployment,
  );
  local = replace(local, /include "\/etc\/airq\/cache-secret\/ban-token\.vcl";/, `include "${tokenFile}";`);
  return local;
}

export interface Varnish {
  port: number;
  stop(): Promise<void>;
}

/**
 * Starts a real varnishd in the foreground with this VCL, and waits until it answers: on 127.0.0.1 and a free port
 * unless told where (two caches on one port at two loopback addresses stand for two pods behind one Service name).
 */
export async function startVarnish(
  vcl: string,
  dir: string,
  params: string[] = [],
  listen: { host?: string; port?: number } = {},
): Promise<Varnish> {
  const vclFile = path.join(dir, 'default.vcl');
  writeFileSync(vclFile, vcl);
  const workdir = mkdtempSync(path.join(tmpdir(), 'airq-varnish-'));
  const host = listen.host ?? '127.0.0.1';
  const port = listen.port ?? (await getPort());
  // As root varnishd wants its "varnish" users for the jail; `-j none` runs everything as the current user instead.
  const jail = process.getuid?.() === 0 ? ['-j', 'none'] : [];
  const args = ['-F', '-n', workdir, '-a', `${host}:${port}`, '-f', vclFile, '-s', 'malloc,64m', ...jail, ...params];
  const child: ChildProcess = spawn('varnishd', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`varnishd ${args.join(' ')} exited ${child.exitCode}:\n${output}`);
    const ok = await new Promise<boolean>((resolve) => {
      const req = http.get({ host, port, path: '/varnish/health', agent: false }, (res) => {
        res.resume();
        resolve(res.statusCode === 200);
      });
      req.once('error', () => resolve(false));
    });
    if (ok) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`varnishd did not answer on ${host}:${port} within 30 s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    port,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(workdir, { recursive: true, force: true });
    },
  };
}

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/**
 * One HTTP request on a fresh connection (so a test controls the source address). Accept is application/json unless
 * given; a header given as undefined is not sent at all.
 */
export function request(
  port: number,
  options: {
    method?: string;
    path: string;
    headers?: Record<string, string | string[] | undefined>;
    localAddress?: string;
    host?: string;
  },
): Promise<Reply> {
  const given: Record<string, string | string[] | undefined> = { accept: 'application/json', ...options.headers };
  const headers = Object.fromEntries(
    Object.entries(given).filter((entry): entry is [string, string | string[]] => entry[1] !== undefined),
  );
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: options.host ?? '127.0.0.1',
        port,
        method: options.method ?? 'GET',
        path: options.path,
        headers,
        localAddress: options.localAddress,
        agent: false,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.once('error', reject);
    req.end();
  });
}

/** Compiles a VCL with `varnishd -C` (no server started); throws with the compiler's message when it fails. */
export function compileVcl(vcl: string, dir: string): void {
  const vclFile = path.join(dir, 'compile.vcl');
  writeFileSync(vclFile, vcl);
  const workdir = mkdtempSync(path.join(tmpdir(), 'airq-varnish-cc-'));
  try {
    const jail = process.getuid?.() === 0 ? ['-j', 'none'] : [];
    const result = spawnSync('varnishd', ['-C', '-n', workdir, ...jail, '-f', vclFile], {
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    });
    if (result.status !== 0)
      throw new Error(
        `varnishd -C failed (exit ${result.status}):\n${result.stderr.split('\n').slice(-12).join('\n')}`,
      );
  } finally {
    rmSync(workdir, { recursive: true, force: true });
  }
}
