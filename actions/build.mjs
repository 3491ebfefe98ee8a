// Bundles every actions/src/<name>/main.ts into actions/<name>/dist/index.js, the file the runner executes.
//
//   node actions/build.mjs           rebuild every committed bundle
//   node actions/build.mjs NAME...   rebuild only these actions
//   node actions/build.mjs --check   rebuild into a temporary directory and fail if a committed bundle differs
//   --dist-root DIR                  with --check: compare against DIR/<name>/dist/index.js instead (tests use it)
//
// The output must be byte-for-byte reproducible (the --check mode and the bundles test depend on it), so nothing
// time- or machine-dependent goes in: no timestamps, no absolute paths (esbuild writes paths relative to the repo root).
import { build } from 'esbuild';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
const SOURCES = path.join(REPO_ROOT, 'actions', 'src');

// The @actions/* packages are ESM-only while some of their dependencies still call require(): give the ESM bundle one.
const BANNER = "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);";

/** Every action: a folder under actions/src with a main.ts (lib/ has none, so it is skipped). */
export function discoverActions() {
  return readdirSync(SOURCES, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(path.join(SOURCES, entry.name, 'main.ts')))
    .map((entry) => entry.name)
    .sort();
}

/** Bundles one action into `<outRoot>/<name>/dist/index.js`. */
async function bundle(name, outRoot) {
  await build({
    absWorkingDir: REPO_ROOT,
    entryPoints: [path.join('actions', 'src', name, 'main.ts')],
    outfile: path.join(outRoot, name, 'dist', 'index.js'),
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node24',
    banner: { js: BANNER },
    legalComments: 'inline',
    // Paths in the bundle stay relative to the repo even when node_modules is a symlink (worktrees, caches).
    preserveSymlinks: true,
    charset: 'utf8',
    sourcemap: false,
    minify: false,
    logLevel: 'warning',
  });
}

/** Rebuilds into a temporary directory; returns the actions whose committed bundle is missing or differs. */
export async function staleActions(distRoot = path.join(REPO_ROOT, 'actions')) {
  const scratch = mkdtempSync(path.join(tmpdir(), 'airq-actions-build-'));
  try {
    const stale = [];
    for (const name of discoverActions()) {
      await bundle(name, scratch);
      const committed = path.join(distRoot, name, 'dist', 'index.js');
      const fresh = readFileSync(path.join(scratch, name, 'dist', 'index.js'));
      if (!existsSync(committed)) stale.push({ name, reason: `actions/${name}/dist/index.js is missing` });
      else if (!fresh.equals(readFileSync(committed))) {
        stale.push({ name, reason: `actions/${name}/dist/index.js differs from a fresh build of actions/src/${name}` });
      }
    }
    return stale;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

async function main() {
  if (process.argv.includes('--check')) {
    const at = process.argv.indexOf('--dist-root');
    const stale = await staleActions(at > 0 ? path.resolve(process.argv[at + 1] ?? '') : undefined);
    for (const { reason } of stale)
      console.error(`stale bundle: ${reason}; run \`npm run build:actions\` and commit it`);
    if (stale.length > 0) process.exit(1);
    console.log(`${discoverActions().length} action bundles are up to date`);
    return;
  }
  const all = discoverActions();
  const wanted = process.argv.slice(2).filter((arg) => !arg.startsWith('--'));
  for (const name of wanted) {
    if (!all.includes(name))
      throw new Error(`no action "${name}": actions/src/${name}/main.ts does not exist (actions: ${all.join(', ')})`);
  }
  for (const name of wanted.length > 0 ? wanted : all) {
    await bundle(name, path.join(REPO_ROOT, 'actions'));
    console.log(`built actions/${name}/dist/index.js`);
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((error) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
