// bsonrpc/hooks/metrics.hpp: a message hook counting the requests a side answers, per method,
// with a latency histogram, readable at any time.
//
//   bsonrpc::hooks::metrics metrics;
//   options.hooks = {metrics};  // copies share one table
//   ...
//   for (const auto& [method, stats] : metrics.snapshot())
//     if (auto p99 = stats.latency.quantile(0.99))
//       std::cout << method << ": " << stats.calls << " calls, 99% within " << p99->count() << " us\n";
#pragma once

#include <bsonrpc/hooks.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bsonrpc::hooks {

/// Latencies sorted into buckets: counts[i] holds the samples above upper_bounds[i - 1] and at
/// most upper_bounds[i]; the last count, one past the bounds, the samples above every bound.
struct latency_histogram {
  std::vector<std::chrono::microseconds> upper_bounds;  ///< ascending bucket bounds
  std::vector<std::uint64_t> counts;  ///< per bucket, one more than upper_bounds

  /// The number of samples in every bucket.
  std::uint64_t samples() const {
    std::uint64_t n = 0;
    for (auto c : counts) n += c;
    return n;
  }

  /// The smallest bound with at least a fraction `q` (0..1) of the samples at or below it;
  /// nullopt when there are no samples, or when that takes the unbounded last bucket.
  std::optional<std::chrono::microseconds> quantile(double q) const {
    const std::uint64_t n = samples();
    if (n == 0) return std::nullopt;
    const double wanted = std::clamp(q, 0.0, 1.0) * static_cast<double>(n);
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < upper_bounds.size(); ++i) {
      seen += counts[i];
      if (static_cast<double>(seen) >= wanted && seen > 0) return upper_bounds[i];
    }
    return std::nullopt;
  }
};

/// Counts, per method, the requests this side answers and how long each took, from the
/// request being read to its reply passing this hook (just before it is encoded and queued;
/// the handler's time and any wait for a worker included), and the notifications received.
///
/// Where it sits in Options::hooks matters: first, it counts and times every request,
/// including those a later hook answers (an access check's refusals, counted as errors); after
/// another hook, only what gets past that one. Replies to invalid input, which no request
/// method names, are not counted.
///
/// Thread-safe; copies share one table, so keep one to call snapshot() while connections run.
/// Memory stays bounded whatever peers send: at most max_methods method names, each at most
/// max_name_bytes long, get a row of their own; every other method counts in the row named
/// other_methods.
class metrics {
 public:
  /// One method's counters.
  struct method_stats {
    std::uint64_t calls = 0;          ///< requests answered (answered with an error included)
    std::uint64_t errors = 0;         ///< requests answered with an error
    std::uint64_t notifications = 0;  ///< notifications received
    std::chrono::nanoseconds total_latency{0};  ///< summed over the requests answered
    std::chrono::nanoseconds max_latency{0};    ///< the longest request
    latency_histogram latency;                  ///< the requests' latencies, in buckets
  };

  /// The row counting the methods past the first max_methods, and names over max_name_bytes.
  static constexpr std::string_view other_methods = "(other)";

  /// Bounds from 50 us to 10 s, in steps of 1, 2.5, 5.
  static std::vector<std::chrono::microseconds> default_bounds() {
    std::vector<std::chrono::microseconds> bounds{std::chrono::microseconds(50)};
    for (std::int64_t decade = 100; decade <= 1'000'000; decade *= 10)
      for (std::int64_t step : {decade, decade * 5 / 2, decade * 5})
        bounds.emplace_back(step);
    bounds.emplace_back(10'000'000);
    return bounds;
  }

  /// `upper_bounds`: the histogram's buckets, strictly ascending (else std::invalid_argument).
  explicit metrics(std::vector<std::chrono::microseconds> upper_bounds = default_bounds(),
                   std::size_t max_methods = 1000, std::size_t max_name_bytes = 256)
      : table_(std::make_shared<table>()) {
    for (std::size_t i = 1; i < upper_bounds.size(); ++i)
      if (upper_bounds[i] <= upper_bounds[i - 1])
        throw std::invalid_argument("metrics: histogram bounds must be strictly ascending");
    table_->bounds = std::move(upper_bounds);
    table_->max_methods = max_methods;
    table_->max_name_bytes = max_name_bytes;
  }

  /// Counts one message (the hook itself).
  template <class V>
  void operator()(hook_message<V>& m) const {
    if (m.is_incoming()) {
      if (m.kind() == hook_kind::notification) table_->count_notification(m.method());
      return;
    }
    const bool is_reply = m.kind() == hook_kind::response || m.kind() == hook_kind::error;
    if (!is_reply || m.method().empty()) return;
    const auto latency = std::chrono::steady_clock::now() - m.received_at();
    table_->count_call(m.method(), m.kind() == hook_kind::error,
                       std::chrono::duration_cast<std::chrono::nanoseconds>(latency));
  }

  /// Every method's counters so far, by method name.
  std::map<std::string, method_stats, std::less<>> snapshot() const {
    std::lock_guard lock(table_->mutex);
    std::map<std::string, method_stats, std::less<>> out;
    for (const auto& [name, row] : table_->rows) {
      method_stats& s = out[name];
      s.calls = row.calls;
      s.errors = row.errors;
      s.notifications = row.notifications;
      s.total_latency = row.total_latency;
      s.max_latency = row.max_latency;
      s.latency.upper_bounds = table_->bounds;
      s.latency.counts = row.counts;
    }
    return out;
  }

 private:
  struct row {
    std::uint64_t calls = 0;
    std::uint64_t errors = 0;
    std::uint64_t notifications = 0;
    std::chrono::nanoseconds total_latency{0};
    std::chrono::nanoseconds max_latency{0};
    std::vector<std::uint64_t> counts;
  };

  struct table {
    std::mutex mutex;
    std::map<std::string, row, std::less<>> rows;
    std::vector<std::chrono::microseconds> bounds;
    std::size_t max_methods = 0;
    std::size_t max_name_bytes = 0;

    // The row for `method`, made if the limits allow; else the row of other methods.
    row& row_for(std::string_view method) {
      auto it = rows.find(method);
      if (it == rows.end()) {
        const bool fits = rows.size() < max_methods && method.size() <= max_name_bytes &&
                          method != other_methods;
        it = rows.try_emplace(std::string(fits ? method : other_methods)).first;
        it->second.counts.resize(bounds.size() + 1);
      }
      return it->second;
    }

    void count_call(std::string_view method, bool is_error, std::chrono::nanoseconds latency) {
      const auto bucket = static_cast<std::size_t>(
          std::lower_bound(bounds.begin(), bounds.end(), latency) - bounds.begin());
      std::lock_guard lock(mutex);
      row& r = row_for(method);
      ++r.calls;
      if (is_error) ++r.errors;
      r.total_latency += latency;
      r.max_latency = std::max(r.max_latency, latency);
      ++r.counts[bucket];
    }

    void count_notification(std::string_view method) {
      std::lock_guard lock(mutex);
      ++row_for(method).notifications;
    }
  };

  std::shared_ptr<table> table_;
};

}  // namespace bsonrpc::hooks
