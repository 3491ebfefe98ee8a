import { execFileSync, spawn } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import type { GitHubEvent } from '../../actions/test/support/events.ts';
import { FULL_NAME, OWNER } from '../../test/support/github-objects.ts';
import { kubeBinaries } from '../../test/support/kube-binaries.ts';
import { controlPlaneTools } from './tools.ts';
import { REPO_ROOT } from '../../test/support/repo-root.ts';
import { git } from '../../test/support/git.ts';

/**
 * The repository's workflow files run by nektos/act in host mode (`-P ubuntu-24.04=-self-hosted`): every `run:` script
 * and every action of the project runs for real on this machine, with Node 24 first on PATH for `using: node24`.
 * Third-party actions cannot be fetched: each `owner/repo@sha` the workflows use is mapped with act's
 * `--local-repository` to the project's stand-in in e2e/act/stand-ins/<owner>-<repo>, and `--action-offline-mode`
 * keeps act from reaching for anything else. The GitHub API is the stand-in whose URL the run gets as GITHUB_API_URL.
 */

export const STAND_INS_DIR = path.join(REPO_ROOT, 'e2e', 'act', 'stand-ins');
export const RUNNER_LABEL = 'ubuntu-24.04';

export interface ActTools {
  act: string;
  /** The directory holding the official Node 24 binary as `node`. */
  nodeDir: string;
  /** A directory with `cli-plugins/docker-buildx` (the image job's `docker buildx`). */
  dockerPlugins: string;
  /** The container registry (distribution) binary. */
  registry: string;
}

export type ActToolsLookup = { tools: ActTools; missing?: undefined } | { tools?: undefined; missing: string };

/** act, Node 24, buildx and the registry from e2e/tools/build.sh (AIRQ_TOOLS_BIN or its cache), or why not. */
export function actTools(): ActToolsLookup {
  const found = controlPlaneTools();
  if (!found.binDir) return { missing: found.missing ?? 'e2e/tools/build.sh printed no AIRQ_TOOLS_BIN' };
  const tools: ActTools = {
    act: path.join(found.binDir, 'act'),
    nodeDir: path.join(found.binDir, 'node24'),
    dockerPlugins: found.binDir,
    registry: path.join(found.binDir, 'registry'),
  };
  const absent = [
    tools.act,
    path.join(tools.nodeDir, 'node'),
    path.join(found.binDir, 'cli-plugins', 'docker-buildx'),
    tools.registry,
  ].filter((file) => !existsSync(file));
  if (absent.length)
    return {
      missing: `${absent.join(', ')} missing: run bash e2e/tools/build.sh (it builds act, buildx and the registry, and fetches Node 24)`,
    };
  return { tools };
}

export interface StandIn {
  /** `owner/repo@sha`, exactly as the workflows pin it. */
  uses: string;
  dir: string;
}

/**
 * Every third-party action that a run of `workflow` (only `job` and the jobs it needs, when given) uses, with its
 * stand-in; reusable workflows it calls (`uses: ./.github/workflows/…`) are followed. actions/checkout of the
 * repository under test needs none: act skips it and runs on its copy of the working tree. Throws, naming the workflow
 * file and the action, when one has no stand-in.
 */
