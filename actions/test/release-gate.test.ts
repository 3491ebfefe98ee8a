import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { kubeBinaries } from '../../test/support/kube-binaries.ts';
import { startGitHubApiStub, type GitHubApiStub } from '../../test/support/github-api-stub.ts';
import { Helm } from '../src/lib/helm.ts';
import {
  checkChecks,
  checkTag,
  checkVersion,
  compareMeansOnBranch,
  type CheckRunInfo,
} from '../src/release-gate/rules.ts';
import { runningVersion } from '../src/release-gate/running-version.ts';
import { memoryStore } from './support/helm-memory.ts';
import { pushBranch, pushTag, REPOSITORY } from './support/events.ts';
import { errors, runAction, type ActionRun, type RunActionOptions } from './support/run-action.ts';

describe('release-gate', function () {
  describe('rules', function () {
    it('accepts only strict vMAJOR.MINOR.PATCH tags and says how to fix the others', function () {
      const table: Array<[string, string | undefined, RegExp]> = [
        ['v1.2.3', '1.2.3', /v1\.2\.3 → version 1\.2\.3/],
        ['v0.1.0', '0.1.0', /version 0\.1\.0/],
        ['v1.2.3-rc.1', undefined, /pre-release; pre-releases are not deployed to production.*tag v1\.2\.3 on master/],
        ['v2.0.0-beta', undefined, /pre-release/],
        ['v1.2.3+build.7', undefined, /build metadata.*tag the release v1\.2\.3/],
        ['1.2.3', undefined, /no "v" prefix.*tag the release v1\.2\.3/],
        ['v1.2', undefined, /not strict semver.*tag the release v1\.2\.0/],
        ['release-1.0', undefined, /release-1\.0 is not strict semver.*v1\.0\.0/],
        ['latest', undefined, /not strict semver.*like v1\.2\.3/],
        ['', undefined, /no tag.*pass the `tag` input/],
      ];
      for (const [tag, version, message] of table) {
        const { verdict, version: parsed } = checkTag(tag, 'production');
        expect(parsed, tag).to.equal(version);
        expect(verdict.outcome, tag).to.equal(version ? 'passed' : 'refused');
        expect(`${verdict.detail}. ${verdict.fix ?? ''}`, tag).to.match(message);
      }
    });

    it('requires a version newer than the running one unless downgrades are allowed', function () {
      const table: Array<[string, string | undefined, boolean, 'passed' | 'refused', RegExp]> = [
        ['1.2.3', undefined, false, 'passed', /first release/],
        ['1.2.3', '', false, 'passed', /first release/],
        ['1.2.3', '1.2.2', false, 'passed', /1\.2\.3 > 1\.2\.2/],
        ['1.10.0', '1.9.9', false, 'passed', /1\.10\.0 > 1\.9\.9/],
        ['1.0.0', '0.0.0-master.gabc1234', false, 'passed', /1\.0\.0 >/],
        ['1.2.3', '1.2.3', false, 'refused', /already runs in production.*v1\.2\.4.*allow-downgrade/],
        ['1.2.3', '1.3.0', false, 'refused', /older than 1\.3\.0.*rollback workflow/],
        ['1.2.3', 'v1.3.0', false, 'refused', /older than 1\.3\.0/],
        ['1.2.3', '1.3.0', true, 'passed', /downgrading from 1\.3\.0: allowed/],
        ['1.2.3', '1.2.3', true, 'passed', /re-deploying 1\.2\.3/],
        ['1.2.3', 'nightly', false, 'refused', /"nightly", which is not a semver/],
        ['1.2.3', 'nightly', true, 'passed', /not semver\); allowed/],
      ];
      for (const [version, current, allow, outcome, message] of table) {
        const verdict = checkVersion(version, current, allow, 'production');
        const label = `${version} vs ${current} (allow-downgrade ${allow})`;
        expect(verdict.outcome, label).to.equal(outcome);
        expect(`${verdict.detail}. ${verdict.fix ?? ''}`, label).to.match(message);
      }
    });

    it('reads the compare API: the branch ahead of (or identical to) the commit means the commit is on it', function () {
      expect(['ahead', 'identical', 'behind', 'diverged'].map(compareMeansOnBranch)).to.deep.equal([
        true,
        true,
        false,
        false,
      ]);
    });

    it('passes checks only when every other check run and status succeeded', function () {
      const ok = (name: string): CheckRunInfo => ({ name, status: 'completed', conclusion: 'success' });
      const mine: CheckRunInfo = {
        name: 'deploy / gate',
        status: 'in_progress',
        conclusion: null,
        details_url: 'https://github.com/o/r/actions/runs/77/job/1',
      };
      const sha = 'a'.repeat(40);
      const table: Array<[CheckRunInfo[], Array<{ context: string; state: string }>, 'passed' | 'refused', RegExp]> = [
        [[ok('test'), ok('lint')], [], 'passed', /2 checks passed/],
        [
          [ok('test'), { name: 'docs', status: 'completed', conclusion: 'skipped' }, mine],
          [],
          'passed',
          /2 checks passed/,
        ],
        [
          [ok('test'), { name: 'lint', status: 'completed', conclusion: 'failure' }],
          [],
          'refused',
          /failed on aaaaaaaaaaaa: lint \(failure\)/,
        ],
        [
          [ok('test'), { name: 'e2e', status: 'in_progress', conclusion: null }],
          [],
          'refused',
          /still running on aaaaaaaaaaaa: e2e \(in_progress\).*wait/,
        ],
        [[ok('test')], [{ context: 'ci/legacy', state: 'error' }], 'refused', /ci\/legacy \(error\)/],
        [[], [{ context: 'ci/legacy', state: 'success' }], 'passed', /1 checks passed/],
        [[mine], [], 'refused', /no checks reported.*require-checks: false/],
        [[], [], 'refused', /no checks reported/],
      ];
      for (const [runs, statuses, outcome, message] of table) {
        const verdict = checkChecks(sha, runs, statuses, '77');
        expect(verdict.outcome, JSON.stringify(runs)).to.equal(outcome);
        expect(`${verdict.detail}. ${verdict.fix ?? ''}`).to.match(message);
      }
    });

    it('refuses a commit on which a required check never reported, naming it, and passes once all have', function () {
      const ok = (name: string): CheckRunInfo => ({ name, status: 'completed', conclusion: 'success' });
      const mine: CheckRunInfo = {
        name: 'test',
        status: 'in_progress',
        conclusion: null,
        details_url: 'https://github.com/o/r/actions/runs/77/job/1',
      };
      const sha = 'b'.repeat(40);
      const required = ['lint, typecheck, tests', 'test'];
      const table: Array<[CheckRunInfo[], Array<{ context: string; state: string }>, 'passed' | 'refused', RegExp]> = [
        [
          [ok('lint, typecheck, tests'), ok('test')],
          [],
          'passed',
          /2 checks passed on bbbbbbbbbbbb \(required: lint, typecheck, tests, test\)/,
        ],
        [[ok('lint, typecheck, tests')], [{ context: 'test', state: 'success' }], 'passed', /2 checks passed/],
        [
          [ok('lint, typecheck, tests')],
          [],
          'refused',
          /missing on bbbbbbbbbbbb \(never reported\): test\. let CI run on the commit/,
        ],
        // This run's own check run of the same name does not count as the required check having reported.
        [[ok('lint, typecheck, tests'), mine], [], 'refused', /missing .*: test\./],
        [
          [{ name: 'lint, typecheck, tests', status: 'completed', conclusion: 'cancelled' }],
          [],
          'refused',
          /failed on bbbbbbbbbbbb: lint, typecheck, tests \(cancelled\); missing on bbbbbbbbbbbb \(never reported\): test/,
        ],
        [[], [], 'refused', /missing .*: lint, typecheck, tests, test/],
      ];
      for (const [runs, statuses, outcome, message] of table) {
        const verdict = checkChecks(sha, runs, statuses, '77', required);
        expect(verdict.outcome, JSON.stringify(runs)).to.equal(outcome);
        expect(`${verdict.detail}. ${verdict.fix ?? ''}`).to.match(message);
      }
    });
  });

  describe('the running version, read with the real helm', function () {
    it("is the deployed revision's appVersion value, undefined for a release that does not exist", async function () {
      const { helm: binary } = kubeBinaries();
      // Revision 3 (1.2.0) failed; revision 2 (1.1.0) is the one running.
      const failed = new Helm({ binary, env: memoryStore('failed-current') });
      expect(await runningVersion(failed, 'airq', 'airq-staging')).to.equal('1.1.0');
      const deployed = new Helm({ binary, env: memoryStore('two-deployed') });
      expect(await runningVersion(deployed, 'airq', 'airq-staging')).to.equal('1.1.0');
      expect(await runningVersion(deployed, 'other', 'airq-staging')).to.equal(undefined);
    });
  });

  describe('the bundled action, against a real git history and the GitHub API stand-in', function () {
    this.timeout(60_000);
    let root: string;
    let checkout: string;
    let notAGitRepo: string;
    let onMaster: string;
    let onSide: string;
    let stub: GitHubApiStub;
    const runs: ActionRun[] = [];

    function git(cwd: string, ...args: string[]): string {
      return execFileSync(
        'git',
        ['-c', 'user.name=Test', '-c', 'user.email=test@example.com', '-c', 'init.defaultBranch=master', ...args],
        {
          cwd,
          encoding: 'utf8',
        },
      ).trim();
    }

    before(async function () {
      root = mkdtempSync(path.join(tmpdir(), 'airq-release-gate-'));
      const origin = path.join(root, 'origin.git');
      const author = path.join(root, 'author');
      git(root, 'init', '--bare', '--quiet', origin);
      git(root, 'init', '--quiet', author);
      writeFileSync(path.join(author, 'README.md'), 'one\n');
      git(author, 'add', 'README.md');
      git(author, 'commit', '--quiet', '-m', 'first');
      writeFileSync(path.join(author, 'README.md'), 'two\n');
      git(author, 'commit', '--quiet', '-am', 'second');
      onMaster = git(author, 'rev-parse', 'HEAD');
      git(author, 'checkout', '--quiet', '-b', 'side');
      writeFileSync(path.join(author, 'side.txt'), 'side\n');
      git(author, 'add', 'side.txt');
      git(author, 'commit', '--quiet', '-m', 'side work');
      onSide = git(author, 'rev-parse', 'HEAD');
      git(author, 'remote', 'add', 'origin', origin);
      git(author, 'push', '--quiet', 'origin', 'master', 'side');
      // The workspace: a clone made before master moved on, as actions/checkout leaves it for a tag push.
      checkout = path.join(root, 'checkout');
      git(root, 'clone', '--quiet', '--branch', 'side', origin, checkout);
      git(author, 'checkout', '--quiet', 'master');
      writeFileSync(path.join(author, 'README.md'), 'three\n');
      git(author, 'commit', '--quiet', '-am', 'third');
      git(author, 'push', '--quiet', 'origin', 'master');
      notAGitRepo = path.join(root, 'plain');
      mkdirSync(notAGitRepo);
      stub = await startGitHubApiStub();
    });

    after(async function () {
      for (const run of runs) run.cleanup();
      await stub?.stop();
      if (root) rmSync(root, { recursive: true, force: true });
    });

    beforeEach(function () {
      stub.reset();
    });

    async function gate(
      tag: string,
      sha: string,
      inputs: RunActionOptions['inputs'] = {},
      extra: Partial<RunActionOptions> = {},
    ): Promise<ActionRun> {
      const run = await runAction('release-gate', {
        event: pushTag(tag, sha),
        apiUrl: stub.url,
        // The checks rule has its own tests below; the others run without it.
        inputs: { 'repository-path': checkout, 'current-version': '1.0.0', 'require-checks': 'false', ...inputs },
        ...extra,
      });
      runs.push(run);
      return run;
    }

    it('passes a release tag on master that is newer than production, using git alone', async function () {
      const run = await gate('v1.1.0', onMaster);
      expect(run.exitCode, run.stdout).to.equal(0);
      expect(run.outputs).to.deep.equal({ version: '1.1.0', 'current-version': '1.0.0' });
      expect(run.summary).to.include('Release gate: v1.1.0 → production passed');
      expect(run.summary).to.include(`${onMaster.slice(0, 12)} is on master (git merge-base --is-ancestor)`);
      expect(run.summary).to.include('1.1.0 &gt; 1.0.0 running in production');
      expect(run.summary).to.match(/commit's checks passed<\/td><td>⏭️ skipped/);
      expect(stub.requests).to.deep.equal([]);
    });

    it('refuses a tag that is not on master, naming the rule and the fix', async function () {
      const run = await gate('v1.1.0', onSide);
      expect(run.exitCode).to.equal(1);
      expect(errors(run)).to.include('release gate refused v1.1.0 for production:');
      expect(errors(run)).to.include(
        `- tagged commit is on the release branch: ${onSide.slice(0, 12)} is not on master (git merge-base --is-ancestor). Fix: merge the change into master first`,
      );
      expect(run.summary).to.include('❌ refused');
      expect(run.outputs.version).to.equal('1.1.0');
    });

    it('refuses a pre-release tag for production, saying so', async function () {
      const run = await gate('v1.1.0-rc.1', onMaster);
      expect(run.exitCode).to.equal(1);
      expect(errors(run)).to.match(/v1\.1\.0-rc\.1 is a pre-release; pre-releases are not deployed to production/);
      expect(run.outputs.version).to.equal('');
      expect(run.summary).to.match(/version is newer than the one running<\/td><td>⏭️ skipped/);
    });

    it('refuses a run started by a branch push rather than a tag', async function () {
      const run = await runAction('release-gate', {
        event: pushBranch('master', onMaster),
        apiUrl: stub.url,
        inputs: { 'repository-path': checkout, 'current-version': '1.0.0', 'require-checks': 'false' },
      });
      runs.push(run);
      expect(run.exitCode).to.equal(1);
      expect(errors(run)).to.match(/no tag: the run was not started by a tag push/);
    });

    it('refuses a version that is not newer than production unless allow-downgrade is set', async function () {
      const refused = await gate('v1.0.0', onMaster);
      expect(refused.exitCode).to.equal(1);
      expect(errors(refused)).to.match(/1\.0\.0 already runs in production. Fix: tag a newer version \(v1\.0\.1\)/);
      const allowed = await gate('v0.9.0', onMaster, { 'allow-downgrade': 'true' });
      expect(allowed.exitCode, allowed.stdout).to.equal(0);
      expect(allowed.summary).to.include('downgrading from 1.0.0: allowed by allow-downgrade');
    });

    it('reports every refused rule at once', async function () {
      const run = await gate('v0.5.0', onSide);
      expect(run.exitCode).to.equal(1);
      const message = errors(run);
      expect(message).to.include('is not on master');
      expect(message).to.include('0.5.0 is older than 1.0.0 running in production');
    });

    it('falls back to the GitHub compare API when there is no git checkout', async function () {
      stub.setCompare('ahead', onMaster, 'master');
      const passed = await gate('v1.1.0', onMaster, { 'repository-path': notAGitRepo, 'github-token': 'test-token' });
      expect(passed.exitCode, passed.stdout).to.equal(0);
      expect(
        stub.requestsTo('GET', `/repos/${REPOSITORY.owner}/${REPOSITORY.repo}/compare/${onMaster}...master`),
      ).to.have.length(1);
      expect(stub.requests[0]?.headers.authorization).to.equal('token test-token');
      expect(passed.summary).to.include('GitHub compare API: master is ahead of the commit');

      stub.setCompare('diverged', onSide, 'master');
      const refused = await gate('v1.1.0', onSide, { 'repository-path': notAGitRepo, 'github-token': 'test-token' });
      expect(refused.exitCode).to.equal(1);
      expect(errors(refused)).to.include('is not on master (GitHub compare API: master is diverged of the commit)');
    });

    it('unshallows a depth-1 checkout, as actions/checkout leaves it, before judging ancestry', async function () {
      const shallow = path.join(root, `shallow-${Date.now()}`);
      git(
        root,
        'clone',
        '--quiet',
        '--depth',
        '1',
        '--branch',
        'master',
        `file://${path.join(root, 'origin.git')}`,
        shallow,
      );
      expect(git(shallow, 'rev-parse', '--is-shallow-repository')).to.equal('true');
      const run = await gate('v1.1.0', onMaster, { 'repository-path': shallow });
      expect(run.exitCode, run.stdout).to.equal(0);
      expect(run.summary).to.include('is on master (git merge-base --is-ancestor)');
      expect(git(shallow, 'rev-parse', '--is-shallow-repository')).to.equal('false');
    });

    it('refuses, naming the API error, when the compare API cannot answer either', async function () {
      stub.fail('GET', '/compare/', 404, 'No commit found for SHA: deadbeef');
      const run = await gate('v1.1.0', onMaster, { 'repository-path': notAGitRepo, 'github-token': 'test-token' });
      expect(run.exitCode).to.equal(1);
      expect(errors(run)).to.match(
        /tagged commit is on the release branch: No commit found for SHA: deadbeef.*Fix: check out the repository with its history/,
      );
      expect(stub.requestsTo('GET', '/compare/')).to.have.length(1);
    });

    it('refuses when neither git nor the API can establish ancestry', async function () {
      const run = await gate('v1.1.0', onMaster, { 'repository-path': notAGitRepo });
      expect(run.exitCode).to.equal(1);
      expect(errors(run)).to.match(
        /cannot tell whether .* is on master: git could not .* and no github-token was given/,
      );
    });

    it("requires passing checks when asked, ignoring this run's own check runs", async function () {
      const own = {
        name: 'deploy / release-gate',
        status: 'in_progress' as const,
        conclusion: null,
        details_url: 'https://github.com/airq-org/airq/actions/runs/9876543210/job/1',
      };
      stub.checkRuns.set(onMaster, [{ name: 'ci / test', status: 'completed', conclusion: 'success' }, own]);
      const passed = await gate('v1.1.0', onMaster, {
        'require-checks': 'true',
        'required-checks': 'ci / test',
        'github-token': 'test-token',
      });
      expect(passed.exitCode, passed.stdout).to.equal(0);
      expect(stub.requestsTo('GET', `/commits/${onMaster}/check-runs`)).to.have.length(1);
      expect(stub.requestsTo('GET', `/commits/${onMaster}/status`)).to.have.length(1);
      expect(passed.summary).to.include('1 checks passed');

      stub.checkRuns.set(onMaster, [{ name: 'ci / test', status: 'completed', conclusion: 'failure' }, own]);
      const refused = await gate('v1.1.0', onMaster, {
        'require-checks': 'true',
        'required-checks': 'ci / test',
        'github-token': 'test-token',
      });
      expect(refused.exitCode).to.equal(1);
      expect(errors(refused)).to.match(/commit's checks passed: failed on [0-9a-f]{12}: ci \/ test \(failure\)/);
    });

    it('requires green checks by default: refuses a tag whose commit has a failed and a missing required CI check, naming both', async function () {
      const required = [
        'lint, typecheck, tests',
        'workflow lint, security rules and routing',
        'helm lint and render every environment',
        'docker build and container smoke run',
      ];
      const own = {
        name: 'production',
        status: 'in_progress' as const,
        conclusion: null,
        details_url: 'https://github.com/airq-org/airq/actions/runs/9876543210/job/7',
      };
      stub.checkRuns.set(onMaster, [
        { name: required[0]!, status: 'completed', conclusion: 'success' },
        { name: required[1]!, status: 'completed', conclusion: 'failure' },
        { name: required[2]!, status: 'completed', conclusion: 'success' },
        own,
      ]);
      // No require-checks input: the default applies, with the required names from environments/production.yaml.
      const run = await gate('v1.1.0', onMaster, { 'require-checks': undefined, 'github-token': 'test-token' });
      expect(run.exitCode, run.stdout).to.equal(1);
      expect(errors(run)).to.include(
        `commit's checks passed: failed on ${onMaster.slice(0, 12)}: workflow lint, security rules and routing (failure); missing on ${onMaster.slice(0, 12)} (never reported): docker build and container smoke run`,
      );
      expect(
        stub.requestsTo('GET', `/repos/${REPOSITORY.owner}/${REPOSITORY.repo}/commits/${onMaster}/check-runs`),
      ).to.have.length(1);

      stub.checkRuns.set(onMaster, [
        ...required.map((name) => ({ name, status: 'completed' as const, conclusion: 'success' as const })),
        own,
      ]);
      const green = await gate('v1.1.0', onMaster, { 'require-checks': undefined, 'github-token': 'test-token' });
      expect(green.exitCode, green.stdout).to.equal(0);
      expect(green.summary).to.include('4 checks passed');
    });

    it('reads every page of the commit statuses, refusing a failure past the first page', async function () {
      // GitHub pages the statuses of a combined status (30 by default, 100 at most); the failure is the 101st.
      const statuses = Array.from({ length: 100 }, (_, index) => ({
        context: `lint / shard ${index}`,
        state: 'success' as const,
      }));
      stub.commitStatuses.set(onMaster, [...statuses, { context: 'security / scan', state: 'failure' }]);
      stub.checkRuns.set(onMaster, [{ name: 'ci / test', status: 'completed', conclusion: 'success' }]);
      const refused = await gate('v1.1.0', onMaster, { 'require-checks': 'true', 'github-token': 'test-token' });
      expect(refused.exitCode, refused.stdout).to.equal(1);
      expect(errors(refused)).to.match(/failed on [0-9a-f]{12}: security \/ scan \(failure\)/);
      expect(
        stub.requestsTo('GET', `/commits/${onMaster}/status`).map((request) => request.query.page ?? '1'),
      ).to.deep.equal(['1', '2']);
    });

    it('refuses require-checks without a token, and fails clearly when the checks API errors', async function () {
      const noToken = await gate('v1.1.0', onMaster, { 'require-checks': 'true' });
      expect(noToken.exitCode).to.equal(1);
      expect(errors(noToken)).to.match(/require-checks needs the GitHub API. Fix: pass github-token/);

      stub.fail('GET', '/check-runs', 403, 'Resource not accessible by integration');
      const forbidden = await gate('v1.1.0', onMaster, { 'require-checks': 'true', 'github-token': 'test-token' });
      expect(forbidden.exitCode).to.equal(1);
      expect(errors(forbidden)).to.match(/Resource not accessible by integration/);
    });

    describe('reading the running version from the Helm release', function () {
      let helmEnv: Record<string, string>;
      before(function () {
        const { binDir } = kubeBinaries();
        helmEnv = { PATH: `${binDir}${path.delimiter}${process.env.PATH ?? ''}` };
      });

      function releases(file: string, entries: Array<{ version: number; status: string; appVersion: string }>): string {
        const text = entries
          .map(
            (entry) =>
              `- name: airq\n  namespace: airq-production\n  version: ${entry.version}\n` +
              `  info: {status: ${entry.status}, first_deployed: "2026-11-01T09:00:00Z", last_deployed: "2026-11-0${entry.version}T09:00:00Z", description: "Upgrade complete"}\n` +
              `  chart: {metadata: {name: airq, version: 0.1.0, appVersion: "0.1.0", apiVersion: v2}}\n` +
              `  config: {appVersion: "${entry.appVersion}"}\n  manifest: ""\n`,
          )
          .join('');
        const target = path.join(root, file);
        writeFileSync(target, text || '[]\n');
        return target;
      }

      it('compares against the appVersion of the deployed revision, read with the real helm', async function () {
        const store = releases('prod.yaml', [
          { version: 1, status: 'superseded', appVersion: '1.1.0' },
          { version: 2, status: 'deployed', appVersion: '1.2.0' },
        ]);
        const env = { ...helmEnv, HELM_DRIVER: 'memory', HELM_MEMORY_DRIVER_DATA: store, KUBECONFIG: '/nonexistent' };
        const older = await gate('v1.1.5', onMaster, { 'current-version': '' }, { env });
        expect(older.exitCode, older.stdout + older.stderr).to.equal(1);
        expect(older.outputs['current-version']).to.equal('1.2.0');
        expect(errors(older)).to.include('1.1.5 is older than 1.2.0 running in production');
        const newer = await gate('v1.3.0', onMaster, { 'current-version': '' }, { env });
        expect(newer.exitCode, newer.stdout).to.equal(0);
        expect(newer.outputs).to.deep.equal({ version: '1.3.0', 'current-version': '1.2.0' });
      });

      it('treats a release that does not exist yet as a first release', async function () {
        const store = releases('empty.yaml', []);
        const run = await gate(
          'v0.1.0',
          onMaster,
          { 'current-version': '' },
          { env: { ...helmEnv, HELM_DRIVER: 'memory', HELM_MEMORY_DRIVER_DATA: store, KUBECONFIG: '/nonexistent' } },
        );
        expect(run.exitCode, run.stdout).to.equal(0);
        expect(run.outputs['current-version']).to.equal('');
        expect(run.summary).to.include('first release: nothing runs in production yet');
      });

      it('refuses, rather than guesses, when the cluster cannot be reached', async function () {
        const kubeconfig = path.join(root, 'unreachable.kubeconfig');
        writeFileSync(
          kubeconfig,
          'apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "https://127.0.0.1:9"}}]\n' +
            'users: [{name: u, user: {token: not-a-real-token}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n',
        );
        const run = await gate(
          'v1.1.0',
          onMaster,
          { 'current-version': '' },
          { env: { ...helmEnv, KUBECONFIG: kubeconfig } },
        );
        expect(run.exitCode).to.equal(1);
        expect(errors(run)).to.match(
          /cannot read the version production runs from Helm release airq in airq-production: helm \w+ failed .*cluster unreachable.*Fix: give the gate cluster access/s,
        );
      });
    });
  });
});
