import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync, closeSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import path from 'node:path';
import getPort from 'get-port';

/**
 * A container registry (CNCF distribution) on 127.0.0.1, plain HTTP, storage in `dir`: where the workflows' image job
 * pushes when it runs under act, and where the real node's containerd pulls the deployed digest from. Docker, buildx
 * and containerd all reach a loopback registry over HTTP without further configuration on the client side (docker
 * and buildx treat 127.0.0.0/8 as insecure by default; containerd is given a hosts entry, see node.ts).
 */
export interface Registry {
  /** host:port, the prefix of every image name in it. */
  host: string;
  stop(): Promise<void>;
  logTail(lines?: number): string;
}

function ping(url: string): Promise<number> {
  return new Promise((resolve) => {
    const req = request(url, { timeout: 2_000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(0));
    req.end();
  });
}

export async function startRegistry(binary: string, dir: string): Promise<Registry> {
  mkdirSync(path.join(dir, 'storage'), { recursive: true });
  const port = await getPort();
  const host = `127.0.0.1:${port}`;
  const config = path.join(dir, 'config.yml');
  writeFileSync(
    config,
    [
      'version: 0.1',
      'log: {level: warn}',
      `storage: {filesystem: {rootdirectory: ${JSON.stringify(path.join(dir, 'storage'))}}, delete: {enabled: true}}`,
      `http: {addr: ${JSON.stringify(host)}}`,
      '',
    ].join('\n'),
  );
  const logFile = path.join(dir, 'registry.log');
  const log = openSync(logFile, 'a');
  const child: ChildProcess = spawn(binary, ['serve', config], { stdio: ['ignore', log, log], detached: true });
  closeSync(log);
  let exited: number | null | undefined;
  child.on('exit', (code) => (exited = code));
  const logTail = (lines = 20) => readFileSync(logFile, 'utf8').split('\n').slice(-lines).join('\n');
  const deadline = Date.now() + 30_000;
  while ((await ping(`http://${host}/v2/`)) !== 200) {
    if (exited !== undefined || Date.now() > deadline) {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
      throw new Error(`the registry (${binary}) did not answer on http://${host}/v2/ (exit ${exited}):\n${logTail()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    host,
    logTail,
    async stop() {
      if (exited !== undefined) return;
      const gone = new Promise((resolve) => child.once('exit', resolve));
      try {
        process.kill(-child.pid!, 'SIGTERM');
      } catch {
        return;
      }
      await Promise.race([gone, new Promise((resolve) => setTimeout(resolve, 5_000))]);
      if (exited === undefined) process.kill(-child.pid!, 'SIGKILL');
    },
  };
}