export function standIns(repo: string, workflow: string, job?: string): StandIn[] {
  const found = new Map<string, StandIn>();
  const visit = (file: string, only?: string) => {
    type Job = {
      needs?: string | string[];
      uses?: string;
      steps?: { uses?: string; with?: Record<string, unknown> }[];
    };
    const jobs = (parse(readFileSync(path.join(repo, file), 'utf8')) as { jobs?: Record<string, Job> }).jobs ?? {};
    const wanted = new Set<string>();
    const want = (id: string) => {
      if (wanted.has(id) || !jobs[id]) return;
      wanted.add(id);
      for (const need of [jobs[id].needs ?? []].flat()) want(need);
    };
    if (only) want(only);
    else Object.keys(jobs).forEach(want);
    for (const id of wanted) {
      const entry = jobs[id]!;
      if (entry.uses?.startsWith('./')) visit(entry.uses.slice(2));
      for (const step of entry.steps ?? []) {
        const match = /^([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+)(?:\/[^@]*)?@(\S+)$/.exec(step.uses ?? '');
        if (!match) continue;
        const [, owner, name, ref] = match as unknown as [string, string, string, string];
        if (owner === 'actions' && name === 'checkout' && !step.with?.repository) continue;
        const uses = `${owner}/${name}@${ref}`;
        const dir = path.join(STAND_INS_DIR, `${owner}-${name}`);
        if (!existsSync(path.join(dir, 'action.yml'))) {
          throw new Error(
            `${file}: ${owner}/${name} (job ${id}) has no stand-in; write ${path.relative(REPO_ROOT, dir)}/action.yml honouring its documented inputs and outputs`,
          );
        }
        found.set(uses, { uses, dir });
      }
    }
  };
  visit(workflow, job);
  return [...found.values()];
}

/**
 * act v0.2.89 validates workflows against a schema that predates `concurrency.queue` and refuses them; it models no
 * concurrency anyway (test/workflows/concurrency.test.ts proves the groups and queues). Removes exactly those lines.
 */
function withoutConcurrencyQueue(workflowsDir: string): void {
  for (const file of readdirSync(workflowsDir).filter((name) => /\.ya?ml$/.test(name))) {
    const text = readFileSync(path.join(workflowsDir, file), 'utf8');
    const lines = text.split('\n');
    const kept = lines.filter((line, index) => {
      if (!/^\s+queue:\s*\S+\s*$/.test(line)) return true;
      // Only inside a concurrency mapping: the nearest less-indented line above is `concurrency:`.
      const indent = line.search(/\S/);
      const parent = lines
        .slice(0, index)
        .reverse()
        .find((above) => above.trim() && above.search(/\S/) < indent);
      return !/^\s*concurrency:\s*$/.test(parent ?? '');
    });
    if (kept.length !== lines.length) writeFileSync(path.join(workflowsDir, file), kept.join('\n'));
  }
}

export interface WorkingCopy {
  dir: string;
  /** Commits a change made by `edit` and returns the new commit's sha. */
  commit(message: string, edit: (dir: string) => void): string;
  /** Points `branch` at `sha` (created when missing), here and in origin. */
  branch(name: string, sha: string): void;
  /** Checks out a commit or branch's commit, detached. */
  checkout(ref: string): void;
  head(): string;
}

/**
 * A git repository holding this checkout's files (tracked and untracked, not ignored: what a push would carry) in
 * one commit on master, for act to run against. The workflows, scripts, actions and environments are the project's.
 */
export function makeWorkingCopy(root: string): WorkingCopy {
  const dir = path.join(root, 'repo');
  mkdirSync(dir, { recursive: true });
  const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
  })
    .split('\0')
    .filter((file) => file && existsSync(path.join(REPO_ROOT, file)));
  for (const file of files) {
    mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    cpSync(path.join(REPO_ROOT, file), path.join(dir, file), { verbatimSymlinks: true });
  }
  git(dir, 'init', '--quiet');
  // Its origin: a bare repository beside it, holding the branches (the release gate fetches master from origin).
  const origin = path.join(root, 'origin.git');
  git(root, 'init', '--quiet', '--bare', origin);
  git(dir, 'remote', 'add', 'origin', origin);
  git(dir, 'add', '--all');
  git(dir, 'commit', '--quiet', '-m', 'the working copy under test');
  withoutConcurrencyQueue(path.join(dir, '.github', 'workflows'));
  git(
    dir,
    'commit',
    '--quiet',
    '--all',
    '--allow-empty',
    '-m',
    'for act: no concurrency.queue (its schema predates it; act runs no concurrency at all)',
  );
  // Detached, so that any branch can be pointed anywhere; commits go on top of whatever is checked out.
  git(dir, 'checkout', '--quiet', '--detach');
  return {
    dir,
    commit(message, edit) {
      edit(dir);
      git(dir, 'add', '--all');
      git(dir, 'commit', '--quiet', '-m', message);
      return git(dir, 'rev-parse', 'HEAD');
    },
    branch(name, sha) {
      git(dir, 'branch', '--force', name, sha);
      git(dir, 'push', '--quiet', '--force', 'origin', `${sha}:refs/heads/${name}`);
    },
    checkout(ref) {
      git(dir, 'checkout', '--quiet', '--detach', ref);
    },
    head: () => git(dir, 'rev-parse', 'HEAD'),
  };
}

export interface RunOptions {
  /** The repository act runs (a WorkingCopy's dir); its HEAD is the commit checked out for the run. */
  repo: string;
  /** Workflow file relative to `repo`, e.g. .github/workflows/deploy.yml. */
  workflow: string;
  event: GitHubEvent;
  /** Run only this job (and the jobs it needs). */
  job?: string;
  /** workflow_dispatch inputs. */
  inputs?: Record<string, string>;
  secrets?: Record<string, string>;
  /** Repository/organisation variables (`vars.*`). */
  vars?: Record<string, string>;
  /** The GitHub API stand-in's base URL. */
  apiUrl: string;
  /** Extra environment of the runner host (DOCKER_HOST, …). */
  env?: Record<string, string>;
  /** Where act keeps its per-job directories, the tool cache and runner.temp. */
  cacheDir: string;
  tools: ActTools;
  timeoutMs?: number;
}

