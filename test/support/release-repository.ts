import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { git } from './git.ts';

/** A clone whose `origin` has master (two commits) and a feature branch (one commit not on master). */
export function makeReleaseRepository(root: string): {
  clone: string;
  onMaster: { old: string; head: string };
  offMaster: string;
} {
  const origin = path.join(root, 'origin.git');
  const clone = path.join(root, 'clone');
  git(root, 'init', '--quiet', '--bare', origin);
  git(root, 'clone', '--quiet', origin, clone);
  const commit = (message: string) => {
    writeFileSync(path.join(clone, 'CHANGES'), `${message}\n`, { flag: 'a' });
    git(clone, 'add', 'CHANGES');
    git(clone, 'commit', '--quiet', '-m', message);
    return git(clone, 'rev-parse', 'HEAD');
  };
  git(clone, 'checkout', '--quiet', '-b', 'master');
  const old = commit('release 1.1.0');
  const head = commit('release 1.2.0');
  git(clone, 'push', '--quiet', 'origin', 'master');
  git(clone, 'checkout', '--quiet', '-b', 'feature/unreviewed');
  const offMaster = commit('unreviewed change');
  git(clone, 'push', '--quiet', 'origin', 'feature/unreviewed');
  return { clone, onMaster: { old, head }, offMaster };
}
