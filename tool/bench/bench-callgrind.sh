#!/bin/sh
# Instructions per method under valgrind's callgrind, counted in
# bench_timed() only (BEGIN, the method, COMMIT; setup and checks are not
# counted).  Default scenario: 50k rows, 50 % existing, in-memory
# (id INTEGER PRIMARY KEY + 3 columns) table.  Prints instructions and the
# ratio to method 3 (native INSERT ... SELECT ... ON CONFLICT).
#
#   sh tool/bench/bench-callgrind.sh           methods 1 2 3 4 7
#   sh tool/bench/bench-callgrind.sh 1 3 5 6   other methods (3 is always run)
#   BENCH_FLAGS="-n 20000 -t wr" sh tool/bench/bench-callgrind.sh
#
# Output files: dist/callgrind/m<M>.out (callgrind_annotate reads them).
set -e
cd "$(dirname "$0")/../.."
command -v valgrind >/dev/null 2>&1 || {
  echo "bench-callgrind: valgrind is missing (Debian: apt-get install valgrind)" >&2
  exit 1
}
make -s all dist/bench
methods=${*:-1 2 3 4 7}
case " $methods " in *" 3 "*) ;; *) methods="3 $methods" ;; esac
out=dist/callgrind
mkdir -p "$out"

for m in $methods; do
  rm -f "$out/m$m.out"
  valgrind --tool=callgrind --toggle-collect=bench_timed \
    --callgrind-out-file="$out/m$m.out" \
    dist/bench -c "$m" ${BENCH_FLAGS:-} >"$out/m$m.log" 2>&1 || {
      echo "bench-callgrind: method $m failed; see $out/m$m.log" >&2
      cat "$out/m$m.log" >&2
      exit 1
    }
done

# The total of the collected events (Ir): the "totals:" line, or the
# "summary:" line of older callgrind versions.
ir() {
  awk '/^totals:/ {t=$2} /^summary:/ {s=$2} END {print (t != "" ? t : s)}' "$1"
}

scenario=$(sed -n 's/^method [0-9]* ([^)]*): \(.*\): [0-9.]* ms, verified$/\1/p' \
  "$out/m3.log")
echo "callgrind, instructions in bench_timed(): $scenario"
base=$(ir "$out/m3.out")
printf '  %s  %-40s %16s %9s\n' '#' method instructions 'x native'
for m in $methods; do
  n=$(ir "$out/m$m.out")
  name=$(dist/bench -l | awk -F '\t' -v m="$m" '$1 == m {print $2}')
  awk -v m="$m" -v name="$name" -v n="$n" -v b="$base" 'BEGIN {
    printf "  %d  %-40s %16.0f %8.2fx\n", m, name, n, n / b }'
done
