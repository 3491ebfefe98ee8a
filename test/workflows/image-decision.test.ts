// The deploy workflow's image job decides with .github/scripts/image-decision.sh what to do before building: reuse,
// promote, build, or refuse a stale image. Run here as the workflow runs it (bash), as a table of cases.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { loadRawWorkflow } from './support/workflows.ts';
import { REPO_ROOT } from '../support/repo-root.ts';

const SCRIPT = path.join(REPO_ROOT, '.github/scripts/image-decision.sh');
const SHA = '3f786850e387550fdab836ed7e6dc881de23001b';
const OTHER = '9fceb02d0ae598e95dc970b74767f19372d61af8';
const REPO = 'ghcr.io/airq-org/airq/api';

function decide(
  release: boolean,
  image: string,
  imageRevision: string,
  candidateRevision: string,
): { code: number | null; out: string } {
  const result = spawnSync(
    'bash',
    [SCRIPT, SHA, String(release), image, imageRevision, `${REPO}:${SHA}`, candidateRevision],
    { encoding: 'utf8' },
  );
  return { code: result.status, out: `${result.stdout}${result.stderr}`.trim() };
}

describe('image job: reuse, promote, build or refuse (image-decision.sh)', function () {
  const table: Array<[string, boolean, string, string, string, number, RegExp]> = [
    ['a first push builds', false, `${REPO}:${SHA}`, 'absent', 'absent', 0, /^build$/],
    ['a re-run of a push reuses the image this commit built', false, `${REPO}:${SHA}`, SHA, SHA, 0, /^reuse$/],
    [
      'a release promotes the candidate master built for the tagged commit',
      true,
      `${REPO}:1.2.3`,
      'absent',
      SHA,
      0,
      /^promote$/,
    ],
    ['a re-run of a release reuses the version tag it promoted', true, `${REPO}:1.2.3`, SHA, SHA, 0, /^reuse$/],
    [
      'a re-tag refuses a version tag whose image another commit built',
      true,
      `${REPO}:1.2.3`,
      OTHER,
      SHA,
      1,
      new RegExp(
        `^::error title=stale image::${REPO}:1\\.2\\.3 exists but was built from commit ${OTHER}, not ${SHA}, the commit being deployed\\. .*tag ${SHA} with a new version`,
      ),
    ],
    [
      'an existing tag without a revision label is refused too',
      true,
      `${REPO}:1.2.3`,
      '',
      SHA,
      1,
      /built from commit unknown \(no org\.opencontainers\.image\.revision label\)/,
    ],
    [
      'a release never builds: no candidate is refused',
      true,
      `${REPO}:1.2.3`,
      'absent',
      'absent',
      1,
      /^::error title=no release candidate::.* it never builds one\. Let deploy\.yml finish on master/,
    ],
    [
      'a candidate built from another commit is not promoted',
      true,
      `${REPO}:1.2.3`,
      'absent',
      OTHER,
      1,
      /refusing to promote it to .*:1\.2\.3/,
    ],
  ];
  for (const [name, release, image, imageRevision, candidateRevision, code, output] of table) {
    it(name, function () {
      const result = decide(release, image, imageRevision, candidateRevision);
      expect(result.code, result.out).to.equal(code);
      expect(result.out).to.match(output);
    });
  }

  it('refuses to guess when called with the wrong number of arguments', function () {
    const result = spawnSync('bash', [SCRIPT, SHA], { encoding: 'utf8' });
    expect(result.status).to.equal(2);
    expect(result.stderr).to.match(/^usage: image-decision\.sh/);
  });

  it('is what the image job runs before it builds, with the revision labels it read', function () {
    const steps = loadRawWorkflow('.github/workflows/deploy.yml').jobs.image!.steps ?? [];
    const published = steps.findIndex((step) => step.id === 'published');
    const build = steps.findIndex((step) => String(step.uses ?? '').startsWith('docker/build-push-action@'));
    expect(published).to.be.greaterThan(-1);
    expect(published).to.be.lessThan(build);
    expect(steps[published]!.run).to.include(
      'bash .github/scripts/image-decision.sh "$GITHUB_SHA" "$RELEASE" "$IMAGE" "$image_revision" "$CANDIDATE" "$candidate_revision"',
    );
    expect(steps[published]!.run).to.include('org.opencontainers.image.revision');
    expect(steps[build]!.if).to.equal("steps.published.outputs.exists != 'true'");
  });
});
