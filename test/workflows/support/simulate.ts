/**
 * Simulates what GitHub would run for an event: which workflows trigger (on: filters), which jobs run (needs + if:,
 * with the status-function rules), in which environment, with which step inputs — expanding local reusable
 * workflows and feeding the real outputs of our resolve-environment action where the workflows use them.
 */
import type {
  ActionStep,
  Job,
  ReusableWorkflowJob,
  Step,
  WorkflowJob,
} from '@actions/workflow-parser/model/workflow-template';
import { runnerRefs, type GitHubEvent } from '../../../actions/test/support/events.ts';
import { runAction } from '../../../actions/test/support/run-action.ts';
import { evaluate, evaluateScalar, evaluateToken, truthy, type Value } from './expressions.ts';
import { pullRequestMatches, pushMatches, type RefFilter } from './filter-pattern.ts';
import {
  loadRawWorkflow,
  readActionMetadata,
  type LoadedWorkflow,
  type Overrides,
  type RawJob,
  type RawWorkflow,
} from './workflows.ts';

export type Result = 'success' | 'failure' | 'skipped';

export type Permission = 'read' | 'write' | 'none';

/** A job's concurrency setting as GitHub applies it (`queue` defaults to `single`: at most one pending). */
export interface Concurrency {
  group: string;
  cancelInProgress: boolean;
  queue: 'single' | 'max';
}

export interface StepRun {
  id: string;
  /** `./actions/helm-deploy`, `actions/checkout@<sha>` or `run`. */
  uses: string;
  ran: boolean;
  with: Record<string, Value>;
  /** The step's `env:` evaluated. */
  env: Record<string, Value>;
  outcome?: Result;
  outputs: Record<string, string>;
}

export interface JobRun {
  /** `deploy.yml:image`, or `deploy.yml:deploy/deploy` for a job of a called reusable workflow. */
  key: string;
  /** The job's `name:` evaluated (what GitHub names its check run), else its id. */
  name?: string;
  result: Result;
  /** Why the simulation failed a job the scenario did not ask to fail (e.g. a secret it needs is empty here). */
  failureReason?: string;
  /** The token's permissions in the job: its own (or the workflow's), capped by the caller's for a called workflow. */
  permissions?: Record<string, Permission>;
  /** The job's `concurrency:` evaluated, when it has one. */
  concurrency?: Concurrency;
  /** The environment the job is bound to (evaluated), when it ran and has one. */
  environment?: string;
  environmentUrl?: string;
  /** The called workflow's inputs, for a reusable-workflow job. */
  inputs?: Record<string, Value>;
  steps: StepRun[];
  outputs: Record<string, Value>;
}

export interface Scenario {
  event: GitHubEvent;
  /** For workflow_dispatch: which workflow file was dispatched. */
  workflow?: string;
  /** Files the push or pull request changes (for `paths` filters). */
  changedFiles?: string[];
  /** Job keys that fail when they run (default: every job that runs succeeds). */
  failing?: string[];
  /** Steps that fail when they run, as `<job key>#<step id>`; the job then fails too. */
  failingSteps?: string[];
  /**
   * How a called workflow's environment-bound job gets its environment's secrets. `documented` (GitHub's docs): always.
   * `runner-4453` (actions/runner#4453): only when the caller passed `secrets: inherit`, else they resolve empty.
   * Default: documented.
   */
  secretsReading?: SecretsReading;
}

export type SecretsReading = 'documented' | 'runner-4453';

/** The repository's secrets: none of its own (the cluster credentials are environment secrets). */
export const REPOSITORY_SECRETS: Record<string, string> = { GITHUB_TOKEN: '<GITHUB_TOKEN>' };
/** Each GitHub environment's secrets. */
export function environmentSecrets(environment: string): Record<string, string> {
  return { KUBECONFIG: `<${environment} secret KUBECONFIG>` };
}

/** What a called workflow receives from its caller job: secrets passed (explicitly or all, by `secrets: inherit`). */
interface CallerSecrets {
  passed: Record<string, Value>;
  inherited: boolean;
}

export interface Report {
  /** Workflow files the event triggers. */
  workflows: string[];
  jobs: JobRun[];
  /** `file:job` (or `file:job → environment`) for every job that ran, sorted: what scenario tables assert. */
  ran: string[];
}

const REPOSITORY = 'airq-org/airq';

