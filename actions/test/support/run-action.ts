import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { assertNoContractViolations } from '../../../test/support/github-api-stub.ts';
import { ACTOR, pushBranch, REPOSITORY, runnerRefs, type GitHubEvent } from './events.ts';
import { REPO_ROOT } from '../../../test/support/repo-root.ts';

export interface Annotation {
  level: 'error' | 'warning' | 'notice';
  message: string;
  properties: Record<string, string>;
}

export interface ActionRun {
  exitCode: number;
  stdout: string;
  stderr: string;
  /** Parsed from the GITHUB_OUTPUT file (heredoc and name=value forms). */
  outputs: Record<string, string>;
  /** The GITHUB_STEP_SUMMARY file's content ('' when nothing was written). */
  summary: string;
  /** `::error::` / `::warning::` / `::notice::` workflow commands from stdout, unescaped. */
  annotations: Annotation[];
  /** Values registered with `::add-mask::` (core.setSecret). */
  masks: string[];
  /** Variables exported through GITHUB_ENV, and state saved through GITHUB_STATE. */
  exportedEnv: Record<string, string>;
  state: Record<string, string>;
  /** The temporary RUNNER_TEMP of the run, kept so tests can read files the action wrote there (removed by cleanup()). */
  runnerTemp: string;
  cleanup(): void;
}

export interface RunActionOptions {
  /** `with:` inputs by their action.yml names. */
  inputs?: Record<string, string | number | boolean | undefined>;
  /** The triggering event; a push to `development` by default. */
  event?: GitHubEvent;
  /** GITHUB_API_URL, e.g. the local stub's url. */
  apiUrl?: string;
  /** GITHUB_WORKSPACE and the process's working directory; the repository root by default. */
  cwd?: string;
  /** Extra environment (PATH with helm, KUBECONFIG, ...). Applied last. */
  env?: Record<string, string | undefined>;
  /** Kill the action after this long (ms). */
  timeoutMs?: number;
  runId?: string;
  actor?: string;
  /** What `${{ github.token }}` evaluates to in action.yml defaults; '' by default (no token in tests). */
  githubToken?: string;
}

/**
 * The inputs the runner fills in from action.yml `default:`s when a step does not set them. Of expressions only
 * `${{ github.token }}` is understood; anything else is an error so a test never runs with a default the runner
 * would compute differently.
 */
export function actionDefaults(name: string, githubToken = ''): Record<string, string> {
  const manifest = parseYaml(readFileSync(path.join(REPO_ROOT, 'actions', name, 'action.yml'), 'utf8')) as {
    inputs?: Record<string, { default?: unknown }>;
  };
  const defaults: Record<string, string> = {};
  for (const [input, spec] of Object.entries(manifest.inputs ?? {})) {
    if (spec?.default === undefined || spec.default === null) continue;
    const text = String(spec.default);
    if (!text.includes('${{')) defaults[input] = text;
    else if (/^\$\{\{\s*github\.token\s*\}\}$/.test(text.trim())) defaults[input] = githubToken;
    else
      throw new Error(
        `actions/${name}/action.yml: input "${input}": run-action.ts cannot evaluate the default ${text}`,
      );
  }
  return defaults;
}

/** The runner's INPUT_ variable name: spaces become `_`, upper-cased, hyphens kept. */
export function inputVariable(name: string): string {
  return `INPUT_${name.replace(/ /g, '_').toUpperCase()}`;
}

function unescapeData(text: string): string {
  return text.replace(/%0D/gi, '\r').replace(/%0A/gi, '\n').replace(/%25/g, '%');
}

function unescapeProperty(text: string): string {
  return unescapeData(text).replace(/%3A/gi, ':').replace(/%2C/gi, ',');
}

/** Parses the file-command format @actions/core writes to GITHUB_OUTPUT / GITHUB_ENV / GITHUB_STATE. */
export function parseFileCommands(text: string): Record<string, string> {
  const values: Record<string, string> = {};
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line);
    if (heredoc) {
      const [, name = '', delimiter = ''] = heredoc;
      const body: string[] = [];
      for (i++; i < lines.length && lines[i] !== delimiter; i++) body.push(lines[i] ?? '');
      values[name] = body.join('\n');
    } else if (line.includes('=')) {
      const at = line.indexOf('=');
      values[line.slice(0, at)] = line.slice(at + 1);
    }
  }
  return values;
}

/** Extracts `::error file=a,line=1::message` style commands from an action's stdout. */
export function parseAnnotations(stdout: string): { annotations: Annotation[]; masks: string[] } {
  const annotations: Annotation[] = [];
  const masks: string[] = [];
  for (const line of stdout.split(/\r?\n/)) {
    const command = /^::([a-z-]+)(?: ([^:]*))?::(.*)$/.exec(line);
    if (!command) continue;
    const [, name = '', props = '', message = ''] = command;
    if (name === 'add-mask') masks.push(unescapeData(message));
    if (name !== 'error' && name !== 'warning' && name !== 'notice') continue;
    const properties: Record<string, string> = {};
    for (const pair of props.split(',').filter(Boolean)) {
      const at = pair.indexOf('=');
      properties[pair.slice(0, at)] = unescapeProperty(pair.slice(at + 1));
    }
    annotations.push({ level: name, message: unescapeData(message), properties });
  }
  return { annotations, masks };
}

function readIfExists(file: string): string {
  return existsSync(file) ? readFileSync(file, 'utf8') : '';
}

