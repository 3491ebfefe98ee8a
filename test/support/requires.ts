/**
 * For suites that need a binary a laptop may lack (varnishd, helm, the Kubernetes toolchain): skip with a loud
 * reason locally, but fail under CI=true, where everything must run.
 */
export function skipUnlessAvailable(ctx: Mocha.Context, what: string, missing: string | undefined): void {
  if (!missing) return;
  const message = `${what} is unavailable: ${missing}`;
  if (process.env.CI === 'true') throw new Error(`${message} (CI=true runs every suite)`);
  console.warn(`\n  !!! SKIPPING ${ctx.currentTest?.parent?.fullTitle() ?? what}: ${message}\n`);
  ctx.skip();
}
