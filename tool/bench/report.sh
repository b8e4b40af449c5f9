#!/bin/sh
# Run the benchmarks and write their tables into doc/benchmarks.md, in
# place of what stands between the lines <!-- bench:begin --> and
# <!-- bench:end -->.  Everything there comes from this run: the machine,
# the configuration, and every figure.
#
#   sh tool/bench/report.sh                      the full configuration
#   BENCH_FLAGS=-q BENCH_CALLGRIND_ROWS=10000 BENCH_CLI_ROWS=100000 \
#   BENCH_CLI_UTILS_ROWS=10000 SEED_BENCH_ROWS=2000 SEED_BENCH_RUNS=3 \
#   BENCH_JSON_ROWS=100000 sh tool/bench/report.sh      a quick one
#
# What it runs (each found at tool/X or tool/bench/X):
#
#   dist/bench $BENCH_FLAGS              wall and CPU time, peak RSS
#   bench-callgrind.sh                   instructions, BENCH_CALLGRIND_ROWS
#                                        rows (50000), five scenarios
#   bench-cli.sh                         sqlite-upsert, .import,
#                                        sqlite-utils (BENCH_CLI_ROWS,
#                                        BENCH_CLI_UTILS_ROWS, BENCH_CLI_RUNS)
#   callgrind on sqlite-upsert and .import, on bench-cli.sh's smaller file
#   seed_bench.py --markdown             SQLAlchemy (SEED_BENCH_ROWS 10000,
#                                        SEED_BENCH_RUNS 5); then
#                                        --callgrind unless
#                                        SEED_BENCH_CALLGRIND=0
#   sqlite-upsert --json and --jsonl     BENCH_JSON_ROWS objects (1000000):
#                                        seconds and peak RSS
#
# A part whose tools are missing (valgrind, sqlite-utils, SQLAlchemy,
# /usr/bin/time) is reported as not run.  BENCH_DOC names another file to
# rewrite.  Needs valgrind for the instruction counts.
set -e
cd "$(dirname "$0")/../.."
DOC=${BENCH_DOC:-doc/benchmarks.md}
CG_ROWS=${BENCH_CALLGRIND_ROWS:-50000}
SEED_ROWS=${SEED_BENCH_ROWS:-10000}
SEED_RUNS=${SEED_BENCH_RUNS:-5}
JSON_ROWS=${BENCH_JSON_ROWS:-1000000}
PY=/usr/bin/python3          # Debian's: pyenv's sqlite3 cannot load extensions
OUT=dist/bench-report
mkdir -p $OUT

grep -q '^<!-- bench:begin -->$' "$DOC" && grep -q '^<!-- bench:end -->$' "$DOC" || {
  echo "report.sh: $DOC has no <!-- bench:begin --> and <!-- bench:end --> lines" >&2
  exit 1
}
# tool/X or tool/bench/X
find_tool() {
  for d in tool/bench tool; do
    [ -f "$d/$1" ] && { echo "$d/$1"; return 0; }
  done
  echo "report.sh: $1 is neither in tool/ nor in tool/bench/" >&2
  exit 1
}
CALLGRIND_SH=$(find_tool bench-callgrind.sh)
CLI_SH=$(find_tool bench-cli.sh)
SEED_PY=$(find_tool seed_bench.py)
have() { command -v "$1" >/dev/null 2>&1; }
# The total of the collected events (Ir) of a callgrind output file.
ir() {
  awk '/^totals:/ {t=$2} /^summary:/ {s=$2} END {print (t != "" ? t : s)}' "$1"
}
step() { echo "report.sh: $*" >&2; }
# The Kth markdown table of file F: mdtable K F
mdtable() {
  awk -v k="$1" '/^\|/ { if (!on) { n++; on = 1 } if (n == k) print; next } { on = 0 }' "$2"
}
# awk: n with a comma between thousands
AWK_COMMAS='function commas(n,  s) { s = sprintf("%d", n)
  while (s ~ /[0-9][0-9][0-9][0-9]/) sub(/[0-9][0-9][0-9]($|,)/, ",&", s)
  return s }'


make -s all dist/bench

G=$OUT/section.md
: > $G
emit() { printf '%s\n' "$@" >> $G; }

