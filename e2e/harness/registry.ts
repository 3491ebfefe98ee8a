import { mkdirSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import path from 'node:path';
import getPort from 'get-port';
import { Supervisor } from './processes.ts';

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
  const processes = new Supervisor<'registry'>({
    dir,
    binDir: path.dirname(binary),
    deadline: Date.now() + 30_000,
    label: `the registry on ${host}`,
  });
  processes.launch('registry', ['serve', config], binary);
  try {
    await processes.waitFor(`http://${host}/v2/ to answer 200`, async () => (await ping(`http://${host}/v2/`)) === 200);
  } catch (error) {
    await processes.stop();
    throw error;
  }
  return {
    host,
    logTail: (lines = 20) => processes.logTails(lines),
    stop: () => processes.stop(),
  };
}
