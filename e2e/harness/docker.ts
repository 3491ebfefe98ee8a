import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { controlPlaneTools } from './tools.ts';
import { REPO_ROOT } from '../../test/support/repo-root.ts';

const ENGINE_SCRIPT = path.join(REPO_ROOT, 'e2e', 'images', 'engine.sh');
const IMAGES_SCRIPT = path.join(REPO_ROOT, 'e2e', 'images', 'build.sh');

export interface DockerEngine {
  /** The engine's address, for DOCKER_HOST. */
  host: string;
  /** Stops the engine if this process started it (a DOCKER_HOST engine is left alone). */
  stop(): void;
}

/** Why a Docker engine cannot be had here, or undefined when one can. */
export function dockerMissing(): string | undefined {
  if (process.env.DOCKER_HOST) return undefined;
  for (const tool of ['docker', 'dockerd']) {
    if (spawnSync(tool, ['--version'], { stdio: 'ignore' }).status !== 0) {
      return `${tool} is not on PATH (apt-get install docker.io; .ci/run installs it), and DOCKER_HOST is not set`;
    }
  }
  if (process.getuid?.() !== 0)
    return 'the project runs its own dockerd only as root; set DOCKER_HOST to a running engine';
  return undefined;
}

/** The engine at DOCKER_HOST, or the project's own dockerd (e2e/images/engine.sh), started if needed. */
export function startDockerEngine(): DockerEngine {
  const run = spawnSync('bash', [ENGINE_SCRIPT, 'start'], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`e2e/images/engine.sh start failed (exit ${run.status}):\n${run.stderr}`);
  const host = /^DOCKER_HOST=(.+)$/m.exec(run.stdout)?.[1];
  if (!host) throw new Error(`e2e/images/engine.sh start printed no DOCKER_HOST:\n${run.stdout}`);
  const started = /^STARTED=1$/m.test(run.stdout);
  return {
    host,
    stop() {
      if (!started) return;
      spawnSync('bash', [ENGINE_SCRIPT, 'stop'], { env: { ...process.env, DOCKER_HOST: host }, stdio: 'inherit' });
    },
  };
}

export interface BuiltImage {
  name: 'api' | 'postgres' | 'varnish' | 'node';
  ref: string;
  archive: string;
  standIn: boolean;
  id: string;
}

/** Runs e2e/images/build.sh against the engine (it reuses what is cached) and returns images.json. */
export async function buildImages(engine: DockerEngine): Promise<BuiltImage[]> {
  const { code, stdout, stderr } = await runCommand('bash', [IMAGES_SCRIPT], { DOCKER_HOST: engine.host });
  if (code !== 0) throw new Error(`e2e/images/build.sh failed (exit ${code}):\n${stderr}`);
  const dir = /^AIRQ_IMAGES=(.+)$/m.exec(stdout)?.[1];
  if (!dir) throw new Error(`e2e/images/build.sh printed no AIRQ_IMAGES line:\n${stdout}`);
  return JSON.parse(readFileSync(path.join(dir, 'images.json'), 'utf8')) as BuiltImage[];
}

export function imageRef(images: BuiltImage[], name: BuiltImage['name']): string {
  const image = images.find((i) => i.name === name);
  if (!image) throw new Error(`e2e/images/build.sh built no ${name} image`);
  return image.ref;
}

/** Docker Compose v2 as e2e/tools/build.sh builds it, or the reason it cannot be had. */
export function composeBinary(): { path: string; missing?: undefined } | { path?: undefined; missing: string } {
  const fromEnv = process.env.AIRQ_TOOLS_BIN;
  if (fromEnv) {
    const binary = path.join(fromEnv, 'docker-compose');
    return existsSync(binary)
      ? { path: binary }
      : { missing: `AIRQ_TOOLS_BIN=${fromEnv} lacks docker-compose; run bash e2e/tools/build.sh` };
  }
  const tools = controlPlaneTools();
  if (tools.binDir === undefined) return { missing: tools.missing };
  return { path: path.join(tools.binDir, 'docker-compose') };
}

export interface CommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion without blocking the event loop; `env` is added to this process's environment. */
export function runCommand(
  command: string,
  args: string[],
  env: Record<string, string> = {},
  cwd = REPO_ROOT,
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}