export interface StepResult {
  job: string;
  step: string;
  /** The step's `id:` (act's stepID is a list: composite steps add theirs). */
  stepId: string;
  result: string;
}

export interface WorkflowRun {
  exitCode: number;
  /** act's log, one line per entry, as it printed it (its --json lines made readable). */
  log: string;
  steps: StepResult[];
  /** Result by job name (as act names it), e.g. { 'resolve environment': 'success' }. */
  jobs: Record<string, string>;
  /** What the steps wrote to GITHUB_STEP_SUMMARY, by job name, in order. */
  summaries: Record<string, string[]>;
}

/**
 * The tool cache as the runner image keeps it (@actions/tool-cache's `<tool>/<version>/x64`): the helm and kubectl
 * the tests run, where setup-helm and setup-kubectl look first.
 */
export function seedToolCache(cacheDir: string): void {
  const { helm, kubectl } = kubeBinaries();
  for (const [tool, binary] of [
    ['helm', helm],
    ['kubectl', kubectl],
  ] as const) {
    const version =
      tool === 'helm'
        ? execFileSync(binary, ['version', '--template', '{{.Version}}'], { encoding: 'utf8' }).trim()
        : (
            JSON.parse(execFileSync(binary, ['version', '--client', '-o', 'json'], { encoding: 'utf8' })) as {
              clientVersion: { gitVersion: string };
            }
          ).clientVersion.gitVersion;
    const dir = path.join(cacheDir, 'tool_cache', tool, version.replace(/^v/, ''), 'x64');
    mkdirSync(dir, { recursive: true });
    rmSync(path.join(dir, tool), { force: true });
    symlinkSync(binary, path.join(dir, tool));
    writeFileSync(`${dir}.complete`, '');
  }
}

interface ActLogLine {
  msg?: string;
  job?: string;
  jobID?: string;
  stage?: string;
  step?: string;
  stepID?: string[];
  stepResult?: string;
  jobResult?: string;
  level?: string;
  raw_output?: boolean;
  /** "summary" for act's report of what a step wrote to GITHUB_STEP_SUMMARY (in `content`). */
  command?: string;
  content?: string;
}

