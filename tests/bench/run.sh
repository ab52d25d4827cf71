#!/usr/bin/env bash
# Builds the benchmarks in Release and runs them: memory per idle connection (10,000 for the
# event loop, 1,000 for threads, which start a thread per connection) and calls/s with 64 in
# flight for both executors and both codecs.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DBSONRPC_BUILD_TESTS=OFF \
  -DBSONRPC_BUILD_EXAMPLES=OFF -DBSONRPC_BUILD_BENCHMARKS=ON > /dev/null
cmake --build build-bench -j2 > /dev/null
ulimit -n "$(ulimit -Hn)"
./build-bench/tests/bench/bench_idle_connections --executor asio --connections 10000
./build-bench/tests/bench/bench_idle_connections --executor threads --connections 1000
for executor in asio threads; do
  for codec in json bson; do
    ./build-bench/tests/bench/bench_inflight --executor "$executor" --codec "$codec" --inflight 64 --calls 200000
  done
done
