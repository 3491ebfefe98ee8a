import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * The e2e harness's long-running processes (a cluster's components, the workflows' registry): each started in its own
 * process group with its own log file, polled until ready (failing early, with the logs, when one dies), stopped in
 * reverse start order, and killed if the test process exits without stopping them.
 */

const running = new Set<ChildProcess>();
const exitHooks: (() => void)[] = [];
let cleanupInstalled = false;

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // Already gone.
  }
}

function killAll(): void {
  for (const child of running) killGroup(child, 'SIGKILL');
  for (const hook of exitHooks) hook();
}

/**
 * A crashed or interrupted test process must not leave processes behind: on exit and on SIGINT/SIGTERM/SIGHUP every
 * supervised process group is killed, then `hook` (if given) runs, e.g. to tear down a real node's network.
 */
export function killOnExit(hook?: () => void): void {
  if (hook) exitHooks.push(hook);
  if (cleanupInstalled) return;
  cleanupInstalled = true;
  process.once('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      killAll();
      // Nobody else handles it (mocha may): die of the signal as if this handler did not exist.
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    });
  }
}

/** SIGTERM to the process group, SIGKILL after `graceMs`. */
export async function stopProcess(child: ChildProcess, graceMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  killGroup(child, 'SIGTERM');
  const timer = setTimeout(() => killGroup(child, 'SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
  running.delete(child);
}

/** Resident memory of processes, in MiB. */
export function rssMiB(pids: number[]): number {
  let kib = 0;
  for (const pid of pids) {
    try {
      kib += Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
    } catch {
      // Exited.
    }
  }
  return Math.round(kib / 1024);
}

function tail(file: string, lines: number): string {
  if (!existsSync(file)) return '(no log)';
  return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
}

export interface SupervisorOptions {
  /** Where the logs (`<name>.log`) go; also the processes' working directory. */
  dir: string;
  /** Where binaries are looked up by name unless `launch` is given a path. */
  binDir: string;
  /** waitFor gives up at this time (ms since the epoch). */
  deadline: number;
  /** How errors name the whole, e.g. `e2e cluster`. */
  label: string;
  /** A file in `dir` that gets a `<pid> <binary>` line per process, for a reaper to find them after a crash. */
  pidsFile?: string;
}

/** A set of named processes, started and stopped together. */
export class Supervisor<Name extends string> {
  private readonly processes = new Map<Name, ChildProcess>();
  private readonly order: Name[] = [];
  private readonly options: SupervisorOptions;

  constructor(options: SupervisorOptions) {
    this.options = options;
    killOnExit();
  }

  logFile(name: Name): string {
    return path.join(this.options.dir, `${name}.log`);
  }

  launch(name: Name, args: string[], binary = path.join(this.options.binDir, name)): void {
    const out = openSync(this.logFile(name), 'a');
    const child = spawn(binary, args, { cwd: this.options.dir, detached: true, stdio: ['ignore', out, out] });
    closeSync(out);
    if (child.pid !== undefined && this.options.pidsFile)
      appendFileSync(path.join(this.options.dir, this.options.pidsFile), `${child.pid} ${binary}\n`);
    running.add(child);
    this.processes.set(name, child);
    this.order.push(name);
    child.once('exit', () => running.delete(child));
  }

  /** Polls `check` until it returns true; fails early, with the logs, when a process has died. */
  async waitFor(what: string, check: () => Promise<boolean>): Promise<void> {
    const { label, dir, deadline } = this.options;
    for (;;) {
      for (const [name, child] of this.processes) {
        if (child.exitCode !== null || child.signalCode !== null) {
          throw new Error(
            `${label}: ${name} exited (${child.exitCode ?? child.signalCode}) while waiting for ${what}; its log is ${this.logFile(name)}\n${this.logTails()}`,
          );
        }
      }
      if (await check().catch(() => false)) return;
      if (Date.now() > deadline) {
        throw new Error(
          `${label}: timed out waiting for ${what}; the logs are in ${dir} (AIRQ_E2E_KEEP=1 keeps them)\n${this.logTails()}`,
        );
      }
      await sleep(250);
    }
  }

  logTails(lines = 30): string {
    return this.order
      .map((name) => `----- ${name} (${this.logFile(name)}) -----\n${tail(this.logFile(name), lines)}`)
      .join('\n');
  }

  /** Resident memory (MiB) of each process. */
  memory(): Record<string, number> {
    const usage: Record<string, number> = {};
    for (const [name, child] of this.processes) if (child.pid) usage[name] = rssMiB([child.pid]);
    return usage;
  }

  /** Stops the processes in reverse start order; `before(name)` runs before each one that is still running. */
  async stop(before?: (name: Name) => void): Promise<void> {
    for (const name of [...this.order].reverse()) {
      const child = this.processes.get(name);
      if (!child) continue;
      if (before && child.exitCode === null && child.signalCode === null) before(name);
      await stopProcess(child);
    }
  }
}
