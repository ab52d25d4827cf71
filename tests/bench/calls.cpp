// Benchmark (not a test): the performance goals of issues 6 and 14, measured in one run.
//
//   bench_calls [--quick] [--workload W1,W2,W3,W4,I1,I4,I16,I64,I256] [--codec json|bson]
//               [--framing rfc7464,netstring,frameless,bson] [--executor threads,asio]
//               [--kind bsonrpc,bsonrpc-server,raw,nlohmann] [--server-binary PATH]
//               [--repetitions N] [--seconds S] [--idle-connections N] [--no-memory]
//               [--sweep] [--csv FILE]
//       Starts one server process per row (this program in --serve mode, or bsonrpc-server),
//       measures every workload of workloads.hpp against it from this process, repetitions
//       interleaved across rows so that drifting load affects every row alike, and prints
//       median calls/s with the spread of the repetitions, the server's memory per idle
//       connection, and each goal as a ratio between rows. --sweep measures the in-flight
//       sweep of workloads.hpp (I1-I256: 1 to 256 calls in flight on one connection) instead,
//       for bsonrpc and the baselines in RFC 7464 and BSON framing unless filtered otherwise,
//       without memory or goals. --csv FILE also writes every row and workload measured to
//       FILE (results_csv.hpp), with the machine's CPU count and load average: the input of
//       tests/bench/plot.sh.
//   bench_calls --serve HOST:PORT [--kind K] [--framing F] [--executor E]
//       Only the server of one row (port 0: any), for a client elsewhere. Prints
//       "listening on HOST:PORT" and serves until killed.
//   bench_calls --connect HOST:PORT [--framing F] [--executor E] [--workload ...]
//       Only bsonrpc's client, against any server answering `echo` (e.g. bsonrpc-server).
//   bench_calls --in-process --calls N [--workload W] [--kind K] [--framing F] [--executor E]
//       Client and server of one row in this process for a fixed number of calls: the run
//       to put under a profiler (valgrind --tool=callgrind).
//
// Rows: `raw` and `nlohmann` are the ping-pong baselines of baseline.hpp, `bsonrpc` the
// library's echo server of rpc_endpoints.hpp with the executor named on both sides, and
// `bsonrpc-server` the shipped example program (examples/bsonrpc-server.cpp) run with the row's
// codec, framing and executor, measured by the same bsonrpc client as the `bsonrpc` rows, with
// the row's executor. Its path is compiled in when the examples are built (CMake sets
// BSONRPC_BENCH_SERVER_BINARY; tests/bench/run.sh builds it) or given by --server-binary;
// without one, its rows are skipped with a note. Filters take comma-separated lists.
#include "baseline.hpp"
#include "child_process.hpp"
#include "configs.hpp"
#include "results_csv.hpp"
#include "rpc_endpoints.hpp"
#include "workloads.hpp"

#include <bsonrpc/bsonrpc.hpp>

#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <initializer_list>
#include <iostream>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

using namespace bench;
using std::chrono::milliseconds;

#ifdef BSONRPC_BENCH_SERVER_BINARY
constexpr const char* shipped_server_binary = BSONRPC_BENCH_SERVER_BINARY;
#else
constexpr const char* shipped_server_binary = "";
#endif

constexpr const char* usage =
    "usage: bench_calls [--quick] [--workload W1,W2,W3,W4,I1,I4,I16,I64,I256] [--codec json|bson]\n"
    "                   [--framing rfc7464,netstring,frameless,bson] [--executor threads,asio]\n"
    "                   [--kind bsonrpc,bsonrpc-server,raw,nlohmann] [--server-binary PATH]\n"
    "                   [--repetitions N] [--seconds S] [--idle-connections N] [--no-memory]\n"
    "                   [--sweep] [--csv FILE]\n"
    "       bench_calls --serve HOST:PORT [--kind K] [--framing F] [--executor E]\n"
    "       bench_calls --connect HOST:PORT [--framing F] [--executor E] [--workload ...]\n"
    "       bench_calls --in-process --calls N [--workload W] [--kind K] [--framing F]"
    " [--executor E]\n";

enum class run_mode { table, serve, connect, in_process };

