import { expect } from 'chai';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import {
  commitFromDescription,
  imageReference,
  releaseDescription,
  rolledBackTo,
  setStringValues,
} from '../src/helm-deploy/deploy.ts';
import { readSettings } from '../src/helm-deploy/settings.ts';
import { loadEnvironments } from '../src/lib/environments.ts';
import type { RunContext } from '../src/lib/github.ts';
import { Inputs } from '../src/lib/inputs.ts';
import { kubeBinaries } from '../../test/support/kube-binaries.ts';
import { startGitHubApiStub, type GitHubApiStub } from '../../test/support/github-api-stub.ts';
import { DEFAULT_SHA, pushBranch, pushTag } from './support/events.ts';
import { errors, runAction } from './support/run-action.ts';
import { REPO_ROOT } from '../../test/support/repo-root.ts';

const context = { sha: DEFAULT_SHA, actor: 'octocat', runId: '42' } as RunContext;
const DIGEST = `sha256:${'5d'.repeat(32)}`;

describe('helm-deploy', () => {
  describe('pure pieces', () => {
    it('describes the revision with the version, commit, actor and run, and reads the commit back', () => {
      const description = releaseDescription({ version: '1.2.3', imageTag: 'v1.2.3' }, context);
      expect(description).to.equal(`Deploy 1.2.3 from commit ${DEFAULT_SHA} by octocat in run 42`);
      expect(commitFromDescription(description)).to.equal(DEFAULT_SHA);
      expect(commitFromDescription('Rollback to 2')).to.equal(undefined);
    });

    it('sets only the image and version values it was given', () => {
      expect(setStringValues({ imageRepository: '', imageTag: 'abc', version: '' })).to.deep.equal({
        'image.tag': 'abc',
        'image.digest': '',
      });
      expect(setStringValues({ imageRepository: 'ghcr.io/x/airq', imageTag: 'abc', version: '1.0.0' })).to.deep.equal({
        'image.repository': 'ghcr.io/x/airq',
        'image.tag': 'abc',
        appVersion: '1.0.0',
        'image.digest': '',
      });
      expect(
        setStringValues({ imageRepository: 'ghcr.io/x/airq', imageTag: 'abc', version: '1.0.0', imageDigest: DIGEST }),
      ).to.include({ 'image.digest': DIGEST });
    });

    it('names the exact image by digest in the revision description, so helm history shows what ran', () => {
      const description = releaseDescription(
        { version: '1.2.3', imageTag: '1.2.3', imageRepository: 'ghcr.io/airq-org/airq/api', imageDigest: DIGEST },
        context,
      );
      expect(description).to.equal(
        `Deploy 1.2.3 (ghcr.io/airq-org/airq/api@${DIGEST}) from commit ${DEFAULT_SHA} by octocat in run 42`,
      );
      expect(commitFromDescription(description)).to.equal(DEFAULT_SHA);
      expect(imageReference({ imageRepository: 'r', imageTag: 't', imageDigest: '' })).to.equal('r:t');
    });

    it("reads the revision an automatic rollback returned to from helm's description", () => {
      expect(rolledBackTo('Rollback to 3')).to.equal(3);
      expect(rolledBackTo('Upgrade complete')).to.equal(undefined);
    });
  });

  describe('readSettings', () => {
    const registry = loadEnvironments(path.join(REPO_ROOT, 'environments'));
    const read = (inputs: Record<string, string>) =>
      readSettings(Inputs.fromRecord({ 'github-token': 'ghs_test', ...inputs }), registry);

    it("takes release, namespace and url from the environment's registry file unless overridden", () => {
      const settings = read({ environment: 'production' });
      expect(settings).to.include({
        release: 'airq',
        namespace: 'airq-production',
        environmentUrl: 'https://airq.example.com',
        production: true,
      });
      expect(settings).to.include({
        chart: 'helm/airq',
        timeout: '300s',
        historyMax: 10,
        dryRun: 'none',
        createDeployment: true,
      });
      expect(read({ environment: 'staging', namespace: 'airq-preview', release: 'pr-7' })).to.include({
        namespace: 'airq-preview',
        release: 'pr-7',
        production: false,
      });
    });

    const dryRuns: Array<[string, string, boolean]> = [
      ['false', 'none', true],
      ['client', 'client', false],
      ['server', 'server', false],
    ];
    for (const [input, dryRun, createDeployment] of dryRuns) {
      it(`reads dry-run "${input}" as ${dryRun}, ${createDeployment ? 'recording' : 'never recording'} a Deployment`, () => {
        expect(read({ environment: 'development', 'dry-run': input })).to.include({ dryRun, createDeployment });
      });
    }

    const invalid: Array<[Record<string, string>, RegExp]> = [
      [
        { environment: 'qa' },
        /environment "qa" is not defined in .*environments\/ \(known: development, production, staging\)/,
      ],
      [{ environment: 'staging', 'dry-run': 'maybe' }, /input "dry-run": "maybe" is not one of/],
      [{ environment: 'staging', timeout: 'soon' }, /input "timeout": "soon" is not a duration/],
      [{ environment: 'staging', 'history-max': '-1' }, /input "history-max": -1 is out of range/],
      [
        { environment: 'staging', 'github-token': '' },
        /input "github-token" is required to record a GitHub Deployment/,
      ],
    ];
    for (const [inputs, message] of invalid) {
      it(`refuses ${JSON.stringify(inputs)} naming the input`, () => {
        expect(() => read(inputs)).to.throw(message);
      });
    }
  });

  describe('the bundled action with the real helm and chart', function () {
    this.timeout(120_000);
    let stub: GitHubApiStub;
    let scratch: string;
    const { binDir } = kubeBinaries();
    const env = { PATH: `${binDir}${path.delimiter}${process.env.PATH ?? ''}`, KUBECONFIG: '/nonexistent' };

    before(async () => {
      stub = await startGitHubApiStub();
      scratch = mkdtempSync(path.join(tmpdir(), 'helm-deploy-test-'));
    });
    after(async () => {
      await stub.stop();
      rmSync(scratch, { recursive: true, force: true });
    });
    beforeEach(() => stub.reset());

    it('renders helm/airq for staging in a client dry run, records no deployment and summarises the plan', async () => {
      const result = await runAction('helm-deploy', {
        event: pushBranch('staging'),
        apiUrl: stub.url,
        env,
        inputs: {
          environment: 'staging',
          'image-repository': 'ghcr.io/airq-org/airq',
          'image-tag': DEFAULT_SHA,
          version: '1.2.3',
          'dry-run': 'client',
          'github-token': 'ghs_test',
        },
      });
      try {
        expect(result.exitCode, result.stdout + result.stderr).to.equal(0);
        expect(result.outputs).to.deep.equal({
          status: 'dry-run',
          revision: '1',
          'previous-revision': '',
          'deployment-id': '',
          image: `ghcr.io/airq-org/airq:${DEFAULT_SHA}`,
        });
        const command = result.stdout.split('\n').find((line) => line.includes(' upgrade airq helm/airq')) ?? '';
        expect(command).to.include('--install --namespace airq-staging --create-namespace');
        expect(command).to.match(/--values \S+\/staging\.values\.yaml/);
        expect(command).to.include(
          `--set-string image.repository=ghcr.io/airq-org/airq --set-string image.tag=${DEFAULT_SHA} --set-string appVersion=1.2.3`,
        );
        expect(command).to.include(
          `--description 'Deploy 1.2.3 from commit ${DEFAULT_SHA} by octocat in run 9876543210'`,
        );
        expect(command).to.include('--history-max 10 --timeout 300s --dry-run=client --hide-secret');
        expect(command).not.to.include('--wait');
        // The environment's values reached helm: staging enables the ingress for its host.
        const valuesFile = /--values (\S+staging\.values\.yaml)/.exec(command)?.[1] ?? '';
        expect(parseYaml(readFileSync(valuesFile, 'utf8'))).to.have.nested.property(
          'ingress.host',
          'airq-staging.example.com',
        );
        expect(result.summary).to.include('helm-deploy: staging dry run (client)');
        expect(result.summary).to.include('<td>airq-0.1.0</td>').and.include('<td>1.2.3</td>');
        expect(result.summary).to.include(`ghcr.io/airq-org/airq:${DEFAULT_SHA}`);
        expect(result.summary).to.include('Release notes (NOTES.txt)');
        expect(stub.requests).to.have.length(0);
      } finally {
        result.cleanup();
      }
    });

    it('deploys by digest: renders repository@sha256:… and names it in the description and the summary; refuses a malformed digest', async () => {
      const result = await runAction('helm-deploy', {
        event: pushTag('v1.2.3'),
        apiUrl: stub.url,
        env,
        inputs: {
          environment: 'production',
          'image-repository': 'ghcr.io/airq-org/airq/api',
          'image-tag': '1.2.3',
          'image-digest': DIGEST,
          version: '1.2.3',
          'dry-run': 'client',
          'github-token': 'ghs_test',
        },
      });
      const bad = await runAction('helm-deploy', {
        apiUrl: stub.url,
        env,
        inputs: {
          environment: 'development',
          'image-digest': 'sha256:1234',
          'dry-run': 'client',
          'github-token': 'ghs_test',
        },
      });
      try {
        expect(result.exitCode, result.stdout + result.stderr).to.equal(0);
        const command = result.stdout.split('\n').find((line) => line.includes(' upgrade airq helm/airq')) ?? '';
        expect(command).to.include(`--set-string image.digest=${DIGEST}`);
        expect(command).to.include(`--description 'Deploy 1.2.3 (ghcr.io/airq-org/airq/api@${DIGEST}) from commit`);
        expect(result.outputs.image).to.equal(`ghcr.io/airq-org/airq/api@${DIGEST}`);
        expect(result.summary).to.include(`ghcr.io/airq-org/airq/api@${DIGEST}`);
        expect(bad.exitCode).to.equal(1);
        expect(errors(bad)).to.match(
          /^input "image-digest": "sha256:1234" is not a digest like sha256:<64 lowercase hex>/,
        );
      } finally {
        result.cleanup();
        bad.cleanup();
      }
    });

    it('fails on a chart path without Chart.yaml and records the failure on the deployment', async () => {
      const result = await runAction('helm-deploy', {
        event: pushBranch('development'),
        apiUrl: stub.url,
        env,
        inputs: {
          environment: 'development',
          chart: 'helm/nope',
          'image-tag': DEFAULT_SHA,
          'github-token': 'ghs_test',
        },
      });
      try {
        expect(result.exitCode).to.equal(1);
        expect(errors(result)).to.match(
          /chart "helm\/nope": no Chart.yaml at .*helm\/nope\/Chart.yaml; set the "chart" input/,
        );
        expect(result.outputs.status).to.equal('failed');
        expect(result.outputs['deployment-id']).to.equal(String(stub.deployments[0]?.id));
        expect(stub.deployments[0]).to.include({
          ref: DEFAULT_SHA,
          environment: 'development',
          transient_environment: true,
          production_environment: false,
          auto_merge: false,
        });
        expect(stub.deployments[0]?.required_contexts).to.deep.equal([]);
        expect(stub.deploymentStatuses.map((status) => status.state)).to.deep.equal(['in_progress', 'failure']);
        const failure = stub.deploymentStatuses[1];
        expect(failure?.description).to.match(
          /^helm-deploy of release "airq" in namespace "airq-development" to development failed: chart "helm\/nope"/,
        );
        expect(failure?.description.length).to.be.at.most(140);
        expect(failure?.log_url).to.equal('https://github.com/airq-org/airq/actions/runs/9876543210');
        expect(failure?.environment_url).to.equal('https://airq-dev.example.com');
        expect(result.summary).to.include('helm-deploy: development failed');
      } finally {
        result.cleanup();
      }
    });

    it('fails on values the chart schema rejects before touching the cluster, naming the environment file', async () => {
      const dir = path.join(scratch, 'environments-invalid');
      cpSync(path.join(REPO_ROOT, 'environments'), dir, { recursive: true });
      const staging = parseYaml(readFileSync(path.join(dir, 'staging.yaml'), 'utf8')) as {
        values: Record<string, unknown>;
      };
      staging.values = { api: { replicas: 'many' } };
      writeFileSync(path.join(dir, 'staging.yaml'), toYaml(staging));
      const result = await runAction('helm-deploy', {
        event: pushBranch('staging'),
        apiUrl: stub.url,
        env,
        inputs: {
          environment: 'staging',
          'environments-dir': dir,
          'image-tag': DEFAULT_SHA,
          'github-token': 'ghs_test',
        },
      });
      try {
        expect(result.exitCode).to.equal(1);
        expect(errors(result)).to.match(/values don't meet the specifications of the schema/);
        expect(errors(result))
          .to.include('replicas')
          .and.include(`fix the values in ${path.join(dir, 'staging.yaml')} (values:)`);
        expect(result.stdout).not.to.match(/\[command\]\S+ status /);
        expect(stub.deploymentStatuses.map((status) => status.state)).to.deep.equal(['in_progress', 'failure']);
      } finally {
        result.cleanup();
      }
    });

    it('fails when the kubeconfig points at no cluster, masks its credentials and records a production failure', async () => {
      const token = 'kubeconfig-token-6f1e0c9a2b';
      const kubeconfig = toYaml({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'gone', cluster: { server: 'https://127.0.0.1:1' } }],
        users: [{ name: 'deployer', user: { token } }],
        contexts: [{ name: 'gone', context: { cluster: 'gone', user: 'deployer' } }],
        'current-context': 'gone',
      });
      const result = await runAction('helm-deploy', {
        event: pushTag('v1.4.0'),
        apiUrl: stub.url,
        env,
        inputs: {
          environment: 'production',
          'image-tag': 'v1.4.0',
          version: '1.4.0',
          kubeconfig,
          'github-token': 'ghs_test',
          timeout: '30s',
        },
      });
      try {
        expect(result.exitCode).to.equal(1);
        expect(errors(result)).to.match(/kubernetes cluster unreachable/i);
        expect(errors(result)).to.include(
          'check that the "kubeconfig" input (or KUBECONFIG) points at a reachable API server',
        );
        expect(result.masks).to.include(token);
        expect(result.masks).to.include(kubeconfig.trim());
        const unmasked = result.stdout.split('\n').filter((line) => !line.startsWith('::add-mask::'));
        expect(unmasked.join('\n')).not.to.include(token);
        expect(stub.deployments[0]).to.include({
          environment: 'production',
          production_environment: true,
          transient_environment: false,
        });
        expect(stub.deployments[0]?.payload).to.deep.equal({
          image: '(chart default):v1.4.0',
          version: '1.4.0',
          release: 'airq',
          namespace: 'airq-production',
        });
        expect(stub.deploymentStatuses.map((status) => status.state)).to.deep.equal(['in_progress', 'failure']);
        expect(stub.deploymentStatuses[1]?.environment_url).to.equal('https://airq.example.com');
        expect(result.outputs).to.include({ status: 'failed', revision: '', 'previous-revision': '' });
      } finally {
        result.cleanup();
      }
    });

    it('accepts a base64 kubeconfig and masks it decoded too; refuses text that is no kubeconfig', async () => {
      const kubeconfig = toYaml({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'gone', cluster: { server: 'https://127.0.0.1:1' } }],
        users: [{ name: 'deployer', user: { token: 'b64-token-0c4d1f' } }],
        contexts: [{ name: 'gone', context: { cluster: 'gone', user: 'deployer' } }],
        'current-context': 'gone',
      });
      const encoded = Buffer.from(kubeconfig).toString('base64');
      const inputs = { environment: 'development', 'dry-run': 'server', 'github-token': 'ghs_test' };
      const decoded = await runAction('helm-deploy', {
        apiUrl: stub.url,
        env,
        inputs: { ...inputs, kubeconfig: encoded },
      });
      const garbage = await runAction('helm-deploy', {
        apiUrl: stub.url,
        env,
        inputs: { ...inputs, kubeconfig: 'not: [a, kubeconfig]' },
      });
      try {
        expect(decoded.exitCode).to.equal(1);
        expect(errors(decoded)).to.match(/127\.0\.0\.1:1/);
        expect(decoded.masks).to.include.members([encoded, kubeconfig, 'b64-token-0c4d1f']);
        expect(garbage.exitCode).to.equal(1);
        expect(errors(garbage)).to.match(/^input "kubeconfig": not a kubeconfig .*kubectl config view --raw --minify/);
        expect(stub.requests).to.have.length(0);
      } finally {
        decoded.cleanup();
        garbage.cleanup();
      }
    });

    it('refuses to record a deployment without a token, before running helm', async () => {
      const result = await runAction('helm-deploy', {
        apiUrl: stub.url,
        env,
        inputs: { environment: 'development', 'github-token': '' },
      });
      try {
        expect(result.exitCode).to.equal(1);
        expect(errors(result)).to.match(/input "github-token" is required to record a GitHub Deployment/);
        expect(result.stdout).not.to.include('[command]');
        expect(stub.requests).to.have.length(0);
      } finally {
        result.cleanup();
      }
    });
  });
});