# --- The machine and the configuration ---------------------------------
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo 2>/dev/null | head -n 1)
step "dist/bench ${BENCH_FLAGS:-}"
dist/bench ${BENCH_FLAGS:-} > $OUT/bench.txt
sqlite_version=$(sed -n '1s/.*SQLite \([0-9.]*\).*/\1/p' $OUT/bench.txt)
emit "<!-- Written by tool/bench/report.sh; do not edit by hand. -->" \
     "" \
     "### The run" \
     "" \
     "| | |" \
     "|---|---|" \
     "| machine | $(uname -m), ${cpu:-CPU model unknown}, $(nproc) cores |" \
     "| SQLite | $sqlite_version (the system's libsqlite3) |" \
     "| dist/bench | \`dist/bench ${BENCH_FLAGS:-}\` |" \
     "| callgrind | $CG_ROWS rows per scenario |" \
     "| command line | ${BENCH_CLI_ROWS:-1000000} rows, sqlite-utils on ${BENCH_CLI_UTILS_ROWS:-100000}, median of ${BENCH_CLI_RUNS:-3} |" \
     "| SQLAlchemy | $SEED_ROWS rows, median of $SEED_RUNS runs |" \
     "| JSON | $JSON_ROWS objects |" \
     "" \
     "Regenerate with:" \
     "" \
     '```sh norun' \
     "BENCH_FLAGS='${BENCH_FLAGS:-}' BENCH_CALLGRIND_ROWS=$CG_ROWS BENCH_CLI_ROWS=${BENCH_CLI_ROWS:-1000000} \\" \
     "BENCH_CLI_UTILS_ROWS=${BENCH_CLI_UTILS_ROWS:-100000} BENCH_CLI_RUNS=${BENCH_CLI_RUNS:-3} \\" \
     "SEED_BENCH_ROWS=$SEED_ROWS SEED_BENCH_RUNS=$SEED_RUNS BENCH_JSON_ROWS=$JSON_ROWS \\" \
     "sh tool/bench/report.sh" \
     '```' \
     ""

