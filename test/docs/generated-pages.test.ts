import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { staleness, writePage, type GeneratedPage } from '../../scripts/generated-page.ts';
import { REPO_ROOT } from '../support/repo-root.ts';

const TSX = createRequire(import.meta.url).resolve('tsx/cli');

describe('generated pages (scripts/generated-page.ts)', function () {
  let scratch: string;
  beforeEach(() => (scratch = mkdtempSync(path.join(tmpdir(), 'airq-generated-page-'))));
  afterEach(() => rmSync(scratch, { recursive: true, force: true }));

  const page = (lines: string[]): GeneratedPage => ({
    file: path.join(scratch, 'docs', 'thing.md'),
    from: 'thing.yaml',
    script: 'docs:thing',
    render: () => `${lines.join('\n')}\n`,
  });

  it('names a missing page, then the first stale line, with the command that fixes it', function () {
    const thing = page(['# Thing', '', 'a: 1', 'b: 2']);
    expect(staleness(thing)).to.equal(`${thing.file} does not exist; run \`npm run docs:thing\` and commit it`);
    writePage(thing);
    expect(staleness(thing)).to.equal(undefined);
    writeFileSync(thing.file, '# Thing\n\na: 0\nb: 2\n');
    expect(staleness(thing)).to.equal(
      `${thing.file}:3 differs from what thing.yaml generate; run \`npm run docs:thing\` and commit it`,
    );
  });

  it('renders from what the page holds, for a page generated between markers', function () {
    const framed: GeneratedPage = { ...page([]), render: (current) => (current ?? '').replace('old', 'new') };
    writeFileSync(path.join(scratch, 'framed.md'), 'hand-written, old, hand-written\n');
    framed.file = path.join(scratch, 'framed.md');
    expect(staleness(framed)).to.match(/framed\.md:1 differs/);
    writePage(framed);
    expect(readFileSync(framed.file, 'utf8')).to.equal('hand-written, new, hand-written\n');
  });

  for (const [script, file] of [
    ['actions/scripts/actions-doc.ts', 'docs/actions.md'],
    ['helm/scripts/values-doc.ts', 'docs/values.md'],
    ['api/scripts/reference-doc.ts', 'docs/api.md'],
  ] as const) {
    it(`${script} --check passes on the committed ${file}`, async function () {
      this.timeout(30_000);
      const { stdout } = await promisify(execFile)(process.execPath, [TSX, script, '--check'], { cwd: REPO_ROOT });
      expect(stdout).to.equal(`${file} is up to date\n`);
    });
  }
});
