import { expect } from 'chai';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  dataProblem,
  instancesProblem,
  readinessProblem,
  tallyInstances,
  type Observation,
} from '../src/smoke-test/judge.ts';
import { errors, runAction, type ActionRun, type RunActionOptions } from './support/run-action.ts';

interface FakeApiOptions {
  /** Instance ids answering in turn, one per connection (like pods behind a Service). */
  instances: string[];
  version: string;
  /** Readiness answers 503 for this many requests first. */
  notReadyFor?: number;
  /** Readiness answers 200 with this version for this many requests before `version` (an old pod still serving). */
  oldVersionFor?: number;
  /** After the first ready answer, this many readiness answers come from an old pod still draining (version 0.9.0). */
  drainingAfterReady?: number;
  /** The last of `instances` answers only after this many requests (a replica the load balancer routes to late). */
  lastJoinsAfter?: number;
  data?: unknown[];
  /** These instances answer without the X-Instance-Id header. */
  anonymous?: boolean;
}

/** A local HTTP server that behaves like several replicas of the API behind a load balancer. */
async function startFakeApi(
  options: FakeApiOptions,
): Promise<{ url: string; server: Server; hits: Record<string, number> }> {
  const hits: Record<string, number> = {};
  let readinessRequests = 0;
  let next = 0;
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    hits[path] = (hits[path] ?? 0) + 1;
    const total = Object.values(hits).reduce((sum, count) => sum + count, 0);
    const serving =
      options.lastJoinsAfter !== undefined && total <= options.lastJoinsAfter
        ? options.instances.slice(0, -1)
        : options.instances;
    const instance = serving[next++ % serving.length] ?? 'solo';
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (!options.anonymous) headers['x-instance-id'] = instance;
    if (path === '/health/ready') {
      readinessRequests++;
      if (readinessRequests <= (options.notReadyFor ?? 0)) {
        res.writeHead(503, { ...headers, 'content-type': 'application/problem+json' });
        res.end(
          JSON.stringify({
            type: 'about:blank',
            title: 'Service Unavailable',
            status: 503,
            detail: 'database is not migrated',
          }),
        );
        return;
      }
      const firstReady = (options.notReadyFor ?? 0) + (options.oldVersionFor ?? 0) + 1;
      const draining =
        readinessRequests > firstReady && readinessRequests <= firstReady + (options.drainingAfterReady ?? 0);
      const old = readinessRequests < firstReady || draining;
      if (draining) headers['x-instance-id'] = 'old-pod';
      res.writeHead(200, headers);
      res.end(
        JSON.stringify({
          status: 'ready',
          version: old ? '0.9.0' : options.version,
          instance: draining ? 'old-pod' : instance,
          dataset: 'abcdef012345',
        }),
      );
      return;
    }
    if (path === '/air_quality') {
      res.writeHead(200, headers);
      res.end(
        JSON.stringify({
          data: options.data ?? [{ station: 'Torino', no2: 41.5, measuredAt: '2026-11-27T05:00:00Z' }],
          next: null,
        }),
      );
      return;
    }
    res.writeHead(404, headers);
    res.end('{}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server, hits };
}

function observation(status: number | undefined, body: unknown, instance?: string): Observation {
  return {
    url: 'http://x/health/ready',
    at: 1500,
    status,
    instance,
    body: typeof body === 'string' ? body : JSON.stringify(body),
    error: status === undefined ? 'ECONNREFUSED: connect ECONNREFUSED' : undefined,
  };
}

describe('smoke-test', function () {
  describe('judging answers', function () {
    it('waits until readiness answers ready with the expected version', function () {
      const table: Array<[Observation, string, string | undefined]> = [
        [observation(200, { status: 'ready', version: '1.2.3' }), '1.2.3', undefined],
        [observation(200, { status: 'ready', version: '1.2.3' }), '', undefined],
        [observation(200, { status: 'ready', version: '1.2.2' }), '1.2.3', 'version is "1.2.2", expected "1.2.3"'],
        [observation(503, { title: 'Service Unavailable' }), '1.2.3', 'HTTP 503'],
        [observation(200, 'not json'), '', 'the body is not a JSON object'],
        [observation(200, { status: 'starting' }), '', 'status is "starting", not "ready"'],
        [observation(undefined, ''), '', 'no response: ECONNREFUSED: connect ECONNREFUSED'],
      ];
      expect(table.map(([o, expected]) => readinessProblem(o, expected))).to.deep.equal(
        table.map(([, , problem]) => problem),
      );
    });

    it('accepts only a non-empty data array from /air_quality', function () {
      expect(dataProblem(observation(200, { data: [{}] }))).to.equal(undefined);
      expect(dataProblem(observation(200, { data: [] }))).to.match(/empty/);
      expect(dataProblem(observation(200, { items: [1] }))).to.match(/no "data" array/);
      expect(dataProblem(observation(500, {}))).to.equal('HTTP 500');
    });

    it('counts distinct instances and reports answers that were not right', function () {
      const ready = (instance?: string, version = '1.0.0') => observation(200, { status: 'ready', version }, instance);
      const two = tallyInstances([ready('a'), ready('b'), ready('a')], '1.0.0');
      expect([...two.instances.keys()]).to.deep.equal(['a', 'b']);
      expect(instancesProblem(two, 2, 3)).to.equal(undefined);
      expect(instancesProblem(two, 3, 3)).to.equal(
        'only 2 distinct X-Instance-Id (a, b) answered 3 requests; expected at least 3',
      );
      const mixed = tallyInstances([ready('a'), ready('b', '0.9.0'), ready(undefined)], '1.0.0');
      expect(instancesProblem(mixed, 1, 3)).to.match(
        /2 of 3 readiness answers were not right:\n.*instance b.*expected "1\.0\.0"\)\n.*\(no X-Instance-Id header\)/,
      );
    });
  });

  describe('the bundled action, against a local server playing several API replicas', function () {
    this.timeout(60_000);
    const servers: Server[] = [];
    const runs: ActionRun[] = [];
    after(async function () {
      for (const run of runs) run.cleanup();
      await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
    });

    async function smoke(
      api: FakeApiOptions,
      inputs: RunActionOptions['inputs'],
    ): Promise<{ run: ActionRun; hits: Record<string, number> }> {
      const { url, server, hits } = await startFakeApi(api);
      servers.push(server);
      const run = await runAction('smoke-test', { inputs: { url, interval: '50ms', timeout: '10s', ...inputs } });
      runs.push(run);
      return { run, hits };
    }

    it('passes when the expected version is ready, data is served and enough instances answer', async function () {
      const { run, hits } = await smoke(
        { instances: ['pod-a', 'pod-b', 'pod-c'], version: '1.2.3' },
        { 'expected-version': '1.2.3', 'min-instances': 3 },
      );
      expect(run.exitCode, run.stdout).to.equal(0);
      expect(run.outputs).to.deep.equal({ version: '1.2.3', instances: '3' });
      expect(hits['/air_quality']).to.equal(1);
      // One readiness poll, then it stops counting as soon as the third instance answered.
      expect(hits['/health/ready']).to.equal(4);
      expect(run.summary)
        .to.include('Smoke test of')
        .and.include('passed')
        .and.include('pod-a (1.2.3), pod-b (1.2.3), pod-c (1.2.3)');
    });

    it('retries with backoff through a slow start until the service is ready', async function () {
      const { run, hits } = await smoke(
        { instances: ['pod-a'], version: '2.0.0', notReadyFor: 4 },
        { 'expected-version': '2.0.0' },
      );
      expect(run.exitCode, run.stdout).to.equal(0);
      expect(hits['/health/ready']).to.equal(6);
      expect(run.stdout).to.include('readiness: attempt 4: HTTP 503');
    });

    it('waits out an old version still answering, then passes', async function () {
      const { run } = await smoke(
        { instances: ['pod-a'], version: '2.0.0', oldVersionFor: 2 },
        { 'expected-version': '2.0.0' },
      );
      expect(run.exitCode, run.stdout).to.equal(0);
      expect(run.stdout).to.include('version is "0.9.0", expected "2.0.0"');
    });

    it('samples the instances again while an old pod still drains after readiness passed (a rollback settling)', async function () {
      const { run, hits } = await smoke(
        { instances: ['pod-a', 'pod-b'], version: '1.2.0', drainingAfterReady: 3 },
        { 'expected-version': '1.2.0', 'min-instances': 2 },
      );
      expect(run.exitCode, run.stdout).to.equal(0);
      expect(run.outputs).to.deep.equal({ version: '1.2.0', instances: '2' });
      expect(run.stdout)
        .to.include('instances: sample 1:')
        .and.include('from instance old-pod')
        .and.include('(version is "0.9.0", expected "1.2.0"); the rollout is still converging');
      // Readiness once, three draining answers each ending a sample, then pod-a and pod-b.
      expect(hits['/health/ready']).to.equal(6);
      expect(run.summary).to.include('pod-a (1.2.0), pod-b (1.2.0)').and.not.include('old-pod');
    });

    it('fails when an old version still answers at the deadline, reporting those answers', async function () {
      const { run } = await smoke(
        { instances: ['pod-a', 'pod-b'], version: '1.2.0', drainingAfterReady: 1_000_000 },
        { 'expected-version': '1.2.0', 'min-instances': 2, timeout: '1s', interval: '100ms', 'instance-requests': 5 },
      );
      expect(run.exitCode).to.equal(1);
      const message = errors(run);
      expect(message).to.match(/failed: instances: 5 of 5 readiness answers were not right:/);
      expect(message).to.include('from instance old-pod').and.include('(version is "0.9.0", expected "1.2.0")');
      expect(run.stdout).to.include('the rollout is still converging');
      expect(run.outputs).to.deep.equal({ version: '1.2.0', instances: '0' });
    });

    it('fails when the version never matches, with a report of what it saw', async function () {
      const { run } = await smoke(
        { instances: ['pod-a', 'pod-b'], version: '1.0.0' },
        { 'expected-version': '1.0.1', timeout: '1s', interval: '100ms' },
      );
      expect(run.exitCode).to.equal(1);
      const message = errors(run);
      expect(message).to.match(
        /smoke test of http:\/\/127\.0\.0\.1:\d+ failed: not ready with version 1\.0\.1: version is "1\.0\.0", expected "1\.0\.1"/,
      );
      expect(message).to.match(
        /What it saw \(\d+ requests within 1s\):\n {2}\d+\.\ds http:\/\/127\.0\.0\.1:\d+\/health\/ready: HTTP 200 from instance pod-/,
      );
      expect(run.outputs).to.deep.equal({});
      expect(run.summary).to.include('failed');
    });

    it('fails when nothing listens at the URL, saying the connection was refused', async function () {
      const run = await runAction('smoke-test', {
        inputs: { url: 'http://127.0.0.1:9', timeout: '500ms', interval: '100ms' },
      });
      runs.push(run);
      expect(run.exitCode).to.equal(1);
      expect(errors(run)).to.match(/not ready: no response: ECONNREFUSED/);
    });

    it('fails when /air_quality returns no data', async function () {
      const { run } = await smoke(
        { instances: ['pod-a'], version: '1.0.0', data: [] },
        { timeout: '1s', interval: '100ms' },
      );
      expect(run.exitCode).to.equal(1);
      expect(errors(run)).to.match(/\/air_quality returned no data: the "data" array is empty/);
      expect(run.outputs).to.deep.equal({ version: '1.0.0' });
    });

    it('counts again while fewer instances answer than required (a replica routed to late), then passes', async function () {
      const { run } = await smoke(
        { instances: ['pod-a', 'pod-b', 'pod-c'], version: '1.0.0', lastJoinsAfter: 30 },
        { 'min-instances': 3, 'instance-requests': 12 },
      );
      expect(run.exitCode, run.stdout).to.equal(0);
      expect(run.outputs).to.deep.equal({ version: '1.0.0', instances: '3' });
      expect(run.stdout).to.include(
        'instances: sample 1: only 2 distinct X-Instance-Id (pod-a, pod-b) answered 12 requests; expected at least 3; the rollout is still converging',
      );
    });

    it('fails when fewer distinct instances answer than required until the deadline, each count bounded by instance-requests', async function () {
      const { run, hits } = await smoke(
        { instances: ['pod-a', 'pod-b'], version: '1.0.0' },
        { 'min-instances': 3, 'instance-requests': 12, timeout: '1s', interval: '100ms' },
      );
      expect(run.exitCode).to.equal(1);
      expect(errors(run)).to.include(
        'only 2 distinct X-Instance-Id (pod-a, pod-b) answered 12 requests; expected at least 3',
      );
      // One readiness poll and one data request, then whole counts of 12.
      expect(((hits['/health/ready'] ?? 0) - 1) % 12).to.equal(0);
      expect(hits['/health/ready']).to.be.greaterThan(13);
      expect(run.outputs).to.deep.equal({ version: '1.0.0', instances: '2' });
    });

    it("expects as many distinct instances as the environment runs replicas: production's 5", async function () {
      const four = await smoke(
        { instances: ['pod-a', 'pod-b', 'pod-c', 'pod-d'], version: '1.2.3' },
        { 'expected-version': '1.2.3', environment: 'production', 'instance-requests': 20, timeout: '1s' },
      );
      expect(four.run.exitCode).to.equal(1);
      expect(four.run.stdout).to.include('Expecting 5 instances (environments/production.yaml: api.replicas 5)');
      expect(errors(four.run)).to.include(
        'only 4 distinct X-Instance-Id (pod-a, pod-b, pod-c, pod-d) answered 20 requests; expected at least 5',
      );
      const five = await smoke(
        { instances: ['pod-a', 'pod-b', 'pod-c', 'pod-d', 'pod-e'], version: '1.2.3' },
        { 'expected-version': '1.2.3', environment: 'production' },
      );
      expect(five.run.exitCode, five.run.stdout).to.equal(0);
      expect(five.run.outputs.instances).to.equal('5');
      // Staging scales with an HPA from 1: one instance is enough there.
      const staging = await smoke({ instances: ['pod-a'], version: '1.2.3' }, { environment: 'staging' });
      expect(staging.run.exitCode, staging.run.stdout).to.equal(0);
      expect(staging.run.stdout).to.include(
        'Expecting 1 instances (environments/staging.yaml: api.autoscaling.minReplicas 1)',
      );
    });

    it('fails when the answers carry no X-Instance-Id', async function () {
      const { run } = await smoke(
        { instances: ['pod-a'], version: '1.0.0', anonymous: true },
        { 'instance-requests': 3 },
      );
      expect(run.exitCode).to.equal(1);
      expect(errors(run)).to.match(/3 of 3 readiness answers were not right:[\s\S]*no X-Instance-Id header/);
    });

    it('refuses malformed inputs, naming them', async function () {
      const bad = await runAction('smoke-test', { inputs: { url: 'http://127.0.0.1:9', timeout: '5 minutes' } });
      const noUrl = await runAction('smoke-test', { inputs: {} });
      const notUrl = await runAction('smoke-test', { inputs: { url: 'airq.example.com' } });
      runs.push(bad, noUrl, notUrl);
      expect(errors(bad)).to.equal('input "timeout": "5 minutes" is not a duration like 5m or 300s');
      expect(errors(noUrl)).to.match(/input "url" is required/);
      expect(errors(notUrl)).to.match(/input "url": "airq\.example\.com" is not an http\(s\) URL/);
      expect([bad.exitCode, noUrl.exitCode, notUrl.exitCode]).to.deep.equal([1, 1, 1]);
    });
  });
});
