#!/bin/sh
# Measures the library book changelist (100 rows) on a million books:
# requests per second and p50/p95/p99 latency at concurrency 8, for the
# default order, sorts, searches, filters and pages (issue 3's target: p95
# under 50 ms on SQLite). Everything runs on 127.0.0.1; nothing else is
# contacted. It takes about 2 minutes: the first run seeds the database
# (under a minute; kept for later runs), then 11 scenarios of 5 s each.
#
#   cmd/site/bench.sh                         # 1,000,000 books
#   BOOKS=100000 cmd/site/bench.sh            # a smaller table
#   cmd/site/bench.sh -duration 10s -only search -cpuprofile /tmp/cpu.prof
#
# Flags after the script name go to `site bench-admin` (see its --help).
# For steady numbers, run it on an otherwise idle machine: the output notes
# the load average when something else uses the CPU.
set -eu
cd "$(dirname "$0")/../.."
BOOKS=${BOOKS:-1000000}
DIR=${BENCH_DIR:-/tmp/gatehouse-bench}
DB=${DB:-$DIR/books-$BOOKS.db}
mkdir -p "$DIR"
go build -o "$DIR/site" ./cmd/site
if [ ! -f "$DB" ]; then
  echo "Seeding $BOOKS books into $DB (once)…"
  start=$(date +%s)
  "$DIR/site" seed-demo --db "$DB" --books "$BOOKS"
  echo "Seeded in $(( $(date +%s) - start )) s."
fi
exec "$DIR/site" bench-admin --db "$DB" "$@"
