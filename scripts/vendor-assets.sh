#!/usr/bin/env bash
# Copies browser assets from node_modules into the package's static files (no CDN at run time).
# Called by scripts/install-node.sh after `npm ci`. The copies are committed too, so a plain
# `pip install` works without npm; this script refreshes them when package-lock.json moves.
set -euo pipefail
cd "$(dirname "$0")/.."
vendor=src/archive_analyzer/web/static/vendor
mkdir -p "$vendor"
if [ -f node_modules/hls.js/dist/hls.min.js ]; then
    cp node_modules/hls.js/dist/hls.min.js "$vendor/hls.min.js"
    cp node_modules/hls.js/LICENSE "$vendor/hls.js.LICENSE"
    node -p "require('./node_modules/hls.js/package.json').version" > "$vendor/hls.js.VERSION"
fi
