#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs the full benchmark set (tests/bench) and writes:
#   docs/benchmarks.json         Google Benchmark JSON of kmt_benchmarks
#   docs/benchmarks-tests.json   gtest JSON of kmt_bench_tests (P2 proc addresses, P5)
#   docs/BENCHMARKS.md           the tables: ns/op, ratios, goals (machine, command, date)
#   docs/benchmarks-p3.png       the P3 scaling plot
# Takes about 2.5 minutes on 2 cores and peaks at ~9 GB RSS (10^6 live
# allocations on two lavapipe devices; KMT_BENCH_MAX_LIVE=100000 for less).
#
# Environment:
#   BUILD_DIR             build tree (default: build-bench; configured Release if missing)
#   OUT_DIR               where results go (default: docs)
#   KMT_BENCH_REPS        repetitions of each benchmark (default 3)
#   KMT_BENCH_MIN_TIME    seconds per benchmark and repetition (default 0.1)
#   KMT_BENCH_MAX_LIVE    largest live set (default 1000000)
#   KMT_BENCH_FILTER      --benchmark_filter regex (default: all)
#   PYTHON                interpreter for bench_report.py (default /usr/bin/python3: Debian's, with matplotlib)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD_DIR=${BUILD_DIR:-$ROOT/build-bench}
OUT_DIR=${OUT_DIR:-$ROOT/docs}
REPS=${KMT_BENCH_REPS:-3}
MIN_TIME=${KMT_BENCH_MIN_TIME:-0.1}
MAX_LIVE=${KMT_BENCH_MAX_LIVE:-1000000}
FILTER=${KMT_BENCH_FILTER:-.}

if [[ ! -f "$BUILD_DIR/CMakeCache.txt" ]]; then
  cmake -S "$ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release -DBUILD_WERROR=ON
fi
BUILD_TYPE=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$BUILD_DIR/CMakeCache.txt")
if [[ "$BUILD_TYPE" != "Release" ]]; then
  echo "warning: $BUILD_DIR is a '$BUILD_TYPE' build; numbers are meant for Release" >&2
fi
cmake --build "$BUILD_DIR" -j"$(nproc)" --target kmt_benchmarks kmt_bench_tests

mkdir -p "$OUT_DIR"
BIN="$BUILD_DIR/tests/bench"

# The non-timing goals first (P2 proc addresses, P5); a failure is reported in
# the markdown and in the exit status, but the timings still run.
tests_rc=0
"$BIN/kmt_bench_tests" --gtest_brief=1 --gtest_output="json:$OUT_DIR/benchmarks-tests.json" || tests_rc=$?

ARGS=(--kmt_max_live="$MAX_LIVE" --benchmark_repetitions="$REPS" --benchmark_min_time="$MIN_TIME"
      --benchmark_filter="$FILTER" --benchmark_display_aggregates_only=true
      --benchmark_out="$OUT_DIR/benchmarks.json" --benchmark_out_format=json)
echo "+ kmt_benchmarks ${ARGS[*]}"
"$BIN/kmt_benchmarks" "${ARGS[@]}"

"${PYTHON:-/usr/bin/python3}" "$ROOT/scripts/bench_report.py" \
  --results "$OUT_DIR/benchmarks.json" --tests "$OUT_DIR/benchmarks-tests.json" \
  --markdown "$OUT_DIR/BENCHMARKS.md" --plot "$OUT_DIR/benchmarks-p3.png" \
  --build-type "$BUILD_TYPE" \
  --command "scripts/bench.sh → $(basename "$BUILD_DIR")/tests/bench/kmt_benchmarks ${ARGS[*]}"
echo "wrote $OUT_DIR/BENCHMARKS.md, $OUT_DIR/benchmarks.json, $OUT_DIR/benchmarks-p3.png"
exit "$tests_rc"
