import { fileURLToPath } from 'node:url';

/** The repository's root directory, with a trailing separator: what tests, benchmarks and the e2e harness resolve paths against. */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
