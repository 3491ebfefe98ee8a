import { expect } from 'chai';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { REPO_ROOT } from '../../test/support/repo-root.ts';

interface Manifest {
  name?: string;
  description?: string;
  branding?: { icon?: string; color?: string };
  inputs?: Record<string, { description?: string; required?: boolean; default?: unknown }>;
  outputs?: Record<string, { description?: string }>;
  runs?: { using?: string; main?: string };
}

const actionsDir = path.join(REPO_ROOT, 'actions');
const names = readdirSync(actionsDir).filter((name) => existsSync(path.join(actionsDir, name, 'action.yml')));

describe('action metadata', function () {
  it('exists for every action source folder', function () {
    const sources = readdirSync(path.join(actionsDir, 'src')).filter((name) =>
      existsSync(path.join(actionsDir, 'src', name, 'main.ts')),
    );
    expect(names.sort()).to.deep.equal(sources.sort());
  });

  for (const name of names) {
    it(`documents ${name}: name, description, branding, every input and output, node24 running dist/index.js`, function () {
      const file = `actions/${name}/action.yml`;
      const manifest = parseYaml(readFileSync(path.join(REPO_ROOT, file), 'utf8')) as Manifest;
      expect(manifest.name, `${file}: name`).to.be.a('string');
      expect(manifest.description, `${file}: description`).to.be.a('string');
      expect(manifest.branding?.icon && manifest.branding?.color, `${file}: branding icon and color`).to.be.a('string');
      for (const [input, spec] of Object.entries(manifest.inputs ?? {})) {
        expect(spec?.description, `${file}: inputs.${input}.description`).to.be.a('string').and.not.equal('');
        expect(
          spec?.required === true && spec.default !== undefined,
          `${file}: inputs.${input} is required yet has a default`,
        ).to.equal(false);
        expect(input, `${file}: input names are kebab-case`).to.match(/^[a-z][a-z0-9-]*$/);
      }
      for (const [output, spec] of Object.entries(manifest.outputs ?? {})) {
        expect(spec?.description, `${file}: outputs.${output}.description`).to.be.a('string').and.not.equal('');
      }
      expect(manifest.runs).to.deep.equal({ using: 'node24', main: 'dist/index.js' });
      expect(
        existsSync(path.join(actionsDir, name, 'dist', 'index.js')),
        `actions/${name}/dist/index.js; run npm run build:actions`,
      ).to.equal(true);
    });
  }
});
