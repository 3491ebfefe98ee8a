import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pushTag } from '../../actions/test/support/events.ts';
import { runAction, type ActionRun } from '../../actions/test/support/run-action.ts';
import { KubeCli } from '../harness/kube-cli.ts';
import { useCluster } from '../harness/suite.ts';
import { startGitHubApiStub, type GitHubApiStub } from '../../test/support/github-api-stub.ts';

/**
 * What one real node cannot show: production's 5 API replicas at the CPU and memory requests of
 * environments/production.yaml (the real node's two cores fit them only with smaller requests; real-node.test.ts
 * deploys production that way) scheduled over several nodes. kwok stands in for the kubelets of 3 fake nodes, so the
 * pods are scheduled for real but never run: everything about what the pods do is real-node.test.ts's.
 */

const IMAGE_REPOSITORY = 'ghcr.io/airq-org/airq';
const NAMESPACE = 'airq-production';
const NODES = 3;
const SHA = '1111111111111111111111111111111111111111';

function describeRun(run: ActionRun): string {
  return `exit ${run.exitCode}\n--- stdout\n${run.stdout}\n--- stderr\n${run.stderr}`;
}

interface ApiPod {
  spec: { nodeName?: string; containers: { resources: { requests?: Record<string, string> } }[] };
  status: { conditions?: { type: string; status: string }[] };
}

describe('production at scale on a control plane with fake (kwok) nodes', function () {
  this.timeout(240_000);
  const suite = useCluster({ nodes: NODES });
  let stub: GitHubApiStub;
  let cli: KubeCli;
  let scratch: string;
  let e2eValuesFile: string;

  before(async function () {
    stub = await startGitHubApiStub();
    cli = new KubeCli(suite.cluster.kubeconfig);
    scratch = mkdtempSync(path.join(tmpdir(), 'airq-e2e-scale-'));
    e2eValuesFile = path.join(scratch, 'e2e.values.yaml');
    // No PersistentVolume provisioner on fake nodes: the database uses an emptyDir, and the backup volume (which
    // `helm --wait` would wait for forever) is off; helm/test renders production's backups.
    writeFileSync(e2eValuesFile, 'postgresql:\n  persistence:\n    enabled: false\n  backup:\n    enabled: false\n');
  });
  after(async function () {
    await stub?.stop();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  it('serves the Kubernetes version the binaries were stamped with, not v0.0.0', async function () {
    const { body } = await suite.cluster.api<{ gitVersion: string; minor: string }>('GET', '/version');
    expect(body.gitVersion).to.match(/^v1\.35\.\d+$/);
    expect(body.minor).to.equal('35');
  });

  it("deploys a release tag with production's own requests: 5 ready API replicas spread over the nodes, at most one apart", async function () {
    const event = pushTag('v1.2.0', SHA);
    const env = { PATH: cli.env.PATH, KUBECONFIG: suite.cluster.kubeconfig };
    const resolved = await runAction('resolve-environment', { event, apiUrl: stub.url, env });
    resolved.cleanup();
    expect(resolved.exitCode, describeRun(resolved)).to.equal(0);
    expect(resolved.outputs).to.include({
      environment: 'production',
      deploy: 'true',
      version: '1.2.0',
      namespace: NAMESPACE,
    });

    const deployed = await runAction('helm-deploy', {
      event,
      apiUrl: stub.url,
      env,
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

    const api = await cli.kubectlJson<{ spec: { replicas: number }; status: { readyReplicas?: number } }>([
      'get',
      'deployment',
      'airq-api',
      '-n',
      NAMESPACE,
    ]);
    expect(api.spec.replicas).to.equal(5);
    expect(api.status.readyReplicas).to.equal(5);
    const pods = await cli.kubectlJson<{ items: ApiPod[] }>([
      'get',
      'pods',
      '-n',
      NAMESPACE,
      '-l',
      'app.kubernetes.io/component=api',
    ]);
    expect(pods.items).to.have.length(5);
    // The requests of environments/production.yaml, not the real node's smaller ones.
    for (const pod of pods.items)
      expect(pod.spec.containers[0]?.resources.requests).to.include({ cpu: '250m', memory: '192Mi' });
    // The chart's topology spread (maxSkew 1 per hostname and per zone; each fake node is a zone) over the 3 nodes: 2/2/1.
    const perNode = new Map<string, number>(suite.cluster.nodeNames.map((name) => [name, 0]));
    for (const pod of pods.items) perNode.set(pod.spec.nodeName!, (perNode.get(pod.spec.nodeName!) ?? 0) + 1);
    expect(perNode.size, 'pods only on the cluster nodes').to.equal(NODES);
    expect([...perNode.values()].sort()).to.deep.equal([1, 2, 2]);
    expect(stub.deployments[0]).to.include({ environment: 'production', production_environment: true, ref: SHA });
    expect(stub.deploymentStatuses.map((s) => s.state)).to.deep.equal(['in_progress', 'success']);
  });
});
