import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseDocument } from 'yaml';
import { HelmError, environmentValues, lintChart, renderChart, type RenderOptions } from './support/chart.ts';
import { REPO_ROOT } from '../../test/support/repo-root.ts';

/** Renders and returns the failure; fails the test if helm accepted the values. */
async function rejection(options: RenderOptions): Promise<string> {
  try {
    await renderChart(options);
  } catch (error) {
    if (error instanceof HelmError) return error.message;
    throw error;
  }
  throw new Error(`helm template accepted ${JSON.stringify(options)}`);
}

// Each rule of helm/airq/values.schema.json that protects an environment from a plausible mistake.
const CASES: { rule: string; options: RenderOptions; error: RegExp }[] = [
  {
    rule: 'an unknown top-level key',
    options: { values: { replicas: 5 } },
    error: /at '': additional properties 'replicas' not allowed/,
  },
  {
    rule: 'an unknown nested key (a typo)',
    options: { values: { api: { replica: 5 } } },
    error: /at '\/api': additional properties 'replica' not allowed/,
  },
  {
    rule: 'an unknown key deep inside',
    options: { set: ['cache.ban.tokn=x'] },
    error: /at '\/cache\/ban': additional properties 'tokn' not allowed/,
  },
  {
    rule: 'replicas given as a string',
    options: { values: { api: { replicas: 'five' } } },
    error: /at '\/api\/replicas': got string, want integer/,
  },
  {
    rule: 'negative replicas',
    options: { set: ['api.replicas=-1'] },
    error: /at '\/api\/replicas': minimum: got -1, want 0/,
  },
  {
    rule: 'an HPA minimum of zero',
    options: { set: ['api.autoscaling.minReplicas=0'] },
    error: /at '\/api\/autoscaling\/minReplicas': minimum: got 0, want 1/,
  },
  {
    rule: 'a service port out of range',
    options: { set: ['service.port=70000'] },
    error: /at '\/service\/port': maximum: got 70,000, want 65,535/,
  },
  {
    rule: 'a service port given as text',
    options: { set: ['service.port=http'] },
    error: /at '\/service\/port': got string, want integer/,
  },
  {
    rule: 'a Service type other than ClusterIP',
    options: { set: ['service.type=LoadBalancer'] },
    error: /at '\/service\/type': value must be 'ClusterIP'/,
  },
  {
    rule: 'an unknown log level',
    options: { set: ['api.logLevel=verbose'] },
    error: /at '\/api\/logLevel': value must be one of/,
  },
  {
    rule: 'a CORS origin with a path',
    options: { set: ['api.corsOrigins=https://a.example/app'] },
    error: /at '\/api\/corsOrigins': .*does not match pattern/,
  },
  {
    rule: 'an image digest that is not sha256:<64 hex>',
    options: { set: ['image.digest=sha256:abc'] },
    error: /at '\/image\/digest': .*sha256/,
  },
  {
    rule: 'an unknown image pull policy',
    options: { set: ['image.pullPolicy=Sometimes'] },
    error: /at '\/image\/pullPolicy': value must be one of/,
  },
  {
    rule: 'a malformed memory quantity',
    options: { set: ['api.resources.limits.memory=lots'] },
    error: /at '\/api\/resources\/limits\/memory'/,
  },
  {
    rule: 'a Varnish storage size without a unit',
    options: { set: ['cache.storageSize=256'] },
    error: /at '\/cache\/storageSize'/,
  },
  {
    rule: 'no cache replica at all',
    options: { set: ['cache.replicas=0'] },
    error: /at '\/cache\/replicas': minimum: got 0, want 1/,
  },
  {
    rule: 'a cache client peer without its pod selector',
    options: { values: { networkPolicy: { cacheClients: [{ namespaceSelector: {} }] } } },
    error: /at '\/networkPolicy\/cacheClients\/0': missing property 'podSelector'/,
  },
  {
    rule: 'a privileged cache port',
    options: { set: ['cache.containerPort=80'] },
    error: /at '\/cache\/containerPort': minimum: got 80, want 1,024/,
  },
  {
    rule: 'a root uid',
    options: { set: ['postgresql.runAsUser=0'] },
    error: /at '\/postgresql\/runAsUser': minimum: got 0, want 1/,
  },
  { rule: 'a short BAN token', options: { set: ['cache.ban.token=abc'] }, error: /at '\/cache\/ban\/token'/ },
  {
    rule: 'a BAN network with an impossible prefix length',
    options: { values: { cache: { ban: { allowedCidrs: ['10.0.0.0/99'] } } } },
    error: /at '\/cache\/ban\/allowedCidrs\/0'/,
  },
  {
    rule: 'a BAN network without a prefix length',
    options: { values: { cache: { ban: { allowedCidrs: ['10.0.0.0'] } } } },
    error: /at '\/cache\/ban\/allowedCidrs\/0'/,
  },
  {
    rule: 'a bad cron schedule',
    options: { set: ['postgresql.backup.schedule=daily'] },
    error: /at '\/postgresql\/backup\/schedule'/,
  },
  {
    rule: 'an uppercase ingress host',
    options: { set: ['ingress.host=Airq.Example.com'] },
    error: /at '\/ingress\/host'/,
  },
  {
    rule: 'an unknown sslmode',
    options: { set: ['externalDatabase.sslMode=on'] },
    error: /at '\/externalDatabase\/sslMode': value must be one of/,
  },
  {
    rule: 'a boolean switch given as text',
    options: { values: { networkPolicy: { enabled: 'yes' } } },
    error: /at '\/networkPolicy\/enabled': got string, want boolean/,
  },
];

