#!/bin/sh
# dist/sqlite-upsert under valgrind memcheck, for `make valgrind`
# (test/cli.test runs it through UPSERT_CLI): silent when clean; an error
# or a leak definitely lost is reported on standard error and makes the
# exit status 9, either of which fails the test.
dir=$(cd "$(dirname "$0")/../.." && pwd)
exec valgrind --quiet --error-exitcode=9 --leak-check=full \
  --errors-for-leak-kinds=definite --show-leak-kinds=definite \
  "$dir/dist/sqlite-upsert" "$@"
