/** Process state shared by the app and server.ts: readiness turns 503 the moment shutdown starts. */
export interface Lifecycle {
  shuttingDown: boolean;
}

export function createLifecycle(): Lifecycle {
  return { shuttingDown: false };
}