struct settings {
  run_mode mode = run_mode::table;
  std::string address;  // --serve, --connect
  std::optional<std::vector<std::string_view>> workloads;
  std::optional<std::vector<kind>> kinds;
  std::optional<std::vector<framing>> framings;
  std::optional<std::vector<executor>> executors;
  std::optional<bench::codec> codec;
  int repetitions = 5;
  milliseconds duration{500};
  bool measure_memory = true;
  std::size_t idle_connections = 10'000;  // EventLoop; Threads gets a tenth (a thread each)
  std::uint64_t calls = 20'000;           // --in-process
  std::string server_binary = shipped_server_binary;  // bsonrpc-server rows; empty: none
  bool sweep = false;    // the in-flight sweep instead of the goals' workloads
  std::string csv_path;  // empty: no CSV
};

// W1-W4, the workloads of the goals.
bool is_goal_workload(std::string_view name) {
  return std::any_of(std::begin(workloads), std::end(workloads),
                     [&](const workload& w) { return w.name == name; });
}

bool is_known_workload(std::string_view name) {
  return is_goal_workload(name) ||
         std::any_of(std::begin(inflight_sweep), std::end(inflight_sweep),
                     [&](const workload& w) { return w.name == name; });
}

std::vector<std::string_view> split(std::string_view list) {
  std::vector<std::string_view> items;
  for (std::size_t start = 0;;) {
    const auto comma = list.find(',', start);
    items.push_back(list.substr(start, comma - start));
    if (comma == std::string_view::npos) return items;
    start = comma + 1;
  }
}

template <class E>
std::vector<E> parse_list(std::string_view list, std::initializer_list<E> choices) {
  std::vector<E> out;
  for (auto item : split(list)) out.push_back(parse(item, choices));
  return out;
}

settings parse_command_line(int argc, char** argv) {
  settings s;
  for (int i = 1; i < argc; ++i) {
    const std::string_view flag = argv[i];
    auto value = [&]() -> std::string_view {
      if (i + 1 >= argc) throw std::invalid_argument(std::string(flag) + " needs a value");
      return argv[++i];
    };
    if (flag == "--quick") {
      s.repetitions = 3;
      s.duration = milliseconds(200);
      s.idle_connections = 1'000;
    } else if (flag == "--workload") {
      s.workloads = split(value());
      for (auto w : *s.workloads)
        if (!is_known_workload(w))
          throw std::invalid_argument("unknown workload '" + std::string(w) + "'");
    } else if (flag == "--kind") {
      s.kinds = parse_list(value(), {kind::rpc, kind::server, kind::raw, kind::nlohmann});
    } else if (flag == "--server-binary") {
      s.server_binary = value();
    } else if (flag == "--codec") {
      s.codec = parse(value(), {codec::json, codec::bson});
    } else if (flag == "--framing") {
      s.framings = parse_list(
          value(), {framing::rfc7464, framing::netstring, framing::frameless, framing::bson});
    } else if (flag == "--executor") {
      s.executors = parse_list(value(), {executor::threads, executor::asio});
    } else if (flag == "--repetitions") {
      s.repetitions = std::max(1, std::stoi(std::string(value())));
    } else if (flag == "--seconds") {
      s.duration = milliseconds(static_cast<long>(1000 * std::stod(std::string(value()))));
    } else if (flag == "--idle-connections") {
      s.idle_connections = std::stoul(std::string(value()));
    } else if (flag == "--no-memory") {
      s.measure_memory = false;
    } else if (flag == "--sweep") {
      s.sweep = true;
    } else if (flag == "--csv") {
      s.csv_path = value();
    } else if (flag == "--serve") {
      s.mode = run_mode::serve;
      s.address = value();
    } else if (flag == "--connect") {
      s.mode = run_mode::connect;
      s.address = value();
    } else if (flag == "--in-process") {
      s.mode = run_mode::in_process;
    } else if (flag == "--calls") {
      s.calls = std::stoull(std::string(value()));
    } else {
      throw std::invalid_argument("unknown argument '" + std::string(flag) + "'");
    }
  }
  return s;
}

