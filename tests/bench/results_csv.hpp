// tests/bench/results_csv.hpp: what bench_calls measured, one line per row and workload, as CSV
// (RFC 4180) for tests/bench/plot.sh and spreadsheets. Standard library only, so that a unit
// test (tests/bench_results_csv_test.cpp) checks the format without building the benchmarks.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdio>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace bench {

// The repetitions of one measurement, in calls/s.
struct sample_summary {
  std::size_t count = 0;
  double median = 0;
  double min = 0;
  double max = 0;

  // All zero without samples.
  static sample_summary of(std::vector<double> samples) {
    sample_summary s;
    s.count = samples.size();
    if (samples.empty()) return s;
    std::sort(samples.begin(), samples.end());
    const std::size_t n = samples.size();
    s.median = n % 2 ? samples[n / 2] : (samples[n / 2 - 1] + samples[n / 2]) / 2;
    s.min = samples.front();
    s.max = samples.back();
    return s;
  }

  // (max - min) / median, in percent: how much the repetitions disagree.
  double spread_percent() const { return median > 0 ? 100 * (max - min) / median : 0; }
};

// Where and how the run was made; the same on every line.
struct run_context {
  std::string date;        // UTC, ISO 8601
  unsigned cpus = 0;       // std::thread::hardware_concurrency()
  std::string cpu_model;   // /proc/cpuinfo's first "model name"
  std::string load_start;  // /proc/loadavg's 1-minute figure when measuring began
  std::string load_end;    // and when it ended
  double seconds = 0;      // per repetition
};

// One row of the table measured in one workload.
struct csv_line {
  std::string row;  // "bsonrpc json/rfc7464 asio", as the printed table names it
  std::string kind;
  std::string codec;
  std::string framing;
  std::string executor;  // empty for the baselines
  std::string workload;
  std::size_t connections = 0;
  std::size_t inflight = 0;  // per connection
  std::size_t payload_bytes = 0;
  sample_summary calls_per_second;
};

inline constexpr std::string_view csv_header =
    "date,row,kind,codec,framing,executor,workload,connections,inflight,payload_bytes,"
    "repetitions,seconds,median_calls_per_s,min_calls_per_s,max_calls_per_s,spread_percent,"
    "cpus,load1_start,load1_end,cpu_model";

// A field as RFC 4180 wants it: quoted, with quotes doubled, when it holds a comma, a quote or
// a line break.
inline std::string csv_field(std::string_view text) {
  if (text.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(text);
  std::string out = "\"";
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

inline std::string csv_number(double x, int decimals) {
  char text[64];
  std::snprintf(text, sizeof text, "%.*f", decimals, x);
  return text;
}

// The header, then one line per entry of `lines`, in their order.
inline void write_csv(std::ostream& out, const run_context& run,
                      const std::vector<csv_line>& lines) {
  out << csv_header << "\n";
  for (const csv_line& l : lines) {
    const sample_summary& s = l.calls_per_second;
    out << csv_field(run.date) << ',' << csv_field(l.row) << ',' << csv_field(l.kind) << ','
        << csv_field(l.codec) << ',' << csv_field(l.framing) << ',' << csv_field(l.executor)
        << ',' << csv_field(l.workload) << ',' << l.connections << ',' << l.inflight << ','
        << l.payload_bytes << ',' << s.count << ',' << csv_number(run.seconds, 3) << ','
        << csv_number(s.median, 0) << ',' << csv_number(s.min, 0) << ','
        << csv_number(s.max, 0) << ',' << csv_number(s.spread_percent(), 1) << ',' << run.cpus
        << ',' << csv_field(run.load_start) << ',' << csv_field(run.load_end) << ','
        << csv_field(run.cpu_model) << "\n";
  }
}

}  // namespace bench
