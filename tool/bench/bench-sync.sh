#!/bin/sh
# The sync benchmark (tool/bench/bench-sync.c) as a markdown table: for
# each shape and method, the median wall time of SYNC_RUNS runs (3) of a
# table of SYNC_ROWS rows (1M), pages written and WAL bytes, and the
# instructions callgrind counts in sync_timed() in one run of a table of
# SYNC_IR_ROWS rows (100k: callgrind runs some 50 times slower; left out
# when valgrind is missing or SYNC_CALLGRIND=0), each also as a ratio to
# native ON CONFLICT DO UPDATE (method 3).
#
#   sh tool/bench/bench-sync.sh                 1M rows
#   SYNC_ROWS=100000 sh tool/bench/bench-sync.sh
#   sh tool/bench/bench-sync.sh --doc           and write the table into
#                                              doc/sync.md, between its
#                                              <!-- sync:begin --> and
#                                              <!-- sync:end --> lines
set -e
cd "$(dirname "$0")/../.."
doc=
[ "${1:-}" = --doc ] && doc=doc/sync.md
if [ -n "$doc" ] && ! { grep -q '^<!-- sync:begin -->$' "$doc" &&
                        grep -q '^<!-- sync:end -->$' "$doc"; }; then
  echo "bench-sync.sh: $doc has no <!-- sync:begin --> and <!-- sync:end --> lines" >&2
  exit 1
fi
make -s all dist/bench-sync
rows=${SYNC_ROWS:-1000000}
runs=${SYNC_RUNS:-3}
irrows=${SYNC_IR_ROWS:-100000}
out=dist/syncdb
mkdir -p "$out"
: >"$out/runs.tsv"
i=0
while [ "$i" -lt "$runs" ]; do
  dist/bench-sync -n "$rows" >>"$out/runs.tsv"
  i=$((i + 1))
done
: >"$out/ir.tsv"
if [ "${SYNC_CALLGRIND:-1}" != 0 ] && command -v valgrind >/dev/null 2>&1; then
  for s in append scattered; do
    for m in 1 2 3 4; do
      valgrind --tool=callgrind --toggle-collect=sync_timed \
        --callgrind-out-file="$out/cg.out" \
        dist/bench-sync -n "$irrows" -s "$s" -m "$m" >"$out/cg.log" 2>&1 || {
          cat "$out/cg.log" >&2; exit 1; }
      awk -v s="$s" -v m="$m" '/^totals:/ {t=$2} /^summary:/ {u=$2}
        END {print s "\t" m "\t" (t != "" ? t : u)}' "$out/cg.out" >>"$out/ir.tsv"
    done
  done
fi

{
echo "<!-- Written by tool/bench/bench-sync.sh --doc; do not edit by hand. -->"
echo
echo "SQLite $(sqlite3 :memory: 'SELECT sqlite_version()'), $(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -1), $(nproc) cores."
echo "Re-import of $rows rows plus $((rows / 200)) new, 1 % changed; WAL file database; wall time the median of $runs runs; instructions (callgrind) of one run on $irrows rows"
echo
echo "| shape | method | wall s | x native | instructions | x native | pages written | x native | WAL MB |"
echo "|---|---|---:|---:|---:|---:|---:|---:|---:|"
awk -F '\t' -v runs="$runs" '
  FNR == NR { ir[$1 "/" $2] = $3; next }
  { k = $1 "/" $2; name[k] = $3; n[k]++; t[k, n[k]] = $4;
    pages[k] = $5; wal[k] = $6; if (!(k in seen)) { seen[k] = 1; order[++no] = k } }
  function med(k,   a, i, j, c, x) {
    c = n[k]; for (i = 1; i <= c; i++) a[i] = t[k, i]
    for (i = 2; i <= c; i++) { x = a[i]; for (j = i - 1; j >= 1 && a[j] > x; j--) a[j+1] = a[j]; a[j+1] = x }
    return c % 2 ? a[(c+1)/2] : (a[c/2] + a[c/2+1]) / 2 }
  END {
    for (o = 1; o <= no; o++) {
      k = order[o]; split(k, p, "/"); b = p[1] "/3"
      w = med(k); wb = med(b)
      irs = (k in ir) ? sprintf("%.0f", ir[k]) : "-"
      irr = (k in ir && ir[b] > 0) ? sprintf("%.2fx", ir[k] / ir[b]) : "-"
      printf "| %s | %s | %.3f | %.2fx | %s | %s | %d | %.3fx | %.1f |\n",
        p[1], name[k], w, w / wb, irs, irr, pages[k], pages[k] / pages[b],
        wal[k] / 1048576
    }
  }' "$out/ir.tsv" "$out/runs.tsv" 
} >"$out/table.md"
cat "$out/table.md"
if [ -n "$doc" ]; then
  awk -v t="$out/table.md" '
    /^<!-- sync:end -->$/ { while ((getline l < t) > 0) print l; skip = 0 }
    !skip { print }
    /^<!-- sync:begin -->$/ { skip = 1 }' "$doc" >"$out/doc.md"
  mv "$out/doc.md" "$doc"
  echo "bench-sync.sh: wrote the table into $doc"
fi