/** Runs one workflow file with act against the stand-ins, the GitHub API stand-in and the given runner environment. */
export async function runWorkflow(options: RunOptions): Promise<WorkflowRun> {
  mkdirSync(options.cacheDir, { recursive: true });
  seedToolCache(options.cacheDir);
  const scratch = mkdtempSync(path.join(options.cacheDir, 'run-'));
  const eventFile = path.join(scratch, 'event.json');
  writeFileSync(eventFile, JSON.stringify(options.event.payload));
  // Every run logs in and out of its own docker config; the buildx plugin comes from the tool build.
  const dockerConfig = path.join(scratch, 'docker');
  mkdirSync(path.join(dockerConfig, 'cli-plugins'), { recursive: true });
  symlinkSync(
    path.join(options.tools.dockerPlugins, 'cli-plugins', 'docker-buildx'),
    path.join(dockerConfig, 'cli-plugins', 'docker-buildx'),
  );
  const secretFile = path.join(scratch, 'secrets.env');
  // dotenv: one line per secret; a multi-line value (a kubeconfig) in double quotes with \n escapes.
  writeFileSync(
    secretFile,
    Object.entries(options.secrets ?? {})
      .map(([name, value]) => `${name}=${JSON.stringify(value)}`)
      .join('\n') + '\n',
    { mode: 0o600 },
  );

  const args = [
    options.event.eventName,
    '--workflows',
    options.workflow,
    '--eventpath',
    eventFile,
    '--platform',
    `${RUNNER_LABEL}=-self-hosted`,
    '--action-offline-mode',
    '--action-cache-path',
    options.cacheDir,
    '--no-cache-server',
    '--json',
    '--secret-file',
    secretFile,
    '--env',
    `GITHUB_API_URL=${options.apiUrl}`,
    '--env',
    `GITHUB_REPOSITORY=${FULL_NAME}`,
    '--env',
    `GITHUB_REPOSITORY_OWNER=${OWNER}`,
    '--env',
    'GITHUB_ACTOR=octocat',
    '--secret',
    'GITHUB_TOKEN=ghs_act_e2e',
  ];
  for (const standIn of standIns(options.repo, options.workflow, options.job))
    args.push('--local-repository', `${standIn.uses}=${standIn.dir}`);
  for (const [name, value] of Object.entries(options.inputs ?? {})) args.push('--input', `${name}=${value}`);
  for (const [name, value] of Object.entries(options.vars ?? {})) args.push('--var', `${name}=${value}`);
  if (options.job) args.push('--job', options.job);

  // The runner host's environment leaks into every step (host mode): give it only what a runner has.
  const env: Record<string, string> = {
    PATH: [options.tools.nodeDir, ...(process.env.PATH ?? '').split(path.delimiter)].join(path.delimiter),
    HOME: process.env.HOME ?? '/root',
    LANG: 'C.UTF-8',
    DOCKER_CONFIG: dockerConfig,
    ...(process.env.NODE_EXTRA_CA_CERTS ? { NODE_EXTRA_CA_CERTS: process.env.NODE_EXTRA_CA_CERTS } : {}),
    ...options.env,
  };

  const lines: ActLogLine[] = [];
  const exitCode = await new Promise<number>((resolve, reject) => {
    const child = spawn(options.tools.act, args, {
      cwd: options.repo,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let buffer = '';
    const take = (chunk: string) => {
      buffer += chunk;
      let newline;
      while ((newline = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        try {
          lines.push(JSON.parse(line) as ActLogLine);
        } catch {
          lines.push({ msg: line });
        }
      }
    };
    child.stdout.setEncoding('utf8').on('data', take);
    child.stderr.setEncoding('utf8').on('data', take);
    const timer = setTimeout(() => {
      lines.push({ msg: `act did not finish within ${options.timeoutMs} ms; killed` });
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    }, options.timeoutMs ?? 600_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (buffer) take('\n');
      resolve(code ?? 1);
    });
  });
  rmSync(scratch, { recursive: true, force: true });

  const steps: StepResult[] = [];
  const jobs: Record<string, string> = {};
  const summaries: Record<string, string[]> = {};
  for (const line of lines) {
    // act names a job "<workflow name>/<job name>", padded for alignment.
    const job = line.job?.trim().replace(/^[^/]*\//, '');
    if (!job) continue;
    // Steps of the job itself (a composite action's own steps have a longer stepID), not act's set-up and clean-up.
    if (line.stepResult && line.stage === 'Main' && (line.stepID ?? []).length === 1) {
      steps.push({ job, step: stepName(line.msg ?? ''), stepId: line.stepID![0]!, result: line.stepResult });
    }
    if (line.jobResult) jobs[job] = line.jobResult;
    if (line.command === 'summary' && line.content) (summaries[job] ??= []).push(line.content);
  }
  // Progress bars (docker push) are one long line of cursor movements: keep their end.
  const readable = (text: string) => {
    const plain = text.replace(ANSI_ESCAPE, '').trimEnd();
    return plain.length > 400 ? `…${plain.slice(-400)}` : plain;
  };
  const log = lines
    .map((line) => readable(line.job ? `[${line.job.trim()}] ${line.msg ?? ''}` : (line.msg ?? '')))
    .join('\n');
  return { exitCode, log, steps, jobs, summaries };
}

const ANSI_ESCAPE = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*[A-Za-z]`, 'g');

/** "  ✅  Success - Main helm upgrade [2.1s]" → "helm upgrade". */
function stepName(message: string): string {
  return message
    .replace(/^\s*\S+\s+(Success|Failure|Skipped)\s+-\s+(Main|Pre|Post)\s+/, '')
    .replace(/\s*\[[^\]]*\]\s*$/, '')
    .trim();
}

/** A step by job and step name, or an error listing what ran. */
export function stepOf(run: WorkflowRun, job: string, step: string): StepResult {
  const found = run.steps.find((s) => s.job === job && s.step === step);
  if (!found)
    throw new Error(
      `no step "${step}" in job "${job}"; steps that ran:\n  ${run.steps.map((s) => `${s.job} / ${s.step}: ${s.result}`).join('\n  ')}`,
    );
  return found;
}

/** The run as a readable report for assertion messages: every step's result, then the tail of the log. */
export function describeWorkflowRun(run: WorkflowRun, tailLines = 150): string {
  return `act exit ${run.exitCode}\n${run.steps.map((s) => `  ${s.job} / ${s.step}: ${s.result}`).join('\n')}\n--- log (last ${tailLines} lines)\n${run.log.split('\n').slice(-tailLines).join('\n')}`;
}
