import { expect } from 'chai';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { diffManifests, maskVolatile, parseManifests, renderPlan, VOLATILE } from '../src/deploy-plan/diff.ts';
import type { ManifestDiff, PlanReport } from '../src/deploy-plan/diff.ts';
import { planTarget } from '../src/deploy-plan/target.ts';
import { loadEnvironments } from '../src/lib/environments.ts';
import { kubeBinaries } from '../../test/support/kube-binaries.ts';
import { startGitHubApiStub, type GitHubApiStub } from '../../test/support/github-api-stub.ts';
import { pullRequest } from './support/events.ts';
import { errors, runAction } from './support/run-action.ts';
import { REPO_ROOT } from '../../test/support/repo-root.ts';
import { git } from '../../test/support/git.ts';

const manifests = (replicas: number, greeting = 'hello') => `---
# Source: fixture/templates/secret.yaml
apiVersion: v1
kind: Secret
metadata:
  name: plan-token
stringData:
  token: "token-for-${greeting}"
---
# Source: fixture/templates/deployment.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: plan-web
spec:
  replicas: ${replicas}
---
---
apiVersion: v1
kind: Namespace
metadata:
  name: elsewhere
`;

describe('deploy-plan', () => {
  describe('planTarget (with the real environments registry)', () => {
    const registry = loadEnvironments(path.join(REPO_ROOT, 'environments'));
    const cases: Array<[string, string, boolean, RegExp]> = [
      ['development', 'development', false, /Merging into `development` deploys \*\*development\*\*/],
      ['staging', 'staging', false, /deploys \*\*staging\*\* \(release `airq`, namespace `airq-staging`\)/],
      [
        'master',
        'production',
        true,
        /deploys nothing by itself: \*\*production\*\* is reached only by pushing a release tag/,
      ],
    ];
    for (const [base, environment, production, explanation] of cases) {
      it(`plans a pull request into ${base} against ${environment}${production ? ', involving production' : ''}`, () => {
        const target = planTarget(registry, base);
        expect(target.environment?.name).to.equal(environment);
        expect(target.production).to.equal(production);
        expect(target.explanation).to.match(explanation);
      });
    }
    it('plans nothing for a pull request into a branch no environment deploys', () => {
      const target = planTarget(registry, 'feature/x');
      expect(target.environment).to.equal(undefined);
      expect(target.explanation).to.match(/deploys no environment/);
    });
  });

  describe('rendered manifest diff', () => {
    it('keys objects by kind, namespace and name, defaulting to the release namespace and skipping empty documents', () => {
      const objects = parseManifests(manifests(1), 'airq-staging');
      expect([...objects.keys()]).to.deep.equal([
        'Secret/airq-staging/plan-token',
        'Deployment/airq-staging/plan-web',
        'Namespace/airq-staging/elsewhere',
      ]);
    });

    it('never shows Secret values, but still shows that they changed', () => {
      const before = parseManifests(manifests(1, 'hello'), 'ns');
      const after = parseManifests(manifests(1, 'goodbye'), 'ns');
      const secret = after.get('Secret/ns/plan-token')?.text ?? '';
      expect(secret).not.to.include('token-for');
      expect(secret).to.match(/token: \(redacted, fingerprint [0-9a-f]{12}\)/);
      const diff = diffManifests(before, after);
      expect(diff.changes.map((change) => [change.change, change.key])).to.deep.equal([
        ['changed', 'Secret/ns/plan-token'],
      ]);
      expect(diff.unchanged).to.equal(2);
    });

    it('classifies added, removed and changed objects with a unified diff each', () => {
      const before = parseManifests(manifests(1), 'ns');
      const after = parseManifests(manifests(3), 'ns');
      after.delete('Namespace/ns/elsewhere');
      after.set('ConfigMap/ns/new', {
        key: 'ConfigMap/ns/new',
        kind: 'ConfigMap',
        namespace: 'ns',
        name: 'new',
        text: 'kind: ConfigMap\n',
      });
      const diff = diffManifests(before, after);
      expect(diff.changes.map((change) => [change.change, change.key])).to.deep.equal([
        ['added', 'ConfigMap/ns/new'],
        ['changed', 'Deployment/ns/plan-web'],
        ['removed', 'Namespace/ns/elsewhere'],
      ]);
      const deployment = diff.changes[1]?.patch ?? '';
      expect(deployment).to.match(/^--- base\/Deployment\/ns\/plan-web/);
      expect(deployment).to.include('-  replicas: 1\n+  replicas: 3');
    });

    it('masks values that differ between two renders of the same commit, so random passwords are not reported', () => {
      const first = parseManifests(manifests(1).replace('token-for-hello', 'r4nd0m1'), 'ns');
      const second = parseManifests(manifests(1).replace('token-for-hello', 'r4nd0m2'), 'ns');
      const masked = maskVolatile(first, second);
      expect(masked.get('Secret/ns/plan-token')?.text).to.include(`token: ${VOLATILE}`);
      expect(masked.get('Deployment/ns/plan-web')).to.equal(first.get('Deployment/ns/plan-web'));
      const other = maskVolatile(parseManifests(manifests(1).replace('token-for-hello', 'r4nd0m3'), 'ns'), first);
      expect(diffManifests(masked, other).changes).to.deep.equal([]);
    });

    const report = (diff: ManifestDiff, production = false): PlanReport => ({
      marker: '<!-- airq-deploy-plan:staging -->',
      environment: 'staging',
      production,
      explanation: 'Merging into `staging` deploys **staging**.',
      chart: 'helm/airq',
      baseSha: 'ba5eba11ba5eba11ba5eba11ba5eba11ba5eba11',
      headSha: 'c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00',
      diff,
    });

    it('renders the marker first, the counts, a table and one collapsible diff per object', () => {
      const diff = diffManifests(parseManifests(manifests(1), 'ns'), parseManifests(manifests(2), 'ns'));
      const body = renderPlan(report(diff));
      expect(body.split('\n')[0]).to.equal('<!-- airq-deploy-plan:staging -->');
      expect(body).to.include('Production is not involved.');
      expect(body).to.include('at base `ba5eba1` and head `c0ffee0`: 0 added, 0 removed, 1 changed, 2 unchanged.');
      expect(body).to.include('| ✏️ changed | Deployment | ns | plan-web |');
      expect(body).to.include('<details><summary>changed: Deployment ns/plan-web</summary>');
      expect(body).to.include('```diff\n');
      expect(renderPlan(report(diff, true))).to.include('**Production is involved.**');
      expect(renderPlan(report({ changes: [], unchanged: 3 }))).to.include('No rendered object changes.');
    });

    it("stays within GitHub's comment limit: long diffs are cut, the rest left out with a note", () => {
      const big = (name: string, lines: number) => ({
        key: `ConfigMap/ns/${name}`,
        kind: 'ConfigMap',
        namespace: 'ns',
        name,
        text: Array.from({ length: lines }, (_, i) => `line-${i}: ${'x'.repeat(60)}`).join('\n'),
      });
      const after = new Map(['a', 'b', 'c', 'd'].map((name) => [`ConfigMap/ns/${name}`, big(name, 400)]));
      const diff = diffManifests(new Map(), after);
      const limit = 40_000;
      const body = renderPlan(report(diff), limit);
      expect(body.length).to.be.at.most(limit);
      expect(body).to.include('<details><summary>added: ConfigMap ns/a</summary>');
      expect(body).to.match(/… \d+ more lines of this diff left out/);
      expect(body).to.match(/_\d diffs? left out to stay within GitHub's 40000-character comment limit/);
      // Every object still appears in the table.
      for (const name of ['a', 'b', 'c', 'd']) expect(body).to.include(`| ➕ added | ConfigMap | ns | ${name} |`);
      expect(renderPlan(report(diff)).length).to.be.at.most(65_536);
    });

    it('fences a diff that itself contains backticks with a longer fence', () => {
      const before = new Map([
        ['ConfigMap/ns/md', { key: 'ConfigMap/ns/md', kind: 'ConfigMap', namespace: 'ns', name: 'md', text: 'a: 1\n' }],
      ]);
      const after = new Map([
        [
          'ConfigMap/ns/md',
          { key: 'ConfigMap/ns/md', kind: 'ConfigMap', namespace: 'ns', name: 'md', text: 'a: "```"\n' },
        ],
      ]);
      const body = renderPlan(report(diffManifests(before, after)));
      expect(body).to.include('````diff\n');
    });
  });

  describe('the bundled action on a real git repository', function () {
    this.timeout(120_000);
    const { binDir } = kubeBinaries();
    const env = { PATH: `${binDir}${path.delimiter}${process.env.PATH ?? ''}`, KUBECONFIG: '/nonexistent' };
    let stub: GitHubApiStub;
    let root: string;
    let origin: string;
    let work: string;
    let baseSha: string;
    let headSha: string;

    /** The real registry's pipeline facts, with values that fit the fixture chart. */
    function writeEnvironments(repo: string, values: Record<string, Record<string, unknown>>): void {
      const dir = path.join(repo, 'environments');
      mkdirSync(dir, { recursive: true });
      for (const file of readdirSync(path.join(REPO_ROOT, 'environments')).filter((name) => name.endsWith('.yaml'))) {
        const document = parseYaml(readFileSync(path.join(REPO_ROOT, 'environments', file), 'utf8')) as {
          name: string;
          values: unknown;
        };
        document.values = values[document.name] ?? {};
        writeFileSync(path.join(dir, file), toYaml(document));
      }
    }

    function commitValues(values: Record<string, Record<string, unknown>>, message: string): string {
      writeEnvironments(work, values);
      git(work, 'add', '-A');
      git(work, 'commit', '-q', '-m', message);
      return git(work, 'rev-parse', 'HEAD');
    }

    function plan(event: ReturnType<typeof pullRequest>, cwd = work) {
      return runAction('deploy-plan', {
        event,
        apiUrl: stub.url,
        cwd,
        env,
        inputs: { chart: 'chart', 'github-token': 'ghs_test' },
      });
    }

    before(async () => {
      stub = await startGitHubApiStub();
      root = mkdtempSync(path.join(tmpdir(), 'deploy-plan-test-'));
      origin = path.join(root, 'origin.git');
      work = path.join(root, 'work');
      git(root, 'init', '-q', '--bare', origin);
      git(root, 'clone', '-q', origin, work);
      cpSync(path.join(REPO_ROOT, 'actions/test/fixtures/chart'), path.join(work, 'chart'), { recursive: true });
      baseSha = commitValues({ staging: { replicas: 1 }, production: { replicas: 5 } }, 'base');
      git(work, 'push', '-q', 'origin', 'HEAD:refs/heads/staging', 'HEAD:refs/heads/master');
      git(work, 'checkout', '-q', '-b', 'feature');
      headSha = commitValues(
        { staging: { replicas: 3, greeting: 'hi' }, production: { replicas: 5 } },
        'scale staging',
      );
      git(work, 'push', '-q', 'origin', 'feature');
    });
    after(async () => {
      await stub.stop();
      rmSync(root, { recursive: true, force: true });
    });

    it('comments the staging plan once, then updates that comment instead of adding another', async () => {
      const first = await plan(pullRequest({ base: 'staging', head: 'feature', number: 7, baseSha, headSha }));
      try {
        expect(first.exitCode, first.stdout + first.stderr).to.equal(0);
        expect(first.outputs).to.include({ environment: 'staging', changed: 'true', production: 'false' });
        expect(stub.comments).to.have.length(1);
        const comment = stub.comments[0];
        expect(first.outputs['comment-id']).to.equal(String(comment?.id));
        expect(comment?.issue_number).to.equal(7);
        expect(comment?.body.startsWith('<!-- airq-deploy-plan:staging -->')).to.equal(true);
        expect(comment?.body).to.include('-  replicas: 1\n+  replicas: 3');
        expect(comment?.body).to.include('| ✏️ changed | ConfigMap | airq-staging | airq-config |');
        expect(comment?.body).to.include('| ✏️ changed | Secret | airq-staging | airq-token |');
        expect(comment?.body).not.to.include('token-for-');
        // The random session value and the checksum of the Secret differ on every render: not a change of this PR.
        expect(comment?.body).not.to.match(/^[-+]\s+(session|checksum\/secret):/m);
        expect(comment?.body).to.include(`at base \`${baseSha.slice(0, 7)}\` and head \`${headSha.slice(0, 7)}\``);
        expect(first.summary).to.include('<!-- airq-deploy-plan:staging -->');
        // The temporary worktree of the base is gone.
        expect(git(work, 'worktree', 'list').split('\n')).to.have.length(1);
      } finally {
        first.cleanup();
      }

      const nextHead = commitValues(
        { staging: { replicas: 4, greeting: 'hi' }, production: { replicas: 5 } },
        'scale staging more',
      );
      const second = await plan(
        pullRequest({ base: 'staging', head: 'feature', number: 7, baseSha, headSha: nextHead, action: 'synchronize' }),
      );
      try {
        expect(second.exitCode, second.stdout + second.stderr).to.equal(0);
        expect(stub.comments).to.have.length(1);
        expect(second.outputs['comment-id']).to.equal(first.outputs['comment-id']);
        expect(stub.requestsTo('POST', '/issues/7/comments')).to.have.length(1);
        expect(stub.requestsTo('PATCH', `/issues/comments/${first.outputs['comment-id']}`)).to.have.length(1);
        expect(stub.comments[0]?.body).to.include('+  replicas: 4');
      } finally {
        second.cleanup();
      }
    });

    it('shows every object as added when the base has no chart yet', async () => {
      // An unrelated base commit holding only the registry: the PR that introduces the chart.
      git(work, 'checkout', '-q', '--orphan', 'no-chart');
      git(work, 'rm', '-q', '-r', '--cached', 'chart');
      rmSync(path.join(work, 'chart'), { recursive: true, force: true });
      const bareBase = commitValues({ staging: { replicas: 1 } }, 'registry only');
      git(work, 'checkout', '-q', '-f', 'feature');
      const result = await plan(
        pullRequest({ base: 'staging', head: 'feature', number: 11, baseSha: bareBase, headSha }),
      );
      try {
        expect(result.exitCode, result.stdout + result.stderr).to.equal(0);
        const body = stub.comments.find((c) => c.issue_number === 11)?.body ?? '';
        expect(body).to.include('> The chart `chart` does not exist at the base: every object is new.');
        expect(body).to.include('3 added, 0 removed, 0 changed, 0 unchanged');
      } finally {
        result.cleanup();
      }
    });

    it('leaves alone a comment that only quotes the marker, and adds its own', async () => {
      const quoting = stub.addComment(
        12,
        '> <!-- airq-deploy-plan:staging -->\n> quoted plan\n\nlooks fine',
        'reviewer',
      );
      const result = await plan(pullRequest({ base: 'staging', head: 'feature', number: 12, baseSha, headSha }));
      try {
        expect(result.exitCode, result.stdout + result.stderr).to.equal(0);
        expect(stub.comments.filter((c) => c.issue_number === 12)).to.have.length(2);
        expect(stub.comments.find((c) => c.id === quoting.id)?.body).to.include('looks fine');
      } finally {
        result.cleanup();
      }
    });

    it('plans a pull request into master against production and says a release tag is needed', async () => {
      const result = await plan(pullRequest({ base: 'master', head: 'feature', number: 8, baseSha, headSha }));
      try {
        expect(result.exitCode, result.stdout + result.stderr).to.equal(0);
        expect(result.outputs).to.include({ environment: 'production', changed: 'false', production: 'true' });
        const comment = stub.comments.find((c) => c.issue_number === 8);
        expect(comment?.body.startsWith('<!-- airq-deploy-plan:production -->')).to.equal(true);
        expect(comment?.body)
          .to.include('**Production is involved.**')
          .and.include('release tag')
          .and.include('No rendered object changes.');
      } finally {
        result.cleanup();
      }
    });

    it('fetches the base commit from origin when the clone is shallow', async () => {
      const shallow = path.join(root, 'shallow');
      git(root, 'clone', '-q', '--depth=1', '--branch', 'feature', `file://${origin}`, shallow);
      expect(() => git(shallow, 'cat-file', '-e', `${baseSha}^{commit}`)).to.throw();
      const result = await plan(
        pullRequest({ base: 'staging', head: 'feature', number: 9, baseSha, headSha }),
        shallow,
      );
      try {
        expect(result.exitCode, result.stdout + result.stderr).to.equal(0);
        expect(result.stdout).to.include(`base commit ${baseSha} is not in the clone; fetching it from origin`);
        expect(result.outputs).to.include({ environment: 'staging', changed: 'true' });
      } finally {
        result.cleanup();
      }
    });

    it('posts nothing for a pull request into a branch that deploys nowhere', async () => {
      const before = stub.requests.length;
      const result = await plan(pullRequest({ base: 'feature', head: 'other', number: 10, baseSha, headSha }));
      try {
        expect(result.exitCode).to.equal(0);
        expect(result.outputs).to.include({ environment: '', changed: 'false', 'comment-id': '' });
        expect(
          result.annotations.some((a) => a.level === 'notice' && /deploys no environment/.test(a.message)),
        ).to.equal(true);
        expect(stub.requests.length).to.equal(before);
      } finally {
        result.cleanup();
      }
    });

    it('fails clearly outside a pull request', async () => {
      const result = await runAction('deploy-plan', {
        apiUrl: stub.url,
        cwd: work,
        env,
        inputs: { 'github-token': 'ghs_test' },
      });
      try {
        expect(result.exitCode).to.equal(1);
        expect(errors(result)).to.match(
          /deploy-plan runs for pull requests, but the push event payload has no pull_request/,
        );
      } finally {
        result.cleanup();
      }
    });
  });
});
