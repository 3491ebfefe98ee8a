import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pushBranch, type GitHubEvent } from '../../actions/test/support/events.ts';
import { errors, runAction, type ActionRun } from '../../actions/test/support/run-action.ts';
import { KubeCli } from '../harness/kube-cli.ts';
import { NEVER_READY_TAG } from '../harness/stages.ts';
import { useCluster } from '../harness/suite.ts';
import { startGitHubApiStub, type GitHubApiStub } from '../../test/support/github-api-stub.ts';

/**
 * The development pipeline against a real control plane, step by step as the deploy and rollback workflows run it:
 * resolve-environment → helm-deploy on each push, helm-rollback by hand, `helm test`. The tests share one release
 * and run in order; each starts from the history the previous one left.
 */

const IMAGE_REPOSITORY = 'ghcr.io/airq-org/airq';
const RELEASE = 'airq';
const NAMESPACE = 'airq-development';
// What the deploy workflow passes: the digest the image job pushed (the image that passed the container smoke run).
const DIGEST = `sha256:${'2d'.repeat(32)}`;
const SHA = {
  first: '1111111111111111111111111111111111111111',
  second: '2222222222222222222222222222222222222222',
  fourth: '4444444444444444444444444444444444444444',
};

/** What every run of an action needs in this suite: helm on PATH, the cluster's kubeconfig, the GitHub stand-in. */
interface Runner {
  stub: GitHubApiStub;
  cli: KubeCli;
  /** Values for a throwaway cluster: no PersistentVolume provisioner here, so the database uses an emptyDir. */
  e2eValuesFile: string;
}

function describeRun(run: ActionRun): string {
  return `exit ${run.exitCode}\n--- stdout\n${run.stdout}\n--- stderr\n${run.stderr}`;
}

