// bsonrpc/backoff.hpp: the delays between reconnection attempts (reconnecting_client):
// exponential, capped, with jitter so that many clients of one restarted server do not all
// come back at the same moment.
//
// The n-th delay after a reset (n = 0, 1, ...) is
//   base(n) = min(max_delay, initial_delay * multiplier^n)
//   delay   = base(n) * (1 - jitter * u),  u uniform in [0, 1)
// so it never exceeds max_delay, and jitter = 0 gives exactly base(n).
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <optional>
#include <random>
#include <stdexcept>

namespace bsonrpc {

/// How the delays between reconnection attempts grow (see backoff).
struct backoff_options {
  /// The first delay after a reset.
  std::chrono::milliseconds initial_delay = std::chrono::milliseconds(100);
  /// The cap: no delay is longer.
  std::chrono::milliseconds max_delay = std::chrono::seconds(30);
  /// Each delay is the previous one times this (at least 1).
  double multiplier = 2.0;
  /// The fraction of each delay that is random, in [0, 1]: a delay is taken down by up to this
  /// share of it (0.5: between half and all of it; 0: no randomness).
  double jitter = 0.5;
  /// Seeds the jitter's random numbers (tests, reproducible runs); nullopt: std::random_device.
  std::optional<std::uint64_t> seed = std::nullopt;
};

/// The schedule of delays between attempts: next() grows exponentially up to the cap, reset()
/// starts over (after a success). Not thread-safe: one owner asks it.
class backoff {
 public:
  /// A schedule following `options`; throws std::invalid_argument for a negative delay, a
  /// multiplier below 1 or a jitter outside [0, 1].
  explicit backoff(const backoff_options& options = {})
      : options_(options), random_(options.seed ? *options.seed : std::random_device{}()) {
    if (options.initial_delay.count() < 0 || options.max_delay.count() < 0)
      throw std::invalid_argument("backoff: delays must not be negative");
    if (!(options.multiplier >= 1.0))
      throw std::invalid_argument("backoff: multiplier must be at least 1");
    if (!(options.jitter >= 0.0 && options.jitter <= 1.0))
      throw std::invalid_argument("backoff: jitter must be within [0, 1]");
  }

  /// The next delay, and the schedule moves on by one step.
  std::chrono::milliseconds next() {
    const double base = base_delay(steps_);
    if (steps_ < max_steps) ++steps_;
    const double u = std::uniform_real_distribution<double>(0.0, 1.0)(random_);
    return std::chrono::milliseconds(static_cast<std::int64_t>(base * (1.0 - options_.jitter * u)));
  }

  /// Starts over from initial_delay.
  void reset() noexcept { steps_ = 0; }

  /// How many delays next() has given since the last reset (it stops counting at 1000).
  unsigned steps() const noexcept { return steps_; }

  /// The options it follows.
  const backoff_options& options() const noexcept { return options_; }

 private:
  // Past this many steps every delay is the cap anyway (and multiplier^n would overflow).
  static constexpr unsigned max_steps = 1000;

  double base_delay(unsigned n) const {
    const double cap = static_cast<double>(options_.max_delay.count());
    double d = static_cast<double>(options_.initial_delay.count());
    for (unsigned i = 0; i < n && d < cap; ++i) d *= options_.multiplier;
    return std::min(d, cap);
  }

  backoff_options options_;
  std::mt19937_64 random_;
  unsigned steps_ = 0;
};

}  // namespace bsonrpc
