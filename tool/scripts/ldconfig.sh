#!/bin/sh
# After make install or make uninstall: refresh the loader's cache and
# say where `.load upsert` resolves from (see INSTALL_LIB in the Makefile).
#
#   sh tool/scripts/ldconfig.sh install|uninstall SUFFIX PREFIX DESTDIR
#
# Nothing to do for a staged install (DESTDIR), nor where there is no
# ldconfig (macOS, Windows).  ldconfig runs as root only; otherwise this
# says to run it.  After install it tells whether the loader's cache now
# has upsert.so from PREFIX/lib (then `.load upsert` works from any
# directory), and if not, what works instead.
action=$1 suffix=$2 prefix=$3 destdir=$4
lib=$prefix/lib
[ -z "$destdir" ] || exit 0
[ "$suffix" = so ] || exit 0
ldconfig=$(command -v ldconfig || ls /sbin/ldconfig /usr/sbin/ldconfig \
  2>/dev/null | head -n 1)
if [ -z "$ldconfig" ]; then
  echo "make $action: no ldconfig found: the loader's cache is not refreshed"
  exit 0
fi
if [ "$(id -u)" = 0 ]; then
  "$ldconfig"
else
  echo "make $action: not root, so the loader's cache is not refreshed:" \
    "run ldconfig as root"
  [ "$action" = install ] && echo "make install: until then, load the" \
    "extension by its path, .load $lib/upsert, or set LD_LIBRARY_PATH=$lib"
  exit 0
fi
[ "$action" = install ] || exit 0
if "$ldconfig" -p 2>/dev/null | grep -q "^[[:space:]]*upsert\.so .*=> $lib/upsert\.so\$"
then
  echo "make install: .load upsert and load_extension('upsert') load" \
    "$lib/upsert.so from any directory"
else
  echo "make install: $lib is not in the loader's cache (/etc/ld.so.conf" \
    "and /etc/ld.so.conf.d, then ldconfig as root), so .load upsert" \
    "does not find it there; load it by its path," \
    ".load $lib/upsert, or set LD_LIBRARY_PATH=$lib"
fi