/** JSON pointers of schema nodes that declare properties but would accept unknown ones. */
function openObjects(node: unknown, pointer = ''): string[] {
  if (!node || typeof node !== 'object') return [];
  const schema = node as Record<string, unknown>;
  const here = schema.properties && schema.additionalProperties !== false ? [pointer || '/'] : [];
  return [
    ...here,
    ...Object.entries(schema).flatMap(([key, child]) =>
      Array.isArray(child)
        ? child.flatMap((item, i) => openObjects(item, `${pointer}/${key}/${i}`))
        : openObjects(child, `${pointer}/${key}`),
    ),
  ];
}

describe('the chart values schema', function () {
  it('closes every object it describes to unknown keys', function () {
    const schema = JSON.parse(
      readFileSync(path.join(REPO_ROOT, 'helm', 'airq', 'values.schema.json'), 'utf8'),
    ) as unknown;
    expect(openObjects(schema)).to.deep.equal([]);
    // The walk itself finds an open object when there is one.
    expect(
      openObjects({ properties: { a: { type: 'object', properties: { b: {} } } }, additionalProperties: false }),
    ).to.deep.equal(['/properties/a']);
  });

  for (const { rule, options, error } of CASES) {
    it(`rejects ${rule}`, async function () {
      expect(await rejection(options)).to.match(error);
    });
  }

  it('rejects an HPA whose minimum is above its maximum, naming both values', async function () {
    const message = await rejection({ set: ['api.autoscaling.enabled=true', 'api.autoscaling.minReplicas=6'] });
    expect(message).to.include('api.autoscaling.minReplicas (6) is above maxReplicas (5)');
  });

  it('fails helm lint as well as helm template on a wrong type', async function () {
    const failure = await lintChart({ values: { api: { replicas: 'two' } } }).then(
      () => 'accepted',
      (e: Error) => e.message,
    );
    expect(failure).to.match(/at '\/api\/replicas': got string, want integer/);
  });

  describe('applied to an environment file', function () {
    let dir: string;
    before(function () {
      dir = mkdtempSync(path.join(tmpdir(), 'airq-environments-'));
    });
    after(function () {
      rmSync(dir, { recursive: true, force: true });
    });

    /** A copy of environments/production.yaml with one edit under `values:`, read back as the deploy action reads it. */
    function editedProduction(edit: (values: ReturnType<typeof parseDocument>) => void): unknown {
      const doc = parseDocument(readFileSync(path.join(REPO_ROOT, 'environments', 'production.yaml'), 'utf8'));
      edit(doc);
      writeFileSync(path.join(dir, 'production.yaml'), doc.toString());
      return environmentValues('production', dir);
    }

    it('accepts the committed file unchanged', async function () {
      const values = editedProduction(() => {});
      const objects = await renderChart({ values });
      expect(objects.length).to.be.greaterThan(10);
    });

    it('rejects a misspelt key under values:', async function () {
      const values = editedProduction((doc) => doc.setIn(['values', 'api', 'replica'], 5));
      expect(await rejection({ values })).to.match(/at '\/api': additional properties 'replica' not allowed/);
    });

    it('rejects replicas written as a quoted number', async function () {
      const values = editedProduction((doc) => doc.setIn(['values', 'api', 'replicas'], '5'));
      expect(await rejection({ values })).to.match(/at '\/api\/replicas': got string, want integer/);
    });

    it('rejects a component that does not exist', async function () {
      const values = editedProduction((doc) => doc.setIn(['values', 'redis', 'enabled'], true));
      expect(await rejection({ values })).to.match(/additional properties 'redis' not allowed/);
    });
  });
});
