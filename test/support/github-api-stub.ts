import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local stand-in for the GitHub REST API — the one boundary tests may not reach for real. It implements the
 * endpoints the actions call, keeps their state in memory (deployments, statuses, issue comments), records every
 * request for assertions, and lets a test seed answers (compare status, check runs, refs) or make an endpoint fail.
 * Unknown routes answer 404 and are recorded too, so an unexpected call shows up in `requests`.
 */

export interface RecordedRequest {
  method: string;
  /** Path without the query string, e.g. `/repos/airq-org/airq/deployments`. */
  path: string;
  query: Record<string, string>;
  body: unknown;
  headers: Record<string, string | string[] | undefined>;
}

export interface StubDeployment {
  id: number;
  sha: string;
  ref: string;
  task: string;
  environment: string;
  description: string | null;
  payload: unknown;
  transient_environment: boolean;
  production_environment: boolean;
  auto_merge?: boolean;
  required_contexts?: string[];
  creator: { login: string };
  created_at: string;
  statuses_url: string;
  url: string;
}

export interface StubDeploymentStatus {
  id: number;
  deployment_id: number;
  state: string;
  description: string;
  environment: string;
  environment_url: string;
  log_url: string;
  target_url: string;
  created_at: string;
}

export interface StubComment {
  id: number;
  issue_number: number;
  body: string;
  user: { login: string; type: string };
  created_at: string;
  updated_at: string;
  html_url: string;
}

export interface StubCheckRun {
  id?: number;
  name: string;
  status: 'queued' | 'in_progress' | 'completed';
  conclusion: 'success' | 'failure' | 'neutral' | 'cancelled' | 'skipped' | 'timed_out' | 'action_required' | null;
  details_url?: string;
  html_url?: string;
}

export interface StubCommitStatus {
  context: string;
  state: 'success' | 'failure' | 'error' | 'pending';
  description?: string;
}

export type CompareStatus = 'ahead' | 'behind' | 'diverged' | 'identical';

interface Failure {
  method: string;
  pattern: RegExp;
  status: number;
  message: string;
  remaining: number;
}

type Params = Record<string, string>;
type Handler = (request: RecordedRequest, params: Params) => { status: number; body: unknown; headers?: Record<string, string> };

const FIXED_TIME = '2026-11-27T05:00:00Z';

export class GitHubApiStub {
  /** Every request received, in order. */
  readonly requests: RecordedRequest[] = [];
  readonly deployments: StubDeployment[] = [];
  readonly deploymentStatuses: StubDeploymentStatus[] = [];
  readonly comments: StubComment[] = [];
  /** `compare(base...head)` status by `base...head`; `*` is the fallback. Default: `ahead`. */
  readonly compareStatuses = new Map<string, CompareStatus>();
  /** Check runs by commit ref/sha; `*` is the fallback. Default: none. */
  readonly checkRuns = new Map<string, StubCheckRun[]>();
  /** Legacy commit statuses by ref/sha; `*` is the fallback. Default: none. */
  readonly commitStatuses = new Map<string, StubCommitStatus[]>();
  /** Git refs (`heads/master`, `tags/v1.2.3`) → sha. */
  readonly refs = new Map<string, string>();
  /** The login comments and deployments are created as. */
  botLogin = 'github-actions[bot]';

  private server: Server | undefined;
  private readonly failures: Failure[] = [];
  private nextId = 1000;
  private readonly routes: Array<{ method: string; pattern: RegExp; keys: string[]; handler: Handler }> = [];

  constructor() {
    const repo = '/repos/:owner/:repo';
    this.route('POST', `${repo}/deployments`, (request) => this.createDeployment(request));
    this.route('GET', `${repo}/deployments`, (request) => ({ status: 200, body: this.listDeployments(request) }));
    this.route('POST', `${repo}/deployments/:id/statuses`, (request, params) => this.createDeploymentStatus(request, params));
    this.route('GET', `${repo}/deployments/:id/statuses`, (_request, params) => ({
      status: 200,
      body: this.deploymentStatuses.filter((status) => status.deployment_id === Number(params.id)).reverse(),
    }));
    this.route('GET', `${repo}/issues/:number/comments`, (_request, params) => ({
      status: 200,
      body: this.comments.filter((comment) => comment.issue_number === Number(params.number)),
    }));
    this.route('POST', `${repo}/issues/:number/comments`, (request, params) => this.createComment(request, params));
    this.route('PATCH', `${repo}/issues/comments/:id`, (request, params) => this.updateComment(request, params));
    this.route('GET', `${repo}/compare/:basehead`, (_request, params) => this.compare(params));
    this.route('GET', `${repo}/commits/:ref/check-runs`, (_request, params) => {
      const runs = this.lookup(this.checkRuns, params.ref ?? '') ?? [];
      const checkRuns = runs.map((run, index) => ({ id: run.id ?? 5000 + index, head_sha: params.ref, ...run }));
      return { status: 200, body: { total_count: checkRuns.length, check_runs: checkRuns } };
    });
    this.route('GET', `${repo}/commits/:ref/status`, (_request, params) => {
      const statuses = this.lookup(this.commitStatuses, params.ref ?? '') ?? [];
      // GitHub's combined state: failure if any failed, pending if any pending or none at all, else success.
      const state = statuses.some((s) => s.state === 'failure' || s.state === 'error')
        ? 'failure'
        : statuses.length === 0 || statuses.some((s) => s.state === 'pending')
          ? 'pending'
          : 'success';
      return { status: 200, body: { state, sha: params.ref, total_count: statuses.length, statuses } };
    });
    this.route('GET', `${repo}/git/ref/:ref+`, (_request, params) => {
      const sha = this.refs.get(params.ref ?? '');
      if (!sha) return notFound();
      return { status: 200, body: { ref: `refs/${params.ref}`, object: { sha, type: 'commit' } } };
    });
  }

