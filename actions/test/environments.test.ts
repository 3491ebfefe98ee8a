import { expect } from 'chai';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { isProduction, loadEnvironments, parseEnvironment } from '../src/lib/environments.ts';
import { REPO_ROOT } from '../../test/support/repo-root.ts';

const valid = {
  name: 'qa',
  pipeline: { branches: ['qa'], namespace: 'airq-qa', release: 'airq', url: 'https://qa.example.com' },
  values: { api: { replicas: 1 } },
};

describe('environments registry', function () {
  let dir: string;
  before(function () {
    dir = mkdtempSync(path.join(tmpdir(), 'airq-envs-'));
  });
  after(function () {
    rmSync(dir, { recursive: true, force: true });
  });

  function registryOf(name: string, files: Record<string, string>): string {
    const envs = path.join(dir, name);
    mkdirSync(envs);
    for (const [file, text] of Object.entries(files)) writeFileSync(path.join(envs, file), text);
    return envs;
  }

  it('counts an environment as production when it is marked so or only release tags reach it', function () {
    const table: Array<[{ production: boolean; requireReleaseTag: boolean }, boolean]> = [
      [{ production: true, requireReleaseTag: true }, true],
      [{ production: true, requireReleaseTag: false }, true],
      [{ production: false, requireReleaseTag: true }, true],
      [{ production: false, requireReleaseTag: false }, false],
    ];
    for (const [flags, expected] of table) {
      const environment = parseEnvironment('environments/qa.yaml', {
        ...valid,
        pipeline: { ...valid.pipeline, ...flags },
      });
      expect(isProduction(environment), JSON.stringify(flags)).to.equal(expected);
    }
    const registry = loadEnvironments(path.join(REPO_ROOT, 'environments'));
    expect(registry.environments.filter(isProduction).map((e) => e.name)).to.deep.equal(['production']);
  });

  it("loads the repository's development, staging and production with their routing", function () {
    const registry = loadEnvironments(path.join(REPO_ROOT, 'environments'));
    expect(registry.names()).to.deep.equal(['development', 'production', 'staging']);
    expect(registry.forBranch('development')?.name).to.equal('development');
    expect(registry.forBranch('staging')?.name).to.equal('staging');
    expect(registry.forBranch('master')).to.equal(undefined);
    expect(registry.forTag('v1.2.3')?.name).to.equal('production');
    expect(registry.forTag('release-1')).to.equal(undefined);
    expect(registry.get('production').pipeline).to.include({
      production: true,
      requireReleaseTag: true,
      releaseBranch: 'master',
    });
    expect(registry.environments.filter((e) => e.pipeline.production).map((e) => e.name)).to.deep.equal(['production']);
  });

  it('fills defaults for the optional pipeline fields', function () {
    const environment = parseEnvironment('environments/qa.yaml', valid);
    expect(environment.pipeline).to.deep.equal({
      branches: ['qa'],
      tags: [],
      requireReleaseTag: false,
      releaseBranch: 'master',
      production: false,
      requiredChecks: [],
      deploymentPolicy: { branches: [], tags: [] },
      namespace: 'airq-qa',
      release: 'airq',
      url: 'https://qa.example.com',
    });
    expect(parseEnvironment('environments/qa.yaml', { ...valid, values: null }).values).to.deep.equal({});
  });

  it('names the file and the field of each problem', function () {
    const table: Array<[unknown, RegExp]> = [
      [
        { ...valid, pipeline: { ...valid.pipeline, namespace: 'Airq_QA' } },
        /^environments\/qa\.yaml: pipeline\.namespace: must be a DNS label/,
      ],
      [{ ...valid, pipeline: { ...valid.pipeline, url: 'ftp://qa' } }, /^environments\/qa\.yaml: pipeline\.url: /],
      [{ ...valid, pipeline: { ...valid.pipeline, release: 'x'.repeat(54) } }, /pipeline\.release: /],
      [{ ...valid, pipeline: { ...valid.pipeline, branch: ['qa'] } }, /pipeline: Unrecognized key: "branch"/],
      [
        { ...valid, pipeline: { ...valid.pipeline, requireReleaseTag: 'yes' } },
        /pipeline\.requireReleaseTag: .*expected boolean/,
      ],
      [{ name: 'qa', values: {} }, /pipeline: .*expected object/],
      [{ ...valid, name: 'other' }, /name: "other" must match the file name; rename the file or set name: qa/],
      [{ ...valid, extra: 1 }, /\(top level\): Unrecognized key: "extra"/],
    ];
    for (const [document, message] of table) {
      expect(() => parseEnvironment('environments/qa.yaml', document), JSON.stringify(document)).to.throw(message);
    }
  });

  it('refuses a branch claimed by two environments', function () {
    const envs = registryOf('duplicate', {
      'a.yaml': 'name: a\npipeline: {branches: [main], namespace: a, release: a, url: "https://a.example.com"}\n',
      'b.yaml': 'name: b\npipeline: {branches: [main], namespace: b, release: b, url: "https://b.example.com"}\n',
    });
    expect(() => loadEnvironments(envs)).to.throw(
      /duplicate\/b\.yaml: pipeline\.branches: branch "main" already deploys a/,
    );
  });

  it('reports unreadable YAML, an empty directory and a missing one with the path', function () {
    const broken = registryOf('broken', { 'qa.yaml': 'name: [unclosed\n' });
    expect(() => loadEnvironments(broken)).to.throw(/broken\/qa\.yaml: not valid YAML/);
    const empty = registryOf('empty', { 'README.md': '# nothing\n' });
    expect(() => loadEnvironments(empty)).to.throw(/holds no \*\.yaml files/);
    expect(() => loadEnvironments(path.join(dir, 'absent'))).to.throw(/absent: ENOENT.*"environments-dir" input/);
  });
});
