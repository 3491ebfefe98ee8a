import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseDocument } from 'yaml';
import {
  pullRequest,
  pushBranch,
  pushTag,
  workflowDispatch,
  type GitHubEvent,
} from '../../actions/test/support/events.ts';
import {
  actTools,
  describeWorkflowRun,
  makeWorkingCopy,
  runWorkflow,
  stepOf,
  type ActTools,
  type WorkflowRun,
  type WorkingCopy,
} from '../harness/act.ts';
import { dockerMissing, startDockerEngine, type DockerEngine } from '../harness/docker.ts';
import { KubeCli } from '../harness/kube-cli.ts';
import { startRegistry, type Registry } from '../harness/registry.ts';
import { startServiceEntry, type ServiceEntry } from '../harness/service-entry.ts';
import { useCluster } from '../harness/suite.ts';
import { startGitHubApiStub, type GitHubApiStub } from '../../test/support/github-api-stub.ts';
import { skipUnlessAvailable } from '../../test/support/requires.ts';

/**
 * The workflow files themselves, run by nektos/act in host mode (e2e/harness/act.ts): every job, `run:` script and
 * project action executes for real on this machine, third-party actions are the project's stand-ins
 * (e2e/act/stand-ins), the GitHub API is its stand-in, images go to a local registry, and the deploys land on the
 * real-node cluster, where the smoke test requests the deployed release. One cluster for the whole file; the
 * scenarios run in order and build on each other (development is installed first, then upgraded and rolled back).
 *
 * What act does not model — environment protection rules and secrets, concurrency, permissions, on: filters — is
 * proven by the parser simulation in test/workflows (docs/e2e.md, "Workflows run by act").
 */

const RELEASE = 'airq';
const DEV = 'airq-development';
const PROD = 'airq-production';
/** act names a called workflow's job after the workflow: deploy.yml's deploy job runs deploy-environment.yml. */
const DEPLOY_DEV = 'deploy-environment/development';
const DEPLOY_PROD = 'deploy-environment/production';

/** Rewrites an environment file of the working copy: its URL is the entry the test serves, plus value overrides. */
function retargetEnvironment(dir: string, name: string, url: string, values: [string[], unknown][] = []): void {
  const file = path.join(dir, 'environments', `${name}.yaml`);
  const document = parseDocument(readFileSync(file, 'utf8'));
  document.setIn(['pipeline', 'url'], url);
  for (const [at, value] of values) document.setIn(['values', ...at], value);
  writeFileSync(file, document.toString());
}

/** The version the API reports through an environment's entry (/health/ready, not cached). */
async function servingVersion(entry: ServiceEntry): Promise<string> {
  const answer = await fetch(`${entry.url}/health/ready`);
  const body = (await answer.json()) as { version?: string };
  if (answer.status !== 200 || !body.version)
    throw new Error(`${entry.url}/health/ready answered ${answer.status}: ${JSON.stringify(body)}`);
  return body.version;
}

/**
 * The version the entry serves once `expected` is reached, or the last one seen after `timeoutMs`: after a rollout,
 * Varnish's kept-alive backend connections reach the replaced pods until they finish draining (their preStop pause).
 */
async function settledVersion(entry: ServiceEntry, expected: string, timeoutMs = 90_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let seen = await servingVersion(entry);
  while (seen !== expected && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    seen = await servingVersion(entry);
  }
  return seen;
}