# --- Instructions --------------------------------------------------------
emit "### Instructions (callgrind)" ""
if have valgrind; then
  # scenario label, then the flags of dist/bench -c
  set -- "t4 50" "4-column, 50 %" \
         "t10 50" "10-column, 50 %" \
         "wr 50" "WITHOUT ROWID (TEXT, TEXT) key, 50 %" \
         "t4 0" "4-column, 0 %" \
         "t4 100" "4-column, 100 %"
  : > $OUT/cg.txt
  while [ $# -gt 0 ]; do
    t=${1% *}; p=${1#* }; label=$2; shift 2
    step "$CALLGRIND_SH, $label"
    BENCH_FLAGS="-n $CG_ROWS -t $t -p $p" sh "$CALLGRIND_SH" 1 2 3 4 7 \
      > $OUT/cg-$t-$p.txt
    # one line: label, then the instructions of methods 1 2 3 4 7
    awk -v label="$label" '
      /^ +[0-9] / { n[$1] = $(NF-1) }
      END { printf "%s\t%s\t%s\t%s\t%s\t%s\n", label, n[1], n[2], n[3], n[4], n[7] }
    ' $OUT/cg-$t-$p.txt >> $OUT/cg.txt
  done
  emit "In memory, $CG_ROWS rows, 4-column table, 50 % of the keys existing;" \
       "instructions counted in the timed part only (BEGIN, the method, COMMIT):" \
       ""
  head -n 1 $OUT/cg.txt | awk -F '\t' -v rows="$CG_ROWS" "$AWK_COMMAS"'
    function row(name, n) {
      printf "| %s | %.1f M | %s | %.2fx |\n", name, n / 1e6,
        commas(n / rows), n / $4
    }
    {
      print "| method | instructions | per row | vs native |"
      print "|---|---:|---:|---:|"
      row("1 `INSERT INTO up SELECT ... FROM staging` (upsert_into)", $2)
      row("2 prepared `INSERT INTO up VALUES(?,...)` per row from C (upsert_into)", $3)
      row("3 native `INSERT INTO t SELECT ... WHERE true ON CONFLICT DO UPDATE`", $4)
      row("4 native prepared per-row upsert", $5)
      row("7 TEMP VIEW + INSTEAD OF INSERT trigger", $6)
    }' >> $G
  emit "" "Every scenario, as ratios to method 3 in the same scenario; the last two" \
       "columns compare upsert_into with the method it stands in for:" ""
  emit "| scenario | 1 up SELECT | 2 up per-row | 4 native per-row | 7 VIEW + trigger | 2 / 4 | 1 / 7 |" \
       "|---|---:|---:|---:|---:|---:|---:|"
  awk -F '\t' '{
    printf "| %s | %.2fx | %.2fx | %.2fx | %.2fx | %.2fx | %.2fx |\n", $1,
      $2 / $4, $3 / $4, $5 / $4, $6 / $4, $3 / $5, $2 / $6 }' $OUT/cg.txt >> $G
  emit "" "valgrind: $(valgrind --version)." ""
else
  emit "Not run: valgrind is missing (Debian: apt-get install valgrind)." ""
fi

# --- Wall time, CPU time, peak RSS -------------------------------------
emit "### Wall time and CPU time" "" \
     "Median time of each method over the median time of method 3 (native" \
     "\`INSERT ... SELECT ... ON CONFLICT\`) in the same scenario; the last" \
     "column is method 3's rows per second. Methods:" ""
dist/bench -l | awk -F '\t' '{ printf "%s. %s\n", $1, $2 }' >> $G
# A summary block of bench.txt as a markdown table: the lines after the
# one that starts with $1, up to a blank line or a method list.
summary() {
  awk -v head="$1" -v extra="$2" '
    index($0, head) == 1 { on = 1; next }
    on && /^  scenario/ {
      printf "| storage | table | rows | existing | runs |"
      for (m = 1; m <= 7; m++) printf " %d |", m
      if (extra != "") printf " %s |", extra
      printf "\n|---|---|---:|---:|---:|"
      for (m = 1; m <= 7; m++) printf "---:|"
      if (extra != "") printf "---:|"
      printf "\n"
      next
    }
    on && /^  (mem|file) / {
      printf "| %s | %s | %s | %s | %s |", $1, $2, $3, $4, $5
      for (i = 6; i <= NF; i++) printf " %s |", $i
      printf "\n"
      next
    }
    on { on = 0 }
  ' $OUT/bench.txt
}
emit "" "Wall time:" ""
summary "Summary, wall time" "native rows/s" >> $G
emit "" "CPU time of the process:" ""
summary "Summary, CPU time" "" >> $G
emit "" "### Peak RSS" "" \
     "\`INSERT INTO up SELECT\` (1) and the native \`INSERT ... SELECT\` (3) on a" \
     "file database (WAL, default 2 MB page cache), 50 % existing, each in a" \
     "fresh process, in one transaction; the whole process's peak, and the" \
     "peak reached during the run:" "" \
     "| method | \`temp_store\` | \`t.name\` | rows | process peak | peak in run |" \
     "|---|---|---|---:|---:|---:|"
awk '
  /^Peak RSS:/ { on = 1; next }
  on && /^ +[0-9] / {
    # # method... temp_store t.name... N peak MB peak MB
    n = NF
    m = $1
    if ($(n-5) == "NULL") { tn = "TEXT NOT NULL"; ts = $(n-8) } else { tn = $(n-5); ts = $(n-6) }
    printf "| %s | %s | `%s` | %s | %s MB | %s MB |\n", (m == 1 ? "1 upsert_into" : "3 native"),
      ts, tn, $(n-4), $(n-3), $(n-1)
    next
  }
  on && /^  \(/ { on = 0 }
' $OUT/bench.txt >> $G
emit ""

# --- The command line ----------------------------------------------------
step "$CLI_SH"
sh "$CLI_SH" > $OUT/cli.txt
emit "### Command line" "" \
     "Wall time of the whole command, median of ${BENCH_CLI_RUNS:-3} runs, every result checked" \
     "against the others:" "" \
     "| method | rows | seconds | rows/s | time |" \
     "|---|---:|---:|---:|---:|"
awk '
  /^(sqlite3 \.import|sqlite-upsert|sqlite-utils upsert) / && NF >= 5 && $NF ~ /x$/ {
    name = $0; sub(/ +[0-9]+ +[0-9.]+ +[0-9]+ +[0-9.]+x$/, "", name)
    printf "| %s | %s | %s | %s | %s |\n", name, $(NF-3), $(NF-2), $(NF-1), $NF
  }' $OUT/cli.txt >> $G
emit ""
grep -E '^(sqlite-upsert /|sqlite-utils takes|sqlite-utils: not)' $OUT/cli.txt |
  sed 's/$/./; s/\.\.$/./' >> $G || true
emit ""
if have valgrind; then
  small=dist/bench-cli/rows-small.csv
  nsmall=$(($(wc -l < $small) - 1))
  step "callgrind on sqlite-upsert and .import, $nsmall rows"
  cp dist/bench-cli/seed-small.db $OUT/cg-cli.db
  valgrind --tool=callgrind --callgrind-out-file=$OUT/cg-tool.out \
    dist/sqlite-upsert $OUT/cg-cli.db t $small > /dev/null 2>&1
  cp dist/bench-cli/seed-small.db $OUT/cg-cli.db
  printf '%s\n' ".load $(pwd)/dist/upsert" \
    "CREATE VIRTUAL TABLE temp.up USING upsert_into(t);" \
    ".import --csv --skip 1 --schema temp $small up" |
    valgrind --tool=callgrind --callgrind-out-file=$OUT/cg-import.out \
      sqlite3 $OUT/cg-cli.db > /dev/null 2>&1
  awk -v a="$(ir $OUT/cg-tool.out)" -v b="$(ir $OUT/cg-import.out)" -v n="$nsmall" 'BEGIN {
    printf "Instructions of the whole command (callgrind), %d rows: sqlite-upsert %.1f M, `.import` %.1f M (%.2fx).\n",
      n, a / 1e6, b / 1e6, a / b }' >> $G
  emit ""
fi

# --- From Python -----------------------------------------------------------
emit "### From Python with SQLAlchemy" ""
if $PY -c 'import sqlalchemy' 2>/dev/null; then
  step "$SEED_PY --rows $SEED_ROWS --runs $SEED_RUNS"
  $PY "$SEED_PY" --rows "$SEED_ROWS" --runs "$SEED_RUNS" --markdown > $OUT/seed.txt
  emit "$(sed -n '1s/^seed_bench: \(Python [^,]*, SQLAlchemy [^,]*\),.*/\1/p' $OUT/seed.txt), $SEED_ROWS rows, median of $SEED_RUNS runs;" \
       "ratios to 4, the native upsert, paired within each round." "" "Wall time:" ""
  mdtable 1 $OUT/seed.txt >> $G
  emit "" "CPU time of the process:" ""
  mdtable 2 $OUT/seed.txt >> $G
  emit ""
  if [ "${SEED_BENCH_CALLGRIND:-1}" != 0 ] && have valgrind; then
    step "$SEED_PY --callgrind --rows $SEED_ROWS"
    $PY "$SEED_PY" --callgrind --rows "$SEED_ROWS" > $OUT/seed-cg.txt
    emit "Instructions (\`--callgrind\`), per row: each method's process less a" \
         "baseline process that does everything but the upsert:" "" \
         "| method | all-new | ratio | 50-50 | ratio | all-existing | ratio |" \
         "|---|---:|---:|---:|---:|---:|---:|"
    awk "$AWK_COMMAS"'
      $1 ~ /^(native|pkg|up_sql|up_core)$/ && NF == 6 {
        k = $1; if (!(k in seen)) { seen[k] = 1; order[++n] = k }
        row[k] = row[k] sprintf(" %s | %s |", commas($5), $6)
      }
      END {
        name["native"] = "4 native upsert, `exec_driver_sql`"
        name["pkg"] = "6 `sqlite_upsert.sqlalchemy.upsert`, dicts"
        name["up_sql"] = "5b upsert_into, `exec_driver_sql`"
        name["up_core"] = "5 upsert_into, `insert(up)` + dicts"
        for (i = 1; i <= n; i++) printf "| %s |%s\n", name[order[i]], row[order[i]]
      }' $OUT/seed-cg.txt >> $G
    emit ""
  fi
else
  emit "Not run: SQLAlchemy is missing (\`sh tool/deps.sh clients\`)." ""
fi

# --- JSON array and JSON lines ---------------------------------------------
emit "### sqlite-upsert: JSON array and JSON lines" ""
if [ -x /usr/bin/time ]; then
  step "sqlite-upsert --json and --jsonl, $JSON_ROWS objects"
  awk -v n="$JSON_ROWS" 'BEGIN {
    printf "["
    for (i = 1; i <= n; i++)
      printf "%s{\"id\":%d,\"name\":\"name %d\",\"qty\":%d,\"price\":%.2f}",
        (i > 1 ? ",\n" : ""), i, i, i % 100, i / 7
    print "]" }' > $OUT/rows.json
  sed 's/^\[//; s/,$//; s/\]$//' $OUT/rows.json > $OUT/rows.jsonl
  emit "$JSON_ROWS objects into a new table (\`--create --key id\`): wall time and" \
       "the process's peak RSS." "" \
       "| input | size | seconds | peak RSS |" "|---|---:|---:|---:|"
  for f in json jsonl; do
    rm -f $OUT/json.db
    /usr/bin/time -f '%e %M' -o $OUT/time.txt \
      dist/sqlite-upsert $OUT/json.db t $OUT/rows.$f --create --key id > /dev/null
    awk -v f="$f" -v sz="$(wc -c < $OUT/rows.$f)" '{
      printf "| %s | %.1f MB | %.2f | %.1f MB |\n", (f == "json" ? "JSON array" : "JSON lines"),
        sz / 1e6, $1, $2 / 1024 }' $OUT/time.txt >> $G
  done
  emit ""
else
  emit "Not run: /usr/bin/time is missing (Debian: apt-get install time)." ""
fi

# --- Into the document -----------------------------------------------------
awk -v g="$G" '
  $0 == "<!-- bench:begin -->" { print; while ((getline l < g) > 0) print l; skip = 1; next }
  $0 == "<!-- bench:end -->" { skip = 0 }
  !skip { print }
' "$DOC" > $OUT/doc.md
mv $OUT/doc.md "$DOC"
step "wrote $DOC"