// The rows the filters select, grouped by framing. The single-row modes default to one choice
// per filter: bsonrpc, rfc7464 (bson with --codec bson), threads; the sweep to bsonrpc and the
// baselines, in rfc7464 and bson.
std::vector<config> selected_rows(const settings& s) {
  const bool single = s.mode != run_mode::table;
  std::vector<framing> framings = s.framings.value_or(
      s.sweep ? std::vector<framing>{framing::rfc7464, framing::bson}
              : std::vector<framing>{framing::rfc7464, framing::netstring, framing::frameless,
                                     framing::bson});
  if (single && !s.framings)
    framings = {s.codec == codec::bson ? framing::bson : framing::rfc7464};
  const auto kinds = s.kinds.value_or(
      single    ? std::vector<kind>{kind::rpc}
      : s.sweep ? std::vector<kind>{kind::raw, kind::nlohmann, kind::rpc}
                : std::vector<kind>{kind::raw, kind::nlohmann, kind::rpc, kind::server});
  const auto executors =
      s.executors.value_or(single ? std::vector<executor>{executor::threads}
                                  : std::vector<executor>{executor::threads, executor::asio});
  std::vector<config> rows;
  for (framing f : framings) {
    if (s.codec && codec_of(f) != *s.codec) continue;
    for (kind k : kinds) {
      if (k != kind::rpc && k != kind::server) rows.push_back({k, f});
      else
        for (executor e : executors) rows.push_back({k, f, e});
    }
  }
  return rows;
}

// The workloads --workload names, else the goals' (W1-W4), or the sweep's with --sweep.
std::vector<workload> selected_workloads(const settings& s) {
  std::vector<workload> out;
  auto add = [&](const workload& w, bool by_default) {
    if (s.workloads ? std::count(s.workloads->begin(), s.workloads->end(), w.name) > 0
                    : by_default)
      out.push_back(w);
  };
  for (const workload& w : workloads) add(w, !s.sweep);
  for (const workload& w : inflight_sweep) add(w, s.sweep);
  return out;
}

asio::ip::tcp::endpoint parse_endpoint(const std::string& address) {
  const auto colon = address.rfind(':');
  if (colon == std::string::npos) throw std::invalid_argument("expected HOST:PORT, got " + address);
  return {asio::ip::make_address(address.substr(0, colon)),
          static_cast<unsigned short>(std::stoi(address.substr(colon + 1)))};
}

// Calls fn(server) with the server of row `c` listening on `where`; not for bsonrpc-server
// rows, whose server is that program.
template <class F>
void with_server(const config& c, const tcp::endpoint& where, F&& fn) {
  if (c.kind == kind::server)
    throw std::invalid_argument("bsonrpc-server rows are served by bsonrpc-server itself");
  if (c.kind == kind::rpc) {
    with_rpc_type(c, [&](auto rpc) {
      echo_server<typename decltype(rpc)::type> server(where);
      fn(server);
    });
  } else {
    with_framing(c.framing, [&](auto framing) {
      baseline_server<typename decltype(framing)::type> server(c.kind, where);
      fn(server);
    });
  }
}

// Returns fn(client) with a client of row `c` holding `connections` connections to `server`:
// for bsonrpc and bsonrpc-server rows alike, bsonrpc's client with the row's executor.
template <class F>
decltype(auto) with_client(const config& c, const tcp::endpoint& server, std::size_t connections,
                           F&& fn) {
  if (c.is_bsonrpc()) {
    return with_rpc_type(c, [&](auto rpc) {
      rpc_client<typename decltype(rpc)::type> client(server, connections);
      return fn(client);
    });
  }
  return with_framing(c.framing, [&](auto framing) {
    baseline_client<typename decltype(framing)::type> client(c.kind, server, connections);
    return fn(client);
  });
}

double measure(const config& c, const tcp::endpoint& server, const workload& w,
               milliseconds duration) {
  return with_client(c, server, w.connections,
                     [&](auto& client) { return timed_rate(client, w, duration); });
}

// Makes `calls` sequential echo calls of 100 bytes over a new connection.
void make_calls(const config& c, const tcp::endpoint& server, std::uint64_t calls) {
  with_client(c, server, 1, [&](auto& client) {
    auto stop = stop_rule::after_calls(calls);
    client.run(std::string(100, 'x'), 1, stop);
  });
}

std::string own_path() {
  char path[4096];
  const auto n = ::readlink("/proc/self/exe", path, sizeof path - 1);
  if (n <= 0) throw std::runtime_error("cannot find this program's path");
  return std::string(path, static_cast<std::size_t>(n));
}

