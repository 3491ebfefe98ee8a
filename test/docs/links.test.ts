import { expect } from 'chai';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  documentationFiles,
  headingAnchor,
  README_MAX_LINES,
  referenceProblems,
  REPO_ROOT,
} from './support/doc-references.ts';

const read = (file: string) => readFileSync(path.join(REPO_ROOT, file), 'utf8');

describe('the documentation', function () {
  it(`keeps README.md a front door of at most ${README_MAX_LINES} lines`, function () {
    const lines = read('README.md').replace(/\n$/, '').split('\n').length;
    expect(lines, `README.md has ${lines} lines; move the detail into a page of docs/`).to.be.at.most(README_MAX_LINES);
  });

  it('has the pages the README links to, beside an index', function () {
    expect(documentationFiles()).to.include.members([
      'README.md',
      'docs/README.md',
      'docs/data.md',
      'docs/api.md',
      'docs/pipeline.md',
      'docs/chart.md',
      'docs/e2e.md',
    ]);
  });

  for (const file of documentationFiles()) {
    it(`${file} links only to files and headings that exist, and names only repository paths that exist`, function () {
      expect(referenceProblems(file, read(file))).to.deep.equal([]);
    });
  }

  describe('the reference check itself', function () {
    let root: string;

    before(function () {
      root = mkdtempSync(path.join(tmpdir(), 'airq-doc-links-'));
      mkdirSync(path.join(root, 'docs'));
      mkdirSync(path.join(root, 'api/src'), { recursive: true });
      writeFileSync(path.join(root, 'api/src/app.ts'), '');
      writeFileSync(
        path.join(root, 'docs/api.md'),
        '# API\n\n## Configuration\n\n### `smoke-test`\n\n## Configuration\n',
      );
    });

    after(function () {
      rmSync(root, { recursive: true, force: true });
    });

    const check = (markdown: string) => referenceProblems('docs/page.md', markdown, root);

    it('accepts links and paths that exist, external links, placeholders and example messages', function () {
      const page = [
        '[api](api.md), [config](api.md#configuration), [again](api.md#configuration-1), [action](api.md#smoke-test)',
        '[home](https://example.com/x.md), `api/src/app.ts`, `api/src`, `api/<name>/x.ts`, `api/**/*.ts`',
        'an error such as `api/src/nothing.ts: line 3: bad`',
        '```sh',
        'node api/src/app.ts   # see api/src/gone.ts? comments are not checked',
        '```',
      ].join('\n');
      expect(check(page)).to.deep.equal([]);
    });

    it('names a link to a missing file, a missing heading and a missing repository path, with their lines', function () {
      const page = [
        'intro',
        'see [the chart](chart.md) and [api](api.md#shutdown)',
        'the factory is in `api/src/factory.ts`',
        '```sh',
        'tsx api/src/cli.ts migrate',
        '```',
      ].join('\n');
      expect(check(page)).to.deep.equal([
        'docs/page.md:2: link chart.md: docs/chart.md does not exist',
        'docs/page.md:2: link api.md#shutdown: docs/api.md has no heading "#shutdown"',
        'docs/page.md:3: api/src/factory.ts does not exist in the repository',
        'docs/page.md:5: api/src/cli.ts does not exist in the repository',
      ]);
    });

    it('turns headings into the anchors GitHub gives them', function () {
      expect(headingAnchor('Guarantees under faults')).to.equal('guarantees-under-faults');
      expect(headingAnchor('`resolve-environment`')).to.equal('resolve-environment');
      expect(headingAnchor('Build once, deploy by digest')).to.equal('build-once-deploy-by-digest');
    });
  });
});