describe('development on a real control plane: deploy, automatic rollback, manual rollback, helm test', function () {
  this.timeout(240_000);
  const suite = useCluster();
  const runner = {} as Runner;
  let scratch: string;

  before(async function () {
    runner.stub = await startGitHubApiStub();
    runner.cli = new KubeCli(suite.cluster.kubeconfig);
    scratch = mkdtempSync(path.join(tmpdir(), 'airq-e2e-deploy-'));
    runner.e2eValuesFile = path.join(scratch, 'e2e.values.yaml');
    writeFileSync(runner.e2eValuesFile, 'postgresql:\n  persistence:\n    enabled: false\n');
  });
  after(async function () {
    await runner.stub?.stop();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });
  beforeEach(() => runner.stub.reset());

  /** resolve-environment for the event, then helm-deploy with what it decided — the deploy workflow's two steps. */
  async function pushAndDeploy(event: GitHubEvent, overrides: Record<string, string> = {}): Promise<{ resolved: ActionRun; deployed: ActionRun }> {
    const env = { PATH: runner.cli.env.PATH, KUBECONFIG: '/nonexistent/kubeconfig-must-come-from-the-input' };
    const resolved = await runAction('resolve-environment', { event, apiUrl: runner.stub.url, env });
    expect(resolved.exitCode, describeRun(resolved)).to.equal(0);
    expect(resolved.outputs.deploy, resolved.outputs.reason).to.equal('true');
    const deployed = await runAction('helm-deploy', {
      event,
      apiUrl: runner.stub.url,
      env,
      timeoutMs: 180_000,
      inputs: {
        environment: resolved.outputs.environment,
        'image-repository': IMAGE_REPOSITORY,
        'image-tag': resolved.outputs['image-tag'],
        version: resolved.outputs.version,
        'environment-url': resolved.outputs.url,
        // As the workflow passes secrets.KUBECONFIG: the content, not a path.
        kubeconfig: readFileSync(suite.cluster.kubeconfig, 'utf8'),
        'values-file': runner.e2eValuesFile,
        'github-token': 'ghs_e2e',
        timeout: '60s',
        ...overrides,
      },
    });
    resolved.cleanup();
    deployed.cleanup();
    return { resolved, deployed };
  }

  async function rollback(inputs: Record<string, string>): Promise<ActionRun> {
    const run = await runAction('helm-rollback', {
      event: pushBranch('development', SHA.fourth),
      apiUrl: runner.stub.url,
      // The ambient KUBECONFIG this time, as a self-hosted runner would have it.
      env: { PATH: runner.cli.env.PATH, KUBECONFIG: suite.cluster.kubeconfig },
      timeoutMs: 180_000,
      inputs: { environment: 'development', reason: 'e2e: restore a known-good release', 'github-token': 'ghs_e2e', timeout: '60s', ...inputs },
    });
    run.cleanup();
    return run;
  }

  const apiImage = async () => (await runner.cli.deploymentImages(`${RELEASE}-api`, NAMESPACE))[0];

  it('installs revision 1 on a push to development: every resource of the chart exists, the seed hook Job completed, the deployment is recorded as successful', async function () {
    const { resolved, deployed } = await pushAndDeploy(pushBranch('development', SHA.first));
    expect(resolved.outputs).to.include({ environment: 'development', namespace: NAMESPACE, release: RELEASE, 'image-tag': SHA.first });
    expect(deployed.exitCode, describeRun(deployed)).to.equal(0);
    expect(deployed.outputs).to.include({ status: 'deployed', revision: '1', 'previous-revision': '' });

    const history = await runner.cli.history(RELEASE, NAMESPACE);
    expect(history.map((entry) => [entry.revision, entry.status])).to.deep.equal([[1, 'deployed']]);

    // Every object of the rendered release exists in the cluster.
    const objects = await runner.cli.manifestObjects(RELEASE, NAMESPACE);
    expect(objects).to.include.members([`Deployment/${RELEASE}-api`, `Deployment/${RELEASE}-cache`, `StatefulSet/${RELEASE}-postgresql`]);
    const found = await runner.cli.kubectlJson<{ items: { kind: string; metadata: { name: string } }[] }>([
      'get', ...objects, '-n', NAMESPACE,
    ]);
    expect(found.items.map((item) => `${item.kind}/${item.metadata.name}`).sort()).to.deep.equal([...objects].sort());

    // The seed runs as a post-install hook Job, deleted once it succeeds: helm's record and the Job's event remain.
    const status = JSON.parse(await runner.cli.exec('helm', ['status', RELEASE, '-n', NAMESPACE, '-o', 'json'])) as {
      hooks: { name: string; kind: string; last_run?: { phase?: string } }[];
    };
    const seed = status.hooks.find((hook) => hook.kind === 'Job');
    expect(seed?.name).to.equal(`${RELEASE}-seed`);
    expect(seed?.last_run?.phase).to.equal('Succeeded');
    const events = await runner.cli.kubectlJson<{ items: { reason: string }[] }>([
      'get', 'events', '-n', NAMESPACE, '--field-selector', `involvedObject.kind=Job,involvedObject.name=${RELEASE}-seed`,
    ]);
    expect(events.items.map((event) => event.reason)).to.include('Completed');

    expect(await apiImage()).to.equal(`${IMAGE_REPOSITORY}:${SHA.first}`);
    expect(runner.stub.deployments).to.have.length(1);
    expect(runner.stub.deployments[0]).to.include({ environment: 'development', ref: SHA.first });
    expect(runner.stub.deploymentStatuses.map((s) => s.state)).to.deep.equal(['in_progress', 'success']);
    expect(runner.stub.deploymentStatuses[1]?.environment_url).to.equal('https://airq-dev.example.com');
    // The kubeconfig came in as a secret input: its token is masked, and never printed in the clear.
    const token = /token: (\S+)/.exec(readFileSync(suite.cluster.kubeconfig, 'utf8'))?.[1] ?? '';
    expect(deployed.masks.some((mask) => mask.includes(token))).to.equal(true);
    const printed = deployed.stdout.split('\n').filter((line) => !line.startsWith('::add-mask::')).join('\n');
    expect(printed).not.to.include(token);
  });

  it('upgrades to revision 2 by digest on the next push: the pods run repository@sha256:…, and helm history, the release values and the deployment name it', async function () {
    const { deployed } = await pushAndDeploy(pushBranch('development', SHA.second), { 'image-digest': DIGEST });
    expect(deployed.exitCode, describeRun(deployed)).to.equal(0);
    expect(deployed.outputs).to.include({ status: 'deployed', revision: '2', 'previous-revision': '1', image: `${IMAGE_REPOSITORY}@${DIGEST}` });
    expect(await apiImage()).to.equal(`${IMAGE_REPOSITORY}@${DIGEST}`);
    const history = await runner.cli.history(RELEASE, NAMESPACE);
    expect(history.map((entry) => [entry.revision, entry.status])).to.deep.equal([[1, 'superseded'], [2, 'deployed']]);
    expect(history[1]?.description).to.include(`(${IMAGE_REPOSITORY}@${DIGEST}) from commit ${SHA.second}`);
    const values = JSON.parse(await runner.cli.exec('helm', ['get', 'values', RELEASE, '-n', NAMESPACE, '--revision', '2', '-o', 'json'])) as { image?: { digest?: string } };
    expect(values.image?.digest).to.equal(DIGEST);
    expect(runner.stub.deployments[0]?.payload).to.deep.include({ image: `${IMAGE_REPOSITORY}@${DIGEST}`, digest: DIGEST });
    expect(deployed.summary).to.include(DIGEST);
    expect(runner.stub.deploymentStatuses.map((s) => s.state)).to.deep.equal(['in_progress', 'success']);
  });

  it('fails a release that never becomes ready with a clear message and rolls it back to revision 2 by itself', async function () {
    const started = Date.now();
    const { deployed } = await pushAndDeploy(pushBranch('development', SHA.fourth), { 'image-tag': NEVER_READY_TAG, timeout: '15s' });
    expect(deployed.exitCode, describeRun(deployed)).to.equal(1);
    expect(deployed.outputs).to.include({ status: 'rolled-back', 'previous-revision': '2', revision: '4' });
    const message = errors(deployed);
    expect(message).to.match(/^helm-deploy of release "airq" in namespace "airq-development" to development failed: /);
    expect(message).to.include('the release was rolled back automatically to revision 2 (now revision 4)');
    console.log(`      (broken release detected and rolled back in ${((Date.now() - started) / 1000).toFixed(1)} s)`);

    const history = await runner.cli.history(RELEASE, NAMESPACE);
    expect(history.map((entry) => [entry.revision, entry.status])).to.deep.equal([
      [1, 'superseded'], [2, 'superseded'], [3, 'failed'], [4, 'deployed'],
    ]);
    expect(history[3]?.description).to.equal('Rollback to 2');
    expect(await apiImage()).to.equal(`${IMAGE_REPOSITORY}@${DIGEST}`);
    expect(runner.stub.deploymentStatuses.map((s) => s.state)).to.deep.equal(['in_progress', 'failure']);
    expect(runner.stub.deploymentStatuses[1]?.description).to.match(/^helm-deploy of release "airq" .* failed/);
  });

  it('rolls back, without a revision, to the last successfully deployed revision before the current one', async function () {
    // Revision 5: a good release on top, so the rollback has something to undo.
    const { deployed } = await pushAndDeploy(pushBranch('development', SHA.fourth));
    expect(deployed.outputs, describeRun(deployed)).to.include({ status: 'deployed', revision: '5' });
    expect(await apiImage()).to.equal(`${IMAGE_REPOSITORY}:${SHA.fourth}`);
    runner.stub.reset();

    const run = await rollback({});
    expect(run.exitCode, describeRun(run)).to.equal(0);
    // Revision 4 (the automatic rollback's copy of 2) is the last good one before 5.
    expect(run.outputs).to.include({ 'from-revision': '5', 'to-revision': '4', revision: '6' });
    expect(await apiImage()).to.equal(`${IMAGE_REPOSITORY}@${DIGEST}`);
    const history = await runner.cli.history(RELEASE, NAMESPACE);
    expect(history.at(-1)).to.include({ revision: 6, status: 'deployed' });
    expect(runner.stub.deploymentStatuses.map((s) => s.state)).to.deep.equal(['in_progress', 'success']);
    expect(run.summary).to.include('e2e: restore a known-good release');
  });

  it('rolls back to the revision asked for', async function () {
    const run = await rollback({ revision: '1' });
    expect(run.exitCode, describeRun(run)).to.equal(0);
    expect(run.outputs).to.include({ 'from-revision': '6', 'to-revision': '1', revision: '7' });
    expect(await apiImage()).to.equal(`${IMAGE_REPOSITORY}:${SHA.first}`);
    const history = await runner.cli.history(RELEASE, NAMESPACE);
    expect(history.at(-1)).to.include({ revision: 7, status: 'deployed' });
  });

  for (const refusal of [
    { what: 'an unknown revision', inputs: { revision: '99' }, message: /revision 99 of release "airq" does not exist/ },
    { what: 'a failed revision', inputs: { revision: '3' }, message: /revision 3 of release "airq" was never successfully deployed \(failed/ },
    { what: 'the current revision', inputs: { revision: '7' }, message: /revision 7 is the current revision of release "airq"/ },
  ]) {
    it(`refuses to roll back to ${refusal.what} and leaves the release untouched`, async function () {
      const before = await runner.cli.history(RELEASE, NAMESPACE);
      const image = await apiImage();
      const run = await rollback(refusal.inputs);
      expect(run.exitCode, describeRun(run)).to.equal(1);
      expect(errors(run)).to.match(refusal.message);
      expect(await runner.cli.history(RELEASE, NAMESPACE)).to.deep.equal(before);
      expect(await apiImage()).to.equal(image);
    });
  }

  it('refuses to roll back a release with nothing to roll back to, and one that does not exist, changing nothing', async function () {
    const single = 'airq-e2e-single';
    const { deployed } = await pushAndDeploy(pushBranch('development', SHA.first), { namespace: single });
    expect(deployed.outputs, describeRun(deployed)).to.include({ status: 'deployed', revision: '1' });
    const before = await runner.cli.history(RELEASE, single);

    const nothing = await rollback({ namespace: single });
    expect(nothing.exitCode, describeRun(nothing)).to.equal(1);
    expect(errors(nothing)).to.match(/release "airq" has nothing to roll back to: no revision before the current 1 \(deployed\)/);
    expect(await runner.cli.history(RELEASE, single)).to.deep.equal(before);

    const missing = await rollback({ namespace: 'airq-e2e-empty' });
    expect(missing.exitCode, describeRun(missing)).to.equal(1);
    expect(errors(missing)).to.match(/release "airq" not found in namespace "airq-e2e-empty": nothing to roll back/);
    expect(await runner.cli.history(RELEASE, 'airq-e2e-empty')).to.deep.equal([]);
  });

  it('rolls back a deploy whose smoke test fails, as the deploy job does: the previous revision serves again and the deployment is marked failed', async function () {
    const ns = 'airq-e2e-smoke';
    const first = await pushAndDeploy(pushBranch('development', SHA.first), { namespace: ns });
    expect(first.deployed.outputs, describeRun(first.deployed)).to.include({ status: 'deployed', revision: '1' });
    runner.stub.reset();
    const { deployed } = await pushAndDeploy(pushBranch('development', SHA.second), { namespace: ns, 'image-digest': DIGEST });
    expect(deployed.outputs, describeRun(deployed)).to.include({ status: 'deployed', revision: '2', 'previous-revision': '1' });
    const deploymentId = deployed.outputs['deployment-id']!;

    // The deploy job's next step: the smoke test, which finds nothing serving at the URL (a release that upgraded
    // cleanly but does not work).
    const smoke = await runAction('smoke-test', { inputs: { url: 'http://127.0.0.1:9', timeout: '2s', interval: '200ms', 'expected-version': '0.0.0-development.g2222222' } });
    smoke.cleanup();
    expect(smoke.exitCode).to.equal(1);

    // Then, because the smoke step failed: helm-rollback with what the workflow passes.
    const run = await rollback({
      namespace: ns,
      revision: deployed.outputs['previous-revision']!,
      'failed-deployment-id': deploymentId,
      reason: `smoke test of revision ${deployed.outputs.revision} (0.0.0-development.g2222222) failed`,
    });
    expect(run.exitCode, describeRun(run)).to.equal(0);
    expect(run.outputs).to.include({ 'from-revision': '2', 'to-revision': '1', revision: '3' });
    const history = await runner.cli.history(RELEASE, ns);
    expect(history.map((entry) => [entry.revision, entry.status, entry.description.startsWith('Rollback to') ? entry.description : ''])).to.deep.equal([
      [1, 'superseded', ''], [2, 'superseded', ''], [3, 'deployed', 'Rollback to 1'],
    ]);
    expect((await runner.cli.deploymentImages(`${RELEASE}-api`, ns))[0]).to.equal(`${IMAGE_REPOSITORY}:${SHA.first}`);
    const statuses = runner.stub.deploymentStatuses.filter((status) => String(status.deployment_id) === deploymentId);
    expect(statuses.map((status) => status.state)).to.deep.equal(['in_progress', 'success', 'failure']);
    expect(statuses[2]?.description).to.equal('smoke test of revision 2 (0.0.0-development.g2222222) failed; rolling back');
    expect(run.summary).to.include('rolled back to revision 1').and.include(`GitHub deployment ${deploymentId} marked failed`);
  });

  it('passes `helm test` on the release', async function () {
    const output = await runner.cli.exec('helm', ['test', RELEASE, '-n', NAMESPACE, '--timeout', '60s']);
    expect(output).to.match(/TEST SUITE:\s+airq-test/);
    expect(output).to.match(/Phase:\s+Succeeded/);
  });
});
