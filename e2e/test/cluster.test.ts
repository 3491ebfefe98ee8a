import { expect } from 'chai';
import { NEVER_READY_TAG } from '../harness/stages.ts';
import { useCluster } from '../harness/suite.ts';

interface PodList {
  items: {
    metadata: { name: string };
    spec: { nodeName?: string };
    status: { phase?: string; conditions?: { type: string; status: string }[]; containerStatuses?: { state?: { terminated?: { exitCode: number } } }[] };
  }[];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(300);
  }
}

const isReady = (pod: PodList['items'][number]) =>
  pod.status.conditions?.some((condition) => condition.type === 'Ready' && condition.status === 'True') ?? false;

describe('the end-to-end control plane (etcd, kube-apiserver, controllers, scheduler, kwok)', function () {
  const suite = useCluster();
  const namespace = 'harness-smoke';

  before(async function () {
    await suite.cluster.api('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
    // The ServiceAccount admission plugin rejects pods until the controller-manager has created `default`.
    await until('the default ServiceAccount of the namespace', async () => {
      const { status } = await suite.cluster.api('GET', `/api/v1/namespaces/${namespace}/serviceaccounts/default`, undefined, [404]);
      return status === 200 ? true : undefined;
    });
  });

  it('serves the version the binaries were stamped with, not v0.0.0', async function () {
    const { body } = await suite.cluster.api<{ gitVersion: string; major: string; minor: string }>('GET', '/version');
    expect(body.gitVersion).to.match(/^v1\.35\.\d+$/);
    expect(body.minor).to.equal('35');
  });

  it('schedules a Deployment onto the fake nodes and kwok makes its pods Ready', async function () {
    const labels = { app: 'smoke-web' };
    await suite.cluster.api('POST', `/apis/apps/v1/namespaces/${namespace}/deployments`, {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'smoke-web' },
      spec: {
        replicas: 3,
        selector: { matchLabels: labels },
        template: { metadata: { labels }, spec: { containers: [{ name: 'web', image: 'registry.example/web:1' }] } },
      },
    });
    const deployment = await until('3 available replicas', async () => {
      const { body } = await suite.cluster.api<{ status: { availableReplicas?: number } }>('GET', `/apis/apps/v1/namespaces/${namespace}/deployments/smoke-web`);
      return body.status.availableReplicas === 3 ? body : undefined;
    });
    expect(deployment.status.availableReplicas).to.equal(3);
    const { body: pods } = await suite.cluster.api<PodList>('GET', `/api/v1/namespaces/${namespace}/pods?labelSelector=app%3Dsmoke-web`);
    expect(pods.items).to.have.length(3);
    for (const pod of pods.items) {
      expect(suite.cluster.nodeNames).to.include(pod.spec.nodeName);
      expect(isReady(pod), pod.metadata.name).to.equal(true);
    }
  });

  it('runs a Job to completion', async function () {
    await suite.cluster.api('POST', `/apis/batch/v1/namespaces/${namespace}/jobs`, {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'smoke-job' },
      spec: {
        backoffLimit: 0,
        template: { spec: { restartPolicy: 'Never', containers: [{ name: 'task', image: 'registry.example/task:1' }] } },
      },
    });
    const job = await until('the Job to succeed', async () => {
      const { body } = await suite.cluster.api<{ status: { succeeded?: number; conditions?: { type: string; status: string }[] } }>(
        'GET', `/apis/batch/v1/namespaces/${namespace}/jobs/smoke-job`);
      return body.status.conditions?.some((c) => c.type === 'Complete' && c.status === 'True') ? body : undefined;
    });
    expect(job.status.succeeded).to.equal(1);
  });

  it('completes a bare Helm hook pod, with exit code 1 when annotated to fail', async function () {
    for (const [name, annotations] of [
      ['smoke-hook-pass', { 'helm.sh/hook': 'test' }],
      ['smoke-hook-fail', { 'helm.sh/hook': 'test', 'airq.e2e/fail': 'true' }],
    ] as const) {
      await suite.cluster.api('POST', `/api/v1/namespaces/${namespace}/pods`, {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name, annotations },
        spec: { restartPolicy: 'Never', containers: [{ name: 'probe', image: 'registry.example/probe:1' }] },
      });
    }
    const phaseOf = (name: string) =>
      until(`pod ${name} to finish`, async () => {
        const { body } = await suite.cluster.api<PodList['items'][number]>('GET', `/api/v1/namespaces/${namespace}/pods/${name}`);
        return body.status.phase === 'Succeeded' || body.status.phase === 'Failed' ? body : undefined;
      });
    const passed = await phaseOf('smoke-hook-pass');
    const failed = await phaseOf('smoke-hook-fail');
    expect(passed.status.phase).to.equal('Succeeded');
    expect(failed.status.phase).to.equal('Failed');
    expect(failed.status.containerStatuses?.[0]?.state?.terminated?.exitCode).to.equal(1);
  });

  it(`never readies a pod whose image tag is ${NEVER_READY_TAG}, while a sibling pod becomes Ready`, async function () {
    for (const [name, tag] of [['smoke-broken', NEVER_READY_TAG], ['smoke-sound', '1']]) {
      await suite.cluster.api('POST', `/api/v1/namespaces/${namespace}/pods`, {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name },
        spec: { containers: [{ name: 'web', image: `registry.example/web:${tag}` }] },
      });
    }
    const sound = await until('the sound pod to be Ready', async () => {
      const { body } = await suite.cluster.api<PodList['items'][number]>('GET', `/api/v1/namespaces/${namespace}/pods/smoke-sound`);
      return isReady(body) ? body : undefined;
    });
    expect(isReady(sound)).to.equal(true);
    // kwok handled the sound pod created after the broken one, so it has had its chance to handle the broken one too.
    await sleep(1_000);
    const { body: broken } = await suite.cluster.api<PodList['items'][number]>('GET', `/api/v1/namespaces/${namespace}/pods/smoke-broken`);
    expect(broken.spec.nodeName, 'the broken pod is scheduled').to.be.a('string');
    expect(isReady(broken)).to.equal(false);
    expect(broken.status.phase).to.equal('Pending');
  });
});
