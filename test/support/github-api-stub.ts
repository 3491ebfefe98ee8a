import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { contractVersions, restContract, type Operation } from './github-contract.ts';
import { commit, FIXED_TIME, FULL_NAME, githubActionsApp, knownAccount, nodeId, repository } from './github-objects.ts';

/**
 * A local stand-in for the GitHub REST API — the one boundary tests may not reach for real. It implements the
 * endpoints the actions call, keeps their state in memory (deployments, statuses, issue comments), records every
 * request for assertions, and lets a test seed answers (compare status, check runs, refs) or make an endpoint fail.
 * A call of an operation it does not implement answers 404 and is recorded too, so it shows up in `requests`.
 *
 * It is held to GitHub's published REST description (github-contract.ts): a request that names no operation, or
 * whose parameters, body, media types or headers break the operation's contract, is refused as GitHub would refuse
 * it (404 or 422) and recorded in `violations`; so is every answer of the stand-in that breaks the documented response
 * schema of its status. `runAction` throws on violations after each run, and a root hook after each test, so a
 * violation fails the test that caused it.
 */

export interface RecordedRequest {
  method: string;
  /** Path without the query string, e.g. `/repos/airq-org/airq/deployments`. */
  path: string;
  query: Record<string, string>;
  body: unknown;
  headers: Record<string, string | string[] | undefined>;
  /** The REST operation the request was routed to by GitHub's description (`repos/create-deployment`). */
  operation?: string;
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
type Answer = { status: number; body: unknown; headers?: Record<string, string> };
type Handler = (request: RecordedRequest, params: Params) => Answer;

/** Every stub started and not yet stopped: where runAction and the root hook look for contract violations. */
const liveStubs = new Set<GitHubApiStub>();

/**
 * Throws with every contract violation the running stubs recorded since the last call (and forgets them): called
 * after each action run and after each test, so the test that made a bad request, or met a bad answer, fails.
 */
export function assertNoContractViolations(): void {
  const violations = [...liveStubs].flatMap((stub) => stub.takeViolations());
  if (violations.length === 0) return;
  throw new Error(
    `GitHub API contract violated (${contractVersions().rest}); fix the action or the stand-in so both keep to GitHub's REST description:\n  ${violations.join('\n  ')}`,
  );
}

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
  /** Contract violations not yet reported (see `takeViolations`). */
  readonly violations: string[] = [];

  private server: Server | undefined;
  private readonly failures: Failure[] = [];
  private nextId = 1000;
  private readonly handlers: Record<string, Handler>;

  constructor() {
    // Keyed by GitHub's operation ids: the REST description does the routing, as GitHub's router would.
    this.handlers = {
      'repos/create-deployment': (request) => this.createDeployment(request),
      'repos/list-deployments': (request, params) =>
        this.paged(request, this.listDeployments(request), (d) => this.presentDeployment(d, params)),
      'repos/create-deployment-status': (request, params) => this.createDeploymentStatus(request, params),
      'repos/list-deployment-statuses': (request, params) => {
        const deployment = this.deployments.find((d) => d.id === Number(params.deployment_id));
        if (!deployment) return notFound();
        const statuses = this.deploymentStatuses.filter((status) => status.deployment_id === deployment.id).reverse();
        return this.paged(request, statuses, (status) => this.presentDeploymentStatus(status, deployment, params));
      },
      'issues/list-comments': (request, params) =>
        this.paged(
          request,
          this.comments.filter((comment) => comment.issue_number === Number(params.issue_number)),
          (comment) => this.presentComment(comment, params),
        ),
      'issues/create-comment': (request, params) => this.createComment(request, params),
      'issues/update-comment': (request, params) => this.updateComment(request, params),
      'repos/compare-commits': (_request, params) => this.compare(params),
      'checks/list-for-ref': (request, params) => {
        const runs = (this.lookup(this.checkRuns, params.ref ?? '') ?? []).map((run, index) =>
          this.presentCheckRun(run, run.id ?? 5000 + index, params),
        );
        const { status, body, headers } = this.paged(request, runs, (run) => run);
        return { status, headers, body: { total_count: runs.length, check_runs: body } };
      },
      'repos/get-combined-status-for-ref': (request, params) => this.combinedStatus(request, params),
      'git/get-ref': (_request, params) => {
        const sha = this.refs.get(params.ref ?? '');
        if (!sha) return notFound();
        const api = `https://api.github.com/repos/${params.owner}/${params.repo}`;
        return {
          status: 200,
          body: {
            ref: `refs/${params.ref}`,
            node_id: nodeId('Ref', this.id()),
            url: `${api}/git/refs/${params.ref}`,
            object: { sha, type: 'commit', url: `${api}/git/commits/${sha}` },
          },
        };
      },
    };
  }

