// bsonrpc::backoff, the reconnecting client's schedule of delays, in isolation: it grows by
// the multiplier up to the cap, jitter only ever shortens a delay by at most its share, a
// seed makes it reproducible, reset() starts over, and options out of range are refused.
#include <bsonrpc/backoff.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <stdexcept>
#include <vector>

namespace backoff_unit {
using ms = std::chrono::milliseconds;

bsonrpc::backoff_options without_jitter(ms initial, ms cap, double multiplier = 2.0) {
  bsonrpc::backoff_options o;
  o.initial_delay = initial;
  o.max_delay = cap;
  o.multiplier = multiplier;
  o.jitter = 0;
  return o;
}

std::vector<ms> first(bsonrpc::backoff& b, int n) {
  std::vector<ms> out;
  for (int i = 0; i < n; ++i) out.push_back(b.next());
  return out;
}
}  // namespace backoff_unit

TEST_CASE("backoff: without jitter each delay is the previous one times the multiplier, up to "
          "the cap, where it stays",
          "[backoff]") {
  using namespace backoff_unit;
  bsonrpc::backoff b(without_jitter(ms(100), ms(1000)));
  CHECK(first(b, 7) == std::vector<ms>{ms(100), ms(200), ms(400), ms(800), ms(1000), ms(1000),
                                        ms(1000)});
  bsonrpc::backoff triple(without_jitter(ms(10), ms(500), 3.0));
  CHECK(first(triple, 5) == std::vector<ms>{ms(10), ms(30), ms(90), ms(270), ms(500)});
}

TEST_CASE("backoff: the defaults start at 100 ms and double up to 30 s", "[backoff]") {
  using namespace backoff_unit;
  bsonrpc::backoff_options o;
  o.jitter = 0;
  bsonrpc::backoff b(o);
  const auto delays = first(b, 12);
  CHECK(delays.front() == ms(100));
  CHECK(delays[1] == ms(200));
  CHECK(delays.back() == std::chrono::seconds(30));
  CHECK(bsonrpc::backoff_options().jitter == 0.5);
}

TEST_CASE("backoff: a delay stays capped after any number of steps, without overflow",
          "[backoff]") {
  using namespace backoff_unit;
  bsonrpc::backoff b(without_jitter(ms(1), ms(60000), 10.0));
  for (int i = 0; i < 5000; ++i) b.next();
  CHECK(b.next() == ms(60000));
  CHECK(b.steps() == 1000);
}

TEST_CASE("backoff: jitter takes each delay down by at most its share, and never above the base",
          "[backoff]") {
  using namespace backoff_unit;
  bsonrpc::backoff_options o;
  o.initial_delay = ms(1000);
  o.max_delay = ms(8000);
  o.jitter = 0.25;
  o.seed = 42;
  bsonrpc::backoff b(o);
  const std::vector<long> base{1000, 2000, 4000, 8000, 8000, 8000};
  bool varied = false;
  for (int round = 0; round < 200; ++round) {
    b.reset();
    for (long full : base) {
      const long d = b.next().count();
      CHECK(d <= full);
      CHECK(d >= full * 3 / 4 - 1);
      varied = varied || d != full;
    }
  }
  CHECK(varied);
}

TEST_CASE("backoff: the same seed gives the same delays, another seed others", "[backoff]") {
  using namespace backoff_unit;
  bsonrpc::backoff_options o;
  o.seed = 7;
  bsonrpc::backoff a(o), b(o);
  o.seed = 8;
  bsonrpc::backoff c(o);
  const auto da = first(a, 20);
  CHECK(da == first(b, 20));
  CHECK(da != first(c, 20));
}

TEST_CASE("backoff: reset() starts over from the initial delay", "[backoff]") {
  using namespace backoff_unit;
  bsonrpc::backoff b(without_jitter(ms(5), ms(100)));
  first(b, 4);
  CHECK(b.steps() == 4);
  b.reset();
  CHECK(b.steps() == 0);
  CHECK(b.next() == ms(5));
}

TEST_CASE("backoff: a negative delay, a multiplier below 1 or a jitter outside [0, 1] is refused",
          "[backoff]") {
  using namespace backoff_unit;
  auto with = [](auto change) {
    bsonrpc::backoff_options o;
    change(o);
    return o;
  };
  CHECK_THROWS_AS(bsonrpc::backoff(with([](auto& o) { o.initial_delay = ms(-1); })),
                  std::invalid_argument);
  CHECK_THROWS_AS(bsonrpc::backoff(with([](auto& o) { o.max_delay = ms(-1); })),
                  std::invalid_argument);
  CHECK_THROWS_AS(bsonrpc::backoff(with([](auto& o) { o.multiplier = 0.5; })),
                  std::invalid_argument);
  CHECK_THROWS_AS(bsonrpc::backoff(with([](auto& o) { o.jitter = 1.5; })), std::invalid_argument);
  CHECK_THROWS_AS(bsonrpc::backoff(with([](auto& o) { o.jitter = -0.1; })), std::invalid_argument);
  CHECK_NOTHROW(bsonrpc::backoff(with([](auto& o) { o.jitter = 1.0; })));
}
