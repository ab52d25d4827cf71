// tests/bench/results_csv.hpp, the CSV bench_calls writes and tests/bench/plot.sh reads: the
// benchmarks are not built in CI, so their output format is checked here.
#include "bench/results_csv.hpp"

#include <catch2/catch.hpp>

#include <sstream>
#include <string>
#include <vector>

namespace {

bench::run_context bench_run() {
  bench::run_context run;
  run.date = "2026-12-07T12:00:00Z";
  run.cpus = 2;
  run.cpu_model = "AMD EPYC 7B13, rev \"B\"";
  run.load_start = "0.52";
  run.load_end = "0.61";
  run.seconds = 0.5;
  return run;
}

}  // namespace

TEST_CASE("bench summary: median, min and max of an odd or even count of samples",
          "[bench]") {
  const auto odd = bench::sample_summary::of({300, 100, 200});
  CHECK(odd.count == 3);
  CHECK(odd.median == 200);
  CHECK(odd.min == 100);
  CHECK(odd.max == 300);
  CHECK(odd.spread_percent() == 100);

  const auto even = bench::sample_summary::of({400, 100, 200, 300});
  CHECK(even.median == 250);
  CHECK(even.spread_percent() == Approx(120));

  const auto none = bench::sample_summary::of({});
  CHECK(none.count == 0);
  CHECK(none.median == 0);
  CHECK(none.spread_percent() == 0);
}

TEST_CASE("bench CSV: a header, then one line per row and workload in the order given",
          "[bench]") {
  std::vector<bench::csv_line> lines;
  lines.push_back({"bsonrpc json/rfc7464 asio", "bsonrpc", "json", "rfc7464", "asio", "I16", 1,
                   16, 100, bench::sample_summary::of({30000.4, 10000, 20000})});
  lines.push_back({"raw bson", "raw", "bson", "bson", "", "I256", 1, 256, 100,
                   bench::sample_summary::of({1234567.6})});
  std::ostringstream out;
  bench::write_csv(out, bench_run(), lines);
  CHECK(out.str() ==
        std::string(bench::csv_header) + "\n" +
            "2026-12-07T12:00:00Z,bsonrpc json/rfc7464 asio,bsonrpc,json,rfc7464,asio,I16,1,16,"
            "100,3,0.500,20000,10000,30000,100.0,2,0.52,0.61,\"AMD EPYC 7B13, rev \"\"B\"\"\"\n"
            "2026-12-07T12:00:00Z,raw bson,raw,bson,bson,,I256,1,256,100,1,0.500,1234568,"
            "1234568,1234568,0.0,2,0.52,0.61,\"AMD EPYC 7B13, rev \"\"B\"\"\"\n");
}

TEST_CASE("bench CSV: the columns tests/bench/plot.gp reads by number stay where it expects",
          "[bench]") {
  std::vector<std::string> columns;
  std::istringstream header{std::string(bench::csv_header)};
  for (std::string column; std::getline(header, column, ',');) columns.push_back(column);
  REQUIRE(columns.size() == 20);
  CHECK(columns[1] == "row");                 // plot.gp: row_column = 2
  CHECK(columns[6] == "workload");            // workload_column = 7
  CHECK(columns[8] == "inflight");            // inflight_column = 9
  CHECK(columns[12] == "median_calls_per_s");  // median_column = 13
  CHECK(columns[13] == "min_calls_per_s");     // min_column = 14
  CHECK(columns[14] == "max_calls_per_s");     // max_column = 15
  CHECK(columns.back() == "cpu_model");       // last: plot.sh joins what follows column 20
}
