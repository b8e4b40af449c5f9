#!/bin/sh
# make test-node: dist/sqlite-upsert-VERSION.tgz (make package-node)
# installed by npm into a fresh project in /tmp beside better-sqlite3 12,
# then tool/node/test run there with node --test.
#
# better-sqlite3 is built from source by node-gyp (2-3 minutes), unless
# test/clients/node (make test-clients) has one that loads: that one is
# copied in, and npm keeps it.
set -e
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
VERSION=$(cat VERSION)
tarball="$ROOT/dist/sqlite-upsert-$VERSION.tgz"
[ -f "$tarball" ] || { echo "test-node: no $tarball: make package-node" >&2; exit 1; }
proj=$(mktemp -d /tmp/sqlite-upsert-node.XXXXXX)
trap 'rm -rf "$proj"' EXIT
cat > "$proj/package.json" <<'JSON'
{ "name": "sqlite-upsert-package-test", "private": true }
JSON
clients=test/clients/node/node_modules
if (cd test/clients/node && node -e "require('better-sqlite3')" 2>/dev/null); then
  cp -a "$clients" "$proj/node_modules"
fi
# node-gyp must find the headers of this Node.js locally: no download.
if [ -z "${npm_config_nodedir:-}" ] && [ -f /usr/include/node/node.h ]; then
  export npm_config_nodedir=/usr
fi
cp tool/node/test/*.mjs "$proj/"
cd "$proj"
t0=$(date +%s)
JOBS=max npm install --no-audit --no-fund --loglevel=error \
  "better-sqlite3@$(cd "$ROOT/test/clients/node" &&
     node -p "require('./package.json').dependencies['better-sqlite3']")" \
  "$tarball" >npm-install.log 2>&1 || {
  tail -40 npm-install.log; echo "test-node: npm install failed" >&2; exit 1; }
echo "npm install took $(( $(date +%s) - t0 )) s"
node --test --test-reporter=spec ./*.test.mjs
