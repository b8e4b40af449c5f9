#!/bin/sh
# Install the Debian packages that building and testing need, when they
# are missing.  As root, installs them with apt-get; otherwise prints the
# exact command and fails.  The base list builds the extension and
# sqlite-upsert (which reads CSV with libcsv and JSON arrays with yajl)
# and runs `make test`.  `tool/deps.sh clients` adds what
# `make test-clients` needs: SQLAlchemy for Debian's python3, and g++ for
# building better-sqlite3 (Node.js itself is the machine's: see
# tool/scripts/test-clients.sh).  `tool/deps.sh fuzz` adds clang and its
# libFuzzer runtime for `make fuzz`; `tool/deps.sh lint` adds cppcheck
# for `make lint`.  `tool/deps.sh packages` adds what `make package-python`
# and `make test-python` need: setuptools, wheel, pip and venv for Debian's
# python3 (the wheel is built offline, with no package index), and
# SQLAlchemy and pandas for the tests of the package's helpers.
# `tool/deps.sh dqlite` adds what `make test-dqlite` and `make
# bench-dqlite` need: libdqlite-dev (the C node library, with libraft and
# libuv), go-dqlite (the `dqlite` shell), the go-dqlite client library
# and Go to build tool/dqlite/client.go offline against /usr/share/gocode.
need=""
pkgs="gcc make libsqlite3-dev sqlite3 tcl libsqlite3-tcl python3 libcsv-dev
  libyajl-dev"
[ "${1:-}" = clients ] && pkgs="$pkgs g++ python3-sqlalchemy"
[ "${1:-}" = fuzz ] && pkgs="$pkgs clang-14 libclang-rt-14-dev"
[ "${1:-}" = lint ] && pkgs="$pkgs cppcheck"
[ "${1:-}" = packages ] && pkgs="$pkgs python3-setuptools python3-wheel python3-pip python3-venv
  python3-sqlalchemy python3-pandas"
[ "${1:-}" = dqlite ] && pkgs="$pkgs libdqlite-dev go-dqlite
  golang-github-canonical-go-dqlite-dev golang-go"
have() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "ok installed"; }
for p in $pkgs; do
  have "$p" || need="$need $p"
done
[ -z "$need" ] && exit 0
if [ "$(id -u)" = 0 ]; then
  echo "tool/deps.sh: installing$need"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $need) >/dev/null || {
    echo "tool/deps.sh: apt-get install$need failed" >&2; exit 1; }
else
  echo "missing Debian packages; run:" >&2
  echo "  sudo apt-get install$need" >&2
  exit 1
fi
