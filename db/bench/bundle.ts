import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { REPO_ROOT } from '../../test/support/repo-root.ts';

/**
 * Bundles an entry point (a path from the repository root) into plain JavaScript under the git-ignored .cache/bench,
 * without its dependencies, as the image runs it: no tsx loader in the measured process. import.meta.url stays
 * db/src's, so the migrations and the bundled data resolve as they do from the sources. Returns the bundle's path.
 */
export async function bundleForBench(entry: string, name: string): Promise<string> {
  const outfile = path.join(REPO_ROOT, '.cache', 'bench', `${name}.mjs`);
  await build({
    entryPoints: [path.join(REPO_ROOT, entry)],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    logLevel: 'warning',
    define: { 'import.meta.url': JSON.stringify(pathToFileURL(path.join(REPO_ROOT, 'db', 'src', 'cli.ts')).href) },
  });
  return outfile;
}
