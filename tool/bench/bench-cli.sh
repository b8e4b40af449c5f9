#!/bin/sh
# Bulk-upsert a CSV file from the command line, three ways (make bench-cli,
# also part of make bench):
#
#   .import    the sqlite3 shell: .load dist/upsert, CREATE VIRTUAL TABLE
#              temp.up USING upsert_into(t), .import --csv --skip 1
#   tool       dist/sqlite-upsert DB t FILE
#   utils      sqlite-utils upsert DB t FILE --csv --pk id (Debian's
#              sqlite-utils, installed here when missing and run as root)
#
# The file: BENCH_CLI_ROWS rows (default 1,000,000) of
# id,"name N",qty,price in key order; the table t(id INTEGER PRIMARY KEY,
# name TEXT, qty INTEGER, price REAL) in a database file (rollback journal)
# holds every other key beforehand, so half the rows update and half insert.
# sqlite-utils commits every 100 rows and is far slower, so it gets the
# first BENCH_CLI_UTILS_ROWS rows (default 100,000), and the tool runs on
# that file too for the ratio.  Each timing is the median of
# BENCH_CLI_RUNS runs (default 3) on a fresh copy of the database, wall
# time of the whole command; every result is checked against the others.
set -e
cd "$(dirname "$0")/../.."
ROWS=${BENCH_CLI_ROWS:-1000000}
UROWS=${BENCH_CLI_UTILS_ROWS:-100000}
RUNS=${BENCH_CLI_RUNS:-3}
[ "$UROWS" -gt "$ROWS" ] && UROWS=$ROWS
TOOL=dist/sqlite-upsert
EXT=$(pwd)/dist/upsert
DIR=dist/bench-cli
mkdir -p $DIR

if ! command -v sqlite-utils >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    echo "bench-cli: installing sqlite-utils"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
      apt-get install -y -qq sqlite-utils) >/dev/null || true
  fi
fi
command -v sqlite-utils >/dev/null 2>&1 && HAVE_UTILS=1 || HAVE_UTILS=0

# The input files and the seeded databases.
awk -v n="$ROWS" 'BEGIN{ print "id,name,qty,price";
  for(i=1; i<=n; i++) printf "%d,\"name %d\",%d,%.2f\n", i, i, i%100, i/7 }' \
  > $DIR/rows.csv
head -n $((UROWS + 1)) $DIR/rows.csv > $DIR/rows-small.csv
seed() {  # seed DBFILE NROWS: the table with every other key of NROWS
  rm -f "$1" "$1-journal"
  sqlite3 "$1" "CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT,
    qty INTEGER, price REAL);
    WITH RECURSIVE s(i) AS (SELECT 2 UNION ALL SELECT i+2 FROM s WHERE i+2<=$2)
    INSERT INTO t SELECT i, 'old', 0, 0 FROM s;"
}
seed $DIR/seed.db "$ROWS"
seed $DIR/seed-small.db "$UROWS"

now() { date +%s.%N; }
# run METHOD SEED CSV: one timed run on a fresh copy; prints seconds.
run() {
  cp "$2" $DIR/run.db
  sync
  t0=$(now)
  case $1 in
    import) printf '%s\n' ".load $EXT" \
              "CREATE VIRTUAL TABLE temp.up USING upsert_into(t);" \
              ".import --csv --skip 1 --schema temp $3 up" |
              sqlite3 $DIR/run.db ;;
    tool)   $TOOL $DIR/run.db t "$3" >/dev/null ;;
    utils)  sqlite-utils upsert $DIR/run.db t "$3" --csv --pk id ;;
  esac
  t1=$(now)
  echo "$t0 $t1" | awk '{ printf "%.3f\n", $2 - $1 }'
}
# The table, summarised, to compare the methods' results.
digest() {
  sqlite3 $DIR/run.db "SELECT count(*), sum(id), sum(qty),
    printf('%.2f', total(price)), sum(length(name)),
    sum(typeof(qty)='integer'), sum(typeof(price)='real') FROM t"
}
# median METHOD SEED CSV: median time of RUNS runs; checks each result.
median() {
  ref=""
  times=""
  i=0
  while [ $i -lt "$RUNS" ]; do
    times="$times $(run "$1" "$2" "$3")"
    d=$(digest)
    [ -z "$ref" ] && ref=$d
    [ "$d" = "$ref" ] || {
      echo "bench-cli: $1: result differs: $d vs $ref" >&2; exit 1; }
    i=$((i + 1))
  done
  echo "$d" > $DIR/digest.$1.$(basename "$3" .csv)
  echo $times | tr ' ' '\n' | sort -n |
    awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'
}

echo "bench-cli: $ROWS rows, half of the keys existing, file database," \
     "median of $RUNS runs (wall time)"
t_import=$(median import $DIR/seed.db $DIR/rows.csv)
t_tool=$(median tool $DIR/seed.db $DIR/rows.csv)
cmp -s $DIR/digest.import.rows $DIR/digest.tool.rows || {
  echo "bench-cli: .import and sqlite-upsert differ" >&2; exit 1; }
if [ $HAVE_UTILS = 1 ]; then
  t_tool_small=$(median tool $DIR/seed-small.db $DIR/rows-small.csv)
  t_utils=$(median utils $DIR/seed-small.db $DIR/rows-small.csv)
  cmp -s $DIR/digest.tool.rows-small $DIR/digest.utils.rows-small || {
    echo "bench-cli: sqlite-utils and sqlite-upsert differ" >&2; exit 1; }
fi

awk -v rows="$ROWS" -v urows="$UROWS" -v ti="$t_import" -v tt="$t_tool" \
    -v ts="${t_tool_small:-0}" -v tu="${t_utils:-0}" -v hu="$HAVE_UTILS" '
function line(name, n, t, ref) {
  printf "%-34s %9d %9.2f %11.0f %8.2fx\n", name, n, t, n / t, t / ref
}
BEGIN {
  printf "%-34s %9s %9s %11s %9s\n", "method", "rows", "seconds", "rows/s",
    "time"
  line("sqlite3 .import into upsert_into", rows, ti, ti)
  line("sqlite-upsert", rows, tt, ti)
  printf "sqlite-upsert / .import: %.2fx (target: 1.5x or less): %s\n",
    tt / ti, tt / ti <= 1.5 ? "met" : "MISSED"
  if (hu == 1) {
    line("sqlite-upsert", urows, ts, ts)
    line("sqlite-utils upsert --csv --pk id", urows, tu, ts)
    printf "sqlite-utils takes %.1fx the time of sqlite-upsert on %d rows\n",
      tu / ts, urows
  } else {
    print "sqlite-utils: not installed (apt-get install sqlite-utils), skipped"
  }
}'
rm -f $DIR/run.db $DIR/run.db-journal