/**
 * Runs `node actions/<name>/dist/index.js` as a child process the way the runner does — INPUT_* variables, the
 * GITHUB_* context, an event payload file and the file-command files in a fresh temporary directory — and collects
 * what a workflow would see: exit code, outputs, job summary and annotations.
 */
export async function runAction(name: string, options: RunActionOptions = {}): Promise<ActionRun> {
  const entry = path.join(REPO_ROOT, 'actions', name, 'dist', 'index.js');
  if (!existsSync(entry)) throw new Error(`${entry} does not exist; run \`npm run build:actions\``);
  const event = options.event ?? pushBranch('development');
  // Refuses a payload GitHub would never send, naming the webhook schema it breaks.
  const refs = runnerRefs(event);
  const dir = mkdtempSync(path.join(tmpdir(), `airq-action-${name}-`));
  const runnerTemp = path.join(dir, 'runner-temp');
  mkdirSync(runnerTemp);
  const files = {
    event: path.join(dir, 'event.json'),
    output: path.join(dir, 'output'),
    summary: path.join(dir, 'step-summary.md'),
    state: path.join(dir, 'state'),
    env: path.join(dir, 'env'),
    path: path.join(dir, 'path'),
  };
  writeFileSync(files.event, JSON.stringify(event.payload, null, 2));
  for (const file of [files.output, files.summary, files.state, files.env, files.path]) writeFileSync(file, '');

  // Start from this process's environment minus anything the runner would set, so nothing leaks between runs.
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value === undefined || /^(INPUT_|GITHUB_|RUNNER_|STATE_)/.test(key) || key === 'ACTIONS_STEP_DEBUG') continue;
    env[key] = value;
  }
  const refType = refs.ref.startsWith('refs/tags/') ? 'tag' : 'branch';
  const cwd = options.cwd ?? REPO_ROOT;
  Object.assign(env, {
    CI: 'true',
    GITHUB_ACTIONS: 'true',
    GITHUB_ACTION: name,
    GITHUB_ACTION_PATH: path.join(REPO_ROOT, 'actions', name),
    GITHUB_WORKFLOW: 'deploy',
    GITHUB_JOB: 'deploy',
    GITHUB_EVENT_NAME: event.eventName,
    GITHUB_EVENT_PATH: files.event,
    GITHUB_REF: refs.ref,
    GITHUB_REF_NAME: refs.ref.replace(/^refs\/(heads|tags)\//, ''),
    GITHUB_REF_TYPE: refType,
    GITHUB_SHA: refs.sha,
    GITHUB_BASE_REF: refs.baseRef,
    GITHUB_HEAD_REF: refs.headRef,
    GITHUB_REPOSITORY: `${REPOSITORY.owner}/${REPOSITORY.repo}`,
    GITHUB_REPOSITORY_OWNER: REPOSITORY.owner,
    GITHUB_ACTOR: options.actor ?? ACTOR,
    GITHUB_RUN_ID: options.runId ?? '9876543210',
    GITHUB_RUN_NUMBER: '17',
    GITHUB_RUN_ATTEMPT: '1',
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_API_URL: options.apiUrl ?? 'http://127.0.0.1:9/unreachable-api',
    GITHUB_GRAPHQL_URL: `${options.apiUrl ?? 'http://127.0.0.1:9/unreachable-api'}/graphql`,
    GITHUB_WORKSPACE: cwd,
    GITHUB_OUTPUT: files.output,
    GITHUB_STEP_SUMMARY: files.summary,
    GITHUB_STATE: files.state,
    GITHUB_ENV: files.env,
    GITHUB_PATH: files.path,
    RUNNER_TEMP: runnerTemp,
    RUNNER_OS: 'Linux',
    RUNNER_ARCH: 'X64',
  });
  // Like the runner: every declared input with a default is set, then the step's `with:` values override them.
  const inputs: Record<string, string> = actionDefaults(name, options.githubToken);
  for (const [input, value] of Object.entries(options.inputs ?? {})) {
    if (value !== undefined) inputs[input] = String(value);
  }
  for (const [input, value] of Object.entries(inputs)) env[inputVariable(input)] = value;
  for (const [key, value] of Object.entries(options.env ?? {})) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }

  // Asynchronous on purpose: the GitHub API stub usually runs in this process and must keep answering.
  const child = spawn(process.execPath, [entry], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const timeoutMs = options.timeoutMs ?? 60_000;
  const exitCode = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`action ${name} did not finish within ${timeoutMs} ms\nstdout:\n${stdout}\nstderr:\n${stderr}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve(code ?? (signal ? 128 : 1));
    });
  });
  // A request that broke GitHub's REST contract (or an answer of the stand-in that did) fails the test that ran this.
  try {
    assertNoContractViolations();
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`${(error as Error).message}\n--- ${name} stdout\n${stdout}\n--- ${name} stderr\n${stderr}`);
  }
  const { annotations, masks } = parseAnnotations(stdout);
  return {
    exitCode,
    stdout,
    stderr,
    outputs: parseFileCommands(readIfExists(files.output)),
    summary: readIfExists(files.summary),
    annotations,
    masks,
    exportedEnv: parseFileCommands(readIfExists(files.env)),
    state: parseFileCommands(readIfExists(files.state)),
    runnerTemp,
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** The message of the run's `::error::` annotations joined, for assertions and failure messages. */
export function errors(run: ActionRun): string {
  return run.annotations
    .filter((annotation) => annotation.level === 'error')
    .map((annotation) => annotation.message)
    .join('\n');
}
