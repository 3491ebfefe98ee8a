import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { kubeBinaries } from '../support/kube-binaries.ts';
import { evaluateScalar } from './support/expressions.ts';
import { securityProblems } from './support/security-rules.ts';
import { loadRawWorkflow, workflowFiles, WORKFLOWS_DIR } from './support/workflows.ts';
import { REPO_ROOT } from '../support/repo-root.ts';

const read = (file: string) => readFileSync(path.join(REPO_ROOT, WORKFLOWS_DIR, file), 'utf8');

describe('workflow security rules', function () {
  for (const file of workflowFiles()) {
    it(`${file} declares least privilege, pins actions by SHA, keeps untrusted values out of scripts and secrets in environments`, function () {
      expect(securityProblems(file, read(file))).to.deep.equal([]);
    });
  }

  it('catches each broken rule in a deliberately bad workflow', function () {
    const bad = [
      'on:',
      '  pull_request_target: {}',
      'permissions: write-all',
      'jobs:',
      '  build:',
      '    runs-on: ubuntu-24.04',
      '    permissions:',
      '      contents: write',
      '    steps:',
      '      - uses: actions/checkout@v5',
      '      - uses: docker/login-action@184bdaa0721073962dff0199f1fb9940f07167d1',
      '      - run: echo "${{ github.event.pull_request.title }}"',
      '      - run: deploy --token "$TOKEN"',
      '        env:',
      '          TOKEN: ${{ secrets.KUBECONFIG }}',
      '  deploy:',
      '    runs-on: ubuntu-24.04',
      '    environment: production',
      '    concurrency:',
      '      group: deploy',
      '      cancel-in-progress: true',
      '    steps: []',
      '  call:',
      '    uses: ./.github/workflows/deploy-environment.yml',
      '    secrets:',
      '      KUBECONFIG: ${{ secrets.KUBECONFIG }}',
      '  remote:',
      '    uses: someone/else/.github/workflows/x.yml@08c6903cd8c0fde910a37f88322edcfb5dd907a8 # v1.0.0',
      '    secrets: inherit',
      '',
    ].join('\n');
    const problems = securityProblems('bad.yml', bad).join('\n');
    expect(problems).to.contain('on.pull_request_target runs untrusted code');
    expect(problems).to.contain('permissions: write-all');
    expect(problems).to.contain('grants contents: write');
    expect(problems).to.contain('actions/checkout@v5 is not pinned to a full 40-character commit SHA');
    expect(problems).to.contain('has no "# vX.Y.Z" comment');
    expect(problems).to.contain('run: interpolates ${{ github.event.pull_request.title }}');
    expect(problems).to.contain('jobs.build: reads secrets but is bound to no environment');
    expect(problems).to.contain('jobs.deploy: environment must be { name, url }');
    expect(problems).to.contain('cancel-in-progress: false');
    expect(problems).to.contain('concurrency must set queue: max');
    expect(problems).to.contain('is not keyed by the environment');
    expect(problems).to.contain('jobs.call: passes secrets');
    expect(problems).to.contain('jobs.remote: passes secrets');
    expect(problems).to.contain('jobs.deploy: no permissions declared');
    expect(problems).to.contain('persist-credentials: false');
  });
});

describe('runner tool versions are the ones the tests prove', function () {
  /** Every `with.version` of a given third-party action across the workflows, `${{ env.X }}` resolved. */
  function pinnedVersions(action: string): string[] {
    const versions: string[] = [];
    for (const file of workflowFiles()) {
      const raw = loadRawWorkflow(`${WORKFLOWS_DIR}/${file}`);
      const env = Object.fromEntries(Object.entries(raw.env ?? {}).map(([name, value]) => [name, String(value)]));
      for (const job of Object.values(raw.jobs)) {
        for (const step of job.steps ?? []) {
          if (!step.uses?.startsWith(`${action}@`)) continue;
          const version = evaluateScalar(step.with?.version, { env });
          versions.push(`${file}: ${String(version)}`);
        }
      }
    }
    return versions;
  }

  it('installs on the runners exactly the helm version of test/support/kube-binaries.ts', function () {
    const tested = /^(v\d+\.\d+\.\d+)/.exec(
      execFileSync(kubeBinaries().helm, ['version', '--short'], { encoding: 'utf8' }).trim(),
    )?.[1];
    const pinned = pinnedVersions('azure/setup-helm');
    expect(pinned.length, 'no workflow installs helm').to.be.greaterThan(0);
    for (const entry of pinned) expect(entry.split(': ')[1], entry).to.equal(tested);
  });

  it('installs on the runners exactly the kubectl version of test/support/kube-binaries.ts', function () {
    const output = JSON.parse(
      execFileSync(kubeBinaries().kubectl, ['version', '--client', '-o', 'json'], { encoding: 'utf8' }),
    ) as { clientVersion: { gitVersion: string } };
    const pinned = pinnedVersions('azure/setup-kubectl');
    expect(pinned.length, 'no workflow installs kubectl').to.be.greaterThan(0);
    for (const entry of pinned) expect(entry.split(': ')[1], entry).to.equal(output.clientVersion.gitVersion);
  });
});

describe('dependabot', function () {
  it('keeps npm packages, the pinned actions and the API base image up to date', function () {
    const text = readFileSync(path.join(REPO_ROOT, '.github/dependabot.yml'), 'utf8');
    const config = parseYaml(text) as {
      version: number;
      updates: { 'package-ecosystem': string; directory?: string; directories?: string[] }[];
    };
    expect(config.version).to.equal(2);
    const covered = config.updates.map(
      (update) => `${update['package-ecosystem']} ${(update.directories ?? [update.directory ?? '']).join(',')}`,
    );
    expect(covered).to.have.members(['npm /', 'github-actions /,/actions/*', 'docker /api']);
  });

  it("keeps GitHub's published contract current: its packages are root devDependencies, grouped in one npm update", function () {
    const manifest = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as {
      devDependencies: Record<string, string>;
    };
    const config = parseYaml(readFileSync(path.join(REPO_ROOT, '.github/dependabot.yml'), 'utf8')) as {
      updates: { 'package-ecosystem': string; directory?: string; groups?: Record<string, { patterns: string[] }> }[];
    };
    const npm = config.updates.find((update) => update['package-ecosystem'] === 'npm' && update.directory === '/');
    for (const name of ['@octokit/openapi', '@octokit/openapi-webhooks']) {
      expect(manifest.devDependencies[name], `${name} in package.json devDependencies`).to.match(/^\^\d+\.\d+\.\d+$/);
      expect(npm?.groups?.['github-contract']?.patterns, `${name} in the github-contract group`).to.include(name);
    }
  });
});
