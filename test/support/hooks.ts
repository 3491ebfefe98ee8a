import { assertNoContractViolations } from './github-api-stub.ts';
import { stopTestServer } from './postgres.ts';

// Root hooks shared by every suite (loaded through .mocharc.json "require").
export const mochaHooks = {
  // runAction reports contract violations of the requests an action made; this catches any other request a test
  // sent to a GitHub API stand-in, so it too fails the test that made it.
  afterEach() {
    assertNoContractViolations();
  },
  async afterAll(this: Mocha.Context) {
    this.timeout(30_000);
    await stopTestServer();
  },
};
