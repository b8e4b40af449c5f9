#!/bin/sh
# make test-install: as root, make install into PREFIX (no DESTDIR), then
# from /tmp, with no LD_LIBRARY_PATH, `.load upsert` in the sqlite3 shell
# and load_extension('upsert') in Debian's /usr/bin/python3 must load it;
# then make uninstall must remove every file, and the loader must no
# longer find it.  Not root: skipped, with a message, exit status 0.
# An install already in PREFIX is left alone: the test refuses to run.
set -e
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
PREFIX=${1:-/usr/local}
MAKE=${MAKE:-make}
VERSION=$(cat VERSION)
if [ "$(id -u)" != 0 ]; then
  echo "make test-install: skipped: it installs into $PREFIX and runs" \
    "ldconfig, which needs root (test/load.test checks a staged" \
    "install without root)"
  exit 0
fi
files="$PREFIX/lib/libupsert.so $PREFIX/lib/upsert.so
  $PREFIX/bin/sqlite-upsert $PREFIX/share/man/man1/sqlite-upsert.1"
for f in $files; do
  if [ -e "$f" ] || [ -L "$f" ]; then
    echo "make test-install: $f exists: an install is there already;" \
      "make uninstall PREFIX=$PREFIX first" >&2
    exit 1
  fi
done
fail() {
  echo "make test-install: FAILED: $*" >&2
  $MAKE -s -C "$ROOT" uninstall PREFIX="$PREFIX" >/dev/null 2>&1 || true
  exit 1
}
unset LD_LIBRARY_PATH
$MAKE -s -C "$ROOT" install PREFIX="$PREFIX"
cd /tmp
v=$(sqlite3 :memory: '.load upsert' 'SELECT upsert_into_version()' 2>&1) ||
  fail ".load upsert from /tmp: $v"
[ "$v" = "$VERSION" ] || fail ".load upsert from /tmp gave '$v'"
v=$(/usr/bin/python3 -c '
import sqlite3
con = sqlite3.connect(":memory:")
con.enable_load_extension(True)
con.load_extension("upsert")
print(con.execute("SELECT upsert_into_version()").fetchone()[0])' 2>&1) ||
  fail "load_extension('upsert') from /tmp: $v"
[ "$v" = "$VERSION" ] || fail "load_extension('upsert') from /tmp gave '$v'"
$MAKE -s -C "$ROOT" uninstall PREFIX="$PREFIX"
for f in $files; do
  if [ -e "$f" ] || [ -L "$f" ]; then fail "$f left by make uninstall"; fi
done
if ldconfig -p | grep -q '^[[:space:]]*upsert\.so '; then
  fail "the loader's cache still has upsert.so after make uninstall"
fi
if sqlite3 :memory: '.load upsert' >/dev/null 2>&1; then
  fail ".load upsert still works after make uninstall"
fi
echo "make test-install: ok: .load upsert and load_extension('upsert')" \
  "from /tmp loaded $PREFIX/lib/upsert.so; make uninstall removed it all"
