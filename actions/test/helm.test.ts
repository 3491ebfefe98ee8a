import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { UpgradeOptions } from '../src/lib/helm.ts';
import { Helm, HelmError, helmErrorLines, parseHelmVersion, rollbackArgs, upgradeArgs } from '../src/lib/helm.ts';
import { kubeBinaries } from '../../test/support/kube-binaries.ts';
import { HISTORY_DIR, memoryStore } from './support/helm-memory.ts';

const baseOptions: UpgradeOptions = {
  release: 'airq',
  namespace: 'airq-staging',
  chart: 'helm/airq',
  valuesFiles: ['/tmp/staging.values.yaml', 'extra.yaml'],
  setString: { 'image.tag': 'abc123', appVersion: '1.2.3' },
  description: 'Deploy 1.2.3 from commit abc by octocat in run 7',
  timeout: '300s',
  historyMax: 10,
  createNamespace: true,
  rollbackOnFailure: true,
  dryRun: 'none',
};

describe('Helm (actions/src/lib/helm.ts)', () => {
  describe('parseHelmVersion', () => {
    const cases: Array<[string, string, number]> = [
      ['v4.1.4+g05fa379', '4.1.4', 4],
      ['v3.19.0+g3d8990f', '3.19.0', 3],
      ['v3.12.3', '3.12.3', 3],
    ];
    for (const [short, version, major] of cases) {
      it(`reads ${short} as helm ${version} (major ${major})`, () => {
        expect(parseHelmVersion(short)).to.deep.equal({ version, major });
      });
    }
    it('refuses output that is not a version, naming what it read', () => {
      expect(() => parseHelmVersion('command not found')).to.throw(/"command not found", not a version/);
    });
  });

  describe('upgradeArgs', () => {
    it('builds an upgrade --install that waits and rolls back with helm 4 flags', () => {
      expect(upgradeArgs(baseOptions, 4)).to.deep.equal([
        'upgrade',
        'airq',
        'helm/airq',
        '--install',
        '--namespace',
        'airq-staging',
        '--create-namespace',
        '--values',
        '/tmp/staging.values.yaml',
        '--values',
        'extra.yaml',
        '--set-string',
        'image.tag=abc123',
        '--set-string',
        'appVersion=1.2.3',
        '--description',
        'Deploy 1.2.3 from commit abc by octocat in run 7',
        '--history-max',
        '10',
        '--timeout',
        '300s',
        '--wait',
        '--rollback-on-failure',
        '--output',
        'json',
      ]);
    });
    it('uses --atomic instead of --rollback-on-failure for helm 3', () => {
      const args = upgradeArgs(baseOptions, 3);
      expect(args).to.include('--atomic');
      expect(args).not.to.include('--rollback-on-failure');
    });
    it('neither waits nor rolls back in a dry run, and hides Secret data', () => {
      for (const dryRun of ['client', 'server'] as const) {
        const args = upgradeArgs({ ...baseOptions, dryRun }, 4);
        expect(args).to.include(`--dry-run=${dryRun}`).and.include('--hide-secret');
        expect(args).not.to.include('--wait');
        expect(args).not.to.include('--rollback-on-failure');
      }
    });
    it('leaves out --create-namespace and the rollback flag when not asked for', () => {
      const args = upgradeArgs({ ...baseOptions, createNamespace: false, rollbackOnFailure: false }, 4);
      expect(args).not.to.include('--create-namespace');
      expect(args).not.to.include('--rollback-on-failure');
      expect(args).to.include('--wait');
    });
  });

  it('builds a waiting rollback to one revision', () => {
    expect(rollbackArgs({ release: 'airq', namespace: 'airq-production', revision: 4, timeout: '120s' })).to.deep.equal(
      ['rollback', 'airq', '4', '--namespace', 'airq-production', '--wait', '--timeout', '120s'],
    );
  });

  it("keeps helm's error from its Error: line on, or its last lines when there is none", () => {
    expect(helmErrorLines('level=INFO msg=x\nError: UPGRADE FAILED: boom\n')).to.equal('UPGRADE FAILED: boom');
    expect(
      helmErrorLines("Error: values don't meet the specifications:\nairq:\n- at '/api/replicas': got string\n"),
    ).to.equal("values don't meet the specifications: airq: - at '/api/replicas': got string");
    expect(helmErrorLines('a\nb\nc\nd\n')).to.equal('b c d');
    expect(helmErrorLines('')).to.equal('no output on stderr');
  });

  describe('against the real helm binary', () => {
    const { helm: binary } = kubeBinaries();

    it('detects helm 4 from the official binary', async () => {
      const version = await new Helm({ binary }).version();
      expect(version.major).to.equal(4);
      expect(version.version).to.match(/^4\.\d+\.\d+$/);
    });

    it('the committed history fixtures are exactly what helm history -o json prints for their releases', () => {
      const fixtures = readdirSync(HISTORY_DIR).filter((file) => file.endsWith('.releases.yaml'));
      expect(fixtures.length).to.be.greaterThan(3);
      for (const file of fixtures) {
        const name = file.replace('.releases.yaml', '');
        const printed = execFileSync(binary, ['history', 'airq', '-n', 'airq-staging', '-o', 'json'], {
          env: { ...process.env, ...memoryStore(name) },
          encoding: 'utf8',
        });
        expect(JSON.parse(printed), name).to.deep.equal(
          JSON.parse(readFileSync(path.join(HISTORY_DIR, `${name}.json`), 'utf8')),
        );
      }
    });

    it('reads a release history oldest first, and undefined for a release that does not exist', async () => {
      const helm = new Helm({ binary, env: memoryStore('mixed') });
      const history = await helm.history('airq', 'airq-staging');
      expect(history?.map((entry) => [entry.revision, entry.status])).to.deep.equal([
        [1, 'superseded'],
        [2, 'failed'],
        [3, 'superseded'],
        [4, 'pending-upgrade'],
        [5, 'deployed'],
      ]);
      expect(await helm.history('nope', 'airq-staging')).to.equal(undefined);
    });

    it('reads the user-supplied values of one revision', async () => {
      const deployed = new Helm({ binary, env: memoryStore('two-deployed') });
      expect(await deployed.values('airq', 'airq-staging', 1)).to.deep.equal({
        appVersion: '1.0.0',
        image: { tag: '1.0.0' },
      });
      expect(await deployed.values('other', 'airq-staging')).to.equal(undefined);
    });

    it('reads the status of a release, and undefined for a release that does not exist', async () => {
      const helm = new Helm({ binary, env: memoryStore('two-deployed') });
      const status = await helm.status('airq', 'airq-staging');
      expect(status).to.nested.include({
        version: 2,
        'info.status': 'deployed',
        'info.description': 'Upgrade complete',
      });
      expect(await helm.status('ghost', 'airq-staging')).to.equal(undefined);
    });

    it("turns a failing helm command into a HelmError carrying helm's message", async () => {
      const helm = new Helm({ binary, env: memoryStore('two-deployed') });
      const error = await helm
        .rollback({ release: 'airq', namespace: 'airq-staging', revision: 9, timeout: '10s' })
        .catch((e: unknown) => e);
      expect(error).to.be.instanceOf(HelmError);
      expect((error as HelmError).message).to.equal('helm rollback failed (exit 1): release has no 9 version');
    });

    it('renders a chart with values files and --set-string values (helm template)', async () => {
      const chart = fileURLToPath(new URL('./fixtures/chart', import.meta.url));
      const manifests = await new Helm({ binary }).template({
        release: 'plan',
        namespace: 'ns1',
        chart,
        valuesFiles: [],
        setString: { 'image.tag': '0000000' },
      });
      expect(manifests).to.include('image: "ghcr.io/example/fixture:0000000"').and.include('name: plan-web');
    });
  });
});