// Why bsonrpc-server rows cannot run, or empty when the binary is there.
std::string missing_server_binary(const settings& s) {
  if (s.server_binary.empty())
    return "no bsonrpc-server binary (build with -DBSONRPC_BUILD_EXAMPLES=ON, or give "
           "--server-binary PATH)";
  if (::access(s.server_binary.c_str(), X_OK) != 0)
    return s.server_binary + ": " + std::strerror(errno);
  return {};
}

// The server process of row `c`: this program in --serve mode, or bsonrpc-server with the
// row's codec, framing and executor (BSON carries its own framing: no --framing then).
std::unique_ptr<child_server> start_server(const config& c, const settings& s) {
  const std::string executor(to_string(c.executor));
  if (c.kind == kind::server) {
    std::vector<std::string> arguments{"--listen", "127.0.0.1:0", "--executor", executor,
                                       "--codec", std::string(to_string(codec_of(c.framing)))};
    if (c.framing != framing::bson)
      arguments.insert(arguments.end(), {"--framing", std::string(to_string(c.framing))});
    return std::make_unique<child_server>(s.server_binary, arguments);
  }
  return std::make_unique<child_server>(
      own_path(), std::vector<std::string>{"--serve", "127.0.0.1:0", "--kind",
                                           std::string(to_string(c.kind)), "--framing",
                                           std::string(to_string(c.framing)), "--executor",
                                           executor});
}

struct memory_use {
  std::size_t connections = 0;
  double kib_per_connection = 0;
  double server_mib = 0;  // the server's whole resident set with them
};

// The server's resident set growth per idle connection: a fresh server warmed up by one
// connection, then `connections` plain sockets that send nothing.
memory_use measure_idle_memory(const config& c, std::size_t connections, const settings& s) {
  const auto started = start_server(c, s);
  const child_server& server = *started;
  make_calls(c, server.endpoint(), 100);
  std::this_thread::sleep_for(milliseconds(200));
  const long before = resident_kib(server.pid());
  asio::io_context io;
  std::vector<tcp::socket> idle;
  idle.reserve(connections);
  for (std::size_t i = 0; i < connections; ++i) idle.emplace_back(io).connect(server.endpoint());
  // The server accepts in order: once a later connection is answered, all these are held.
  make_calls(c, server.endpoint(), 1);
  std::this_thread::sleep_for(milliseconds(500));
  const long after = resident_kib(server.pid());
  return {connections, static_cast<double>(after - before) / static_cast<double>(connections),
          static_cast<double>(after) / 1024};
}

struct row {
  config what;
  std::unique_ptr<child_server> server;  // none with --connect
  std::map<std::string_view, std::vector<double>> samples;  // calls/s by workload
  std::optional<memory_use> memory;

  // All zero when not measured.
  sample_summary summary(std::string_view workload) const {
    const auto it = samples.find(workload);
    return it == samples.end() ? sample_summary{} : sample_summary::of(it->second);
  }
  double median(std::string_view workload) const { return summary(workload).median; }
  double spread_percent(std::string_view workload) const {
    return summary(workload).spread_percent();
  }
};

std::string thousands(double x) {
  std::string digits = std::to_string(static_cast<long long>(x + 0.5));
  for (auto i = static_cast<long>(digits.size()) - 3; i > 0; i -= 3)
    digits.insert(static_cast<std::size_t>(i), ",");
  return digits;
}

std::string fixed(double x, int decimals) {
  char text[32];
  std::snprintf(text, sizeof text, "%.*f", decimals, x);
  return text;
}

std::string load_average() {
  std::ifstream in("/proc/loadavg");
  std::string one, five;
  in >> one >> five;
  return one + " " + five;
}

std::string load_average_1min() {
  std::ifstream in("/proc/loadavg");
  std::string one;
  in >> one;
  return one;
}

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("model name", 0) != 0) continue;
    const auto colon = line.find(':');
    if (colon == std::string::npos) break;
    const auto start = line.find_first_not_of(" \t", colon + 1);
    return start == std::string::npos ? std::string() : line.substr(start);
  }
  return "unknown";
}

