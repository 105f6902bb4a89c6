#!/usr/bin/env bash
# Install everything the tests need on a fresh machine, then run them: what CI (.ci/run) calls, and
# the README's test line. Elsewhere, get torch's CPU build from PyTorch's own index:
#   PIP_EXTRA_INDEX_URL=https://download.pytorch.org/whl/cpu bash scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."

# torch first and pinned: here the CPU wheel of 2.13.0 lies on disk (pip's find-links); from PyPI alone,
# Linux gets the multi-GB CUDA build. requirements.txt accepts it.
python -m pip install --quiet --disable-pip-version-check torch==2.13.0
python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt

# The end-to-end tests drive Debian's Chromium (Playwright cannot download browsers here).
if [ ! -x /usr/bin/chromium ]; then
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium chromium-driver >/dev/null
fi

# on every core, at most 4 workers (each builds its own tiny models and app server)
python -m pytest -q -n auto --maxprocesses 4 "$@"
