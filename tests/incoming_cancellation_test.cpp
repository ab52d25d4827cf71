// The in-flight table of cancellable requests (detail/connection/incoming_cancellation.hpp):
// cancel flags, callbacks, and what bad cancels leave behind (nothing).
#include <bsonrpc/detail/connection/incoming_cancellation.hpp>
#include <bsonrpc/detail/connection/progress_routes.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <future>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using bsonrpc::detail::incoming_cancellation;
using bsonrpc::detail::request_cancellation;

namespace {
const bsonrpc::logger quiet;
}

TEST_CASE("cancellation: a cancel marks the request in flight and runs its callbacks once",
          "[cancellation]") {
  incoming_cancellation table;
  auto request = table.enter("i1");
  int runs = 0;
  request->on_cancel([&] { ++runs; }, quiet);
  CHECK_FALSE(request->cancelled());
  CHECK(table.cancel("i1", quiet));
  CHECK(request->cancelled());
  CHECK(runs == 1);
  CHECK_FALSE(table.cancel("i1", quiet));  // twice: nothing more
  CHECK(runs == 1);
  CHECK(table.leave(*request));
  CHECK(table.size() == 0);
}

TEST_CASE("cancellation: a callback registered after the cancel runs at once, here",
          "[cancellation]") {
  incoming_cancellation table;
  auto request = table.enter("i1");
  REQUIRE(table.cancel("i1", quiet));
  std::thread::id ran_on;
  request->on_cancel([&] { ran_on = std::this_thread::get_id(); }, quiet);
  CHECK(ran_on == std::this_thread::get_id());
  table.leave(*request);
}

TEST_CASE("cancellation: a cancel for an unknown id changes nothing and stores nothing",
          "[cancellation]") {
  incoming_cancellation table;
  auto request = table.enter("i1");
  CHECK_FALSE(table.cancel("i2", quiet));
  CHECK_FALSE(table.cancel("s1", quiet));  // the string "1" is not the integer 1
  CHECK_FALSE(request->cancelled());
  CHECK(table.size() == 1);
  CHECK_FALSE(table.leave(*request));
  CHECK(table.size() == 0);
  for (int i = 0; i < 1000; ++i) table.cancel("i" + std::to_string(i), quiet);
  CHECK(table.size() == 0);
}

TEST_CASE("cancellation: a cancel after the handler returned runs no callback", "[cancellation]") {
  incoming_cancellation table;
  auto request = table.enter("i1");
  int runs = 0;
  request->on_cancel([&] { ++runs; }, quiet);
  CHECK_FALSE(table.leave(*request));
  CHECK_FALSE(table.cancel("i1", quiet));
  CHECK_FALSE(request->cancel(quiet));  // even through a reference kept elsewhere
  request->on_cancel([&] { ++runs; }, quiet);
  CHECK(runs == 0);
}

TEST_CASE("cancellation: a reused id in flight leaves the first filed, and the second's end "
          "does not unfile it",
          "[cancellation]") {
  incoming_cancellation table;
  auto first = table.enter("i1");
  auto second = table.enter("i1");
  CHECK(table.size() == 1);
  table.leave(*second);
  CHECK(table.size() == 1);
  CHECK(table.cancel("i1", quiet));
  CHECK(first->cancelled());
  CHECK_FALSE(second->cancelled());
  CHECK(table.leave(*first));
  CHECK(table.size() == 0);
}

TEST_CASE("cancellation: a throwing callback is logged and the others still run",
          "[cancellation]") {
  std::vector<std::string> lines;
  bsonrpc::logger log([&](bsonrpc::log_level, std::uint64_t, std::string_view line) {
    lines.emplace_back(line);
  }, {}, 1);
  incoming_cancellation table;
  auto request = table.enter("i1");
  int runs = 0;
  request->on_cancel([] { throw std::runtime_error("boom"); }, log);
  request->on_cancel([&] { ++runs; }, log);
  CHECK(table.cancel("i1", log));
  CHECK(runs == 1);
  REQUIRE(lines.size() == 1);
  CHECK(lines[0].find("boom") != std::string::npos);
  table.leave(*request);
}

TEST_CASE("cancellation: the handler's end waits for a callback running on another thread",
          "[cancellation]") {
  incoming_cancellation table;
  auto request = table.enter("i1");
  std::promise<void> entered;
  std::promise<void> release;
  std::atomic<bool> callback_done{false};
  request->on_cancel(
      [&] {
        entered.set_value();
        release.get_future().wait();
        callback_done = true;
      },
      quiet);
  std::thread canceller([&] { table.cancel("i1", quiet); });
  entered.get_future().wait();
  std::thread releaser([&] { release.set_value(); });
  CHECK(table.leave(*request));  // returns only once the callback has
  CHECK(callback_done);
  canceller.join();
  releaser.join();
}

TEST_CASE("progress routes: a route lives until removed, and an unknown token finds nothing",
          "[progress]") {
  bsonrpc::detail::progress_routes routes;
  const std::string a = routes.next_token();
  const std::string b = routes.next_token();
  CHECK(a != b);
  int seen = 0;
  routes.add("s" + a, [&](const bsonrpc::value&) { ++seen; });
  auto route = routes.find("s" + a);
  REQUIRE(route);
  (*route)(bsonrpc::value(1));
  CHECK(seen == 1);
  CHECK(routes.find("s" + b) == nullptr);
  routes.remove("s" + a);
  routes.remove("s" + a);
  CHECK(routes.find("s" + a) == nullptr);
  CHECK(routes.size() == 0);
}
