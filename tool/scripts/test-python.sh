#!/bin/sh
# make test-python: the wheel of dist/wheels/ (make package-python) into a
# fresh venv of Debian's /usr/bin/python3 (--system-site-packages, for
# SQLAlchemy and pandas), then tool/python/tests run from another
# directory, so that they import the installed package and not the
# source tree.  No package index is used (pip --no-index).
set -e
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
PY=/usr/bin/python3          # Debian's: pyenv's sqlite3 cannot load extensions
VERSION=$(cat VERSION)
wheel=$(ls dist/wheels/sqlite_upsert-"$VERSION"-*.whl)
venv=$(mktemp -d)
trap 'rm -rf "$venv"' EXIT
$PY -m venv --system-site-packages "$venv"
"$venv/bin/pip" install -q --no-index --no-deps "$ROOT/$wheel"
cd "$venv"
"$venv/bin/python" -m unittest discover -s "$ROOT/tool/python/tests" -v
