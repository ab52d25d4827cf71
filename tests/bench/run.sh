#!/usr/bin/env bash
# Builds the benchmarks in Release and runs bench_calls: W1-W4 and memory per idle connection
# for every codec, framing and executor, against the raw and nlohmann ping-pong baselines, with
# a verdict per performance goal (about 3 minutes; pass --quick for a 30-second run, or any
# other bench_calls flag, e.g. --workload W2 --executor asio).
# The per-message micro-benchmarks: $BUILD/tests/bench/bench_micro (needs libbenchmark-dev).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
build="${BSONRPC_BENCH_BUILD:-build-bench}"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DBSONRPC_BUILD_TESTS=OFF \
  -DBSONRPC_BUILD_EXAMPLES=OFF -DBSONRPC_BUILD_BENCHMARKS=ON > /dev/null
cmake --build "$build" -j2 > /dev/null
"$build/tests/bench/bench_calls" "$@"
