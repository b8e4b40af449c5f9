#!/bin/sh
# make test-clients: the client recipes of README.md, each run and checked.
#
#   C, embedded        dist/embed_example (tool/examples/embed_example.c), and
#                      dist/future/embed_example for its error message
#   Python/SQLAlchemy  test/clients/sqlalchemy_test.py, with Debian's
#                      /usr/bin/python3 (python3-sqlalchemy 1.4)
#   Node.js            test/clients/node: better-sqlite3 12, installed
#                      there by npm ci (built from source by node-gyp: 2-3
#                      minutes the first time, skipped once it loads), then
#                      example.js and semantics.test.js on its own SQLite
#
# Expects `make` to have built dist/upsert and dist/embed_example, and
# `tool/deps.sh clients` to have installed the Debian packages.  Ends with
# one line "test-clients: N passed, N failed"; exits non-zero on a failure.
cd "$(dirname "$0")/../.." || exit 1
ROOT=$(pwd)
PY=/usr/bin/python3          # Debian's: pyenv's sqlite3 cannot load extensions
NODEDIR=test/clients/node
pass=0
fail=0
failed=""

ok()  { pass=$((pass+1)); echo "-- ok: $1"; }
bad() { fail=$((fail+1)); failed="$failed $1"; echo "!! FAILED: $1"; }
step() {                      # step NAME COMMAND...: passes when it exits 0
  name=$1; shift
  echo "== $name"
  if "$@"; then ok "$name"; else bad "$name"; fi
}
# expect_error NAME PATTERN COMMAND...: must exit non-zero, stderr matching
expect_error() {
  name=$1; pat=$2; shift 2
  echo "== $name"
  err=$("$@" 2>&1 >/dev/null); rc=$?
  echo "$err"
  if [ $rc -ne 0 ] && printf '%s' "$err" | grep -q -- "$pat"; then
    ok "$name"
  else
    bad "$name (exit $rc)"
  fi
}
seconds() { date +%s; }

# --- C, embedded -------------------------------------------------------
step embed_example dist/embed_example
scratch=$(mktemp -d)
step "embed_example, database file" dist/embed_example "$scratch/embed.db"
rm -rf "$scratch"
expect_error "embed_example, SQLite too old" \
  "cannot open :memory:: automatic extension loading failed: upsert_into: needs SQLite 99.0.0 or later" \
  dist/future/embed_example

# --- Python, SQLAlchemy ------------------------------------------------
step "sqlalchemy_example" $PY tool/examples/sqlalchemy_example.py
step "sqlalchemy_test" $PY test/clients/sqlalchemy_test.py
expect_error "sqlalchemy_example, wrong path" \
  "cannot load the upsert_into extension from '/nonexistent/upsert'" \
  $PY tool/examples/sqlalchemy_example.py --ext /nonexistent/upsert

# --- Node.js, better-sqlite3 -------------------------------------------
node_ok=1
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "test-clients: node and npm not found: install Node.js 20 or later" >&2
  node_ok=0
elif [ "$(node -p 'process.versions.node.split(".")[0]')" -lt 20 ]; then
  echo "test-clients: better-sqlite3 12 needs Node.js 20 or later," \
       "this is $(node --version)" >&2
  node_ok=0
fi
if [ $node_ok = 1 ] &&
   ! (cd $NODEDIR && node -e "require('better-sqlite3')" 2>/dev/null); then
  echo "== npm ci (better-sqlite3 12, built from source by node-gyp)"
  # node-gyp must find the headers of this Node.js locally: no download.
  if [ -z "${npm_config_nodedir:-}" ] && [ -f /usr/include/node/node.h ]; then
    export npm_config_nodedir=/usr
  fi
  t0=$(seconds)
  # npm ci: the versions of package-lock.json, into a fresh node_modules
  # (one left from another Node.js version would not load).
  if (cd $NODEDIR && rm -rf node_modules && JOBS=max npm ci --no-audit \
        --no-fund --loglevel=error >npm-install.log 2>&1); then
    echo "npm ci took $(( $(seconds) - t0 )) s"
  else
    tail -40 $NODEDIR/npm-install.log
    echo "test-clients: npm ci failed after $(( $(seconds) - t0 )) s" \
         "(log: $NODEDIR/npm-install.log)" >&2
    node_ok=0
  fi
fi
if [ $node_ok = 1 ]; then
  step "node example.js" node $NODEDIR/example.js
  expect_error "node example.js, wrong path" \
    "cannot load the upsert_into extension from /nonexistent/upsert" \
    env UPSERT_EXT=/nonexistent/upsert node $NODEDIR/example.js
  step "node semantics.test.js" node --test --test-reporter=spec \
    $NODEDIR/semantics.test.js
else
  bad "node (better-sqlite3 not available)"
fi

echo
[ -n "$failed" ] && echo "failed:$failed"
echo "test-clients: $pass passed, $fail failed"
[ $fail -eq 0 ]