std::string utc_now() {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  ::gmtime_r(&now, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

// Every row and workload measured, in the table's order, to the file `path`.
void write_csv_file(const std::string& path, const run_context& run, const std::vector<row>& rows,
                    const std::vector<workload>& chosen) {
  std::vector<csv_line> lines;
  for (const auto& r : rows) {
    const config& c = r.what;
    for (const auto& w : chosen)
      lines.push_back({to_string(c), std::string(to_string(c.kind)),
                       std::string(to_string(codec_of(c.framing))),
                       std::string(to_string(c.framing)),
                       c.is_bsonrpc() ? std::string(to_string(c.executor)) : std::string(),
                       std::string(w.name), w.connections, w.inflight, w.payload_bytes,
                       r.summary(w.name)});
  }
  std::ofstream out(path);
  write_csv(out, run, lines);
  out.close();
  if (!out) throw std::runtime_error("cannot write " + path);
  std::printf("\nwrote %s\n", path.c_str());
}

// Wide enough for "bsonrpc-server json/frameless threads".
constexpr int row_width = 40;

// Median calls/s per row and workload, each followed by the spread of the repetitions.
void print_rates(const std::vector<row>& rows, const std::vector<workload>& chosen,
                 const settings& s) {
  std::printf("\ncalls/s, median of %d x %.1f s (spread: (max - min) / median)\n",
              s.repetitions, static_cast<double>(s.duration.count()) / 1000);
  std::printf("%-*s", row_width, "row");
  for (const auto& w : chosen)
    std::printf("%11.*s%7s", static_cast<int>(w.name.size()), w.name.data(), "spread");
  std::printf("\n");
  for (const auto& r : rows) {
    std::printf("%-*s", row_width, to_string(r.what).c_str());
    for (const auto& w : chosen) {
      const double m = r.median(w.name);
      std::printf("%11s%6.0f%%", m > 0 ? thousands(m).c_str() : "-", r.spread_percent(w.name));
    }
    std::printf("\n");
  }
}

void print_memory(const std::vector<row>& rows) {
  std::printf("\nidle connections, server side\n%-*s%12s%16s%18s\n", row_width, "row",
              "connections", "KiB/connection", "server RSS MiB");
  for (const auto& r : rows)
    if (r.memory)
      std::printf("%-*s%12zu%16.1f%18.1f\n", row_width, to_string(r.what).c_str(),
                  r.memory->connections, r.memory->kib_per_connection, r.memory->server_mib);
}

// Each goal of issues 6 and 14 as measured in this run: a ratio of two rows (or a memory
// figure). The library's rows are held to the goals against the baselines, bsonrpc-server's
// to the library's best row of the same codec and framing; the BSON and memory goals hold for
// both.
class goal_table {
 public:
  explicit goal_table(const std::vector<row>& rows) : rows_(rows) {}

  void print() {
    std::printf("\ngoals\n%-32s%-*s%10s%10s  %s\n", "goal", row_width, "row", "measured",
                "target", "verdict");
    for (const auto& r : rows_) {
      const config& c = r.what;
      if (!c.is_bsonrpc()) continue;
      const bool json = codec_of(c.framing) == codec::json;
      const bool threads = c.executor == executor::threads;
      if (c.kind == kind::rpc && threads) {
        ratio("W1 >= 0.85 x raw W1", c, "W1", {kind::raw, c.framing}, "W1", 0.85);
        ratio("W2 >= 1.0 x nlohmann W2", c, "W2", {kind::nlohmann, c.framing}, "W2", 1.0);
        ratio("W3 threads >= 1.6 x W1", c, "W3", c, "W1", 1.6);
      } else if (c.kind == kind::rpc) {
        ratio("W1 >= 0.9 x raw W1", c, "W1", {kind::raw, c.framing}, "W1", 0.9);
        ratio("W2 >= 2 x nlohmann W2", c, "W2", {kind::nlohmann, c.framing}, "W2", 2.0);
      } else {
        versus_library("W1 >= 0.9 x library's best W1", r, "W1", 0.9);
        versus_library("W2 >= 0.9 x library's best W2", r, "W2", 0.9);
      }
      if (json && c.kind == kind::rpc)
        ratio("W4 json >= 2 x nlohmann W4", c, "W4", {kind::nlohmann, c.framing}, "W4", 2.0);
      if (!json) {
        ratio("W2 bson >= 1.2 x json W2", c, "W2", {c.kind, framing::rfc7464, c.executor}, "W2",
              1.2);
        ratio("W4 bson >= 0.5 x raw W4", c, "W4", {kind::raw, c.framing}, "W4", 0.5);
      }
      if (r.memory) {
        const auto& m = *r.memory;
        const double limit = threads ? 24 : 8;
        verdict(threads ? "idle connection <= 24 KiB" : "idle connection <= 8 KiB", c,
                fixed(m.kib_per_connection, 1) + " KiB", fixed(limit, 0) + " KiB",
                m.kib_per_connection <= limit);
      }
      if (r.memory && !threads) {
        // Projected from the growth per connection when fewer were measured.
        const auto& m = *r.memory;
        const double mib = m.server_mib + (10'000.0 - static_cast<double>(m.connections)) *
                                              m.kib_per_connection / 1024;
        verdict(m.connections == 10'000 ? "10,000 idle < 200 MiB RSS" : "10,000 idle (projected)",
                c, fixed(mib, 1) + " MiB", "200 MiB", mib < 200);
      }
    }
  }

 private:
  const row* find(const config& c) const {
    for (const auto& r : rows_)
      if (r.what == c) return &r;
    return nullptr;
  }

  void ratio(const char* goal, const config& c, std::string_view w, const config& base,
             std::string_view base_w, double target) {
    const row* r = find(c);
    const row* b = find(base);
    const double x = r ? r->median(w) : 0;
    const double y = b ? b->median(base_w) : 0;
    if (x <= 0 || y <= 0) return;
    verdict(goal, c, fixed(x / y, 2), fixed(target, 2), x / y >= target);
  }

  // Row `r` (bsonrpc-server) against the library row of the same codec and framing that did
  // best in workload `w`, whichever its executor; the verdict names that executor.
  void versus_library(const char* goal, const row& r, std::string_view w, double target) {
    const row* best = nullptr;
    for (const auto& b : rows_)
      if (b.what.kind == kind::rpc && b.what.framing == r.what.framing &&
          (!best || b.median(w) > best->median(w)))
        best = &b;
    const double x = r.median(w);
    const double y = best ? best->median(w) : 0;
    if (x <= 0 || y <= 0) return;
    verdict(goal, r.what, fixed(x / y, 2), fixed(target, 2), x / y >= target,
            ", vs " + std::string(to_string(best->what.executor)));
  }

  static void verdict(const char* goal, const config& c, const std::string& measured,
                      const std::string& target, bool met, const std::string& note = {}) {
    std::printf("%-32s%-*s%10s%10s  %s%s\n", goal, row_width, to_string(c).c_str(),
                measured.c_str(), target.c_str(), met ? "met" : "NOT MET", note.c_str());
  }

  const std::vector<row>& rows_;
};

int run_table(const settings& s) {
  const auto chosen = selected_workloads(s);
  std::vector<row> rows;
  const std::string no_server = missing_server_binary(s);
  bool skipped_server = false;
  for (const config& c : selected_rows(s)) {
    if (s.mode == run_mode::connect && c.kind != kind::rpc) continue;
    if (c.kind == kind::server && !no_server.empty()) {
      skipped_server = true;
      continue;
    }
    row r{c, nullptr, {}, {}};
    if (s.mode == run_mode::table) r.server = start_server(c, s);
    rows.push_back(std::move(r));
  }
  if (skipped_server) {
    std::printf("bench_calls: bsonrpc-server rows skipped: %s\n", no_server.c_str());
    if (rows.empty()) return 0;
  }
  if (rows.empty() || chosen.empty()) throw std::invalid_argument("the filters select nothing");
  const auto external =
      s.mode == run_mode::connect ? std::optional(parse_endpoint(s.address)) : std::nullopt;

  std::printf("bench_calls: %u CPUs, load average %s; client in this process, server in %s\n",
              std::thread::hardware_concurrency(), load_average().c_str(),
              external ? s.address.c_str() : "a child process per row, over loopback TCP");
  std::printf("  bsonrpc and bsonrpc-server rows: bsonrpc's client, with the row's executor\n");
  const auto is_server = [](const row& r) { return r.what.kind == kind::server; };
  if (std::any_of(rows.begin(), rows.end(), is_server))
    std::printf("  bsonrpc-server: %s\n", s.server_binary.c_str());
  for (const auto& w : chosen)
    std::printf("  %.*s  %.*s\n", static_cast<int>(w.name.size()), w.name.data(),
                static_cast<int>(w.description.size()), w.description.data());
  std::fflush(stdout);

  run_context run;
  run.date = utc_now();
  run.cpus = std::thread::hardware_concurrency();
  run.cpu_model = cpu_model();
  run.load_start = load_average_1min();
  run.seconds = static_cast<double>(s.duration.count()) / 1000;
  for (int rep = 1; rep <= s.repetitions; ++rep) {
    std::fprintf(stderr, "repetition %d of %d\n", rep, s.repetitions);
    for (auto& r : rows)
      for (const auto& w : chosen) {
        const auto& server = external ? *external : r.server->endpoint();
        r.samples[w.name].push_back(measure(r.what, server, w, s.duration));
      }
  }
  run.load_end = load_average_1min();
  if (s.measure_memory && !s.sweep && s.mode == run_mode::table) {
    for (auto& r : rows) {
      if (!r.what.is_bsonrpc()) continue;
      r.server.reset();
      const bool threads = r.what.executor == executor::threads;
      std::fprintf(stderr, "idle connections: %s\n", to_string(r.what).c_str());
      r.memory =
          measure_idle_memory(r.what, threads ? s.idle_connections / 10 : s.idle_connections, s);
    }
  }

  print_rates(rows, chosen, s);
  if (std::any_of(rows.begin(), rows.end(), [](const row& r) { return r.memory.has_value(); }))
    print_memory(rows);
  const bool has_goals = std::any_of(chosen.begin(), chosen.end(),
                                     [](const workload& w) { return is_goal_workload(w.name); });
  if (s.mode == run_mode::table && has_goals) goal_table(rows).print();
  if (!s.csv_path.empty()) write_csv_file(s.csv_path, run, rows, chosen);
  return 0;
}

config single_row(const settings& s) {
  const auto rows = selected_rows(s);
  if (rows.size() != 1)
    throw std::invalid_argument("this mode serves one row: give one --kind, --framing, --executor");
  if (rows.front().kind == kind::server)
    throw std::invalid_argument("this mode runs its own server: not a bsonrpc-server row");
  return rows.front();
}

int serve(const settings& s) {
  with_server(single_row(s), parse_endpoint(s.address), [](auto& server) {
    std::cout << "listening on " << server.local_endpoint() << std::endl;
    server.run();
  });
  return 0;
}

int run_in_process(const settings& s) {
  const config c = single_row(s);
  const auto chosen = selected_workloads(s);
  if (chosen.size() != 1) throw std::invalid_argument("--in-process runs one --workload");
  const workload& w = chosen.front();
  with_server(c, {asio::ip::make_address("127.0.0.1"), 0}, [&](auto& server) {
    std::thread serving([&] { server.run(); });
    const auto start = clock_type::now();
    with_client(c, server.local_endpoint(), w.connections, [&](auto& client) {
      auto stop = stop_rule::after_calls(s.calls);
      client.run(std::string(w.payload_bytes, 'x'), w.inflight, stop);
    });
    const std::chrono::duration<double> elapsed = clock_type::now() - start;
    server.stop();
    serving.join();
    std::printf("%s %.*s: %llu calls in %.3f s\n", to_string(c).c_str(),
                static_cast<int>(w.name.size()), w.name.data(),
                static_cast<unsigned long long>(s.calls), elapsed.count());
  });
  return 0;
}

// Each connection holds descriptors: allow as many as the hard limit lets us.
void raise_descriptor_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0) {
    limit.rlim_cur = limit.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &limit);
  }
}

}  // namespace

int main(int argc, char** argv) {
  try {
    if (argc == 2 && std::string_view(argv[1]) == "--help") {
      std::cout << usage;
      return 0;
    }
    raise_descriptor_limit();
    const settings s = parse_command_line(argc, argv);
    switch (s.mode) {
      case run_mode::serve: return serve(s);
      case run_mode::in_process: return run_in_process(s);
      case run_mode::table:
      case run_mode::connect: return run_table(s);
    }
  } catch (const std::invalid_argument& e) {
    std::cerr << "bench_calls: " << e.what() << "\n" << usage;
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "bench_calls: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
