#!/bin/sh
# Run one libFuzzer target for a bounded time:
#
#   tool/scripts/fuzz.sh NAME SECONDS [libFuzzer flags ...]
#
# NAME is create or diff.  dist/fuzz_NAME runs on dist/fuzz/NAME/, a corpus
# seeded from test/fuzz/NAME/ (never written) and kept between runs.  The
# full output goes to dist/fuzz/NAME.log.  On a finding, its input is left
# in dist/fuzz/NAME-crash-* (or -leak-, -timeout-, -oom-): replay it with
# dist/fuzz_NAME FILE.  Exits non-zero on a finding.
set -e
name=$1
secs=$2
shift 2
cd "$(dirname "$0")/../.."
corpus=dist/fuzz/$name
log=dist/fuzz/$name.log
mkdir -p "$corpus"
cp test/fuzz/"$name"/* "$corpus"/
dict=""
[ -f test/fuzz/"$name".dict ] && dict="-dict=test/fuzz/$name.dict"
if dist/fuzz_"$name" -max_total_time="$secs" -max_len=512 -timeout=10 \
     -rss_limit_mb=2048 -print_final_stats=1 $dict \
     -artifact_prefix=dist/fuzz/"$name"- "$@" "$corpus" >"$log" 2>&1; then
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
  echo "fuzz_$name: $runs runs in ${secs} s ($rate/s), no finding;" \
       "corpus $(ls "$corpus" | wc -l) inputs"
else
  # What was found (the harness's FINDING or the sanitizer's report)
  sed -n '/FINDING\|ERROR: \|runtime error/,$p' "$log" | head -n 60
  echo "fuzz_$name: FINDING (full output: $log); replay with:"
  for f in $(ls -t dist/fuzz/"$name"-* 2>/dev/null | head -n 1); do
    echo "  dist/fuzz_$name $f"
  done
  exit 1
fi
