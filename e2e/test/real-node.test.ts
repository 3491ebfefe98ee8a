import { expect } from 'chai';
import { request } from 'node:http';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { pushBranch, pushTag, type GitHubEvent } from '../../actions/test/support/events.ts';
import { errors, runAction, type ActionRun } from '../../actions/test/support/run-action.ts';
import { REPO_ROOT } from '../../test/support/repo-root.ts';
import { loadEnvironments } from '../../actions/src/lib/environments.ts';
import { splitRef } from '../harness/images.ts';
import { KubeCli } from '../harness/kube-cli.ts';
import { useCluster } from '../harness/suite.ts';
import { startGitHubApiStub, type GitHubApiStub } from '../../test/support/github-api-stub.ts';
import { makeReleaseRepository } from '../../test/support/release-repository.ts';

/**
 * The chart's pods on a real kubelet (containerd, a CNI bridge, kube-proxy, CoreDNS; e2e/harness/node.ts), driven by
 * the bundled actions exactly as the workflows call them: resolve-environment → helm-deploy → smoke-test. Nothing is
 * simulated: the seed hook is a Job whose container loads the CSV into the PostgreSQL pod, the smoke test reaches the
 * deployed Services through kube-proxy. The tests share one cluster and run in order.
 */

const RELEASE = 'airq';
const DEV = 'airq-development';
const PROD = 'airq-production';
const SHA = {
  first: '1111111111111111111111111111111111111111',
  broken: '3333333333333333333333333333333333333333',
};

function describeRun(run: ActionRun): string {
  return `exit ${run.exitCode}\n--- stdout\n${run.stdout}\n--- stderr\n${run.stderr}`;
}

interface HttpAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One GET on a fresh connection (so kube-proxy picks an endpoint for each), with a timeout. */
function get(url: string, timeoutMs = 5_000): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url}: no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Requests `url` every `everyMs` until stopped; records each answer's status and version, and every failure. */
function startProber(url: string, everyMs: number) {
  const answers: { at: number; status: number; version?: string }[] = [];
  const failures: string[] = [];
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const at = Date.now();
      try {
        const answer = await get(url, 3_000);
        const version = (JSON.parse(answer.body) as { version?: string }).version;
        answers.push({ at, status: answer.status, version });
        if (answer.status !== 200)
          failures.push(`${new Date(at).toISOString()} HTTP ${answer.status}: ${answer.body.slice(0, 200)}`);
      } catch (error) {
        failures.push(`${new Date(at).toISOString()} ${(error as Error).message}`);
      }
      await sleep(Math.max(0, everyMs - (Date.now() - at)));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      return { answers, failures, versions: [...new Set(answers.map((a) => a.version))] };
    },
  };
}

