#!/usr/bin/env bash
# Installs the npm packages the project uses (pinned in package.json / package-lock.json)
# into ./node_modules, and vendors browser assets into the package's static folder.
# Idempotent: does nothing when node_modules matches the lock file.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f package.json ] || exit 0
if [ ! -f node_modules/.package-lock.json ] || ! cmp -s package-lock.json node_modules/.lock-stamp; then
    npm ci --no-audit --no-fund --loglevel=error
    cp package-lock.json node_modules/.lock-stamp
fi
[ -x scripts/vendor-assets.sh ] && bash scripts/vendor-assets.sh
exit 0
