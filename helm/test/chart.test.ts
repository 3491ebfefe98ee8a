import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import {
  ENVIRONMENTS,
  containersOf,
  find,
  lintChart,
  one,
  podSpecOf,
  renderChart,
  renderNotes,
  selects,
  type KubeObject,
} from './support/chart.ts';
import { REPO_ROOT } from '../../test/support/repo-root.ts';
import { validateObject } from './support/validate-objects.ts';

const EXPECTED_API_REPLICAS: Record<(typeof ENVIRONMENTS)[number], { replicas?: number; hpa?: [number, number] }> = {
  development: { replicas: 1 },
  staging: { hpa: [1, 5] },
  production: { replicas: 5 },
};

/** Pod templates of every workload, hooks and the test pod included, with where they come from. */
function pods(objects: KubeObject[]) {
  return objects.flatMap((o) => {
    const pod = podSpecOf(o);
    return pod
      ? [
          {
            owner: `${o.kind}/${o.metadata.name}`,
            labels: (pod.metadata?.labels ?? {}) as Record<string, string>,
            spec: pod.spec,
          },
        ]
      : [];
  });
}

function podsOfComponent(objects: KubeObject[], component: string) {
  return pods(objects).filter((p) => p.labels['app.kubernetes.io/component'] === component);
}

function apiContainer(objects: KubeObject[]) {
  const deployment = one(objects, 'Deployment', 'airq-api');
  return deployment.spec.template.spec.containers.find((c: { name: string }) => c.name === 'api');
}

function readEnvironment(name: string): string {
  return readFileSync(path.join(REPO_ROOT, 'environments', `${name}.yaml`), 'utf8');
}

/** The cache's VCL as varnishd reads it: the per-deployment part, then the VCL that includes it. */
function vclOf(objects: KubeObject[]): string {
  const data = one(objects, 'ConfigMap', 'airq-cache').data;
  return `${data['deployment.vcl']}\n${data['default.vcl']}`;
}