describe('the chart on a real kubelet, through the bundled actions', function () {
  this.timeout(600_000);
  const suite = useCluster({ realNode: true });
  let stub: GitHubApiStub;
  let cli: KubeCli;
  let scratch: string;
  let imageValues: string;
  let api: { repository: string; tag: string };
  /** The version development runs after the first scenario. */
  let devVersion = '';

  /** How many readings development's PostgreSQL holds, asked inside its pod (psql's unaligned output). */
  const measurementRows = async () =>
    (
      await cli.exec('kubectl', [
        'exec',
        '-n',
        DEV,
        `${RELEASE}-postgresql-0`,
        '--',
        'sh',
        '-c',
        'psql -h 127.0.0.1 -U "$POSTGRES_USER" -d "$POSTGRES_DB" -tAc "SELECT count(*) FROM measurements"',
      ])
    ).trim();

  before(async function () {
    stub = await startGitHubApiStub();
    cli = new KubeCli(suite.cluster.kubeconfig);
    scratch = mkdtempSync(path.join(tmpdir(), 'airq-e2e-node-'));
    api = splitRef(suite.images.api.ref);
    // The images e2e/images/build.sh made, exactly as referenced in images.json (nothing can be pulled here).
    imageValues = path.join(scratch, 'images.values.yaml');
    writeFileSync(
      imageValues,
      stringify({
        cache: { image: { ...splitRef(suite.images.varnish.ref), pullPolicy: 'Never' } },
        postgresql: { image: { ...splitRef(suite.images.postgres.ref), pullPolicy: 'Never' } },
        image: { pullPolicy: 'Never' },
      }),
    );
  });
  after(async function () {
    await stub?.stop();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });
  beforeEach(() => stub.reset());

  /** resolve-environment for the event, then helm-deploy with what it decided — the deploy workflow's steps. */
  async function deploy(
    event: GitHubEvent,
    overrides: Record<string, string> = {},
  ): Promise<{ resolved: ActionRun; deployed: ActionRun }> {
    const env = { PATH: cli.env.PATH, KUBECONFIG: '/nonexistent/kubeconfig-must-come-from-the-input' };
    const resolved = await runAction('resolve-environment', { event, apiUrl: stub.url, env });
    expect(resolved.exitCode, describeRun(resolved)).to.equal(0);
    expect(resolved.outputs.deploy, resolved.outputs.reason).to.equal('true');
    const deployed = await runAction('helm-deploy', {
      event,
      apiUrl: stub.url,
      env,
      timeoutMs: 400_000,
      inputs: {
        environment: resolved.outputs.environment,
        'image-repository': api.repository,
        'image-tag': api.tag,
        version: resolved.outputs.version,
        'environment-url': resolved.outputs.url,
        kubeconfig: readFileSync(suite.cluster.kubeconfig, 'utf8'),
        'values-file': imageValues,
        'github-token': 'ghs_e2e',
        timeout: '300s',
        ...overrides,
      },
    });
    resolved.cleanup();
    deployed.cleanup();
    return { resolved, deployed };
  }

  /** smoke-test against a URL, as the deploy workflow's smoke job runs it. */
  async function smoke(url: string, inputs: Record<string, string>): Promise<ActionRun> {
    const run = await runAction('smoke-test', {
      apiUrl: stub.url,
      env: { PATH: cli.env.PATH },
      timeoutMs: 200_000,
      inputs: { url, timeout: '120s', interval: '1s', ...inputs },
    });
    run.cleanup();
    return run;
  }

  const clusterIp = async (service: string, namespace: string) =>
    (await cli.kubectlJson<{ spec: { clusterIP: string } }>(['get', 'service', service, '-n', namespace])).spec
      .clusterIP;

  it('development: helm-deploy installs the chart with the real images, the seed hook loads the bundled CSV into PostgreSQL, and smoke-test passes through the cache Service', async function () {
    const started = Date.now();
    const { resolved, deployed } = await deploy(pushBranch('development', SHA.first));
    expect(deployed.exitCode, describeRun(deployed)).to.equal(0);
    expect(deployed.outputs).to.include({ status: 'deployed', revision: '1', 'previous-revision': '' });
    console.log(`      (development installed in ${((Date.now() - started) / 1000).toFixed(1)} s)`);
    expect((await cli.history(RELEASE, DEV)).map((entry) => [entry.revision, entry.status])).to.deep.equal([
      [1, 'deployed'],
    ]);

    // Every object of the rendered release exists in the cluster.
    const objects = await cli.manifestObjects(RELEASE, DEV);
    expect(objects).to.include.members([
      `Deployment/${RELEASE}-api`,
      `Deployment/${RELEASE}-cache`,
      `StatefulSet/${RELEASE}-postgresql`,
    ]);
    const found = await cli.kubectlJson<{ items: { kind: string; metadata: { name: string } }[] }>([
      'get',
      ...objects,
      '-n',
      DEV,
    ]);
    expect(found.items.map((item) => `${item.kind}/${item.metadata.name}`).sort()).to.deep.equal([...objects].sort());

    // The kubeconfig came in as a secret input: its token is masked, and never printed in the clear.
    const token = /token: (\S+)/.exec(readFileSync(suite.cluster.kubeconfig, 'utf8'))?.[1] ?? '';
    expect(token).not.to.equal('');
    expect(deployed.masks.some((mask) => mask.includes(token))).to.equal(true);
    expect(
      deployed.stdout
        .split('\n')
        .filter((line) => !line.startsWith('::add-mask::'))
        .join('\n'),
    ).not.to.include(token);

    // Every container of the release really runs the image it names, and is ready.
    const pods = await cli.kubectlJson<{
      items: {
        metadata: { name: string };
        status: {
          phase: string;
          containerStatuses?: { name: string; ready: boolean; image: string; imageID: string }[];
        };
      }[];
    }>(['get', 'pods', '-n', DEV, '-l', `app.kubernetes.io/instance=${RELEASE}`]);
    const running = pods.items.filter((pod) => pod.status.phase === 'Running');
    const containers = running.flatMap((pod) => pod.status.containerStatuses ?? []);
    expect(containers.filter((c) => !c.ready || !c.imageID).map((c) => c.name)).to.deep.equal([]);
    expect(containers.map((c) => c.name).sort()).to.deep.equal(['api', 'postgresql', 'varnish']);

    // The seed hook Job ran in a real container: the bundled 6,720 rows are in the PostgreSQL pod's database.
    const status = JSON.parse(await cli.exec('helm', ['status', RELEASE, '-n', DEV, '-o', 'json'])) as {
      hooks: { kind: string; last_run?: { phase?: string } }[];
    };
    expect(status.hooks.find((hook) => hook.kind === 'Job')?.last_run?.phase).to.equal('Succeeded');
    expect(await measurementRows()).to.equal('960');
    devVersion = resolved.outputs.version!;

    // smoke-test against the cache Service (what the environment URL reaches), as the smoke job runs it.
    const cacheUrl = `http://${await clusterIp(`${RELEASE}-cache`, DEV)}`;
    const run = await smoke(cacheUrl, { 'expected-version': resolved.outputs.version! });
    expect(run.exitCode, describeRun(run)).to.equal(0);
    expect(run.outputs).to.include({ version: resolved.outputs.version, instances: '1' });

    // Through Varnish: the first request for a page is a miss, the second a hit.
    const first = await get(`${cacheUrl}/air_quality?limit=3&station=aq_jaen`);
    const second = await get(`${cacheUrl}/air_quality?limit=3&station=aq_jaen`);
    expect([first.status, first.headers['x-cache']]).to.deep.equal([200, 'MISS']);
    expect([second.status, second.headers['x-cache']]).to.deep.equal([200, 'HIT']);
    expect(second.body).to.equal(first.body);
    expect(stub.deployments[0]).to.include({ environment: 'development', ref: SHA.first });
    expect(stub.deploymentStatuses.map((s) => s.state)).to.deep.equal(['in_progress', 'success']);
    expect(stub.deploymentStatuses[1]?.environment_url).to.equal('https://airq-dev.example.com');
  });
  it('passes `helm test`: its pod really requests readiness and data through the cache Service', async function () {
    const output = await cli.exec('helm', ['test', RELEASE, '-n', DEV, '--timeout', '120s']);
    expect(output).to.match(/Phase:\s+Succeeded/);
  });

  it("enforces the chart's NetworkPolicies: a stray pod reaches neither PostgreSQL, the API nor the cache; the ingress controller's namespace reaches the cache and the API, never PostgreSQL", async function () {
    const address = async (service: string, namespace = DEV) => {
      const found = await cli.kubectlJson<{ spec: { clusterIP: string; ports: { port: number }[] } }>([
        'get',
        'service',
        service,
        '-n',
        namespace,
      ]);
      return `${found.spec.clusterIP}:${found.spec.ports[0]!.port}`;
    };
    const targets = {
      postgresql: await address(`${RELEASE}-postgresql-primary`),
      api: await address(`${RELEASE}-api`),
      cache: await address(`${RELEASE}-cache`),
      // Not a pod, so no policy applies: shows the probe's own network works.
      'kubernetes API': await address('kubernetes', 'default'),
    };
    await cli.exec('kubectl', ['create', 'namespace', 'ingress-nginx']);
    const [stray, ingress] = await Promise.all([
      probeReachability(DEV, 'stray-pod', targets),
      probeReachability('ingress-nginx', 'ingress-controller', targets),
    ]);
    expect(stray).to.deep.equal({
      postgresql: 'blocked',
      api: 'blocked',
      cache: 'blocked',
      'kubernetes API': 'connected',
    });
    expect(ingress).to.deep.equal({
      postgresql: 'blocked',
      api: 'connected',
      cache: 'connected',
      'kubernetes API': 'connected',
    });
    await cli.exec('kubectl', ['delete', 'namespace', 'ingress-nginx', '--wait=false']);
  });

  /**
   * Runs a pod (the API image's node) in `namespace` that opens a TCP connection to each target (`ip:port`) and
   * reports `connected`, `blocked` (refused or unanswered: kube-router rejects what no policy admits, with an ICMP
   * port unreachable or by dropping it) or another error's code. What is blocked is tried again for 15 s, the time a
   * new pod may take to be admitted.
   */
  async function probeReachability(
    namespace: string,
    name: string,
    targets: Record<string, string>,
  ): Promise<Record<string, string>> {
    const script = [
      `const targets = ${JSON.stringify(targets)};`,
      "const net = require('node:net');",
      'const once = (host, port) => new Promise((resolve) => {',
      '  const socket = net.connect({ host, port: Number(port), timeout: 4000 });',
      "  socket.once('connect', () => { socket.destroy(); resolve('connected'); });",
      "  socket.once('timeout', () => { socket.destroy(); resolve('blocked'); });",
      "  socket.once('error', (error) => resolve(error.code === 'ECONNREFUSED' ? 'blocked' : error.code || error.message));",
      '});',
      // A new pod is admitted by the enforcer a moment after it starts: retry what is refused for 15 s.
      'const tryOne = async ([name, target]) => {',
      "  const [host, port] = target.split(':');",
      '  const deadline = Date.now() + 15000;',
      '  for (;;) {',
      '    const outcome = await once(host, port);',
      "    if (outcome === 'connected' || Date.now() > deadline) return [name, outcome];",
      '    await new Promise((resolve) => setTimeout(resolve, 1000));',
      '  }',
      '};',
      'Promise.all(Object.entries(targets).map(tryOne)).then((r) => console.log(JSON.stringify(Object.fromEntries(r))));',
    ].join('\n');
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace, labels: { 'airq-e2e/probe': name } },
      spec: {
        restartPolicy: 'Never',
        automountServiceAccountToken: false,
        containers: [
          {
            name: 'probe',
            image: suite.images.api.ref,
            imagePullPolicy: 'Never',
            command: ['node', '-e', script],
          },
        ],
      },
    };
    await cli.exec('kubectl', ['apply', '-f', '-'], JSON.stringify(pod));
    await cli.exec('kubectl', [
      'wait',
      '-n',
      namespace,
      `pod/${name}`,
      '--for=jsonpath={.status.phase}=Succeeded',
      '--timeout=90s',
    ]);
    const output = await cli.exec('kubectl', ['logs', '-n', namespace, name]);
    await cli.exec('kubectl', ['delete', 'pod', '-n', namespace, name, '--wait=false']);
    return JSON.parse(output) as Record<string, string>;
  }

  it('refuses, before applying anything, a postgresql.persistence.size change, and says how to resize', async function () {
    const before = await cli.history(RELEASE, DEV);
    const resized = path.join(scratch, 'resized.values.yaml');
    const values = parse(readFileSync(imageValues, 'utf8')) as { postgresql: Record<string, unknown> };
    writeFileSync(
      resized,
      stringify({ ...values, postgresql: { ...values.postgresql, persistence: { size: '3Gi' } } }),
    );
    const { deployed } = await deploy(pushBranch('development', SHA.first), { 'values-file': resized });
    expect(deployed.exitCode, describeRun(deployed)).to.equal(1);
    const message = errors(deployed);
    expect(message).to.include(
      'postgresql.persistence.size: the StatefulSet airq-postgresql in namespace airq-development has 1Gi volumes',
    );
    expect(message).to.include(`kubectl -n ${DEV} patch pvc data-airq-postgresql-0`);
    expect(message).to.include(`kubectl -n ${DEV} delete statefulset airq-postgresql --cascade=orphan`);
    // Nothing was applied: no new revision, the StatefulSet still asks for 1Gi.
    expect(await cli.history(RELEASE, DEV)).to.deep.equal(before);
    const statefulSet = await cli.kubectlJson<{
      spec: { volumeClaimTemplates: { spec: { resources: { requests: { storage: string } } } }[] };
    }>(['get', 'statefulset', `${RELEASE}-postgresql`, '-n', DEV]);
    expect(statefulSet.spec.volumeClaimTemplates[0]?.spec.resources.requests.storage).to.equal('1Gi');
  });

  it('a release whose pods never become ready: helm-deploy fails and rolls back by itself, a prober every 100 ms sees no failure and only the old version, the deployment status is failure', async function () {
    const before = await cli.history(RELEASE, DEV);
    // Liveness, through the API Service: which pods serve and their version, independent of the database's own
    // health (its outages are the next scenario's subject).
    const prober = startProber(`http://${await clusterIp(`${RELEASE}-api`, DEV)}:8080/health/live`, 100);
    const started = Date.now();
    // An image tag that exists nowhere: with pullPolicy Never the new pods wait forever.
    const { deployed } = await deploy(pushBranch('development', SHA.broken), {
      'image-tag': 'e2e-never-ready',
      timeout: '40s',
    });
    await sleep(2_000);
    const seen = await prober.stop();
    console.log(
      `      (broken release rolled back in ${((Date.now() - started) / 1000).toFixed(1)} s; prober: ${seen.answers.length} requests, ${seen.failures.length} failed)`,
    );
    expect(deployed.exitCode, describeRun(deployed)).to.equal(1);
    expect(deployed.outputs).to.include({
      status: 'rolled-back',
      'previous-revision': String(before.at(-1)!.revision),
    });
    expect(errors(deployed)).to.match(/rolled back automatically/);
    expect(seen.answers.length).to.be.greaterThan(100);
    if (seen.failures.length) {
      // Whether the database was restarted by a template change (it must not be, when only the API changes).
      for (const { revision } of await cli.history(RELEASE, DEV)) {
        const manifest = await cli.exec('helm', [
          'get',
          'manifest',
          RELEASE,
          '-n',
          DEV,
          '--revision',
          String(revision),
        ]);
        const statefulSet = manifest.split('\n---').find((doc) => doc.includes('kind: StatefulSet')) ?? '';
        console.log(`----- revision ${revision}: the StatefulSet\n${statefulSet}`);
      }
      console.log(await cli.exec('kubectl', ['get', 'events', '-n', DEV, '--sort-by=.lastTimestamp']));
      console.log(await cli.exec('kubectl', ['get', 'pods', '-n', DEV, '-o', 'wide']));
    }
    expect(seen.failures.slice(0, 10), `${seen.failures.length} failed requests`).to.deep.equal([]);
    expect(seen.versions).to.deep.equal([devVersion]);
    expect(stub.deploymentStatuses.map((s) => s.state)).to.deep.equal(['in_progress', 'failure']);
    expect(await cli.deploymentImages(`${RELEASE}-api`, DEV)).to.deep.equal([suite.images.api.ref]);
  });

  it('the PostgreSQL pod is deleted: the API answers 503 with Retry-After (never 500) and is unready while it is gone, recovers within 5 s of the database, and the data is intact', async function () {
    const pods = await cli.kubectlJson<{
      items: { status: { podIP: string; conditions?: { type: string; status: string }[] } }[];
    }>(['get', 'pods', '-n', DEV, '-l', 'app.kubernetes.io/component=api', '--field-selector', 'status.phase=Running']);
    const apiIp = pods.items.find((pod) =>
      pod.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
    )?.status.podIP;
    const base = `http://${apiIp}:8080`;
    const datasetBefore = (JSON.parse((await get(`${base}/health/ready`)).body) as { dataset: string }).dataset;
    const databaseReady = async () => {
      const { body } = await suite.cluster.api<{
        metadata: { deletionTimestamp?: string };
        status: { conditions?: { type: string; status: string }[] };
      }>('GET', `/api/v1/namespaces/${DEV}/pods/${RELEASE}-postgresql-0`, undefined, [404]);
      return (
        !body?.metadata?.deletionTimestamp &&
        Boolean(body?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'))
      );
    };

    const statuses: { at: number; ready: number; data: number; retryAfter?: string; error?: string }[] = [];
    // A request that gets no answer counts as status 0, with its error. The API gives up connecting after 5 s.
    const status = (url: string) =>
      get(url, 8_000).then(
        (answer) => answer,
        (error: Error) => ({ status: 0, headers: {} as HttpAnswer['headers'], body: error.message }),
      );
    let stopped = false;
    let page = 0;
    const poll = (async () => {
      while (!stopped) {
        const at = Date.now();
        page += 1;
        const [ready, data] = await Promise.all([
          status(`${base}/health/ready`),
          status(`${base}/air_quality?limit=${(page % 900) + 1}`),
        ]);
        const error =
          [ready, data]
            .filter((answer) => answer.status === 0)
            .map((answer) => answer.body)
            .join('; ') || undefined;
        statuses.push({
          at,
          ready: ready.status,
          data: data.status,
          retryAfter: data.headers['retry-after'] as string | undefined,
          error,
        });
        await sleep(Math.max(0, 200 - (Date.now() - at)));
      }
    })();

    const deleted = Date.now();
    await cli.exec('kubectl', ['delete', 'pod', `${RELEASE}-postgresql-0`, '-n', DEV, '--wait=false']);
    // Wait for the old pod to go, then for the new one to be Ready.
    while (await databaseReady()) await sleep(100);
    while (!(await databaseReady())) {
      if (Date.now() - deleted > 180_000) throw new Error('the PostgreSQL pod did not come back within 3 minutes');
      await sleep(100);
    }
    const databaseBack = Date.now();
    let apiBack = 0;
    while (!apiBack && Date.now() - databaseBack < 60_000) {
      const last = statuses.at(-1);
      if (last && last.at > databaseBack && last.ready === 200 && last.data === 200) apiBack = last.at;
      await sleep(100);
    }
    stopped = true;
    await poll;
    const outage = statuses.filter((s) => s.ready !== 200 || s.data !== 200);
    console.log(
      `      (database back ${((databaseBack - deleted) / 1000).toFixed(1)} s after the delete, API ${((apiBack - databaseBack) / 1000).toFixed(1)} s after that; ${statuses.length} polls, ${outage.length} during the outage)`,
    );
    expect(
      statuses.filter((s) => s.error).map((s) => `${new Date(s.at).toISOString()} ${s.error}`),
      'requests without an answer',
    ).to.deep.equal([]);
    expect(outage.length, 'the outage was seen').to.be.greaterThan(0);
    expect([...new Set(statuses.map((s) => s.data))].sort()).to.deep.equal([200, 503]);
    expect([...new Set(statuses.map((s) => s.ready))].sort()).to.deep.equal([200, 503]);
    expect(statuses.filter((s) => s.data === 503 && s.retryAfter !== '5')).to.deep.equal([]);
    expect(apiBack, 'the API answered again after the database came back').to.be.greaterThan(0);
    expect(apiBack - databaseBack).to.be.lessThan(5_000);

    // Kubernetes also saw the API unready, and ready again.
    await cli.exec('kubectl', [
      'wait',
      '--for=condition=Ready',
      'pod',
      '-l',
      'app.kubernetes.io/component=api',
      '-n',
      DEV,
      '--timeout=60s',
    ]);
    const after = JSON.parse((await get(`${base}/health/ready`)).body) as { dataset: string };
    expect(after.dataset).to.equal(datasetBefore);
    expect(await measurementRows()).to.equal('960');
  });

  describe('production', function () {
    let repository: ReturnType<typeof makeReleaseRepository>;
    let cacheUrl = '';
    const env = () => ({ PATH: cli.env.PATH, KUBECONFIG: suite.cluster.kubeconfig });

    before(function () {
      repository = makeReleaseRepository(scratch);
    });

    /** release-gate for a tag, as the workflow runs it, after CI's required jobs (environments/production.yaml) reported green on the commit. */
    async function gate(tag: string, sha: string): Promise<ActionRun> {
      const required = loadEnvironments(path.join(REPO_ROOT, 'environments')).get('production').pipeline.requiredChecks;
      stub.checkRuns.set(
        sha,
        required.map((name) => ({ name, status: 'completed' as const, conclusion: 'success' as const })),
      );
      const gated = await runAction('release-gate', {
        event: pushTag(tag, sha),
        apiUrl: stub.url,
        env: env(),
        inputs: { 'repository-path': repository.clone, 'github-token': 'ghs_e2e' },
      });
      gated.cleanup();
      return gated;
    }

    /** The deploy workflow's production job: resolve, release gate, helm-deploy, then the smoke job. */
    async function release(tag: string, sha: string, values: Record<string, unknown> = {}): Promise<ActionRun> {
      const event = pushTag(tag, sha);
      const resolved = await runAction('resolve-environment', { event, apiUrl: stub.url, env: env() });
      resolved.cleanup();
      expect(resolved.outputs, describeRun(resolved)).to.include({ environment: 'production', deploy: 'true' });
      const gated = await gate(tag, sha);
      expect(gated.exitCode, describeRun(gated)).to.equal(0);
      const file = path.join(scratch, `production-${tag}.values.yaml`);
      const base = parse(readFileSync(imageValues, 'utf8')) as Record<string, unknown>;
      // Two cores for the whole node: smaller CPU requests than production's, or 5 replicas plus a surge do not fit.
      writeFileSync(
        file,
        stringify({
          ...base,
          api: { resources: { requests: { cpu: '50m', memory: '128Mi' }, limits: { memory: '384Mi' } } },
          ...values,
        }),
      );
      return deploy(event, { 'values-file': file }).then(({ deployed }) => deployed);
    }

    it('production: the release gate, then 5 API replicas; smoke-test sees 5 instances; misses spread over all of them; the second identical request is a hit', async function () {
      const deployed = await release('v1.2.0', repository.onMaster.old);
      expect(deployed.exitCode, describeRun(deployed)).to.equal(0);
      cacheUrl = `http://${await clusterIp(`${RELEASE}-cache`, PROD)}`;
      const run = await smoke(cacheUrl, { 'expected-version': '1.2.0', 'min-instances': '5' });
      expect(run.exitCode, describeRun(run)).to.equal(0);
      expect(run.outputs).to.include({ version: '1.2.0', instances: '5' });

      // 400 different pages, each a miss: Varnish fetches each from the API Service; count the replicas answering.
      const counts = new Map<string, number>();
      for (let index = 0; index < 400; index++) {
        const answer = await get(`${cacheUrl}/air_quality?limit=${index + 1}&order=asc`);
        expect(answer.headers['x-cache']).to.equal('MISS');
        const instance = String(answer.headers['x-instance-id']);
        counts.set(instance, (counts.get(instance) ?? 0) + 1);
      }
      const spread = [...counts.values()].sort((a, b) => b - a);
      console.log(`      (400 misses through Varnish over the 5 replicas: ${spread.join('/')})`);
      expect(spread).to.have.length(5);
      // A fair share is 80; reused backend connections gave 331/46/21/2/0.
      expect(spread.at(-1)).to.be.greaterThan(40);

      const first = await get(`${cacheUrl}/air_quality?limit=2&station=aq_jaen`);
      const second = await get(`${cacheUrl}/air_quality?limit=2&station=aq_jaen`);
      expect([first.headers['x-cache'], second.headers['x-cache']]).to.deep.equal(['MISS', 'HIT']);
      const memory = suite.cluster.memory();
      const total = Object.values(memory).reduce((sum, mib) => sum + mib, 0);
      console.log(
        `      (memory with development and production running, MiB: ${Object.entries(memory)
          .map(([name, mib]) => `${name} ${mib}`)
          .join(', ')}; total ${total})`,
      );
    });

    it('an upgrade that seeds a different CSV bans the cache, and the new dataset version is served', async function () {
      const before = await get(`${cacheUrl}/air_quality?limit=2&station=aq_jaen`);
      expect(before.headers['x-cache']).to.equal('HIT');
      const oldVersion = before.headers['x-dataset-version'];
      const deployed = await release('v1.3.0', repository.onMaster.head, {
        seed: { file: 'db/data/generated-week.csv' },
      });
      expect(deployed.exitCode, describeRun(deployed)).to.equal(0);
      const after = await get(`${cacheUrl}/air_quality?limit=2&station=aq_jaen`);
      expect(after.status).to.equal(200);
      expect(after.headers['x-dataset-version']).to.not.equal(oldVersion);
      expect(after.headers['x-cache']).to.equal('MISS');
      const run = await smoke(cacheUrl, { 'expected-version': '1.3.0', 'min-instances': '5' });
      expect(run.exitCode, describeRun(run)).to.equal(0);
    });

    it('helm-rollback returns to the previous good revision, and smoke-test passes with its version', async function () {
      const run = await runAction('helm-rollback', {
        event: pushTag('v1.3.0', repository.onMaster.head),
        apiUrl: stub.url,
        env: env(),
        timeoutMs: 400_000,
        inputs: { environment: 'production', reason: 'e2e: back to 1.2.0', 'github-token': 'ghs_e2e', timeout: '300s' },
      });
      run.cleanup();
      expect(run.exitCode, describeRun(run)).to.equal(0);
      expect(run.outputs).to.include({ 'from-revision': '2', 'to-revision': '1', revision: '3' });
      const smoked = await smoke(cacheUrl, { 'expected-version': '1.2.0', 'min-instances': '5' });
      expect(smoked.exitCode, describeRun(smoked)).to.equal(0);
      expect(smoked.outputs).to.include({ version: '1.2.0', instances: '5' });
    });

    it('release-gate refuses a downgrade below the version production runs, read from the Helm release, and the release is untouched', async function () {
      const before = await cli.history(RELEASE, PROD);
      const run = await gate('v1.1.0', repository.onMaster.old);
      expect(run.exitCode, describeRun(run)).to.equal(1);
      expect(run.outputs).to.include({ version: '1.1.0', 'current-version': '1.2.0' });
      expect(errors(run)).to.include('1.1.0 is older than 1.2.0 running in production');
      expect(errors(run)).not.to.include('is not on master');
      expect(await cli.history(RELEASE, PROD)).to.deep.equal(before);
    });
  });
});
