// tests/bench/workloads.hpp: the workloads of the performance goals (issue 6) and how a run of
// one is bounded and timed. Every workload is `echo` of a string, in a closed loop: each
// connection keeps `inflight` calls outstanding, starting the next as one completes.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

namespace bench {

struct workload {
  std::string_view name;
  std::string_view description;
  std::size_t connections;
  std::size_t inflight;  // per connection
  std::size_t payload_bytes;
};

inline constexpr workload workloads[] = {
    {"W1", "sequential calls, 1 connection", 1, 1, 100},
    {"W2", "64 calls in flight, 1 connection", 1, 64, 100},
    {"W3", "4 connections, each sequential", 4, 1, 100},
    {"W4", "1 MiB string, sequential", 1, 1, 1024 * 1024},
};

// The in-flight sweep (--sweep, and the plot of tests/bench/plot.sh): W1's and W2's call on one
// connection at every depth from 1 to 256; I1 is W1 and I64 is W2, measured alongside.
inline constexpr workload inflight_sweep[] = {
    {"I1", "1 call in flight, 1 connection", 1, 1, 100},
    {"I4", "4 calls in flight, 1 connection", 1, 4, 100},
    {"I16", "16 calls in flight, 1 connection", 1, 16, 100},
    {"I64", "64 calls in flight, 1 connection", 1, 64, 100},
    {"I256", "256 calls in flight, 1 connection", 1, 256, 100},
};

using clock_type = std::chrono::steady_clock;

// When a run stops starting calls: at a deadline, or after a number of calls (for profiling).
// Calls already started still complete and count. Any thread may ask.
class stop_rule {
 public:
  static stop_rule after(clock_type::duration d) {
    return stop_rule(clock_type::now() + d, unlimited);
  }
  static stop_rule after_calls(std::uint64_t calls) {
    return stop_rule(clock_type::time_point::max(), calls);
  }

  // Whether one more call may start.
  bool may_issue() {
    if (issued_.fetch_add(1, std::memory_order_relaxed) >= max_calls_) return false;
    return deadline_ == clock_type::time_point::max() || clock_type::now() < deadline_;
  }

 private:
  static constexpr std::uint64_t unlimited = std::numeric_limits<std::uint64_t>::max();
  stop_rule(clock_type::time_point deadline, std::uint64_t max_calls)
      : deadline_(deadline), max_calls_(max_calls) {}

  clock_type::time_point deadline_;
  std::uint64_t max_calls_;
  std::atomic<std::uint64_t> issued_{0};
};

// Calls per second of `w` through `client` (rpc_client or baseline_client) for `duration`,
// after a warm-up of a tenth of it on the same connections.
template <class Client>
double timed_rate(Client& client, const workload& w, clock_type::duration duration) {
  const std::string payload(w.payload_bytes, 'x');
  using std::chrono::milliseconds;
  auto warm_up = stop_rule::after(std::max<clock_type::duration>(duration / 10, milliseconds(20)));
  client.run(payload, w.inflight, warm_up);
  auto stop = stop_rule::after(duration);
  const auto start = clock_type::now();
  const std::uint64_t calls = client.run(payload, w.inflight, stop);
  const std::chrono::duration<double> elapsed = clock_type::now() - start;
  return static_cast<double>(calls) / elapsed.count();
}

}  // namespace bench