/** The `github` context the runner would build for `event`, from its payload (checked against GitHub's schema). */
export function githubContext(event: GitHubEvent, workflowFile: string): Record<string, Value> {
  const { ref, sha, baseRef, headRef } = runnerRefs(event);
  const isTag = ref.startsWith('refs/tags/');
  const refName =
    event.eventName === 'pull_request' ? ref.replace(/^refs\//, '') : ref.replace(/^refs\/(heads|tags)\//, '');
  return {
    event_name: event.eventName,
    event: event.payload as Value,
    ref,
    ref_name: refName,
    ref_type: isTag ? 'tag' : 'branch',
    sha,
    base_ref: baseRef,
    head_ref: headRef,
    repository: REPOSITORY,
    repository_owner: REPOSITORY.split('/')[0]!,
    actor: 'octocat',
    triggering_actor: 'octocat',
    run_id: '9876543210',
    run_number: '17',
    run_attempt: '1',
    server_url: 'https://github.com',
    api_url: 'https://api.github.com',
    workflow: workflowFile.replace(/\.ya?ml$/, ''),
    workflow_ref: `${REPOSITORY}/.github/workflows/${workflowFile}@${ref}`,
    token: '***',
  };
}

/** Whether `workflow`'s `on:` selects the scenario's event. */
export function triggers(workflow: LoadedWorkflow, scenario: Scenario): boolean {
  const events = workflow.template.events as typeof workflow.template.events & {
    merge_group?: RefFilter & { types?: string[] };
  };
  const { event } = scenario;
  // GitHub filters on what the payload says, as the runner reads it.
  const refs = runnerRefs(event);
  switch (event.eventName) {
    case 'push':
      return events.push !== undefined && pushMatches(events.push as RefFilter, refs.ref, scenario.changedFiles);
    case 'pull_request': {
      const action = String((event.payload as { action?: string }).action ?? 'opened');
      return (
        events.pull_request !== undefined &&
        pullRequestMatches(events.pull_request as RefFilter, refs.baseRef, action, scenario.changedFiles)
      );
    }
    case 'merge_group': {
      // merge_group filters only on the queue's base branch (and the one activity type, checks_requested).
      const group = event.payload as { action: string; merge_group: { base_ref: string } };
      const filter = events.merge_group;
      return (
        filter !== undefined &&
        pullRequestMatches(
          { ...filter, types: filter.types ?? ['checks_requested'] },
          group.merge_group.base_ref.replace(/^refs\/heads\//, ''),
          group.action,
        )
      );
    }
    case 'workflow_dispatch':
      return events.workflow_dispatch !== undefined && scenario.workflow === workflow.file;
    default:
      return false;
  }
}

/** Runs (in simulation) every workflow the scenario's event triggers. */
export async function simulate(
  workflows: readonly LoadedWorkflow[],
  scenario: Scenario,
  overrides?: Overrides,
): Promise<Report> {
  const triggered = workflows.filter((workflow) => triggers(workflow, scenario));
  const jobs: JobRun[] = [];
  for (const workflow of triggered) {
    const inputs = scenario.event.eventName === 'workflow_dispatch' ? dispatchInputs(workflow, scenario.event) : {};
    const runner = new WorkflowRun(
      (id) => `${workflow.file}:${id}`,
      workflow.raw,
      scenario,
      inputs,
      githubContext(scenario.event, workflow.file),
      overrides,
    );
    jobs.push(...(await runner.run(workflow.template.jobs)));
  }
  const ran = jobs
    .filter((job) => job.result !== 'skipped')
    .map((job) => (job.environment ? `${job.key} → ${job.environment}` : job.key))
    .sort();
  return { workflows: triggered.map((workflow) => workflow.file), jobs, ran };
}

/** The dispatch form's values with the workflow's declared defaults and types applied. */
function dispatchInputs(workflow: LoadedWorkflow, event: GitHubEvent): Record<string, Value> {
  const given = ((event.payload as { inputs?: Record<string, string> }).inputs ?? {}) as Record<string, string>;
  const declared = workflow.template.events.workflow_dispatch?.inputs ?? {};
  const inputs: Record<string, Value> = {};
  for (const [name, config] of Object.entries(declared)) {
    const value = given[name] ?? config.default ?? '';
    if (config.required && (value === '' || value === undefined))
      throw new Error(`${workflow.file}: dispatch input "${name}" is required`);
    if (String(config.type) === 'choice' && value !== '' && !(config.options ?? []).includes(String(value))) {
      throw new Error(
        `${workflow.file}: dispatch input "${name}": "${String(value)}" is not one of ${JSON.stringify(config.options)}`,
      );
    }
    inputs[name] = String(config.type) === 'boolean' ? String(value) === 'true' : (value as Value);
  }
  for (const name of Object.keys(given)) {
    if (!(name in declared))
      throw new Error(`${workflow.file}: dispatch input "${name}" is not declared under on.workflow_dispatch.inputs`);
  }
  return inputs;
}

class WorkflowRun {
  private readonly results = new Map<string, JobRun>();

  private readonly keyOf: (jobId: string) => string;
  private readonly raw: RawWorkflow;
  private readonly scenario: Scenario;
  private readonly inputs: Record<string, Value>;
  private readonly github: Record<string, Value>;
  private readonly overrides: Overrides | undefined;
  /** For a called workflow: the caller job's permissions, which cap every job of it. */
  private readonly permissionCap: Record<string, Permission> | undefined;
  /** For a called workflow: what its caller passed; undefined for a workflow started by an event. */
  private readonly callerSecrets: CallerSecrets | undefined;

  constructor(
    keyOf: (jobId: string) => string,
    raw: RawWorkflow,
    scenario: Scenario,
    inputs: Record<string, Value>,
    github: Record<string, Value>,
    overrides?: Overrides,
    permissionCap?: Record<string, Permission>,
    callerSecrets?: CallerSecrets,
  ) {
    this.keyOf = keyOf;
    this.raw = raw;
    this.scenario = scenario;
    this.inputs = inputs;
    this.github = github;
    this.overrides = overrides;
    this.permissionCap = permissionCap;
    this.callerSecrets = callerSecrets;
  }

  /**
   * The `secrets` context of a job: the repository's secrets in a workflow started by an event, what the caller
   * passed in a called one; plus the environment's secrets in a job bound to one — in a called workflow only when
   * the reading of GitHub's behaviour grants them.
   */
  private secretsFor(environment: string): Record<string, Value> {
    const base: Record<string, Value> = this.callerSecrets
      ? { ...this.callerSecrets.passed }
      : { ...REPOSITORY_SECRETS };
    if (!environment) return base;
    const reading = this.scenario.secretsReading ?? 'documented';
    const granted = !this.callerSecrets || reading === 'documented' || this.callerSecrets.inherited;
    return granted ? { ...base, ...environmentSecrets(environment) } : base;
  }

  /** The job's token permissions: its own `permissions:` or the workflow's, capped by the caller's. */
  private permissionsOf(rawJob: RawJob): Record<string, Permission> | undefined {
    const own = parsePermissions(rawJob.permissions ?? this.raw.permissions);
    if (!own || !this.permissionCap) return own ?? this.permissionCap;
    const capped: Record<string, Permission> = {};
    for (const scope of new Set([...Object.keys(own), ...Object.keys(this.permissionCap)])) {
      const mine = own[scope] ?? 'none';
      const cap = this.permissionCap[scope] ?? 'none';
      capped[scope] = LEVELS[mine] <= LEVELS[cap] ? mine : cap;
    }
    return capped;
  }

  private concurrencyOf(rawJob: RawJob, contexts: Record<string, Value>): Concurrency | undefined {
    const setting = rawJob.concurrency;
    if (setting === undefined || setting === null) return undefined;
    if (typeof setting === 'string')
      return { group: String(evaluateScalar(setting, contexts)), cancelInProgress: false, queue: 'single' };
    const mapping = setting as { group?: unknown; 'cancel-in-progress'?: unknown; queue?: unknown };
    return {
      group: String(evaluateScalar(mapping.group, contexts)),
      cancelInProgress: truthy(evaluateScalar(mapping['cancel-in-progress'] ?? false, contexts)),
      queue: mapping.queue === 'max' ? 'max' : 'single',
    };
  }

  async run(jobs: readonly WorkflowJob[]): Promise<JobRun[]> {
    const byId = new Map(jobs.map((job) => [job.id.value, job]));
    const order: WorkflowJob[] = [];
    const visiting = new Set<string>();
    const visit = (job: WorkflowJob) => {
      if (order.includes(job)) return;
      if (visiting.has(job.id.value))
        throw new Error(`${this.keyOf(job.id.value)}: jobs form a needs cycle at ${job.id.value}`);
      visiting.add(job.id.value);
      for (const need of job.needs ?? []) {
        const dependency = byId.get(need.value);
        if (!dependency) throw new Error(`${this.keyOf(job.id.value)}: needs unknown job ${need.value}`);
        visit(dependency);
      }
      order.push(job);
    };
    jobs.forEach(visit);

    const runs: JobRun[] = [];
    for (const job of order) runs.push(...(await this.runJob(job, byId)));
    return runs;
  }

  private ancestors(job: WorkflowJob, byId: Map<string, WorkflowJob>, seen = new Set<string>()): Set<string> {
    for (const need of job.needs ?? []) {
      if (seen.has(need.value)) continue;
      seen.add(need.value);
      this.ancestors(byId.get(need.value)!, byId, seen);
    }
    return seen;
  }

  private baseContexts(): Record<string, Value> {
    return {
      github: this.github,
      inputs: this.inputs,
      vars: {},
      env: {},
      secrets: {},
      matrix: {},
      strategy: {},
      runner: { os: 'Linux', temp: '/runner/temp' },
      job: {},
    };
  }

  private async runJob(job: WorkflowJob, byId: Map<string, WorkflowJob>): Promise<JobRun[]> {
    const id = job.id.value;
    const key = this.keyOf(id);
    const needs: Record<string, Value> = {};
    for (const need of job.needs ?? []) {
      const done = this.results.get(need.value)!;
      needs[need.value] = { result: done.result, outputs: done.result === 'success' ? done.outputs : {} };
    }
    const previous = [...this.ancestors(job, byId)].map((ancestor) => this.results.get(ancestor)!.result);
    const contexts = { ...this.baseContexts(), needs };
    const condition = job.if?.expression ?? 'success()';
    const runs = truthy(evaluate(condition, contexts, { previous }));

    if (job.type === 'reusableWorkflowJob') return this.runReusable(job as ReusableWorkflowJob, key, runs, contexts);

    const run: JobRun = { key, result: 'skipped', steps: [], outputs: {} };
    this.results.set(id, run);
    if (!runs) return [run];

    const rawJob = this.raw.jobs[id] ?? {};
    const plain = job as Job;
    run.name = job.name ? String(evaluateToken(job.name, contexts)) : id;
    const permissions = this.permissionsOf(rawJob);
    if (permissions) run.permissions = permissions;
    const concurrency = this.concurrencyOf(rawJob, contexts);
    if (concurrency) run.concurrency = concurrency;
    const env = this.envContext(rawJob, contexts);
    const environment = plain.environment ? evaluateToken(plain.environment, { ...contexts, env, steps: {} }) : null;
    const environmentName =
      typeof environment === 'string'
        ? environment
        : environment && typeof environment === 'object' && !Array.isArray(environment)
          ? String(environment.name ?? '')
          : '';
    if (environmentName) run.environment = environmentName;
    const secrets = this.secretsFor(environmentName);
    const jobContexts = { ...contexts, env, secrets };
    const steps: Record<string, Value> = {};
    const stepResults: Result[] = [];
    for (const [index, step] of plain.steps.entries()) {
      const stepRun = await this.runStep(step, rawJob.steps?.[index] ?? {}, { ...jobContexts, steps }, stepResults);
      run.steps.push(stepRun);
      const outcome: Result = !stepRun.ran
        ? 'skipped'
        : this.scenario.failingSteps?.includes(`${key}#${stepRun.id}`)
          ? 'failure'
          : 'success';
      stepRun.outcome = outcome;
      stepResults.push(outcome);
      steps[stepRun.id] = { outputs: stepRun.outputs, outcome, conclusion: outcome };
    }
    for (const pair of plain.outputs ?? []) {
      run.outputs[String(evaluateToken(pair.key, jobContexts))] =
        evaluateToken(pair.value, { ...jobContexts, steps }) ?? '';
    }
    if (
      environment &&
      typeof environment === 'object' &&
      !Array.isArray(environment) &&
      environment.url !== undefined
    ) {
      // The URL may use step outputs, so it is evaluated once the steps have run.
      const withSteps = evaluateToken(plain.environment, { ...jobContexts, steps }) as Record<string, Value>;
      run.environmentUrl = String(withSteps.url ?? '');
    }
    // A step that reads a secret this job cannot see gets an empty value, and fails (an empty KUBECONFIG reaches no cluster).
    const missing = run.steps.flatMap((stepRun, index) =>
      (stepRun.ran ? secretsReadBy(rawJob.steps?.[index] ?? {}) : [])
        .filter((name) => !secrets[name])
        .map((name) => `${stepRun.id}: secrets.${name}`),
    );
    if (missing.length > 0)
      run.failureReason = `reads a secret that is empty in this job: ${[...new Set(missing)].join(', ')}`;
    run.result =
      this.scenario.failing?.includes(key) || stepResults.includes('failure') || missing.length > 0
        ? 'failure'
        : 'success';
    return [run];
  }

  private envContext(rawJob: RawJob, contexts: Record<string, Value>): Record<string, Value> {
    const env: Record<string, Value> = {};
    for (const [name, value] of Object.entries(this.raw.env ?? {})) env[name] = evaluateScalar(value, contexts);
    for (const [name, value] of Object.entries((rawJob.env as Record<string, unknown> | undefined) ?? {}))
      env[name] = evaluateScalar(value, { ...contexts, env });
    return env;
  }

  private async runStep(
    step: Step,
    rawStep: { with?: Record<string, unknown>; env?: Record<string, unknown>; run?: string },
    contexts: Record<string, Value>,
    previous: Result[],
  ): Promise<StepRun> {
    const uses = 'uses' in step ? (step as ActionStep).uses.value : 'run';
    const stepRun: StepRun = { id: step.id, uses, ran: false, with: {}, env: {}, outputs: {} };
    const condition = step.if?.expression ?? 'success()';
    // Unlike a skipped job, a skipped step does not fail success() for the steps after it.
    if (!truthy(evaluate(condition, contexts, { previous: previous.filter((result) => result !== 'skipped') })))
      return stepRun;
    stepRun.ran = true;
    for (const [name, value] of Object.entries(rawStep.with ?? {}))
      stepRun.with[name] = evaluateScalar(value, contexts);
    for (const [name, value] of Object.entries(rawStep.env ?? {})) stepRun.env[name] = evaluateScalar(value, contexts);
    stepRun.outputs = await this.stepOutputs(uses, stepRun, rawStep.run);
    return stepRun;
  }

  /**
   * resolve-environment runs for real (the bundled action, as the runner runs it); every other step's outputs are
   * placeholders named after the step, so assertions can see where a value came from.
   */
  private async stepOutputs(uses: string, step: StepRun, script: string | undefined): Promise<Record<string, string>> {
    const local = /^\.\/actions\/([\w-]+)$/.exec(uses);
    if (local?.[1] === 'resolve-environment') return resolveEnvironment(this.scenario.event, step.with);
    const outputs: Record<string, string> = {};
    if (local) {
      for (const name of Object.keys(readActionMetadata(local[1]!)?.outputs ?? {}))
        outputs[name] = `<${step.id}.${name}>`;
    } else if (script) {
      for (const match of script.matchAll(/\b([A-Za-z_][\w-]*)=/g)) outputs[match[1]!] = `<${step.id}.${match[1]}>`;
    }
    return outputs;
  }

  private async runReusable(
    job: ReusableWorkflowJob,
    key: string,
    runs: boolean,
    contexts: Record<string, Value>,
  ): Promise<JobRun[]> {
    const id = job.id.value;
    const run: JobRun = { key, result: 'skipped', steps: [], outputs: {} };
    this.results.set(id, run);
    const ref = job.ref.value;
    const calleeJobs = job.jobs ?? [];
    if (!runs) {
      // The called workflow's jobs never start.
      return [
        run,
        ...calleeJobs.map((callee) => ({
          key: `${key}/${callee.id.value}`,
          result: 'skipped' as const,
          steps: [],
          outputs: {},
        })),
      ];
    }
    const inputs: Record<string, Value> = {};
    const definitions = job['input-definitions'];
    for (const pair of definitions ?? []) {
      const name = String(evaluateToken(pair.key, contexts));
      const definition = evaluateToken(pair.value, {}) as { default?: Value; type?: string } | null;
      if (definition?.default !== undefined) inputs[name] = definition.default;
    }
    for (const pair of job['input-values'] ?? []) {
      const name = String(evaluateToken(pair.key, contexts));
      let value = evaluateToken(pair.value, contexts);
      const definition = definitions?.find(name);
      const type = definition ? (evaluateToken(definition, {}) as { type?: string } | null)?.type : undefined;
      if (type === 'boolean' && typeof value === 'string') value = value === 'true';
      inputs[name] = value;
    }
    run.inputs = inputs;
    const calleeRaw = loadRawWorkflow(ref, this.overrides);
    const callerPermissions = this.permissionsOf(this.raw.jobs[id] ?? {});
    if (callerPermissions) run.permissions = callerPermissions;
    // The caller job is bound to no environment: what it can pass is its own secrets context.
    const callerContext = this.secretsFor('');
    const passed: Record<string, Value> = {};
    const inherited = job['inherit-secrets'] === true;
    if (inherited) Object.assign(passed, callerContext);
    for (const pair of job['secret-values'] ?? []) {
      passed[String(evaluateToken(pair.key, contexts))] =
        evaluateToken(pair.value, { ...contexts, secrets: callerContext }) ?? '';
    }
    const callee = new WorkflowRun(
      (calleeId) => `${key}/${calleeId}`,
      calleeRaw,
      this.scenario,
      inputs,
      this.github,
      this.overrides,
      callerPermissions,
      { passed, inherited },
    );
    const calleeRuns = await callee.run(calleeJobs);
    run.result = calleeRuns.some((callee) => callee.result === 'failure') ? 'failure' : 'success';
    const calleeResults = Object.fromEntries(
      calleeRuns.map((callee) => [
        callee.key.slice(key.length + 1),
        { result: callee.result, outputs: callee.outputs },
      ]),
    );
    for (const pair of job.outputs ?? []) {
      const name = String(evaluateToken(pair.key, {}));
      const definition = evaluateToken(pair.value, { jobs: calleeResults as Value }) as { value?: Value } | null;
      run.outputs[name] = definition?.value ?? '';
    }
    return [run, ...calleeRuns];
  }
}

/** The secret names a step reads (`secrets.NAME` in its `with:`, `env:` or `run:`). */
function secretsReadBy(rawStep: {
  with?: Record<string, unknown>;
  env?: Record<string, unknown>;
  run?: string;
}): string[] {
  const text = JSON.stringify([rawStep.with ?? {}, rawStep.env ?? {}, rawStep.run ?? '']);
  return [...text.matchAll(/\bsecrets\.([A-Za-z_][A-Za-z0-9_]*)/g)].map((match) => match[1]!);
}

const LEVELS: Record<Permission, number> = { none: 0, read: 1, write: 2 };
// Every scope of the GITHUB_TOKEN (for read-all / write-all).
const SCOPES = [
  'actions',
  'attestations',
  'checks',
  'contents',
  'deployments',
  'discussions',
  'id-token',
  'issues',
  'models',
  'packages',
  'pages',
  'pull-requests',
  'security-events',
  'statuses',
];

/** `permissions:` as GitHub reads it: a mapping (unlisted scopes get none), `read-all`, `write-all`; undefined when absent. */
export function parsePermissions(value: unknown): Record<string, Permission> | undefined {
  if (value === undefined) return undefined;
  if (value === 'read-all' || value === 'write-all')
    return Object.fromEntries(SCOPES.map((scope) => [scope, value === 'read-all' ? 'read' : 'write']));
  if (value === null || typeof value !== 'object') return {};
  return Object.fromEntries(
    Object.entries(value as Record<string, string>).map(([scope, level]) => [
      scope,
      level === 'write' ? 'write' : level === 'read' ? 'read' : 'none',
    ]),
  );
}

const resolveCache = new Map<string, Record<string, string>>();

/** The bundled resolve-environment action's real outputs for this event and these inputs. */
export async function resolveEnvironment(
  event: GitHubEvent,
  inputs: Record<string, Value>,
): Promise<Record<string, string>> {
  const cacheKey = JSON.stringify([event, inputs]);
  const cached = resolveCache.get(cacheKey);
  if (cached) return cached;
  const run = await runAction('resolve-environment', {
    event,
    inputs: Object.fromEntries(
      Object.entries(inputs).map(([name, value]) => [name, value === null ? '' : String(value)]),
    ),
  });
  try {
    if (run.exitCode !== 0)
      throw new Error(
        `resolve-environment failed for ${event.eventName} ${event.ref} (exit ${run.exitCode}):\n${run.stdout}\n${run.stderr}`,
      );
    // The values file lives in the run's temporary RUNNER_TEMP; its path is an implementation detail here.
    const outputs = { ...run.outputs, 'values-file': run.outputs['values-file'] ? '<values-file>' : '' };
    resolveCache.set(cacheKey, outputs);
    return outputs;
  } finally {
    run.cleanup();
  }
}
