import { stopTestServer } from './postgres.ts';

// Root hooks shared by every suite (loaded through .mocharc.json "require").
export const mochaHooks = {
  async afterAll(this: Mocha.Context) {
    this.timeout(30_000);
    await stopTestServer();
  },
};
