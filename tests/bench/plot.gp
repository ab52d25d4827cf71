# tests/bench/plot.gp: calls/s against calls in flight on one connection, from the CSV of
# `bench_calls --sweep --csv FILE` (results_csv.hpp), one line per row through the medians, the
# bars spanning the repetitions' minimum to maximum. tests/bench/plot.sh runs it:
#   gnuplot -e "csv='IN'; svg='OUT'; caption='...'" tests/bench/plot.gp
if (!exists("csv")) csv = "tests/bench/inflight.csv"
if (!exists("svg")) svg = "tests/bench/inflight.svg"
if (!exists("caption")) caption = ""

# Columns of results_csv.hpp's csv_header.
row_column = 2
workload_column = 7
inflight_column = 9
median_column = 13
min_column = 14
max_column = 15

set terminal svg size 900,600 dynamic enhanced font "sans,13" background rgb "white"
set output svg
set datafile separator comma
set title "bsonrpc: 100-byte echo calls on one loopback TCP connection\n{/*0.75 ".caption."}"
set xlabel "calls in flight"
set ylabel "calls/s (median; bars: min to max)"
set logscale xy 2
set logscale y 10
set xtics (1, 4, 16, 64, 256)
set format y "%.0s%c"
set xrange [0.8:320]
set grid xtics ytics mytics lc rgb "#dddddd"
set key outside right center vertical noenhanced spacing 1.3
set pointsize 0.9

# The sweep's workloads only (I1-I256), those of row `r`.
in_sweep(r) = strcol(row_column) eq r && strcol(workload_column)[1:1] eq "I"
x(r) = in_sweep(r) ? column(inflight_column) : NaN

plot \
  csv using (x("bsonrpc json/rfc7464 threads")):median_column:min_column:max_column \
      with yerrorlines lw 2 pt 7 lc rgb "#1f77b4" title "bsonrpc JSON, Threads", \
  csv using (x("bsonrpc json/rfc7464 asio")):median_column:min_column:max_column \
      with yerrorlines lw 2 pt 5 lc rgb "#2ca02c" title "bsonrpc JSON, EventLoop", \
  csv using (x("bsonrpc bson/bson threads")):median_column:min_column:max_column \
      with yerrorlines lw 2 pt 9 lc rgb "#d62728" title "bsonrpc BSON, Threads", \
  csv using (x("bsonrpc bson/bson asio")):median_column:min_column:max_column \
      with yerrorlines lw 2 pt 11 lc rgb "#ff7f0e" title "bsonrpc BSON, EventLoop", \
  csv using (x("raw rfc7464")):median_column:min_column:max_column \
      with yerrorlines lw 1.5 dt 2 pt 6 lc rgb "#555555" title "raw ping-pong, JSON frames", \
  csv using (x("raw bson")):median_column:min_column:max_column \
      with yerrorlines lw 1.5 dt 2 pt 8 lc rgb "#999999" title "raw ping-pong, BSON frames", \
  csv using (x("nlohmann rfc7464")):median_column:min_column:max_column \
      with yerrorlines lw 1.5 dt 4 pt 6 lc rgb "#9467bd" title "nlohmann parse+dump, JSON", \
  csv using (x("nlohmann bson")):median_column:min_column:max_column \
      with yerrorlines lw 1.5 dt 4 pt 8 lc rgb "#c5b0d5" title "nlohmann parse+dump, BSON"