describe('the workflow files, run by act against the GitHub stand-in and a real-node cluster', function () {
  this.timeout(900_000);
  let tools: ActTools;
  let engine: DockerEngine | undefined;
  let registry: Registry | undefined;
  let scratch: string;

  // Before the cluster starts (mocha runs hooks in order): the node must know the registry it pulls from.
  before(async function () {
    this.timeout(60 * 60_000);
    const found = actTools();
    skipUnlessAvailable(this, 'nektos/act with Node 24, buildx and a registry (e2e/tools/build.sh)', found.missing);
    skipUnlessAvailable(this, 'a Docker engine for the image job', dockerMissing());
    tools = found.tools!;
    scratch = mkdtempSync(path.join(tmpdir(), 'airq-e2e-act-'));
    engine = startDockerEngine();
    registry = await startRegistry(tools.registry, path.join(scratch, 'registry'));
  });
  // The one real node of the machine may be another suite's for a while (a flock): wait for it rather than fail.
  const suite = useCluster({
    realNode: true,
    registries: () => (registry ? [registry.host] : []),
    startTimeoutMs: 30 * 60_000,
  });

  let stub: GitHubApiStub;
  let cli: KubeCli;
  let copy: WorkingCopy;
  let devEntry: ServiceEntry;
  let prodEntry: ServiceEntry;
  let kubeconfig: string;

  before(async function () {
    stub = await startGitHubApiStub();
    cli = new KubeCli(suite.cluster.kubeconfig);
    kubeconfig = readFileSync(suite.cluster.kubeconfig, 'utf8');
    // The environment's public URL reaches its cache Service, as its ingress would.
    devEntry = await startServiceEntry(suite.cluster, { namespace: DEV, service: `${RELEASE}-cache`, port: 80 });
    prodEntry = await startServiceEntry(suite.cluster, { namespace: PROD, service: `${RELEASE}-cache`, port: 80 });
    copy = makeWorkingCopy(scratch);
    const base = copy.commit(
      'test environments: URLs served by this test; production sized for a 2-core node',
      (dir) => {
        retargetEnvironment(dir, 'development', devEntry.url);
        // Two cores for the whole node: smaller CPU requests than production's, or 5 replicas plus a surge do not fit.
        retargetEnvironment(dir, 'production', prodEntry.url, [
          [['api', 'resources'], { requests: { cpu: '50m', memory: '128Mi' }, limits: { memory: '384Mi' } }],
        ]);
      },
    );
    for (const branch of ['master', 'development']) copy.branch(branch, base);
  });
  after(async function () {
    this.timeout(120_000);
    await devEntry?.stop();
    await prodEntry?.stop();
    await stub?.stop();
    await registry?.stop();
    engine?.stop();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });
  beforeEach(() => stub?.reset());

  /** One act run of a workflow of the working copy at its HEAD. */
  function run(
    workflow: string,
    event: GitHubEvent,
    extra: { job?: string; inputs?: Record<string, string>; repo?: string } = {},
  ): Promise<WorkflowRun> {
    return runWorkflow({
      repo: extra.repo ?? copy.dir,
      workflow: `.github/workflows/${workflow}`,
      event,
      job: extra.job,
      inputs: extra.inputs,
      apiUrl: stub.url,
      secrets: { KUBECONFIG: kubeconfig },
      vars: { IMAGE_REGISTRY: registry!.host },
      env: { DOCKER_HOST: engine!.host },
      cacheDir: path.join(scratch, 'act'),
      tools,
    });
  }

  let firstVersion = '';
  let firstDigest = '';

  it('a push to development: resolve → image → deploy (helm upgrade, smoke test against the release) succeeds; the release, the deployment and the summaries are there', async function () {
    const sha = copy.head();
    const result = await run('deploy.yml', pushBranch('development', sha));
    const report = describeWorkflowRun(result);
    expect(result.exitCode, report).to.equal(0);
    expect(result.jobs, report).to.deep.include({
      'resolve environment': 'success',
      'build, verify and publish the image': 'success',
      [DEPLOY_DEV]: 'success',
    });
    for (const step of [
      'Build',
      'Run the image (migrate, seed, serve) and probe it',
      'Publish the image that passed the smoke run',
      'helm upgrade',
      'Smoke test',
    ]) {
      const job = step === 'helm upgrade' || step === 'Smoke test' ? DEPLOY_DEV : 'build, verify and publish the image';
      expect(stepOf(result, job, step).result, report).to.equal('success');
    }

    // The release runs the image the run pushed, by digest, and reports the version resolve gave it.
    const history = await cli.history(RELEASE, DEV);
    expect(
      history.map((entry) => [entry.revision, entry.status]),
      report,
    ).to.deep.equal([[1, 'deployed']]);
    // What the API reports through the environment's URL; helm-deploy names it (and the digest) in the revision.
    firstVersion = await servingVersion(devEntry);
    expect(firstVersion).to.equal(`0.0.0-development.g${sha.slice(0, 7)}`);
    expect(history[0]!.description).to.include(firstVersion);
    const images = await cli.deploymentImages(`${RELEASE}-api`, DEV);
    expect(images).to.have.length(1);
    expect(images[0]).to.match(new RegExp(`^${registry!.host}/airq-org/airq/api@sha256:[0-9a-f]{64}$`));
    firstDigest = images[0]!.split('@')[1]!;

    // The GitHub stand-in recorded the deployment helm-deploy created, and its statuses.
    expect(
      stub.deployments.map((d) => [d.environment, d.sha]),
      report,
    ).to.deep.equal([['development', sha]]);
    expect(stub.deploymentStatuses.map((s) => s.state)).to.deep.equal(['in_progress', 'success']);
    expect(stub.deploymentStatuses.at(-1)?.environment_url).to.equal(devEntry.url);

    // Job summaries: the image job's table and the deploy job's helm and smoke-test reports.
    const summaries = Object.entries(result.summaries)
      .map(([job, texts]) => `${job}: ${texts.join('\n')}`)
      .join('\n');
    expect(summaries, report).to.include('### Image');
    expect(summaries).to.include(firstDigest);
    expect(summaries).to.match(/Smoke test of http:\/\/127\.0\.0\.1:\d+ passed/);
  });

  it('rollback.yml dispatched with an environment, a revision and a reason: that revision runs again and its smoke test passes with its version', async function () {
    // A second release of development to roll back from.
    const sha = copy.commit('a second development release', (dir) =>
      writeFileSync(path.join(dir, 'CHANGES.e2e'), 'second\n'),
    );
    copy.branch('development', sha);
    const second = await run('deploy.yml', pushBranch('development', sha));
    expect(second.exitCode, describeWorkflowRun(second)).to.equal(0);
    const before = await cli.history(RELEASE, DEV);
    expect(before.map((entry) => entry.revision)).to.deep.equal([1, 2]);
    expect(await settledVersion(devEntry, `0.0.0-development.g${sha.slice(0, 7)}`)).to.equal(
      `0.0.0-development.g${sha.slice(0, 7)}`,
    );
    stub.reset();

    copy.checkout('master');
    const result = await run(
      'rollback.yml',
      workflowDispatch(
        'master',
        { environment: 'development', revision: '1', reason: 'e2e: back to the first release' },
        copy.head(),
      ),
      {
        inputs: { environment: 'development', revision: '1', reason: 'e2e: back to the first release' },
      },
    );
    const report = describeWorkflowRun(result);
    expect(result.exitCode, report).to.equal(0);
    expect(stepOf(result, 'rollback development', 'Smoke test').result, report).to.equal('success');
    const after = await cli.history(RELEASE, DEV);
    expect(after.at(-1), report).to.include({ revision: 3, status: 'deployed' });
    expect(await settledVersion(devEntry, firstVersion)).to.equal(firstVersion);
    expect(await cli.deploymentImages(`${RELEASE}-api`, DEV)).to.deep.equal([
      `${registry!.host}/airq-org/airq/api@${firstDigest}`,
    ]);
    expect(stub.deploymentStatuses.map((s) => s.state)).to.deep.equal(['in_progress', 'success']);
    // The reason is on the rollback's deployment and in the job summary.
    expect(stub.deployments.map((d) => d.description)).to.deep.equal([
      `Rollback to revision 1 (${firstVersion}): e2e: back to the first release`,
    ]);
    expect(result.summaries['rollback development']?.join('\n'), report).to.include('e2e: back to the first release');
  });

  it('a release whose smoke test fails after a good upgrade: the run fails, the previous revision serves again, the deployment is marked failed', async function () {
    copy.checkout('development');
    const serving = await servingVersion(devEntry);
    const revisions = (await cli.history(RELEASE, DEV)).length;
    // A chart change that upgrades cleanly (every pod ready) but whose cache refuses the data the smoke test asks for.
    const sha = copy.commit('cache: refuse /air_quality (a release the smoke test must stop)', (dir) => {
      const file = path.join(dir, 'helm', 'airq', 'files', 'default.vcl');
      const text = readFileSync(file, 'utf8');
      const anchor = '    if (req.method == "BAN") {';
      if (!text.includes(anchor))
        throw new Error(`${file} no longer contains ${JSON.stringify(anchor)}; update this scenario`);
      writeFileSync(
        file,
        text.replace(
          anchor,
          `    if (req.url ~ "^/air_quality") {\n        return (synth(503, "refused"));\n    }\n\n${anchor}`,
        ),
      );
    });
    copy.branch('development', sha);
    const result = await run('deploy.yml', pushBranch('development', sha));
    const report = describeWorkflowRun(result);
    expect(result.exitCode, report).to.not.equal(0);
    expect(stepOf(result, DEPLOY_DEV, 'helm upgrade').result, report).to.equal('success');
    expect(stepOf(result, DEPLOY_DEV, 'Smoke test').result, report).to.equal('failure');
    expect(stepOf(result, DEPLOY_DEV, 'Roll back the release that failed its smoke test').result, report).to.equal(
      'success',
    );

    // Upgraded (one revision), then rolled back (another), to what served before.
    const history = await cli.history(RELEASE, DEV);
    expect(history.length, report).to.equal(revisions + 2);
    expect(history.at(-2)!.description).to.include(`0.0.0-development.g${sha.slice(0, 7)}`);
    expect(history.at(-1)!.status).to.equal('deployed');
    expect(await settledVersion(devEntry, serving)).to.equal(serving);
    const answer = await fetch(`${devEntry.url}/air_quality?limit=1`);
    expect(answer.status).to.equal(200);
    const upgraded = stub.deployments.find((d) => d.sha === sha && d.environment === 'development');
    expect(upgraded, report).to.not.equal(undefined);
    expect(stub.deploymentStatuses.filter((s) => s.deployment_id === upgraded!.id).at(-1)?.state).to.equal('failure');
  });

  describe('a sabotaged workflow fails the run at the step that depends on the break, and deploys nothing', function () {
    /** A push to development of a commit whose deploy.yml has `from` replaced by `to`. */
    async function sabotaged(from: string, to: string): Promise<WorkflowRun> {
      copy.checkout('development');
      const sha = copy.commit(`sabotage: ${to}`, (dir) => {
        const file = path.join(dir, '.github', 'workflows', 'deploy.yml');
        const text = readFileSync(file, 'utf8');
        if (!text.includes(from))
          throw new Error(`${file} no longer contains ${JSON.stringify(from)}; update the sabotage`);
        writeFileSync(file, text.replace(from, to));
      });
      try {
        return await run('deploy.yml', pushBranch('development', sha));
      } finally {
        copy.checkout('development');
      }
    }

    it('a broken run: script (a bad substitution in "Image names")', async function () {
      const revisions = (await cli.history(RELEASE, DEV)).length;
      const result = await sabotaged(
        'repository="$REGISTRY/${GITHUB_REPOSITORY,,}/api"',
        'repository="$REGISTRY/${GITHUB_REPOSITORY,,/api"',
      );
      const report = describeWorkflowRun(result);
      expect(result.exitCode, report).to.not.equal(0);
      expect(stepOf(result, 'build, verify and publish the image', 'Image names').result, report).to.equal('failure');
      expect(result.jobs, report).to.deep.include({
        'resolve environment': 'success',
        'build, verify and publish the image': 'failure',
      });
      expect(
        result.steps.filter((s) => s.job === DEPLOY_DEV),
        report,
      ).to.deep.equal([]);
      expect(stub.deployments).to.deep.equal([]);
      expect(await cli.history(RELEASE, DEV)).to.have.length(revisions);
    });

    it('a renamed step output (resolve’s image-tag read as image_tag): the build refuses the empty tag', async function () {
      const result = await sabotaged(
        'image-tag: ${{ steps.resolve.outputs.image-tag }}',
        'image-tag: ${{ steps.resolve.outputs.image_tag }}',
      );
      const report = describeWorkflowRun(result);
      expect(result.exitCode, report).to.not.equal(0);
      expect(stepOf(result, 'build, verify and publish the image', 'Image names').result, report).to.equal('success');
      expect(stepOf(result, 'build, verify and publish the image', 'Build').result, report).to.equal('failure');
      expect(result.log).to.match(/invalid reference format/);
      expect(
        result.steps.filter((s) => s.job === DEPLOY_DEV),
        report,
      ).to.deep.equal([]);
      expect(stub.deployments).to.deep.equal([]);
    });
  });

  it('a pull request into development: ci.yml’s deploy-plan job posts one plan comment, and a second run updates it', async function () {
    copy.checkout('development');
    const baseSha = copy.head();
    const headSha = copy.commit('two API replicas in development', (dir) => {
      const file = path.join(dir, 'environments', 'development.yaml');
      const document = parseDocument(readFileSync(file, 'utf8'));
      document.setIn(['values', 'api', 'replicas'], 2);
      writeFileSync(file, document.toString());
    });
    copy.branch('feature/replicas', headSha);
    const event = (action: string) =>
      pullRequest({ base: 'development', head: 'feature/replicas', baseSha, headSha, mergeSha: headSha, action });

    const first = await run('ci.yml', event('opened'), { job: 'plan' });
    expect(first.exitCode, describeWorkflowRun(first)).to.equal(0);
    expect(first.jobs).to.deep.include({ 'resolve target environment': 'success', 'deploy plan': 'success' });
    expect(stub.comments, describeWorkflowRun(first)).to.have.length(1);
    const posted = stub.comments[0]!;
    expect(posted.issue_number).to.equal(42);
    expect(posted.body).to.include('development');
    expect(posted.body).to.match(/replicas/);

    const mark = stub.requests.length;
    const second = await run('ci.yml', event('synchronize'), { job: 'plan' });
    expect(second.exitCode, describeWorkflowRun(second)).to.equal(0);
    expect(stub.comments, 'still one comment').to.have.length(1);
    const operations = stub.requests.slice(mark).map((r) => r.operation);
    expect(operations).to.include('issues/update-comment');
    expect(operations).to.not.include('issues/create-comment');
  });
  describe('production: a release tag on master', function () {
    let releaseSha = '';

    it('a push to master verifies the release candidate and deploys nothing', async function () {
      copy.checkout('master');
      releaseSha = copy.head();
      const result = await run('deploy.yml', pushBranch('master', releaseSha));
      const report = describeWorkflowRun(result);
      expect(result.exitCode, report).to.equal(0);
      expect(result.jobs, report).to.deep.include({
        'resolve environment': 'success',
        'build, verify and publish the image': 'success',
      });
      expect(
        result.steps.filter((s) => s.step === 'helm upgrade'),
        report,
      ).to.deep.equal([]);
      expect(stub.deployments).to.deep.equal([]);
    });

    it('tag v1.0.0: the image is promoted, the release gate passes, 5 replicas are ready and the smoke test sees 5 instances', async function () {
      const required = (
        parseDocument(readFileSync(path.join(copy.dir, 'environments', 'production.yaml'), 'utf8')).getIn([
          'pipeline',
          'requiredChecks',
        ]) as { toJSON(): string[] }
      ).toJSON();
      stub.checkRuns.set(
        releaseSha,
        required.map((name) => ({ name, status: 'completed' as const, conclusion: 'success' as const })),
      );
      const result = await run('deploy.yml', pushTag('v1.0.0', releaseSha));
      const report = describeWorkflowRun(result);
      expect(result.exitCode, report).to.equal(0);
      // A release never builds (act logs no result for a skipped step): it promotes the candidate master verified.
      expect(
        result.steps.filter((s) => s.step === 'Build'),
        report,
      ).to.deep.equal([]);
      expect(result.log).to.include(':1.0.0');
      for (const step of ['Release gate', 'helm upgrade', 'Smoke test'])
        expect(stepOf(result, DEPLOY_PROD, step).result, report).to.equal('success');
      const history = await cli.history(RELEASE, PROD);
      expect(
        history.map((entry) => [entry.revision, entry.status]),
        report,
      ).to.deep.equal([[1, 'deployed']]);
      expect(await servingVersion(prodEntry)).to.equal('1.0.0');
      const deployment = await cli.kubectlJson<{ status: { readyReplicas?: number } }>([
        'get',
        'deployment',
        `${RELEASE}-api`,
        '-n',
        PROD,
      ]);
      expect(deployment.status.readyReplicas).to.equal(5);
      expect(stub.deployments.map((d) => [d.environment, d.production_environment])).to.deep.equal([
        ['production', true],
      ]);
      expect(Object.values(result.summaries).flat().join('\n')).to.match(/at least 5 instances answer/);
    });

    it('tag v1.0.1 on a commit whose required checks failed: the release gate refuses it inside the run, nothing is upgraded', async function () {
      stub.checkRuns.set(releaseSha, [{ name: 'lint, typecheck, tests', status: 'completed', conclusion: 'failure' }]);
      const result = await run('deploy.yml', pushTag('v1.0.1', releaseSha));
      const report = describeWorkflowRun(result);
      expect(result.exitCode, report).to.not.equal(0);
      expect(stepOf(result, DEPLOY_PROD, 'Release gate').result, report).to.equal('failure');
      expect(
        result.steps.filter((s) => s.step === 'helm upgrade'),
        report,
      ).to.deep.equal([]);
      expect(result.log).to.match(/lint, typecheck, tests/);
      expect(await cli.history(RELEASE, PROD)).to.have.length(1);
      expect(await servingVersion(prodEntry)).to.equal('1.0.0');
      expect(stub.deployments).to.deep.equal([]);
    });
  });
});