describe('the Helm chart helm/airq', function () {
  for (const environment of ENVIRONMENTS) {
    describe(`rendered for ${environment}`, function () {
      let objects: KubeObject[];
      before(async function () {
        objects = await renderChart({ environment, namespace: `airq-${environment}` });
      });

      it('passes helm lint --strict with the environment values', async function () {
        const output = await lintChart({ environment });
        expect(output).to.match(/1 chart\(s\) linted, 0 chart\(s\) failed/);
      });

      it('renders only objects that are valid for their Kubernetes kind', function () {
        expect(objects.length).to.be.greaterThan(10);
        for (const object of objects) validateObject(object);
      });

      it('runs exactly one database and, unless cache.replicas asks for more, one cache', function () {
        const statefulSets = find(objects, 'StatefulSet');
        expect(statefulSets.map((s) => s.metadata.name)).to.deep.equal(['airq-postgresql']);
        expect(statefulSets[0]!.spec.replicas).to.equal(1);
        expect(one(objects, 'Deployment', 'airq-cache').spec.replicas).to.equal(1);
        expect(
          find(objects, 'Deployment')
            .map((d) => d.metadata.name)
            .sort(),
        ).to.deep.equal(['airq-api', 'airq-cache']);
        expect(podsOfComponent(objects, 'database')).to.have.length(1);
        expect(podsOfComponent(objects, 'cache')).to.have.length(1);
      });

      it('runs the API replica count or HPA bounds the environment asks for', function () {
        const deployment = one(objects, 'Deployment', 'airq-api');
        const expected = EXPECTED_API_REPLICAS[environment];
        const hpas = find(objects, 'HorizontalPodAutoscaler');
        if (expected.hpa) {
          // With an HPA the Deployment leaves replicas alone, or every upgrade would reset the autoscaler's choice.
          expect(deployment.spec).not.to.have.property('replicas');
          expect(hpas).to.have.length(1);
          expect([hpas[0]!.spec.minReplicas, hpas[0]!.spec.maxReplicas]).to.deep.equal(expected.hpa);
          expect(hpas[0]!.spec.scaleTargetRef).to.deep.equal({
            apiVersion: 'apps/v1',
            kind: 'Deployment',
            name: 'airq-api',
          });
          expect(hpas[0]!.spec.metrics[0].resource.name).to.equal('cpu');
        } else {
          expect(deployment.spec.replicas).to.equal(expected.replicas);
          expect(hpas).to.have.length(0);
        }
      });

      it('gives every container, init and hook containers included, a restrictive securityContext and resources', function () {
        const all = pods(objects);
        expect(all.map((p) => p.owner)).to.include.members(['Job/airq-seed', 'Pod/airq-test']);
        for (const { owner, spec } of all) {
          expect(spec.securityContext, owner).to.include({ runAsNonRoot: true });
          expect(spec.securityContext.runAsUser, owner).to.be.greaterThan(0);
          expect(spec.securityContext.seccompProfile, owner).to.deep.equal({ type: 'RuntimeDefault' });
          expect(spec.automountServiceAccountToken, owner).to.equal(false);
          for (const container of containersOf(spec)) {
            const where = `${owner} container ${container.name}`;
            expect(container.securityContext, where).to.deep.include({
              allowPrivilegeEscalation: false,
              readOnlyRootFilesystem: true,
              runAsNonRoot: true,
              privileged: false,
            });
            expect(container.securityContext.capabilities, where).to.deep.equal({ drop: ['ALL'] });
            expect(container.securityContext.seccompProfile, where).to.deep.equal({ type: 'RuntimeDefault' });
            expect(container.resources?.requests?.memory, where).to.be.a('string');
            expect(container.resources?.limits?.memory, where).to.be.a('string');
          }
        }
      });

      it('has NetworkPolicies whose selectors match the API and database pods and admit only the intended peers', function () {
        const apiPolicy = one(objects, 'NetworkPolicy', 'airq-api');
        const dbPolicy = one(objects, 'NetworkPolicy', 'airq-postgresql');
        const [api] = podsOfComponent(objects, 'api');
        const [database] = podsOfComponent(objects, 'database');
        const [cache] = podsOfComponent(objects, 'cache');
        const [seed] = podsOfComponent(objects, 'seed');
        const [test] = podsOfComponent(objects, 'test');

        // Each policy selects its own pods and no other pod of the release.
        for (const p of pods(objects)) {
          expect(selects(apiPolicy.spec.podSelector, p.labels), `API policy vs ${p.owner}`).to.equal(
            p.owner === api!.owner,
          );
          expect(selects(dbPolicy.spec.podSelector, p.labels), `database policy vs ${p.owner}`).to.equal(
            p.owner === database!.owner,
          );
        }

        // Peers in this namespace are the rules that have a podSelector and no namespaceSelector.
        const localPeers = (policy: KubeObject) =>
          policy.spec.ingress.flatMap((rule: { from: { podSelector?: object; namespaceSelector?: object }[] }) =>
            rule.from.filter((peer) => peer.podSelector && !peer.namespaceSelector),
          );
        const admitted = (policy: KubeObject, labels: Record<string, string>) =>
          localPeers(policy).some((peer: { podSelector: object }) => selects(peer.podSelector, labels));
        expect(admitted(apiPolicy, cache!.labels), 'cache reaches the API').to.equal(true);
        expect(admitted(apiPolicy, seed!.labels), 'seed reaches the API').to.equal(false);
        expect(admitted(apiPolicy, database!.labels), 'database reaches the API').to.equal(false);
        expect(admitted(apiPolicy, test!.labels), 'test pod reaches the API').to.equal(false);
        expect(admitted(dbPolicy, api!.labels), 'API reaches the database').to.equal(true);
        expect(admitted(dbPolicy, seed!.labels), 'seed reaches the database').to.equal(true);
        expect(admitted(dbPolicy, cache!.labels), 'cache reaches the database').to.equal(false);
        expect(admitted(dbPolicy, test!.labels), 'test pod reaches the database').to.equal(false);

        const cachePolicy = one(objects, 'NetworkPolicy', 'airq-cache');
        for (const p of pods(objects)) {
          expect(selects(cachePolicy.spec.podSelector, p.labels), `cache policy vs ${p.owner}`).to.equal(
            p.owner === cache!.owner,
          );
        }
        expect(admitted(cachePolicy, seed!.labels), 'seed reaches the cache (its BAN)').to.equal(true);
        expect(admitted(cachePolicy, test!.labels), 'test pod reaches the cache').to.equal(true);
        expect(admitted(cachePolicy, api!.labels), 'API reaches the cache').to.equal(false);
        expect(admitted(cachePolicy, database!.labels), 'database reaches the cache').to.equal(false);
        expect(cachePolicy.spec.ingress[0].ports).to.deep.equal([{ port: 'http', protocol: 'TCP' }]);
        expect(cache!.spec.containers[0].ports[0].name).to.equal('http');

        // The ingress controller is the one peer from another namespace, and the ports are the pods' named ports.
        for (const policy of [apiPolicy, cachePolicy]) {
          const foreign = policy.spec.ingress[0].from.filter(
            (peer: { namespaceSelector?: object }) => peer.namespaceSelector,
          );
          expect(foreign, policy.metadata.name).to.deep.equal([
            { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ingress-nginx' } }, podSelector: {} },
          ]);
        }
        expect(apiPolicy.spec.ingress[0].ports).to.deep.equal([{ port: 'http', protocol: 'TCP' }]);
        expect(api!.spec.containers[0].ports[0].name).to.equal('http');
        expect(dbPolicy.spec.ingress[0].ports).to.deep.equal([{ port: 'postgresql', protocol: 'TCP' }]);
      });

      it('routes the Ingress to the cache Service, with the host of the environment', function () {
        const ingress = one(objects, 'Ingress', 'airq');
        const cacheService = one(objects, 'Service', 'airq-cache');
        const rule = ingress.spec.rules[0];
        expect(rule.host).to.equal(
          new URL((parseYaml(readEnvironment(environment)) as { pipeline: { url: string } }).pipeline.url).host,
        );
        expect(rule.http.paths[0].backend.service).to.deep.equal({
          name: cacheService.metadata.name,
          port: { number: cacheService.spec.ports[0].port },
        });
      });
    });
  }

  describe('with the chart defaults', function () {
    let objects: KubeObject[];
    before(async function () {
      objects = await renderChart();
    });

    it('probes the API on its named port: startup and liveness on /health/live, readiness on /health/ready', function () {
      const container = apiContainer(objects);
      expect(container.ports).to.deep.equal([{ name: 'http', containerPort: 8080, protocol: 'TCP' }]);
      expect(container.startupProbe.httpGet).to.deep.equal({ path: '/health/live', port: 'http' });
      expect(container.livenessProbe.httpGet).to.deep.equal({ path: '/health/live', port: 'http' });
      expect(container.readinessProbe.httpGet).to.deep.equal({ path: '/health/ready', port: 'http' });
      // The startup probe gives a cold start (migrations done, pool connecting) a minute before liveness can kill it.
      expect(container.startupProbe.periodSeconds * container.startupProbe.failureThreshold).to.be.at.least(60);
    });

    it('gives the API every configuration variable of the contract, DATABASE_URL built from the Secret', function () {
      const configMap = one(objects, 'ConfigMap', 'airq-api');
      const container = apiContainer(objects);
      expect(container.envFrom).to.deep.equal([{ configMapRef: { name: 'airq-api' } }]);
      expect(Object.keys(configMap.data).sort()).to.deep.equal(
        [
          'APP_VERSION',
          'CACHE_MAX_AGE_SECONDS',
          'CACHE_STALE_WHILE_REVALIDATE_SECONDS',
          'CORS_ORIGINS',
          'DB_POOL_MAX',
          'DB_STATEMENT_TIMEOUT_MS',
          'LOG_LEVEL',
          'PORT',
          'SHUTDOWN_DRAIN_MS',
          'SHUTDOWN_FINISH_MS',
        ].sort(),
      );
      expect(configMap.data.PORT).to.equal('8080');
      const names = container.env.map((e: { name: string }) => e.name);
      // $(DB_PASSWORD) only expands when DB_PASSWORD is defined earlier in the list.
      expect(names).to.deep.equal(['DB_PASSWORD', 'DATABASE_URL', 'CURSOR_KEY']);
      const secret = one(objects, 'Secret', 'airq-postgresql');
      expect(container.env[0].valueFrom.secretKeyRef).to.deep.equal({ name: 'airq-postgresql', key: 'password' });
      expect(secret.data).to.have.property('password');
      expect(Buffer.from(secret.data.password, 'base64').toString()).to.match(/^[A-Za-z0-9]{32}$/);
      expect(container.env[1].value).to.equal(
        'postgres://airq:$(DB_PASSWORD)@airq-postgresql-primary.airq-test.svc:5432/airq',
      );
    });

    it('gives the API a grace period covering the preStop pause, SHUTDOWN_DRAIN_MS and in-flight requests', function () {
      const deployment = one(objects, 'Deployment', 'airq-api');
      const container = apiContainer(objects);
      const drainMs = Number(one(objects, 'ConfigMap', 'airq-api').data.SHUTDOWN_DRAIN_MS);
      expect(container.lifecycle.preStop.exec.command).to.deep.equal(['sleep', '5']);
      expect(drainMs).to.equal(5000);
      expect(deployment.spec.template.spec.terminationGracePeriodSeconds).to.equal(5 + 5 + 15);
      // After SIGTERM: drain, then at most SHUTDOWN_FINISH_MS for in-flight requests, within the 5 + 15 s left.
      expect(Number(one(objects, 'ConfigMap', 'airq-api').data.SHUTDOWN_FINISH_MS)).to.equal(14_000);
    });

    it('follows shutdown settings: a longer drain lengthens the grace period', async function () {
      const longer = await renderChart({ set: ['api.shutdown.drainMs=20500', 'api.shutdown.preStopSeconds=8'] });
      expect(one(longer, 'ConfigMap', 'airq-api').data.SHUTDOWN_DRAIN_MS).to.equal('20500');
      const slower = await renderChart({ set: ['api.shutdown.inFlightSeconds=900'] });
      expect(one(slower, 'ConfigMap', 'airq-api').data.SHUTDOWN_FINISH_MS).to.equal('899000');
      expect(apiContainer(longer).lifecycle.preStop.exec.command).to.deep.equal(['sleep', '8']);
      expect(one(longer, 'Deployment', 'airq-api').spec.template.spec.terminationGracePeriodSeconds).to.equal(
        8 + 21 + 15,
      );
    });

    it('runs migrations in an init container before the API container starts', function () {
      const spec = one(objects, 'Deployment', 'airq-api').spec.template.spec;
      expect(spec.initContainers.map((c: { name: string }) => c.name)).to.deep.equal(['migrate']);
      expect(spec.initContainers[0].command).to.deep.equal(['node', 'db/src/cli.ts', 'migrate']);
      expect(spec.initContainers[0].workingDir).to.equal('/app');
      expect(spec.initContainers[0].env.map((e: { name: string }) => e.name)).to.deep.equal([
        'DB_PASSWORD',
        'DATABASE_URL',
      ]);
      expect(spec.containers[0].command).to.deep.equal(['node', 'api/src/server.ts']);
    });

    it('runs the seed as a post-install/post-upgrade hook that bans the cache with the token from the cache Secret', function () {
      const job = one(objects, 'Job', 'airq-seed');
      expect(job.metadata.annotations).to.deep.include({
        'helm.sh/hook': 'post-install,post-upgrade',
        'helm.sh/hook-delete-policy': 'before-hook-creation,hook-succeeded',
      });
      const spec = job.spec.template.spec;
      expect(spec.restartPolicy).to.equal('Never');
      expect(spec.initContainers.map((c: { name: string }) => c.name)).to.deep.equal(['wait-for-database', 'migrate']);
      const seed = spec.containers[0];
      expect(seed.command).to.deep.equal(['node', 'db/src/cli.ts', 'seed']);
      const env = Object.fromEntries(
        seed.env.map((e: { name: string; value?: string; valueFrom?: unknown }) => [e.name, e.value ?? e.valueFrom]),
      );
      expect(env.DATABASE_URL).to.equal(apiContainer(objects).env[1].value);
      // The headless Service's name resolves to every cache pod, so the seeder bans each replica on its pod port.
      const headless = one(objects, 'Service', 'airq-cache-headless');
      expect(env.CACHE_BAN_URL).to.equal(`http://airq-cache-headless.airq-test.svc:${headless.spec.ports[0].port}/`);
      expect(headless.spec.clusterIP).to.equal('None');
      expect(headless.spec.ports[0]).to.include({ port: 8080, targetPort: 'http' });
      const cachePod = one(objects, 'Deployment', 'airq-cache').spec.template;
      expect(cachePod.spec.containers[0].ports[0]).to.include({ name: 'http', containerPort: 8080 });
      expect(selects({ matchLabels: headless.spec.selector }, cachePod.metadata.labels)).to.equal(true);
      expect(headless.spec.selector).to.deep.equal(one(objects, 'Service', 'airq-cache').spec.selector);
      expect(env.CACHE_BAN_TOKEN).to.deep.equal({ secretKeyRef: { name: 'airq-cache', key: 'ban-token' } });
      const cacheSecret = one(objects, 'Secret', 'airq-cache');
      const token = Buffer.from(cacheSecret.data['ban-token'], 'base64').toString();
      expect(token).to.match(/^[A-Za-z0-9]{40}$/);
      // The VCL include that checks BANs carries the same token the seeder sends.
      expect(Buffer.from(cacheSecret.data['ban-token.vcl'], 'base64').toString()).to.include(`!= "${token}"`);
      expect(env.SEED_TIMEZONE).to.equal('UTC');
    });

    it('passes a seed file and timezone from values to the seeder', async function () {
      const custom = await renderChart({ set: ['seed.file=/data/big.csv', 'seed.timezone=Europe/Lisbon'] });
      const seed = one(custom, 'Job', 'airq-seed').spec.template.spec.containers[0];
      expect(seed.command).to.deep.equal(['node', 'db/src/cli.ts', 'seed', '--file', '/data/big.csv']);
      expect(seed.env.find((e: { name: string }) => e.name === 'SEED_TIMEZONE').value).to.equal('Europe/Lisbon');
    });

    it('checks readiness and /air_quality through the cache Service in the helm test pod', function () {
      const pod = one(objects, 'Pod', 'airq-test');
      expect(pod.metadata.annotations!['helm.sh/hook']).to.equal('test');
      const container = pod.spec.containers[0];
      expect(container.env).to.deep.equal([{ name: 'CACHE_URL', value: 'http://airq-cache.airq-test.svc:80' }]);
      expect(container.command.join(' ')).to.include("'/health/ready'").and.to.include("'/air_quality?limit=1'");
    });

    it('mounts no ServiceAccount token anywhere', function () {
      const account = one(objects, 'ServiceAccount', 'airq');
      expect(account.automountServiceAccountToken).to.equal(false);
      for (const pod of pods(objects)) expect(pod.spec.serviceAccountName, pod.owner).to.equal('airq');
    });

    it('spreads API pods over nodes and zones and keeps all but one available during disruptions', function () {
      const spec = one(objects, 'Deployment', 'airq-api').spec.template;
      const constraints = spec.spec.topologySpreadConstraints;
      expect(constraints.map((c: { topologyKey: string }) => c.topologyKey)).to.deep.equal([
        'kubernetes.io/hostname',
        'topology.kubernetes.io/zone',
      ]);
      for (const c of constraints) expect(selects(c.labelSelector, spec.metadata.labels)).to.equal(true);
      const pdb = one(objects, 'PodDisruptionBudget', 'airq-api');
      expect(pdb.spec.maxUnavailable).to.equal(1);
      // A replica that never becomes Ready must not block node drains.
      expect(pdb.spec.unhealthyPodEvictionPolicy).to.equal('AlwaysAllow');
      expect(selects(pdb.spec.selector, spec.metadata.labels)).to.equal(true);
      expect(
        selects(pdb.spec.selector, one(objects, 'Deployment', 'airq-cache').spec.template.metadata.labels),
      ).to.equal(false);
    });

    it('keeps the generated database password Secret when the release is uninstalled', function () {
      expect(one(objects, 'Secret', 'airq-postgresql').metadata.annotations).to.deep.equal({
        'helm.sh/resource-policy': 'keep',
      });
      const statefulSet = one(objects, 'StatefulSet', 'airq-postgresql');
      expect(statefulSet.spec.volumeClaimTemplates[0].spec.resources.requests.storage).to.equal('2Gi');
      expect(statefulSet.spec.serviceName).to.equal(one(objects, 'Service', 'airq-postgresql').metadata.name);
      expect(one(objects, 'Service', 'airq-postgresql').spec.clusterIP).to.equal('None');
    });

    it('leaves the PostgreSQL and Varnish pod templates unchanged when only the application version changes, so a release restarts neither', async function () {
      const fixed = ['cache.ban.token=fixed-token-for-the-test', 'postgresql.auth.existingSecret=db'];
      const [one_, two] = await Promise.all([
        renderChart({ set: [...fixed, 'appVersion=1.0.0', 'image.tag=1.0.0'] }),
        renderChart({ set: [...fixed, 'appVersion=2.0.0', 'image.tag=2.0.0'] }),
      ]);
      for (const [kind, name] of [
        ['StatefulSet', 'airq-postgresql'],
        ['Deployment', 'airq-cache'],
      ] as const) {
        expect(one(two, kind, name).spec.template, `${kind}/${name}`).to.deep.equal(
          one(one_, kind, name).spec.template,
        );
      }
      expect(one(two, 'Deployment', 'airq-api').spec.template).to.not.deep.equal(
        one(one_, 'Deployment', 'airq-api').spec.template,
      );
    });

    it('points every database client at a ClusterIP Service, whose name keeps resolving while the database pod restarts', function () {
      const host = /@([^.:]+)\./.exec(apiContainer(objects).env[1].value as string)?.[1];
      expect(host).to.equal('airq-postgresql-primary');
      const service = one(objects, 'Service', host!);
      expect(service.spec.clusterIP).to.equal(undefined);
      expect(service.spec.type).to.equal('ClusterIP');
      expect(service.spec.selector).to.deep.equal(
        one(objects, 'StatefulSet', 'airq-postgresql').spec.selector.matchLabels,
      );
    });

    it('mounts the cache Secret on a chart-owned path, never under /etc/varnish where packagings ship their own files', function () {
      const container = one(objects, 'Deployment', 'airq-cache').spec.template.spec.containers[0];
      const mounts = container.volumeMounts as { name: string; mountPath: string }[];
      expect(mounts.find((mount) => mount.name === 'secret')?.mountPath).to.equal('/etc/airq/cache-secret');
      expect(mounts.filter((mount) => mount.mountPath.startsWith('/etc/varnish/secret'))).to.deep.equal([]);
      expect(one(objects, 'ConfigMap', 'airq-cache').data['default.vcl']).to.include(
        'include "/etc/airq/cache-secret/ban-token.vcl";',
      );
    });

    it('renders no prometheus-operator objects and no backup CronJob unless asked', function () {
      expect(find(objects, 'ServiceMonitor')).to.have.length(0);
      expect(find(objects, 'PrometheusRule')).to.have.length(0);
      expect(find(objects, 'CronJob')).to.have.length(0);
    });
  });

  describe('with values that change how it renders', function () {
    it('carries --set service.port=9090 to the Service and to the cache backend', async function () {
      // The cache's own pod port moves off 8080 too, so that any 8080 left below can only be the API's.
      const objects = await renderChart({
        environment: 'production',
        set: ['service.port=9090', 'cache.containerPort=8081'],
      });
      const service = one(objects, 'Service', 'airq-api');
      expect(service.spec.ports).to.deep.equal([{ name: 'http', port: 9090, targetPort: 'http', protocol: 'TCP' }]);
      const vcl = vclOf(objects);
      expect(vcl).to.match(/\.host = "airq-api\.airq-test\.svc";\s+\.port = "9090";/);
      // The pod keeps its own port: everything that targets the container uses the port's name.
      expect(apiContainer(objects).ports[0]).to.include({ name: 'http', containerPort: 8080 });
      expect(JSON.stringify(objects.filter((o) => o.kind !== 'Deployment' && o.kind !== 'ConfigMap'))).not.to.include(
        '8080',
      );
    });

    it('uses appVersion as APP_VERSION and image tag, and image.tag when given', async function () {
      const byVersion = await renderChart({ set: ['appVersion=1.4.2'] });
      expect(one(byVersion, 'ConfigMap', 'airq-api').data.APP_VERSION).to.equal('1.4.2');
      expect(apiContainer(byVersion).image).to.equal('ghcr.io/example/airq:1.4.2');
      // Semver build metadata stays in APP_VERSION but cannot be in a label value ("+" is not allowed there).
      const withBuild = await renderChart({ set: ['appVersion=1.4.2+build.7', 'image.tag=1.4.2'] });
      expect(one(withBuild, 'ConfigMap', 'airq-api').data.APP_VERSION).to.equal('1.4.2+build.7');
      for (const object of withBuild) validateObject(object);
      expect(one(withBuild, 'Deployment', 'airq-api').metadata.labels!['app.kubernetes.io/version']).to.equal(
        '1.4.2_build.7',
      );
      const byTag = await renderChart({
        set: ['appVersion=1.4.2', 'image.repository=registry.example/airq', 'image.tag=sha-abc123'],
      });
      expect(apiContainer(byTag).image).to.equal('registry.example/airq:sha-abc123');
      for (const pod of pods(byTag).filter((p) =>
        ['api', 'seed', 'test'].includes(p.labels['app.kubernetes.io/component']!),
      )) {
        for (const c of containersOf(pod.spec))
          expect(c.image, `${pod.owner} ${c.name}`).to.equal('registry.example/airq:sha-abc123');
      }
    });

    it('runs repository@sha256:… in every application container when image.digest is set, whatever the tag', async function () {
      const digest = `sha256:${'ab12'.repeat(16)}`;
      const objects = await renderChart({
        set: [
          'appVersion=1.4.2',
          'image.repository=ghcr.io/airq-org/airq/api',
          'image.tag=1.4.2',
          `image.digest=${digest}`,
        ],
      });
      const appPods = pods(objects).filter((p) =>
        ['api', 'seed', 'test'].includes(p.labels['app.kubernetes.io/component']!),
      );
      expect(appPods.length).to.be.greaterThan(2);
      for (const pod of appPods) {
        for (const c of containersOf(pod.spec))
          expect(c.image, `${pod.owner} ${c.name}`).to.equal(`ghcr.io/airq-org/airq/api@${digest}`);
      }
      for (const object of objects) validateObject(object);
    });

    it('rolls the API pods when their configuration changes, and only then', async function () {
      const checksum = (objects: KubeObject[]) =>
        one(objects, 'Deployment', 'airq-api').spec.template.metadata.annotations['checksum/config'] as string;
      const base = await renderChart({ set: ['postgresql.auth.existingSecret=db'] });
      const same = await renderChart({ set: ['postgresql.auth.existingSecret=db'] });
      const changed = await renderChart({ set: ['postgresql.auth.existingSecret=db', 'api.logLevel=debug'] });
      expect(checksum(base)).to.match(/^[0-9a-f]{64}$/);
      expect(checksum(same)).to.equal(checksum(base));
      expect(checksum(changed)).not.to.equal(checksum(base));
    });

    it('rolls Varnish when the VCL changes', async function () {
      const checksum = (objects: KubeObject[]) =>
        one(objects, 'Deployment', 'airq-cache').spec.template.metadata.annotations['checksum/vcl'] as string;
      const base = await renderChart();
      const changed = await renderChart({ set: ['cache.graceSeconds=60'] });
      expect(vclOf(changed)).to.include('set beresp.grace = 60s;');
      expect(checksum(changed)).not.to.equal(checksum(base));
    });

    it('gives every API replica the same CURSOR_KEY from the API Secret: the value given, else a generated one', async function () {
      const keyOf = (objects: KubeObject[]) =>
        Buffer.from(one(objects, 'Secret', 'airq-api').data['cursor-key'], 'base64').toString();
      const given = await renderChart({ set: ['api.cursorKey=a-cursor-key-of-at-least-32-characters'] });
      expect(keyOf(given)).to.equal('a-cursor-key-of-at-least-32-characters');
      const env = apiContainer(given).env.find((e: { name: string }) => e.name === 'CURSOR_KEY');
      expect(env.valueFrom.secretKeyRef).to.deep.equal({ name: 'airq-api', key: 'cursor-key' });
      expect(keyOf(await renderChart())).to.match(/^[A-Za-z0-9]{48}$/);
      const refused = await renderChart({ set: ['api.cursorKey=short'] }).then(
        () => 'rendered',
        (error: Error) => error.message,
      );
      expect(refused).to.match(/cursorKey/);
    });

    it('keeps the BAN token it is given in the Secret and the VCL include', async function () {
      const objects = await renderChart({ set: ['cache.ban.token=a-fixed-token-0123456789'] });
      const secret = one(objects, 'Secret', 'airq-cache');
      expect(Buffer.from(secret.data['ban-token'], 'base64').toString()).to.equal('a-fixed-token-0123456789');
      expect(Buffer.from(secret.data['ban-token.vcl'], 'base64').toString()).to.include('"a-fixed-token-0123456789"');
    });

    it('renders a valid ServiceMonitor and PrometheusRule on the API metrics when enabled', async function () {
      const objects = await renderChart({
        environment: 'production',
        set: ['metrics.serviceMonitor.enabled=true', 'metrics.prometheusRule.enabled=true'],
      });
      for (const object of objects) validateObject(object);
      const monitor = one(objects, 'ServiceMonitor', 'airq-api');
      expect(selects(monitor.spec.selector, one(objects, 'Service', 'airq-api').metadata.labels)).to.equal(true);
      expect(selects(monitor.spec.selector, one(objects, 'Service', 'airq-cache').metadata.labels)).to.equal(false);
      expect(monitor.spec.endpoints).to.deep.equal([{ port: 'http', path: '/metrics', interval: '30s' }]);
      const rules = one(objects, 'PrometheusRule', 'airq').spec.groups.flatMap(
        (g: { rules: { alert: string; expr: string }[] }) => g.rules,
      );
      expect(rules.map((r: { alert: string }) => r.alert)).to.deep.equal([
        'AirqApiHighErrorRate',
        'AirqApiHighLatency',
        'AirqApiNotReady',
        'AirqApiDown',
        'AirqSeedFailed',
      ]);
      // The API exports http_request_duration_seconds (api/src/metrics.ts): its _count carries the status label.
      expect(rules[0].expr).to.include(
        'http_request_duration_seconds_count{namespace="airq-test", job="airq-api", status=~"5.."}',
      );
      expect(rules[4].expr).to.include('kube_job_status_failed{namespace="airq-test", job_name=~"airq-seed.*"}');
      // Prometheus must get through the API's NetworkPolicy to scrape it.
      const policy = one(objects, 'NetworkPolicy', 'airq-api');
      expect(policy.spec.ingress[0].from).to.deep.include({
        namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } },
        podSelector: {},
      });
    });

    it('backs the database up with pg_dump to a kept volume when enabled, and lets the backup pods reach it', async function () {
      const objects = await renderChart({ set: ['postgresql.backup.enabled=true'] });
      for (const object of objects) validateObject(object);
      const cronJob = one(objects, 'CronJob', 'airq-backup');
      expect(cronJob.spec.schedule).to.equal('17 3 * * *');
      expect(cronJob.spec.concurrencyPolicy).to.equal('Forbid');
      const pod = cronJob.spec.jobTemplate.spec.template;
      expect(pod.spec.containers[0].command.join(' ')).to.include('pg_dump --format=custom');
      expect(pod.spec.volumes[0].persistentVolumeClaim.claimName).to.equal('airq-backup');
      expect(one(objects, 'PersistentVolumeClaim', 'airq-backup').metadata.annotations).to.deep.equal({
        'helm.sh/resource-policy': 'keep',
      });
      const dbPolicy = one(objects, 'NetworkPolicy', 'airq-postgresql');
      const peers = dbPolicy.spec.ingress[0].from as { podSelector: object }[];
      expect(peers.some((peer) => selects(peer.podSelector, pod.metadata.labels))).to.equal(true);
    });

    it('in production, dumps the database before an upgrade that brings new migrations (a pre-upgrade hook Job), and nightly', async function () {
      const digest = `sha256:${'cd34'.repeat(16)}`;
      const objects = await renderChart({
        environment: 'production',
        namespace: 'airq-production',
        set: [`image.digest=${digest}`],
      });
      for (const object of objects) validateObject(object);
      expect(one(objects, 'CronJob', 'airq-backup').spec.schedule).to.equal('17 3 * * *');
      const hook = one(objects, 'Job', 'airq-backup-before-upgrade');
      expect(hook.metadata.annotations).to.include({
        'helm.sh/hook': 'pre-upgrade',
        'helm.sh/hook-delete-policy': 'before-hook-creation,hook-succeeded',
      });
      const pod = hook.spec.template;
      // The new image says which migration the upgrade brings; the database says which it has.
      expect(pod.spec.initContainers[0].image).to.equal(`ghcr.io/example/airq@${digest}`);
      expect(pod.spec.initContainers[0].command.join(' ')).to.include("readdirSync('db/migrations')");
      const script = pod.spec.containers[0].command.join(' ');
      expect(script).to.include('SELECT coalesce(max(version), 0) FROM schema_migrations');
      expect(script).to.include('no schema change, no backup');
      expect(script).to.include('pg_dump --format=custom');
      expect(pod.spec.volumes[0].persistentVolumeClaim.claimName).to.equal('airq-backup');
      expect(hook.spec.backoffLimit).to.equal(0);
      const dbPolicy = one(objects, 'NetworkPolicy', 'airq-postgresql');
      const peers = dbPolicy.spec.ingress[0].from as { podSelector: object }[];
      expect(
        peers.some((peer) => selects(peer.podSelector, pod.metadata.labels)),
        'the hook reaches the database',
      ).to.equal(true);

      const without = await renderChart({
        environment: 'production',
        namespace: 'airq-production',
        set: ['postgresql.backup.beforeSchemaChange=false'],
      });
      expect(find(without, 'Job').map((job) => job.metadata.name)).not.to.include('airq-backup-before-upgrade');
      for (const environment of ['development', 'staging'] as const) {
        expect(
          find(await renderChart({ environment }), 'Job').map((job) => job.metadata.name),
          environment,
        ).not.to.include('airq-backup-before-upgrade');
      }
    });

    it('uses an external database instead of the StatefulSet when postgresql.enabled is false', async function () {
      const objects = await renderChart({
        values: {
          postgresql: { enabled: false },
          externalDatabase: {
            host: 'db.example.internal',
            existingSecret: 'airq-db',
            passwordKey: 'pw',
            sslMode: 'verify-full',
          },
        },
      });
      for (const object of objects) validateObject(object);
      expect(find(objects, 'StatefulSet')).to.have.length(0);
      expect(find(objects, 'NetworkPolicy').map((p) => p.metadata.name)).to.deep.equal(['airq-api', 'airq-cache']);
      expect(find(objects, 'Secret').map((s) => s.metadata.name)).to.deep.equal(['airq-api', 'airq-cache']);
      const env = apiContainer(objects).env;
      expect(env[0].valueFrom.secretKeyRef).to.deep.equal({ name: 'airq-db', key: 'pw' });
      expect(env[1].value).to.equal('postgres://airq:$(DB_PASSWORD)@db.example.internal:5432/airq?sslmode=verify-full');
    });

    it('names what is missing when postgresql.enabled is false without an external host', async function () {
      const failure = await renderChart({ set: ['postgresql.enabled=false'] }).then(
        () => undefined,
        (error: Error) => error,
      );
      expect(failure?.message).to.include('externalDatabase.host is required when postgresql.enabled is false');
    });

    it('tells the operator in NOTES how to reach the API: the ingress URL, or a port-forward to the cache', async function () {
      const production = await renderNotes({ environment: 'production', namespace: 'airq-production' });
      expect(production).to.include('API: 5 replicas');
      expect(production).to.include('https://airq.example.com/air_quality');
      expect(production).to.include('helm test airq -n airq-production');
      const bare = await renderNotes({ set: ['service.port=9090'] });
      expect(bare).to.include('kubectl -n airq-test port-forward svc/airq-cache 8080:80');
      expect(bare).to.include('in front of airq-api:9090');
    });

    it('runs as many cache replicas as cache.replicas asks, all behind both cache Services and the cache NetworkPolicy', async function () {
      const objects = await renderChart({
        environment: 'production',
        namespace: 'airq-production',
        set: ['cache.replicas=3'],
      });
      for (const object of objects) validateObject(object);
      const deployment = one(objects, 'Deployment', 'airq-cache');
      expect(deployment.spec.replicas).to.equal(3);
      const labels = deployment.spec.template.metadata.labels;
      for (const name of ['airq-cache', 'airq-cache-headless']) {
        expect(selects({ matchLabels: one(objects, 'Service', name).spec.selector }, labels), name).to.equal(true);
      }
      expect(selects(one(objects, 'NetworkPolicy', 'airq-cache').spec.podSelector, labels)).to.equal(true);
      // Spread over nodes, and drained one at a time.
      const constraints = deployment.spec.template.spec.topologySpreadConstraints;
      expect(constraints.map((c: { topologyKey: string }) => c.topologyKey)).to.deep.equal([
        'kubernetes.io/hostname',
        'topology.kubernetes.io/zone',
      ]);
      for (const c of constraints) expect(selects(c.labelSelector, labels)).to.equal(true);
      const pdb = one(objects, 'PodDisruptionBudget', 'airq-cache');
      expect(pdb.spec).to.deep.include({ maxUnavailable: 1, unhealthyPodEvictionPolicy: 'AlwaysAllow' });
      expect(selects(pdb.spec.selector, labels)).to.equal(true);
      expect(selects(pdb.spec.selector, one(objects, 'Deployment', 'airq-api').spec.template.metadata.labels)).to.equal(
        false,
      );
      const seed = one(objects, 'Job', 'airq-seed').spec.template.spec.containers[0];
      const banUrl = seed.env.find((e: { name: string }) => e.name === 'CACHE_BAN_URL').value;
      expect(banUrl).to.equal('http://airq-cache-headless.airq-production.svc:8080/');
      expect(await renderNotes({ environment: 'production', set: ['cache.replicas=3'] })).to.include(
        'Cache: 3 Varnish pods behind Service airq-cache:80',
      );

      // One cache: no budget and no spreading to render, and the pod template stays as it was.
      const single = await renderChart({ environment: 'production', namespace: 'airq-production' });
      expect(find(single, 'PodDisruptionBudget').map((p) => p.metadata.name)).to.deep.equal(['airq-api']);
      expect(one(single, 'Deployment', 'airq-cache').spec.template.spec).not.to.have.property(
        'topologySpreadConstraints',
      );
    });

    it('admits the peers listed in networkPolicy.cacheClients to the cache, and only to the cache', async function () {
      const peer = {
        namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'synthetics' } },
        podSelector: { matchLabels: { app: 'probe' } },
      };
      const objects = await renderChart({ values: { networkPolicy: { cacheClients: [peer] } } });
      for (const object of objects) validateObject(object);
      expect(one(objects, 'NetworkPolicy', 'airq-cache').spec.ingress[0].from).to.deep.include(peer);
      expect(one(objects, 'NetworkPolicy', 'airq-api').spec.ingress[0].from).not.to.deep.include(peer);
      const ingressOnly = await renderChart({
        values: {
          networkPolicy: {
            ingressController: {
              namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'traefik' } },
              podSelector: { matchLabels: { 'app.kubernetes.io/name': 'traefik' } },
            },
          },
        },
      });
      expect(one(ingressOnly, 'NetworkPolicy', 'airq-cache').spec.ingress[0].from[0]).to.deep.equal({
        namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'traefik' } },
        podSelector: { matchLabels: { 'app.kubernetes.io/name': 'traefik' } },
      });
    });

    it('renders no NetworkPolicy when networkPolicy.enabled is false', async function () {
      expect(find(await renderChart({ set: ['networkPolicy.enabled=false'] }), 'NetworkPolicy')).to.have.length(0);
    });

    it('applies a nodeSelector given for the API to the API pods only, over the global one', async function () {
      const objects = await renderChart({
        values: { nodeSelector: { pool: 'general' }, api: { nodeSelector: { 'airq/pool': 'none' } } },
      });
      expect(one(objects, 'Deployment', 'airq-api').spec.template.spec.nodeSelector).to.deep.equal({
        pool: 'general',
        'airq/pool': 'none',
      });
      expect(one(objects, 'Deployment', 'airq-cache').spec.template.spec.nodeSelector).to.deep.equal({
        pool: 'general',
      });
    });
  });
});