  /** Starts listening on 127.0.0.1 on a free port. */
  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    return this;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** The base URL to hand to actions as GITHUB_API_URL. */
  get url(): string {
    const address = this.server?.address() as AddressInfo | null | undefined;
    if (!address) throw new Error('GitHubApiStub is not started; await stub.start() first');
    return `http://127.0.0.1:${address.port}`;
  }

  /** Forgets recorded requests, state, seeded answers and failures (between tests). */
  reset(): void {
    this.requests.length = 0;
    this.deployments.length = 0;
    this.deploymentStatuses.length = 0;
    this.comments.length = 0;
    this.compareStatuses.clear();
    this.checkRuns.clear();
    this.commitStatuses.clear();
    this.refs.clear();
    this.failures.length = 0;
  }

  /**
   * Makes requests matching `method` and `pathPattern` (a regular expression or a substring of the path) answer
   * `status` with a GitHub-shaped error body, `times` times (every time by default).
   */
  fail(method: string, pathPattern: RegExp | string, status = 500, message = 'Internal stub failure', times = Infinity): void {
    const pattern = typeof pathPattern === 'string' ? new RegExp(pathPattern.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')) : pathPattern;
    this.failures.push({ method: method.toUpperCase(), pattern, status, message, remaining: times });
  }

  /** Seeds `GET /compare/{base}...{head}`; without base/head it becomes the answer for every comparison. */
  setCompare(status: CompareStatus, base = '*', head = '*'): void {
    this.compareStatuses.set(base === '*' && head === '*' ? '*' : `${base}...${head}`, status);
  }

  /** Requests whose method and path match (path as a substring or a regular expression). */
  requestsTo(method: string, pathPattern: RegExp | string): RecordedRequest[] {
    return this.requests.filter(
      (request) =>
        request.method === method.toUpperCase() &&
        (typeof pathPattern === 'string' ? request.path.includes(pathPattern) : pathPattern.test(request.path)),
    );
  }

  private route(method: string, template: string, handler: Handler): void {
    const keys: string[] = [];
    const source = template
      .split('/')
      .map((segment) => {
        if (!segment.startsWith(':')) return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
        const greedy = segment.endsWith('+');
        keys.push(segment.slice(1, greedy ? -1 : undefined));
        return greedy ? '(.+)' : '([^/]+)';
      })
      .join('/');
    this.routes.push({ method, pattern: new RegExp(`^${source}$`), keys, handler });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', 'http://stub');
    let body: unknown = undefined;
    if (text !== '') {
      try {
        body = JSON.parse(text);
      } catch {
        body = text;
      }
    }
    const request: RecordedRequest = {
      method: req.method ?? 'GET',
      path: decodeURIComponent(url.pathname),
      query: Object.fromEntries(url.searchParams),
      body,
      headers: req.headers,
    };
    this.requests.push(request);

    let answer: { status: number; body: unknown; headers?: Record<string, string> };
    const failure = this.failures.find((f) => f.remaining > 0 && f.method === request.method && f.pattern.test(request.path));
    if (failure) {
      failure.remaining--;
      answer = { status: failure.status, body: { message: failure.message, documentation_url: 'https://docs.github.com/rest' } };
    } else {
      answer = notFound();
      for (const route of this.routes) {
        const match = route.method === request.method ? route.pattern.exec(url.pathname) : null;
        if (!match) continue;
        const params: Params = {};
        route.keys.forEach((key, index) => (params[key] = decodeURIComponent(match[index + 1] ?? '')));
        answer = route.handler(request, params);
        break;
      }
    }
    res.writeHead(answer.status, { 'content-type': 'application/json; charset=utf-8', ...answer.headers });
    res.end(answer.status === 204 ? undefined : JSON.stringify(answer.body));
  }

  private lookup<T>(map: Map<string, T>, key: string): T | undefined {
    return map.get(key) ?? map.get('*');
  }

  private id(): number {
    return this.nextId++;
  }

  private createDeployment(request: RecordedRequest): { status: number; body: unknown } {
    const input = (request.body ?? {}) as Record<string, unknown>;
    if (typeof input.ref !== 'string' || input.ref === '') {
      return { status: 422, body: { message: 'Invalid request.\n\n"ref" wasn\'t supplied.' } };
    }
    const id = this.id();
    const base = request.path;
    const deployment: StubDeployment = {
      id,
      sha: /^[0-9a-f]{40}$/.test(input.ref) ? input.ref : 'f'.repeat(40),
      ref: input.ref,
      task: typeof input.task === 'string' ? input.task : 'deploy',
      environment: typeof input.environment === 'string' ? input.environment : 'production',
      description: typeof input.description === 'string' ? input.description : null,
      payload: input.payload ?? {},
      transient_environment: input.transient_environment === true,
      production_environment: input.production_environment === true,
      auto_merge: input.auto_merge as boolean | undefined,
      required_contexts: input.required_contexts as string[] | undefined,
      creator: { login: this.botLogin },
      created_at: FIXED_TIME,
      url: `${this.url}${base}/${id}`,
      statuses_url: `${this.url}${base}/${id}/statuses`,
    };
    this.deployments.push(deployment);
    return { status: 201, body: deployment };
  }

  private listDeployments(request: RecordedRequest): StubDeployment[] {
    return this.deployments
      .filter((d) => !request.query.environment || d.environment === request.query.environment)
      .filter((d) => !request.query.sha || d.sha === request.query.sha)
      .slice()
      .reverse();
  }

  private createDeploymentStatus(request: RecordedRequest, params: Params): { status: number; body: unknown } {
    const deployment = this.deployments.find((d) => d.id === Number(params.id));
    if (!deployment) return notFound();
    const input = (request.body ?? {}) as Record<string, unknown>;
    const states = ['error', 'failure', 'inactive', 'in_progress', 'queued', 'pending', 'success'];
    if (typeof input.state !== 'string' || !states.includes(input.state)) {
      return { status: 422, body: { message: `Invalid request.\n\n"state" must be one of ${states.join(', ')}` } };
    }
    const status: StubDeploymentStatus = {
      id: this.id(),
      deployment_id: deployment.id,
      state: input.state,
      description: typeof input.description === 'string' ? input.description : '',
      environment: typeof input.environment === 'string' ? input.environment : deployment.environment,
      environment_url: typeof input.environment_url === 'string' ? input.environment_url : '',
      log_url: typeof input.log_url === 'string' ? input.log_url : '',
      target_url: typeof input.log_url === 'string' ? input.log_url : '',
      created_at: FIXED_TIME,
    };
    this.deploymentStatuses.push(status);
    return { status: 201, body: status };
  }

  private createComment(request: RecordedRequest, params: Params): { status: number; body: unknown } {
    const input = (request.body ?? {}) as Record<string, unknown>;
    if (typeof input.body !== 'string') return { status: 422, body: { message: 'Invalid request.\n\n"body" wasn\'t supplied.' } };
    const id = this.id();
    const comment: StubComment = {
      id,
      issue_number: Number(params.number),
      body: input.body,
      user: { login: this.botLogin, type: 'Bot' },
      created_at: FIXED_TIME,
      updated_at: FIXED_TIME,
      html_url: `https://github.com/${params.owner}/${params.repo}/pull/${params.number}#issuecomment-${id}`,
    };
    this.comments.push(comment);
    return { status: 201, body: comment };
  }

  private updateComment(request: RecordedRequest, params: Params): { status: number; body: unknown } {
    const comment = this.comments.find((c) => c.id === Number(params.id));
    if (!comment) return notFound();
    const input = (request.body ?? {}) as Record<string, unknown>;
    if (typeof input.body !== 'string') return { status: 422, body: { message: 'Invalid request.\n\n"body" wasn\'t supplied.' } };
    comment.body = input.body;
    comment.updated_at = FIXED_TIME;
    return { status: 200, body: comment };
  }

  private compare(params: Params): { status: number; body: unknown } {
    const basehead = params.basehead ?? '';
    const [base = '', head = ''] = basehead.split('...');
    const status = this.compareStatuses.get(basehead) ?? this.compareStatuses.get('*') ?? 'ahead';
    const ahead = status === 'ahead' || status === 'diverged' ? 1 : 0;
    const behind = status === 'behind' || status === 'diverged' ? 1 : 0;
    return {
      status: 200,
      body: {
        status,
        ahead_by: ahead,
        behind_by: behind,
        total_commits: ahead,
        base_commit: { sha: base },
        merge_base_commit: { sha: status === 'ahead' || status === 'identical' ? base : 'e'.repeat(40) },
        commits: [],
        files: [],
        head,
      },
    };
  }
}

function notFound(): { status: number; body: unknown } {
  return { status: 404, body: { message: 'Not Found', documentation_url: 'https://docs.github.com/rest' } };
}

/** Starts a stub; stop it in an `after` hook. */
export async function startGitHubApiStub(): Promise<GitHubApiStub> {
  return new GitHubApiStub().start();
}
