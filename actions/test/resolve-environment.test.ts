import { expect } from 'chai';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { loadEnvironments } from '../src/lib/environments.ts';
import {
  buildVersion,
  decide,
  eventFacts,
  refSlug,
  releaseVersion,
  type EventFacts,
} from '../src/resolve-environment/decide.ts';
import { pullRequest, pushBranch, pushTag, workflowDispatch } from './support/events.ts';
import { errors, runAction } from './support/run-action.ts';
import { REPO_ROOT } from '../../test/support/repo-root.ts';

const SHA = '0123456789abcdef0123456789abcdef01234567';
const registry = loadEnvironments(path.join(REPO_ROOT, 'environments'));

describe('resolve-environment', function () {
  describe('decide()', function () {
    const cases: Array<{
      name: string;
      facts: Omit<EventFacts, 'sha'>;
      environment: string;
      deploy: boolean;
      target: string;
      version: string;
      imageTag: string;
      reason: RegExp;
    }> = [
      {
        name: 'a push to development deploys development at the commit sha',
        facts: { eventName: 'push', ref: 'refs/heads/development' },
        environment: 'development',
        deploy: true,
        target: 'development',
        version: '0.0.0-development.g0123456',
        imageTag: SHA,
        reason: /push to development deploys development/,
      },
      {
        name: 'a push to staging deploys staging',
        facts: { eventName: 'push', ref: 'refs/heads/staging' },
        environment: 'staging',
        deploy: true,
        target: 'staging',
        version: '0.0.0-staging.g0123456',
        imageTag: SHA,
        reason: /deploys staging/,
      },
      {
        name: 'a push to master deploys nothing: master is the release line',
        facts: { eventName: 'push', ref: 'refs/heads/master' },
        environment: '',
        deploy: false,
        target: 'production',
        version: '0.0.0-master.g0123456',
        imageTag: SHA,
        reason: /release line of production.*push a tag vX\.Y\.Z/,
      },
      {
        name: 'a release tag deploys production with the version as image tag',
        facts: { eventName: 'push', ref: 'refs/tags/v1.2.3' },
        environment: 'production',
        deploy: true,
        target: 'production',
        version: '1.2.3',
        imageTag: '1.2.3',
        reason: /tag v1\.2\.3 releases 1\.2\.3 to production/,
      },
      {
        name: 'a pre-release tag deploys nothing and says pre-releases do not reach production',
        facts: { eventName: 'push', ref: 'refs/tags/v1.2.3-rc.1' },
        environment: '',
        deploy: false,
        target: 'production',
        version: '0.0.0-v1-2-3-rc-1.g0123456',
        imageTag: SHA,
        reason: /pre-releases are not deployed to production/,
      },
      {
        name: 'a tag that is not vX.Y.Z deploys nothing',
        facts: { eventName: 'push', ref: 'refs/tags/release-1.0' },
        environment: '',
        deploy: false,
        target: '',
        version: '0.0.0-release-1-0.g0123456',
        imageTag: SHA,
        reason: /matches no environment/,
      },
      {
        name: 'a feature branch deploys nothing and lists the routes',
        facts: { eventName: 'push', ref: 'refs/heads/feature/x' },
        environment: '',
        deploy: false,
        target: '',
        version: '0.0.0-feature-x.g0123456',
        imageTag: SHA,
        reason: /branch feature\/x deploys no environment \(branch development → development/,
      },
      {
        name: 'a pull request into staging deploys nothing but targets staging',
        facts: { eventName: 'pull_request', ref: 'refs/pull/7/merge', baseRef: 'staging' },
        environment: '',
        deploy: false,
        target: 'staging',
        version: '0.0.0-pull-7-merge.g0123456',
        imageTag: SHA,
        reason: /merge into staging deploys staging/,
      },
      {
        name: 'a pull request into master targets production, reached with a release tag',
        facts: { eventName: 'pull_request', ref: 'refs/pull/7/merge', baseRef: 'master' },
        environment: '',
        deploy: false,
        target: 'production',
        version: '0.0.0-pull-7-merge.g0123456',
        imageTag: SHA,
        reason: /reaches production once a release tag is pushed/,
      },
      {
        name: 'a pull request into a feature branch targets nothing',
        facts: { eventName: 'pull_request', ref: 'refs/pull/7/merge', baseRef: 'feature/y' },
        environment: '',
        deploy: false,
        target: '',
        version: '0.0.0-pull-7-merge.g0123456',
        imageTag: SHA,
        reason: /merge into feature\/y deploys nothing/,
      },
      {
        name: 'a manual run asking for staging deploys the branch it runs on to staging',
        facts: { eventName: 'workflow_dispatch', ref: 'refs/heads/development', requestedEnvironment: 'staging' },
        environment: 'staging',
        deploy: true,
        target: 'staging',
        version: '0.0.0-development.g0123456',
        imageTag: SHA,
        reason: /asked for staging/,
      },
      {
        name: 'a manual run asking for production from a branch is refused',
        facts: { eventName: 'workflow_dispatch', ref: 'refs/heads/master', requestedEnvironment: 'production' },
        environment: '',
        deploy: false,
        target: 'production',
        version: '0.0.0-master.g0123456',
        imageTag: SHA,
        reason: /production deploys only release tags/,
      },
      {
        name: 'a manual run asking for production from a release tag deploys it',
        facts: { eventName: 'workflow_dispatch', ref: 'refs/tags/v2.0.0', requestedEnvironment: 'production' },
        environment: 'production',
        deploy: true,
        target: 'production',
        version: '2.0.0',
        imageTag: '2.0.0',
        reason: /asked for production/,
      },
      {
        name: 'a manual run without an environment follows the ref',
        facts: { eventName: 'workflow_dispatch', ref: 'refs/heads/development' },
        environment: 'development',
        deploy: true,
        target: 'development',
        version: '0.0.0-development.g0123456',
        imageTag: SHA,
        reason: /deploys development/,
      },
      {
        name: 'a scheduled run deploys nothing',
        facts: { eventName: 'schedule', ref: 'refs/heads/master' },
        environment: '',
        deploy: false,
        target: '',
        version: '0.0.0-master.g0123456',
        imageTag: SHA,
        reason: /event schedule deploys nothing/,
      },
      {
        name: 'a deleted branch deploys nothing',
        facts: { eventName: 'push', ref: 'refs/heads/development', deleted: true },
        environment: '',
        deploy: false,
        target: '',
        version: '0.0.0-development.g0123456',
        imageTag: SHA,
        reason: /was deleted/,
      },
    ];
    for (const c of cases) {
      it(c.name, function () {
        const decision = decide(registry, { ...c.facts, sha: SHA });
        expect({
          environment: decision.environment?.name ?? '',
          deploy: decision.deploy,
          target: decision.target?.name ?? '',
          version: decision.version,
          imageTag: decision.imageTag,
        }).to.deep.equal({
          environment: c.environment,
          deploy: c.deploy,
          target: c.target,
          version: c.version,
          imageTag: c.imageTag,
        });
        expect(decision.reason).to.match(c.reason);
      });
    }

    it("reads the facts from the run: the environment input, else a manual run's, and the pull request's base", function () {
      const run = { eventName: 'push', ref: 'refs/heads/development', sha: SHA, baseRef: '', payload: {} };
      const table: Array<[string, typeof run, string, Partial<EventFacts>]> = [
        ['a push', run, '', { eventName: 'push', requestedEnvironment: undefined, baseRef: '', deleted: false }],
        ['the environment input', run, 'staging', { requestedEnvironment: 'staging' }],
        ['a deleted branch', { ...run, payload: { deleted: true } }, '', { deleted: true }],
        [
          "a manual run's environment",
          { ...run, eventName: 'workflow_dispatch', payload: { inputs: { environment: 'staging' } } },
          '',
          { requestedEnvironment: 'staging' },
        ],
        [
          "the input over a manual run's",
          { ...run, eventName: 'workflow_dispatch', payload: { inputs: { environment: 'staging' } } },
          'production',
          { requestedEnvironment: 'production' },
        ],
        [
          'a dispatch input on another event',
          { ...run, payload: { inputs: { environment: 'staging' } } },
          '',
          { requestedEnvironment: undefined },
        ],
        [
          "a pull request's base from its payload",
          {
            ...run,
            eventName: 'pull_request',
            baseRef: 'other',
            payload: { pull_request: { base: { ref: 'staging' } } },
          },
          '',
          { baseRef: 'staging' },
        ],
        [
          "a pull request's base from GITHUB_BASE_REF",
          { ...run, eventName: 'pull_request', baseRef: 'master' },
          '',
          { baseRef: 'master' },
        ],
      ];
      for (const [name, context, input, expected] of table)
        expect(eventFacts(context, input), name).to.include(expected);
    });

    it('refuses an environment name the registry does not define, naming the known ones', function () {
      expect(() =>
        decide(registry, {
          eventName: 'workflow_dispatch',
          ref: 'refs/heads/master',
          sha: SHA,
          requestedEnvironment: 'qa',
        }),
      ).to.throw(/environment "qa" is not defined in .*environments\/ \(known: development, production, staging\)/);
    });

    it('accepts only strict vMAJOR.MINOR.PATCH as a release tag', function () {
      const table: Array<[string, string | undefined]> = [
        ['v1.2.3', '1.2.3'],
        ['v0.0.1', '0.0.1'],
        ['v10.20.30', '10.20.30'],
        ['1.2.3', undefined],
        ['v1.2', undefined],
        ['v1.2.3-rc.1', undefined],
        ['v1.2.3+build.5', undefined],
        ['v01.2.3', undefined],
        ['release-1.0', undefined],
      ];
      expect(table.map(([tag]) => [tag, releaseVersion(tag)])).to.deep.equal(table);
    });

    it('builds valid semver pre-release versions from any branch name and sha', function () {
      expect(buildVersion('Feature/ÜBER_thing!!', '0000000aaaa')).to.equal('0.0.0-feature-ber-thing.g0000000');
      expect(refSlug('---')).to.equal('ref');
      expect(refSlug('a'.repeat(60))).to.have.length(40);
    });
  });

  describe('the bundled action, run as the runner runs it', function () {
    it('deploys development on a push to development and writes the values file, outputs and summary', async function () {
      const run = await runAction('resolve-environment', { event: pushBranch('development', SHA) });
      try {
        expect(run.exitCode, run.stdout + run.stderr).to.equal(0);
        expect(run.outputs).to.include({
          environment: 'development',
          deploy: 'true',
          'target-environment': 'development',
          version: '0.0.0-development.g0123456',
          'image-tag': SHA,
          namespace: 'airq-development',
          release: 'airq',
          url: 'https://airq-dev.example.com',
          'is-production': 'false',
          reason: 'push to development deploys development',
        });
        const manifest = parseYaml(
          readFileSync(path.join(REPO_ROOT, 'actions/resolve-environment/action.yml'), 'utf8'),
        ) as { outputs: Record<string, unknown> };
        expect(Object.keys(run.outputs).sort()).to.deep.equal(Object.keys(manifest.outputs).sort());
        const valuesFile = run.outputs['values-file'] ?? '';
        expect(valuesFile.startsWith(run.runnerTemp)).to.equal(true);
        expect(parseYaml(readFileSync(valuesFile, 'utf8'))).to.deep.equal(registry.get('development').values);
        expect(run.summary)
          .to.include('Deploying to development')
          .and.include('push to development deploys development');
        expect(run.annotations).to.deep.equal([]);
      } finally {
        run.cleanup();
      }
    });

    it('releases a tag to production with the version as the image tag', async function () {
      const run = await runAction('resolve-environment', { event: pushTag('v1.4.0', SHA) });
      try {
        expect(run.exitCode).to.equal(0);
        expect(run.outputs).to.include({
          environment: 'production',
          deploy: 'true',
          version: '1.4.0',
          'image-tag': '1.4.0',
          'is-production': 'true',
          namespace: 'airq-production',
        });
      } finally {
        run.cleanup();
      }
    });

    it('deploys nothing on a push to master and says why in a notice', async function () {
      const run = await runAction('resolve-environment', { event: pushBranch('master', SHA) });
      try {
        expect(run.exitCode).to.equal(0);
        expect(run.outputs).to.include({ environment: '', deploy: 'false', 'target-environment': 'production' });
        expect(run.annotations.map((a) => [a.level, a.message])).to.deep.equal([['notice', run.outputs.reason]]);
        expect(run.outputs.reason).to.match(/push a tag vX\.Y\.Z on master/);
        expect(run.summary).to.include('No deployment');
      } finally {
        run.cleanup();
      }
    });

    it('reports the environment a pull request would reach without deploying', async function () {
      const run = await runAction('resolve-environment', {
        event: pullRequest({ base: 'staging', head: 'feature/z' }),
      });
      try {
        expect(run.exitCode).to.equal(0);
        expect(run.outputs).to.include({
          environment: '',
          deploy: 'false',
          'target-environment': 'staging',
          namespace: 'airq-staging',
        });
      } finally {
        run.cleanup();
      }
    });

    it('honours the environment input of a manual run', async function () {
      const run = await runAction('resolve-environment', {
        event: workflowDispatch('development', { environment: 'staging' }, SHA),
      });
      try {
        expect(run.exitCode).to.equal(0);
        expect(run.outputs).to.include({
          environment: 'staging',
          deploy: 'true',
          version: '0.0.0-development.g0123456',
        });
      } finally {
        run.cleanup();
      }
    });

    describe('with a registry of its own', function () {
      let dir: string;
      before(function () {
        dir = mkdtempSync(path.join(tmpdir(), 'airq-registry-'));
      });
      after(function () {
        rmSync(dir, { recursive: true, force: true });
      });

      it('picks up a new environment from a new file, with no code change', async function () {
        const envs = path.join(dir, 'added');
        mkdirSync(envs);
        writeFileSync(
          path.join(envs, 'qa.yaml'),
          'name: qa\npipeline:\n  branches: [qa]\n  namespace: airq-qa\n  release: airq-qa\n  url: https://qa.example.com\nvalues:\n  api:\n    replicas: 1\n',
        );
        const run = await runAction('resolve-environment', {
          event: pushBranch('qa', SHA),
          inputs: { 'environments-dir': envs },
        });
        try {
          expect(run.exitCode, run.stdout).to.equal(0);
          expect(run.outputs).to.include({
            environment: 'qa',
            deploy: 'true',
            namespace: 'airq-qa',
            release: 'airq-qa',
          });
          expect(parseYaml(readFileSync(run.outputs['values-file'] ?? '', 'utf8'))).to.deep.equal({
            api: { replicas: 1 },
          });
        } finally {
          run.cleanup();
        }
      });

      it('fails naming the file and the field when an environment file is invalid', async function () {
        const envs = path.join(dir, 'broken');
        mkdirSync(envs);
        writeFileSync(
          path.join(envs, 'qa.yaml'),
          'name: qa\npipeline:\n  branches: [qa]\n  namespace: Airq_QA\n  release: airq\n  url: https://qa.example.com\n',
        );
        const run = await runAction('resolve-environment', {
          event: pushBranch('qa', SHA),
          inputs: { 'environments-dir': envs },
        });
        try {
          expect(run.exitCode).to.equal(1);
          expect(errors(run)).to.match(/broken\/qa\.yaml: pipeline\.namespace: must be a DNS label/);
          expect(run.outputs).to.deep.equal({});
        } finally {
          run.cleanup();
        }
      });

      it('fails when a manual run asks for an environment that does not exist', async function () {
        const run = await runAction('resolve-environment', {
          event: workflowDispatch('development', { environment: 'qa' }, SHA),
        });
        try {
          expect(run.exitCode).to.equal(1);
          expect(errors(run)).to.match(
            /environment "qa" is not defined in environments\/ \(known: development, production, staging\); add environments\/qa\.yaml/,
          );
        } finally {
          run.cleanup();
        }
      });
    });
  });
});
