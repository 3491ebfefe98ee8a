import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pushTag } from '../../actions/test/support/events.ts';
import { errors, REPO_ROOT, runAction, type ActionRun } from '../../actions/test/support/run-action.ts';
import { loadEnvironments } from '../../actions/src/lib/environments.ts';
import { KubeCli } from '../harness/kube-cli.ts';
import { useCluster } from '../harness/suite.ts';
import { startGitHubApiStub, type GitHubApiStub } from '../../test/support/github-api-stub.ts';
import { makeReleaseRepository as makeRepository } from '../../test/support/release-repository.ts';

/**
 * Production as the deploy workflow reaches it: a release tag → resolve-environment → release-gate (against a real
 * git history with an `origin`, and the version read from the Helm release) → helm-deploy. The release runs 5 API
 * replicas, from environments/production.yaml.
 */

const IMAGE_REPOSITORY = 'ghcr.io/airq-org/airq';
const NAMESPACE = 'airq-production';

function describeRun(run: ActionRun): string {
  return `exit ${run.exitCode}\n--- stdout\n${run.stdout}\n--- stderr\n${run.stderr}`;
}

describe('production on a real control plane: the release gate, then 5 API replicas', function () {
  this.timeout(240_000);
  const suite = useCluster({ nodes: 3 });
  let stub: GitHubApiStub;
  let cli: KubeCli;
  let scratch: string;
  let repository: ReturnType<typeof makeRepository>;
  let e2eValuesFile: string;

  before(async function () {
    stub = await startGitHubApiStub();
    cli = new KubeCli(suite.cluster.kubeconfig);
    scratch = mkdtempSync(path.join(tmpdir(), 'airq-e2e-production-'));
    repository = makeRepository(scratch);
    e2eValuesFile = path.join(scratch, 'e2e.values.yaml');
    // No PersistentVolume provisioner in this cluster: the database uses an emptyDir, and the backup volume (which
    // `helm --wait` would wait for forever) is off; helm/test renders production's backups.
    writeFileSync(e2eValuesFile, 'postgresql:\n  persistence:\n    enabled: false\n  backup:\n    enabled: false\n');
  });
  after(async function () {
    await stub?.stop();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });
  // CI's required jobs (environments/production.yaml) reported green on every commit, unless a test says otherwise.
  const required = loadEnvironments(path.join(REPO_ROOT, 'environments')).get('production').pipeline.requiredChecks;
  beforeEach(() => {
    stub.reset();
    stub.checkRuns.set('*', required.map((name) => ({ name, status: 'completed' as const, conclusion: 'success' as const })));
  });

  const env = () => ({ PATH: cli.env.PATH, KUBECONFIG: suite.cluster.kubeconfig });

  async function gate(tag: string, sha: string): Promise<ActionRun> {
    const run = await runAction('release-gate', {
      event: pushTag(tag, sha),
      apiUrl: stub.url,
      env: env(),
      // As the workflow runs it: require-checks on (the default), the check runs read with the job's token.
      inputs: { 'repository-path': repository.clone, 'github-token': 'ghs_e2e' },
    });
    run.cleanup();
    return run;
  }

  it('deploys a valid release tag on master: the gate passes and production runs 5 ready API replicas', async function () {
    const event = pushTag('v1.2.0', repository.onMaster.head);
    const resolved = await runAction('resolve-environment', { event, apiUrl: stub.url, env: env() });
    resolved.cleanup();
    expect(resolved.exitCode, describeRun(resolved)).to.equal(0);
    expect(resolved.outputs).to.include({ environment: 'production', deploy: 'true', version: '1.2.0', namespace: NAMESPACE });

    const gated = await gate('v1.2.0', repository.onMaster.head);
    expect(gated.exitCode, describeRun(gated)).to.equal(0);
    expect(gated.outputs).to.deep.equal({ version: '1.2.0', 'current-version': '' });

    const deployed = await runAction('helm-deploy', {
      event,
      apiUrl: stub.url,
      env: env(),
      timeoutMs: 180_000,
      inputs: {
        environment: resolved.outputs.environment,
        'image-repository': IMAGE_REPOSITORY,
        'image-tag': resolved.outputs['image-tag'],
        version: resolved.outputs.version,
        'environment-url': resolved.outputs.url,
        'values-file': e2eValuesFile,
        'github-token': 'ghs_e2e',
        timeout: '90s',
      },
    });
    deployed.cleanup();
    expect(deployed.exitCode, describeRun(deployed)).to.equal(0);
    expect(deployed.outputs).to.include({ status: 'deployed', revision: '1' });

    const api = await cli.kubectlJson<{ spec: { replicas: number; template: { spec: { containers: { image: string }[] } } }; status: { readyReplicas?: number } }>([
      'get', 'deployment', 'airq-api', '-n', NAMESPACE,
    ]);
    expect(api.spec.replicas).to.equal(5);
    expect(api.status.readyReplicas).to.equal(5);
    expect(api.spec.template.spec.containers[0]?.image).to.equal(`${IMAGE_REPOSITORY}:${resolved.outputs['image-tag']}`);
    const pods = await cli.kubectlJson<{ items: { spec: { nodeName: string } }[] }>([
      'get', 'pods', '-n', NAMESPACE, '-l', 'app.kubernetes.io/component=api',
    ]);
    expect(pods.items).to.have.length(5);
    for (const pod of pods.items) expect(suite.cluster.nodeNames).to.include(pod.spec.nodeName);
    expect(stub.deployments[0]).to.include({ environment: 'production', production_environment: true, ref: repository.onMaster.head });
    expect(stub.deploymentStatuses.map((s) => s.state)).to.deep.equal(['in_progress', 'success']);
  });

  it('refuses a tag whose commit is not on master, and production keeps running 1.2.0', async function () {
    const historyBefore = await cli.history('airq', NAMESPACE);
    const run = await gate('v1.3.0', repository.offMaster);
    expect(run.exitCode, describeRun(run)).to.equal(1);
    const message = errors(run);
    expect(message).to.include('tagged commit is on the release branch');
    expect(message).to.include(`${repository.offMaster.slice(0, 12)} is not on master (git merge-base --is-ancestor)`);
    expect(message).to.include('merge the change into master first');
    // Only the ancestry rule refused: the version is newer than what runs.
    expect(run.summary).to.match(/1\.3\.0 (>|&gt;) 1\.2\.0 running in production/);
    expect(await cli.history('airq', NAMESPACE)).to.deep.equal(historyBefore);
  });

  it('refuses a release tag whose commit failed CI, naming the check, and production keeps running 1.2.0', async function () {
    const historyBefore = await cli.history('airq', NAMESPACE);
    stub.checkRuns.set(repository.onMaster.head, [
      ...required.slice(1).map((name) => ({ name, status: 'completed' as const, conclusion: 'success' as const })),
      { name: required[0]!, status: 'completed', conclusion: 'failure' },
    ]);
    const run = await gate('v1.3.0', repository.onMaster.head);
    expect(run.exitCode, describeRun(run)).to.equal(1);
    expect(errors(run)).to.include(`commit's checks passed: failed on ${repository.onMaster.head.slice(0, 12)}: ${required[0]} (failure)`);
    expect(stub.requestsTo('GET', `/commits/${repository.onMaster.head}/check-runs`)).to.have.length(1);
    expect(await cli.history('airq', NAMESPACE)).to.deep.equal(historyBefore);
  });

  it('refuses a downgrade below the version production runs, read from the Helm release', async function () {
    const run = await gate('v1.1.0', repository.onMaster.old);
    expect(run.exitCode, describeRun(run)).to.equal(1);
    expect(run.outputs).to.include({ version: '1.1.0', 'current-version': '1.2.0' });
    const message = errors(run);
    expect(message).to.include('version is newer than the one running');
    expect(message).to.include('1.1.0 is older than 1.2.0 running in production');
    expect(message).not.to.include('is not on master');
  });
});
