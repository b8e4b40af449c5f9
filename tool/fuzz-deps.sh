#!/bin/sh
# Install the Debian packages that `make fuzz` needs beyond tool/deps.sh:
# clang and its libFuzzer runtime.  As root, installs them with apt-get;
# otherwise prints the exact command and fails.
need=""
have() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "ok installed"; }
for p in clang-14 libclang-rt-14-dev; do
  have "$p" || need="$need $p"
done
[ -z "$need" ] && exit 0
if [ "$(id -u)" = 0 ]; then
  echo "tool/fuzz-deps.sh: installing$need"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $need) >/dev/null || {
    echo "tool/fuzz-deps.sh: apt-get install$need failed" >&2; exit 1; }
else
  echo "missing Debian packages; run:" >&2
  echo "  sudo apt-get install$need" >&2
  exit 1
fi
