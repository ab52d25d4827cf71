#!/bin/sh
# Builds the fuzz targets with clang's libFuzzer, ASan and UBSan, replays each target's
# regressions, then fuzzes each target for a bounded time starting from its seed corpus.
#
#   tests/fuzz/run.sh [seconds per target] [target...]     (default: 60 s, every target)
#
# Environment: FUZZ_SECONDS (instead of the first argument), CXX_FUZZ (the clang++ to use),
# FUZZ_BUILD_DIR (default build-fuzz; inputs found while fuzzing and crash artifacts go there),
# FUZZ_JOBS (default 1: how many targets build and fuzz at the same time), FUZZ_REQUIRED=1 (fail,
# rather than skip, without libFuzzer: CI sets it), FUZZ_STEP (default all; build: only build the
# targets; run: only replay and fuzz targets built before, by a FUZZ_STEP=build run).
# Exits 0 with a message when no clang++ with libFuzzer is found; non-zero if any target failed.
# A crash leaves build-fuzz/artifacts/<target>/crash-*: minimise it with
#   build-fuzz/<target> -minimize_crash=1 -runs=10000 <crash file>
# and keep it as tests/fuzz/regressions/<target>/<what-it-exercises>.
set -u

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
seconds=${FUZZ_SECONDS:-60}
case ${1:-} in [0-9]*) seconds=$1; shift ;; esac
targets=${*:-$(cd "$here" && for f in fuzz_*.cpp; do echo "${f%.cpp}"; done)}
build=${FUZZ_BUILD_DIR:-$root/build-fuzz}

cxx=${CXX_FUZZ:-}
if [ -z "$cxx" ]; then
  for candidate in clang++ clang++-18 clang++-17 clang++-16 clang++-15 clang++-14; do
    if command -v "$candidate" >/dev/null 2>&1; then cxx=$candidate; break; fi
  done
fi
mkdir -p "$build"
printf 'extern "C" int LLVMFuzzerTestOneInput(const char*, unsigned long) { return 0; }\n' \
  >"$build/probe.cpp"
if [ -z "$cxx" ] || ! "$cxx" -fsanitize=fuzzer "$build/probe.cpp" -o "$build/probe" 2>/dev/null
then
  echo "fuzz: no clang++ with libFuzzer found (set CXX_FUZZ); fuzzing skipped"
  [ "${FUZZ_REQUIRED:-0}" = 1 ] && exit 1
  exit 0
fi

step=${FUZZ_STEP:-all}
case $step in all | build | run) ;; *) echo "fuzz: FUZZ_STEP must be all, build or run"; exit 2 ;; esac
jobs=${FUZZ_JOBS:-1}
if [ "$jobs" -gt 1 ]; then
  # Deal the targets round-robin into lanes; each lane is this script with FUZZ_JOBS=1.
  rm -f "$build"/lane*.out
  pids=""
  lane=0
  while [ $lane -lt "$jobs" ]; do
    lane_targets=$(echo $targets | tr ' ' '\n' | awk -v n="$jobs" -v k=$lane 'NR % n == k')
    if [ -n "$lane_targets" ]; then
      # shellcheck disable=SC2086  # one argument per target
      FUZZ_JOBS=1 sh "$0" "$seconds" $lane_targets >"$build/lane$lane.out" 2>&1 &
      pids="$pids $!"
    fi
    lane=$((lane + 1))
  done
  status=0
  for pid in $pids; do wait "$pid" || status=1; done
  cat "$build"/lane*.out
  exit $status
fi

# Line tables only (-gline-tables-only, not -g): crash reports still name every file and
# line, and each target builds in less time.
flags="-std=c++17 -gline-tables-only -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined"
includes="-I$root/include -I/usr/include/libbson-1.0 -DASIO_STANDALONE"
# The lines of a libFuzzer log that say what failed and where; the stack is in the log.
summarise() {
  grep -E 'Running:|what\(\)|ERROR:|runtime error|SUMMARY:|Test unit written' "$1" | head -n 20
  echo "   (full log: $1)"
}

failed=""
for target in $targets; do
  if [ "$step" != run ]; then
    echo "== $target: building with $cxx"
    # shellcheck disable=SC2086  # flags are word lists
    if ! "$cxx" $flags $includes "$here/$target.cpp" -o "$build/$target" -lbson-1.0; then
      failed="$failed $target(build)"; continue
    fi
  elif [ ! -x "$build/$target" ]; then
    failed="$failed $target(not built)"; continue
  fi
  [ "$step" = build ] && continue

  regressions=$(find "$here/regressions/$target" -type f 2>/dev/null | sort)
  if [ -n "$regressions" ]; then
    echo "== $target: replaying $(echo "$regressions" | wc -l) regressions"
    # shellcheck disable=SC2086  # one argument per file; the names have no spaces
    if ! "$build/$target" $regressions >"$build/$target.replay.log" 2>&1; then
      summarise "$build/$target.replay.log"
      failed="$failed $target(regressions)"
    fi
  fi

  echo "== $target: fuzzing for $seconds s"
  mkdir -p "$build/corpus/$target" "$build/artifacts/$target"
  dict=""
  case $target in *json*) dict="-dict=$here/json.dict" ;; esac
  # The first directory receives the new inputs, so the committed seeds stay as they are.
  # shellcheck disable=SC2086
  "$build/$target" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
    $dict -artifact_prefix="$build/artifacts/$target/" \
    "$build/corpus/$target" "$here/corpus/$target" >"$build/$target.log" 2>&1
  status=$?
  grep -E '^#[0-9]+' "$build/$target.log" | tail -n 1
  if [ $status -ne 0 ]; then
    summarise "$build/$target.log"
    failed="$failed $target"
  fi
done

if [ -n "$failed" ]; then
  echo "fuzz: FAILED:$failed (logs and artifacts in $build)"
  exit 1
fi
if [ "$step" = build ]; then echo "fuzz: every target built (in $build)"; exit 0; fi
echo "fuzz: every target passed (logs in $build)"
