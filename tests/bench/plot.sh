#!/usr/bin/env bash
# Renders the in-flight sweep of bench_calls (calls/s against calls in flight, one line per
# executor and codec, beside the raw and nlohmann baselines) from its CSV to an SVG, with
# gnuplot (Debian: apt-get install gnuplot-nox).
#   tests/bench/plot.sh [CSV [SVG]]   default: tests/bench/inflight.csv -> tests/bench/inflight.svg
# Measure first, on a machine as idle as you can get (about 2 minutes):
#   tests/bench/run.sh --sweep --csv tests/bench/inflight.csv
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
csv="${1:-$here/inflight.csv}"
svg="${2:-${csv%.csv}.svg}"
command -v gnuplot > /dev/null || { echo "plot.sh: needs gnuplot (apt-get install gnuplot-nox)" >&2; exit 1; }
[[ -r "$csv" ]] || { echo "plot.sh: cannot read $csv" >&2; exit 1; }

# When, where and how it was measured, from the first line after the header: the date, CPU
# count, CPU model and load average are the same on every line (columns of results_csv.hpp).
caption="$(awk -F, 'NR == 2 {
  model = $20; for (i = 21; i <= NF; ++i) model = model "," $i; gsub(/"/, "", model)
  printf "%s, %s CPUs (%s), load average %s to %s; median of %s x %s s", \
         substr($1, 1, 10) " " substr($1, 12, 5) " UTC", $17, model, $18, $19, $11, $12 + 0
}' "$csv")"
gnuplot -e "csv='$csv'; svg='$svg'; caption='$caption'" "$here/plot.gp"
echo "wrote $svg"
