import { expect } from 'chai';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { staleness } from '../../scripts/generated-page.ts';
import { ACTIONS_DIR, DOC_FILE, actionsPage, renderActionsDoc } from '../scripts/actions-doc.ts';

interface Manifest {
  inputs?: Record<string, { default?: unknown; required?: boolean }>;
  outputs?: Record<string, unknown>;
}

const actionNames = readdirSync(ACTIONS_DIR, { withFileTypes: true })
  .filter((entry) => entry.isDirectory() && readdirSync(path.join(ACTIONS_DIR, entry.name)).includes('action.yml'))
  .map((entry) => entry.name);

describe('docs/actions.md (generated from actions/*/action.yml)', function () {
  it('is what `npm run docs:actions` generates from the committed action.yml files', function () {
    expect(staleness(actionsPage())).to.equal(undefined);
  });

  it('has a section per action with a row for each of its inputs and outputs', function () {
    const page = readFileSync(DOC_FILE, 'utf8');
    expect(actionNames).to.have.length.greaterThan(5);
    for (const name of actionNames) {
      const manifest = parseYaml(readFileSync(path.join(ACTIONS_DIR, name, 'action.yml'), 'utf8')) as Manifest;
      const start = page.indexOf(`\n## ${name}\n`);
      expect(start, `section for ${name}`).to.be.greaterThan(0);
      const next = page.indexOf('\n## ', start + 1);
      const section = page.slice(start, next < 0 ? undefined : next);
      for (const [input, spec] of Object.entries(manifest.inputs ?? {})) {
        expect(section, `${name} input ${input}`).to.match(
          new RegExp(`\\| \`${input}\` \\| ${spec.required ? 'yes' : 'no'} \\|`),
        );
      }
      for (const output of Object.keys(manifest.outputs ?? {}))
        expect(section, `${name} output ${output}`).to.include(`| \`${output}\` |`);
    }
    expect(page).to.include('| `github-token` | no | `${{ github.token }}` |');
  });

  it('is reported stale, with the command that fixes it, once an action.yml changes', function () {
    const scratch = mkdtempSync(path.join(tmpdir(), 'airq-actions-doc-'));
    try {
      for (const name of actionNames)
        cpSync(path.join(ACTIONS_DIR, name, 'action.yml'), path.join(scratch, name, 'action.yml'));
      const doc = path.join(scratch, 'actions.md');
      writeFileSync(doc, renderActionsDoc(scratch));
      expect(staleness(actionsPage(scratch, doc))).to.equal(undefined);
      const victim = path.join(scratch, 'smoke-test', 'action.yml');
      writeFileSync(
        victim,
        readFileSync(victim, 'utf8').replace('outputs:', 'outputs:\n  latency:\n    description: A new output.'),
      );
      expect(staleness(actionsPage(scratch, doc))).to.match(
        /differs from what actions\/\*\/action\.yml generate; run `npm run docs:actions`/,
      );
      expect(renderActionsDoc(scratch)).to.include('| `latency` | A new output. |');
      rmSync(doc);
      expect(staleness(actionsPage(scratch, doc))).to.match(/does not exist; run `npm run docs:actions`/);
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  });

  it('refuses an action.yml whose input has no description, naming the file and the input', function () {
    const scratch = mkdtempSync(path.join(tmpdir(), 'airq-actions-doc-'));
    try {
      cpSync(path.join(ACTIONS_DIR, 'smoke-test', 'action.yml'), path.join(scratch, 'smoke-test', 'action.yml'));
      const file = path.join(scratch, 'smoke-test', 'action.yml');
      writeFileSync(file, readFileSync(file, 'utf8').replace('inputs:', 'inputs:\n  mystery:\n    default: x'));
      expect(() => renderActionsDoc(scratch)).to.throw(
        /actions\/smoke-test\/action\.yml: inputs\.mystery\.description: .*needs a description/,
      );
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  });
});
