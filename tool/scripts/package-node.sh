#!/bin/sh
# make package-node: the npm package sqlite-upsert (tool/node) with the
# extension of this machine (dist/upsert.SUFFIX, built by make), packed by
# npm pack into dist/sqlite-upsert-VERSION.tgz.  The package is staged in
# dist/node/sqlite-upsert, and only there gets its version (the file
# VERSION) and its os and cpu (this machine's, which the library is for).
set -e
cd "$(dirname "$0")/../.."
suffix=${1:?usage: package-node.sh SUFFIX}
VERSION=$(cat VERSION)
stage=dist/node/sqlite-upsert
rm -rf dist/node "dist/sqlite-upsert-$VERSION.tgz"
mkdir -p "$stage/lib"
cp tool/node/package.json tool/node/index.js tool/node/index.mjs "$stage/"
cp "dist/upsert.$suffix" "$stage/lib/"
cd "$stage"
npm pkg set "version=$VERSION" \
  "os[0]=$(node -p process.platform)" "cpu[0]=$(node -p process.arch)"
npm pack --silent --pack-destination ../.. >/dev/null
echo "dist/sqlite-upsert-$VERSION.tgz"