  /** Starts listening on 127.0.0.1 on a free port. */
  async start(): Promise<this> {
    // Parsed here rather than in the first request, so no action's first call waits on the big document.
    restContract();
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    liveStubs.add(this);
    return this;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    liveStubs.delete(this);
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

  /** Returns the contract violations recorded so far and forgets them. */
  takeViolations(): string[] {
    return this.violations.splice(0);
  }

  /** Adds a comment someone else wrote on issue or pull request `issueNumber` of the test repository. */
  addComment(issueNumber: number, body: string, login = 'reviewer'): StubComment {
    const id = this.id();
    const comment: StubComment = {
      id,
      issue_number: issueNumber,
      body,
      user: { login, type: login.endsWith('[bot]') ? 'Bot' : 'User' },
      created_at: FIXED_TIME,
      updated_at: FIXED_TIME,
      html_url: `https://github.com/${FULL_NAME}/pull/${issueNumber}#issuecomment-${id}`,
    };
    this.comments.push(comment);
    return comment;
  }

  /**
   * Makes requests matching `method` and `pathPattern` (a regular expression or a substring of the path) answer
   * `status` with a GitHub-shaped error body, `times` times (every time by default).
   */
  fail(
    method: string,
    pathPattern: RegExp | string,
    status = 500,
    message = 'Internal stub failure',
    times = Infinity,
  ): void {
    const pattern =
      typeof pathPattern === 'string' ? new RegExp(pathPattern.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')) : pathPattern;
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
      path: safeDecode(url.pathname),
      query: Object.fromEntries(url.searchParams),
      body,
      headers: req.headers,
    };
    this.requests.push(request);

    const contract = restContract();
    const verdict = contract.checkRequest({
      method: request.method,
      rawPath: url.pathname,
      query: url.searchParams,
      headers: req.headers,
      bodyText: text,
    });
    const operation: Operation | undefined = verdict.operation;
    request.operation = operation?.id;
    let answer: Answer;
    const failure = this.failures.find(
      (f) => f.remaining > 0 && f.method === request.method && f.pattern.test(request.path),
    );
    if (verdict.problems.length > 0) {
      this.violations.push(
        ...verdict.problems.map((problem) => `request ${request.method} ${url.pathname}${url.search}: ${problem}`),
      );
      // What GitHub answers a request it cannot route, or one that breaks the operation's contract.
      answer = operation ? validationFailed(verdict.problems.join('; ')) : notFound();
    } else if (failure) {
      failure.remaining--;
      answer = {
        status: failure.status,
        body: {
          message: failure.message,
          documentation_url: 'https://docs.github.com/rest',
          status: String(failure.status),
        },
      };
    } else {
      const handler = operation ? this.handlers[operation.id] : undefined;
      answer = handler ? handler(request, verdict.params) : notFound();
    }
    const headers = { 'content-type': 'application/json; charset=utf-8', ...answer.headers };
    const payload = answer.status === 204 ? '' : JSON.stringify(answer.body);
    if (operation) {
      const problems = contract.checkResponse(operation, answer.status, headers, payload);
      this.violations.push(
        ...problems.map(
          (problem) => `answer of the stand-in to ${request.method} ${url.pathname}${url.search}: ${problem}`,
        ),
      );
    }
    res.writeHead(answer.status, headers);
    res.end(payload === '' ? undefined : payload);
  }

  /**
   * One page of a list answer, as GitHub pages them: `per_page` (30 by default, 100 at most) and `page` (from 1), with
   * a Link header naming the next and last pages while there are more.
   */
  private paged<T, U>(
    request: RecordedRequest,
    items: T[],
    present: (item: T) => U,
  ): { status: number; body: U[]; headers: Record<string, string> } {
    const perPage = Math.min(Number(request.query.per_page ?? 30) || 30, 100);
    const page = Math.max(Number(request.query.page ?? 1) || 1, 1);
    const last = Math.max(Math.ceil(items.length / perPage), 1);
    const link = (target: number) =>
      `<${this.url}${request.path}?${new URLSearchParams({ ...request.query, per_page: String(perPage), page: String(target) })}>`;
    const links = page < last ? [`${link(page + 1)}; rel="next"`, `${link(last)}; rel="last"`] : [];
    if (page > 1) links.push(`${link(1)}; rel="first"`, `${link(page - 1)}; rel="prev"`);
    return {
      status: 200,
      body: items.slice((page - 1) * perPage, page * perPage).map(present),
      headers: links.length > 0 ? { link: links.join(', ') } : {},
    };
  }

  private lookup<T>(map: Map<string, T>, key: string): T | undefined {
    return map.get(key) ?? map.get('*');
  }

  private id(): number {
    return this.nextId++;
  }

  private createDeployment(request: RecordedRequest): Answer {
    const input = (request.body ?? {}) as Record<string, unknown>;
    if (typeof input.ref !== 'string' || input.ref === '') return validationFailed('"ref" wasn\'t supplied.');
    const id = this.id();
    const deployment: StubDeployment = {
      id,
      sha: /^[0-9a-f]{40}$/.test(input.ref) ? input.ref : 'f'.repeat(40),
      ref: input.ref,
      task: typeof input.task === 'string' ? input.task : 'deploy',
      environment: typeof input.environment === 'string' ? input.environment : 'production',
      description: typeof input.description === 'string' ? input.description : null,
      payload: input.payload ?? {},
      transient_environment: input.transient_environment === true,
      production_environment:
        typeof input.production_environment === 'boolean'
          ? input.production_environment
          : input.environment === 'production',
      auto_merge: input.auto_merge as boolean | undefined,
      required_contexts: input.required_contexts as string[] | undefined,
      creator: { login: this.botLogin },
      created_at: FIXED_TIME,
      url: `${this.url}${request.path}/${id}`,
      statuses_url: `${this.url}${request.path}/${id}/statuses`,
    };
    this.deployments.push(deployment);
    const [, owner = '', repo = ''] = /^\/repos\/([^/]+)\/([^/]+)\//.exec(request.path) ?? [];
    return { status: 201, body: this.presentDeployment(deployment, { owner, repo }) };
  }

  private listDeployments(request: RecordedRequest): StubDeployment[] {
    return this.deployments
      .filter((d) => !request.query.environment || d.environment === request.query.environment)
      .filter((d) => !request.query.sha || d.sha === request.query.sha)
      .slice()
      .reverse();
  }

  private createDeploymentStatus(request: RecordedRequest, params: Params): Answer {
    const deployment = this.deployments.find((d) => d.id === Number(params.deployment_id));
    if (!deployment) return notFound();
    const input = (request.body ?? {}) as Record<string, unknown>;
    const status: StubDeploymentStatus = {
      id: this.id(),
      deployment_id: deployment.id,
      state: String(input.state),
      description: typeof input.description === 'string' ? input.description : '',
      environment: typeof input.environment === 'string' ? input.environment : deployment.environment,
      environment_url: typeof input.environment_url === 'string' ? input.environment_url : '',
      log_url: typeof input.log_url === 'string' ? input.log_url : '',
      target_url:
        typeof input.log_url === 'string'
          ? input.log_url
          : typeof input.target_url === 'string'
            ? input.target_url
            : '',
      created_at: FIXED_TIME,
    };
    this.deploymentStatuses.push(status);
    return { status: 201, body: this.presentDeploymentStatus(status, deployment, params) };
  }

  private createComment(request: RecordedRequest, params: Params): Answer {
    const input = (request.body ?? {}) as Record<string, unknown>;
    const comment = this.addComment(Number(params.issue_number), String(input.body), this.botLogin);
    return { status: 201, body: this.presentComment(comment, params) };
  }

  private updateComment(request: RecordedRequest, params: Params): Answer {
    const comment = this.comments.find((c) => c.id === Number(params.comment_id));
    if (!comment) return notFound();
    const input = (request.body ?? {}) as Record<string, unknown>;
    comment.body = String(input.body);
    comment.updated_at = FIXED_TIME;
    return { status: 200, body: this.presentComment(comment, params) };
  }

  private compare(params: Params): Answer {
    const base = params.base ?? '';
    const head = params.head ?? '';
    const status = this.compareStatuses.get(`${base}...${head}`) ?? this.compareStatuses.get('*') ?? 'ahead';
    const ahead = status === 'ahead' || status === 'diverged' ? 1 : 0;
    const behind = status === 'behind' || status === 'diverged' ? 1 : 0;
    // GitHub answers with commits, never names: a ref that is not a sha stands for some commit.
    const baseSha = /^[0-9a-f]{40}$/.test(base) ? base : 'b'.repeat(40);
    const headSha = /^[0-9a-f]{40}$/.test(head) ? head : 'c'.repeat(40);
    const web = `https://github.com/${params.owner}/${params.repo}`;
    return {
      status: 200,
      body: {
        url: `https://api.github.com/repos/${params.owner}/${params.repo}/compare/${base}...${head}`,
        html_url: `${web}/compare/${base}...${head}`,
        permalink_url: `${web}/compare/${params.owner}:${baseSha.slice(0, 7)}...${params.owner}:${headSha.slice(0, 7)}`,
        diff_url: `${web}/compare/${base}...${head}.diff`,
        patch_url: `${web}/compare/${base}...${head}.patch`,
        base_commit: commit(baseSha),
        merge_base_commit: commit(status === 'ahead' || status === 'identical' ? baseSha : 'e'.repeat(40)),
        status,
        ahead_by: ahead,
        behind_by: behind,
        total_commits: ahead,
        commits: ahead > 0 ? [commit(headSha)] : [],
        files: [],
      },
    };
  }

  private combinedStatus(request: RecordedRequest, params: Params): Answer {
    const statuses = this.lookup(this.commitStatuses, params.ref ?? '') ?? [];
    // GitHub's combined state: failure if any failed, pending if any pending or none at all, else success.
    const state = statuses.some((s) => s.state === 'failure' || s.state === 'error')
      ? 'failure'
      : statuses.length === 0 || statuses.some((s) => s.state === 'pending')
        ? 'pending'
        : 'success';
    const api = `https://api.github.com/repos/${params.owner}/${params.repo}`;
    const sha = params.ref ?? '';
    // The combined state covers every status; the list of them is paged like any list.
    const { headers, body: page } = this.paged(
      request,
      statuses.map((status, index) => ({ status, index })),
      (entry) => entry,
    );
    return {
      status: 200,
      headers,
      body: {
        state,
        sha,
        total_count: statuses.length,
        statuses: page.map(({ status, index }) => ({
          id: 6000 + index,
          node_id: nodeId('StatusContext', 6000 + index),
          url: `${api}/statuses/${sha}`,
          avatar_url: null,
          state: status.state,
          description: status.description ?? null,
          target_url: null,
          context: status.context,
          created_at: FIXED_TIME,
          updated_at: FIXED_TIME,
        })),
        repository: repository(`${params.owner}/${params.repo}`),
        commit_url: `${api}/commits/${sha}`,
        url: `${api}/commits/${sha}/status`,
      },
    };
  }

  private presentDeployment(deployment: StubDeployment, params: Params): Record<string, unknown> {
    return {
      url: deployment.url,
      id: deployment.id,
      node_id: nodeId('Deployment', deployment.id),
      sha: deployment.sha,
      ref: deployment.ref,
      task: deployment.task,
      payload: deployment.payload,
      original_environment: deployment.environment,
      environment: deployment.environment,
      description: deployment.description,
      creator: knownAccount(deployment.creator.login),
      created_at: deployment.created_at,
      updated_at: deployment.created_at,
      statuses_url: deployment.statuses_url,
      repository_url: `https://api.github.com/repos/${params.owner}/${params.repo}`,
      transient_environment: deployment.transient_environment,
      production_environment: deployment.production_environment,
    };
  }

  private presentDeploymentStatus(
    status: StubDeploymentStatus,
    deployment: StubDeployment,
    params: Params,
  ): Record<string, unknown> {
    const body: Record<string, unknown> = {
      url: `${deployment.statuses_url}/${status.id}`,
      id: status.id,
      node_id: nodeId('DeploymentStatus', status.id),
      state: status.state,
      creator: knownAccount(this.botLogin),
      description: status.description,
      environment: status.environment,
      // target_url is the deprecated name of log_url; GitHub fills both from whichever was given.
      target_url: status.target_url || deployment.url,
      created_at: status.created_at,
      updated_at: status.created_at,
      deployment_url: deployment.url,
      repository_url: `https://api.github.com/repos/${params.owner}/${params.repo}`,
    };
    if (status.environment_url) body.environment_url = status.environment_url;
    if (status.log_url) body.log_url = status.log_url;
    return body;
  }

  private presentComment(comment: StubComment, params: Params): Record<string, unknown> {
    const api = `https://api.github.com/repos/${params.owner}/${params.repo}`;
    return {
      id: comment.id,
      node_id: nodeId('IssueComment', comment.id),
      url: `${api}/issues/comments/${comment.id}`,
      html_url: comment.html_url,
      body: comment.body,
      user: knownAccount(comment.user.login),
      created_at: comment.created_at,
      updated_at: comment.updated_at,
      issue_url: `${api}/issues/${comment.issue_number}`,
      author_association: comment.user.type === 'Bot' ? 'NONE' : 'MEMBER',
    };
  }

  private presentCheckRun(run: StubCheckRun, id: number, params: Params): Record<string, unknown> {
    const api = `https://api.github.com/repos/${params.owner}/${params.repo}`;
    const html = run.html_url ?? `https://github.com/${params.owner}/${params.repo}/runs/${id}`;
    return {
      id,
      name: run.name,
      node_id: nodeId('CheckRun', id),
      head_sha: params.ref,
      external_id: '',
      url: `${api}/check-runs/${id}`,
      html_url: html,
      details_url: run.details_url ?? html,
      status: run.status,
      conclusion: run.conclusion,
      started_at: FIXED_TIME,
      completed_at: run.status === 'completed' ? FIXED_TIME : null,
      output: {
        title: null,
        summary: null,
        text: null,
        annotations_count: 0,
        annotations_url: `${api}/check-runs/${id}/annotations`,
      },
      check_suite: { id: 7000 + id },
      app: githubActionsApp(),
      pull_requests: [],
    };
  }
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function notFound(): Answer {
  return {
    status: 404,
    body: { message: 'Not Found', documentation_url: 'https://docs.github.com/rest', status: '404' },
  };
}

/** GitHub's 422 for a request it understood but refuses. */
function validationFailed(detail: string): Answer {
  return {
    status: 422,
    body: {
      message: `Invalid request.\n\n${detail}`,
      documentation_url: 'https://docs.github.com/rest',
      status: '422',
    },
  };
}

/** Starts a stub; stop it in an `after` hook. */
export async function startGitHubApiStub(): Promise<GitHubApiStub> {
  return new GitHubApiStub().start();
}
