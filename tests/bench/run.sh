#!/usr/bin/env bash
# Builds bench_calls and the shipped bsonrpc-server in Release and runs bench_calls: W1-W4 and
# memory per idle connection for every codec, framing and executor, for the library and for
# bsonrpc-server as shipped, against the raw and nlohmann ping-pong baselines, with a verdict
# per performance goal (about 6 minutes; pass --quick for a shorter run, or any other
# bench_calls flag, e.g. --workload W1,W2 --executor asio --kind bsonrpc,bsonrpc-server).
# The in-flight sweep behind the README's plot (about 2 minutes), then the plot itself:
#   tests/bench/run.sh --sweep --csv tests/bench/inflight.csv && tests/bench/plot.sh
# The per-message micro-benchmarks (needs libbenchmark-dev):
#   cmake --build "$BUILD" --target bench_micro && "$BUILD/tests/bench/bench_micro"
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
build="${BSONRPC_BENCH_BUILD:-build-bench}"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DBSONRPC_BUILD_TESTS=OFF \
  -DBSONRPC_BUILD_EXAMPLES=ON -DBSONRPC_BUILD_BENCHMARKS=ON > /dev/null
cmake --build "$build" -j2 --target bench_calls bsonrpc-server > /dev/null
"$build/tests/bench/bench_calls" "$@"
