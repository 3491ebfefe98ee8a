import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../../test/support/repo-root.ts';

export const IMAGES_SCRIPT = path.join(REPO_ROOT, 'e2e', 'images', 'build.sh');

/** One entry of `<AIRQ_IMAGES>/images.json`, written by e2e/images/build.sh. */
export interface ProjectImage {
  name: 'api' | 'postgres' | 'varnish';
  /** The exact reference to put in the chart's values. */
  ref: string;
  /** Absolute path of its `docker save` archive. */
  archive: string;
  /** Built from Debian packages to honour an official image's contract (no registry can be reached here). */
  standIn: boolean;
}

export type ImagesLookup =
  { images: Record<ProjectImage['name'], ProjectImage>; missing?: undefined } | { images?: undefined; missing: string };

/** `repository` and `tag` of a reference, for the chart's `image.repository` / `image.tag` values. */
export function splitRef(ref: string): { repository: string; tag: string } {
  const at = ref.lastIndexOf(':');
  if (at <= ref.lastIndexOf('/')) return { repository: ref, tag: 'latest' };
  return { repository: ref.slice(0, at), tag: ref.slice(at + 1) };
}

/**
 * The project's images as docker-save archives: `bash e2e/images/build.sh` builds or reuses them (seconds when warm)
 * and prints `AIRQ_IMAGES=<dir>` last; AIRQ_IMAGES set in the environment names such a directory instead. `missing` says why they cannot be had, for skipUnlessAvailable.
 */
export function projectImages(): ImagesLookup {
  let dir = process.env.AIRQ_IMAGES;
  if (!dir) {
    if (!existsSync(IMAGES_SCRIPT))
      return { missing: `${IMAGES_SCRIPT} does not exist (the image build lands with the container images)` };
    const run = spawnSync('bash', [IMAGES_SCRIPT], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      maxBuffer: 64 * 1024 * 1024,
    });
    dir = /^AIRQ_IMAGES=(.+)$/m.exec(run.stdout)?.[1];
    if (run.status !== 0 || !dir) {
      process.stderr.write(run.stderr.split('\n').slice(-40).join('\n'));
      return { missing: `bash e2e/images/build.sh failed (exit ${run.status}); see its output above` };
    }
  }
  const list = JSON.parse(readFileSync(path.join(dir, 'images.json'), 'utf8')) as ProjectImage[];
  const byName = Object.fromEntries(list.map((image) => [image.name, image])) as Record<
    ProjectImage['name'],
    ProjectImage
  >;
  const absent = (['api', 'postgres', 'varnish'] as const).filter(
    (name) => !byName[name] || !existsSync(byName[name].archive),
  );
  if (absent.length) return { missing: `${dir}/images.json lacks an archive for ${absent.join(', ')}` };
  return { images: byName };
}
