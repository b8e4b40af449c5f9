#!/bin/sh
# Run a command that starts a dqlite cluster with tool/dqlite/cluster.tcl
# (make test-dqlite, make bench-dqlite), under a time limit, with a
# scratch directory for the nodes' data that it is given as
# UPSERT_DQLITE_DIR.
#
#   sh tool/dqlite/run.sh SECONDS COMMAND [ARG...]
#
# cluster.tcl stops every node it started by its PID, and writes each PID
# to UPSERT_DQLITE_DIR/pids; whatever way the command ends (a failure,
# the time limit, an interrupt), the trap below stops those still alive,
# by PID, then removes the directory.  A PID is only signalled while it
# still runs a program of dist/dqlite/, so that a PID the system gave
# again to another process is left alone.
set -u
limit=$1
shift
dir=$(mktemp -d "${TMPDIR:-/tmp}/upsert-dqlite.XXXXXX") || exit 1
child=""
cleanup() {
  if [ -n "$child" ]; then
    kill -TERM "$child" 2>/dev/null
    wait "$child" 2>/dev/null
  fi
  if [ -f "$dir/pids" ]; then
    for p in $(cat "$dir/pids"); do
      case $(tr '\0' ' ' < "/proc/$p/cmdline" 2>/dev/null) in
        *dist/dqlite/*) kill -KILL "$p" 2>/dev/null ;;
      esac
    done
  fi
  rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP
# In the background, so that a signal runs the trap at once (a shell
# runs it only when its foreground command ends); the trap then stops
# timeout, which stops the command.
UPSERT_DQLITE_DIR=$dir timeout "$limit" "$@" &
child=$!
wait "$child"
rc=$?
child=""
[ $rc = 124 ] && echo "tool/dqlite/run.sh: '$*' stopped after $limit s" >&2
exit $rc
