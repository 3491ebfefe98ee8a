#!/usr/bin/env bash
# Decides what the deploy workflow's image job does with the image of one run, before building anything:
#   reuse    the tag exists and its image was built from this commit
#   promote  a release tag: give the candidate that the push of this commit built and verified the version tag
#   build    nothing usable exists: build, smoke-run and push it
# and refuses (exit 1, a ::error:: line saying what happened and what to do) a tag whose image was built from another
# commit, or a release whose commit has no candidate. Tags are immutable: nothing is overwritten.
# A revision is the image's org.opencontainers.image.revision label; "absent" when the image does not exist.
# Usage: image-decision.sh <sha> <is-release: true|false> <image> <image revision> <candidate> <candidate revision>
set -euo pipefail

if [[ $# -ne 6 ]]; then
  echo "usage: image-decision.sh <sha> <is-release> <image> <image-revision|absent> <candidate> <candidate-revision|absent>" >&2
  exit 2
fi
sha="$1" release="$2" image="$3" image_revision="$4" candidate="$5" candidate_revision="$6"

if [[ "$image_revision" != "absent" ]]; then
  if [[ "$image_revision" != "$sha" ]]; then
    echo "::error title=stale image::$image exists but was built from commit ${image_revision:-unknown (no org.opencontainers.image.revision label)}, not $sha, the commit being deployed. Tags are immutable, so it is neither reused nor overwritten: tag $sha with a new version (or, if $image was never released, delete that package version and re-run)."
    exit 1
  fi
  echo reuse
elif [[ "$release" == "true" ]]; then
  if [[ "$candidate_revision" == "absent" ]]; then
    echo "::error title=no release candidate::$candidate does not exist: a release promotes the image that the push of $sha to master built and verified, it never builds one. Let deploy.yml finish on master for $sha (or re-run it), then re-run this workflow."
    exit 1
  fi
  if [[ "$candidate_revision" != "$sha" ]]; then
    echo "::error title=stale image::$candidate was built from commit ${candidate_revision:-unknown (no org.opencontainers.image.revision label)}, not $sha; refusing to promote it to $image. Re-run deploy.yml on master for $sha to rebuild the candidate, then re-run this workflow."
    exit 1
  fi
  echo promote
else
  echo build
fi
