// Rpc::shutdown() and async_shutdown(): a connection ends without losing a reply. Requests
// read before it began are answered, those read after are refused with -32000 "Shutting
// down", this side's own pending calls still get their replies, and the bound closes the
// connection when a handler outlasts it. Over TCP and Unix sockets, with both executors.
#include <bsonrpc/bsonrpc.hpp>

#include "../support/rpc_pair.hpp"
#include "../support/socket_pairs.hpp"

#include <catch2/catch.hpp>

#include <asio.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <system_error>
#include <thread>
#include <type_traits>
#include <vector>

using namespace std::chrono_literals;

namespace graceful {

// A gate handlers wait at until the test opens it (bounded, so a failing test cannot hang).
class gate {
 public:
  void open() {
    std::lock_guard lock(mutex_);
    open_ = true;
    changed_.notify_all();
  }
  void pass() {
    std::unique_lock lock(mutex_);
    changed_.wait_for(lock, 20s, [&] { return open_; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  bool open_ = false;
};

struct Services {
  std::atomic<int> handled{0};
  std::atomic<int> gated_entered{0};
  std::function<void(int)> on_work;  // called by work() with the count so far
  gate hold;

  int work(int x) {
    const int n = ++handled;
    if (on_work) on_work(n);
    return x;
  }
  // Waits at the gate, then answers `x`.
  int gated(int x) {
    ++gated_entered;
    hold.pass();
    return x;
  }
  std::string echo(const std::string& text) { return text; }
};

BSONRPC_SERVICE(Services, BSONRPC_REQUEST(work, x), BSONRPC_REQUEST(gated, x),
                BSONRPC_REQUEST(echo, text))

template <class Rpc>
struct unix_setup {
  using rpc = Rpc;
  using transport = bsonrpc::test::unix_transport;
  static constexpr bool event_loop =
      std::is_same_v<typename Rpc::executor_policy, bsonrpc::EventLoop>;
};

using json_threads_tcp = bsonrpc::test::tcp_setup<bsonrpc::JsonRpc<bsonrpc::Rfc7464, bsonrpc::Threads>>;
using json_loop_tcp = bsonrpc::test::tcp_setup<bsonrpc::JsonRpc<bsonrpc::Rfc7464, bsonrpc::EventLoop>>;
using bson_threads_unix = unix_setup<bsonrpc::BsonRpc<bsonrpc::Threads>>;
using bson_loop_unix = unix_setup<bsonrpc::BsonRpc<bsonrpc::EventLoop>>;

template <class Setup>
using pair = bsonrpc::test::rpc_pair<Setup, Services>;

// Waits (bounded) until `ready()` holds.
template <class F>
bool eventually(F ready) {
  for (auto until = std::chrono::steady_clock::now() + 20s;
       std::chrono::steady_clock::now() < until; std::this_thread::sleep_for(1ms))
    if (ready()) return true;
  return ready();
}

template <class T>
bool settles(std::future<T>& f) {
  return f.wait_for(20s) == std::future_status::ready;
}

// How a call ended. Through a callback with an error code, not a future's exception, which
// ThreadSanitizer cannot follow across threads (libstdc++ counts its references unseen).
template <class R>
struct ended {
  std::error_code ec;
  R result{};
};

template <class R, class Rpc, class... Args>
std::future<ended<R>> start(Rpc& rpc, const char* method, const Args&... args) {
  auto promise = std::make_shared<std::promise<ended<R>>>();
  auto future = promise->get_future();
  rpc.template async_call<R>(method, args..., [promise](std::error_code ec, R result) {
    promise->set_value({ec, std::move(result)});
  });
  return future;
}

constexpr int closed = 1;
constexpr int shutting_down = -32000;

// The JSON-RPC error code a call failed with, 0 for a result, `closed` for connection_closed,
// -1 for another failure.
template <class R>
int error_code_of(std::future<ended<R>>& f) {
  const std::error_code ec = f.get().ec;
  if (!ec) return 0;
  if (ec == bsonrpc::errc::connection_closed) return closed;
  if (ec.category() == bsonrpc::rpc_category() && ec.value() < 0) return ec.value();
  return -1;
}

// Where a blocking shutdown() must be refused: "refused" if it throws errc::internal_error,
// else what happened instead.
template <class Rpc>
std::string blocking_shutdown_outcome(Rpc& rpc) {
  try {
    rpc.shutdown(1s);
    return "not refused";
  } catch (const bsonrpc::error& e) {
    return e.code() == bsonrpc::errc::internal_error ? "refused" : e.what();
  }
}

// The blocking shutdown() was refused, and the async_shutdown() started after it succeeded.
void check_refused_then_shut_down(std::promise<std::string>& refused,
                                  std::promise<std::error_code>& outcome) {
  auto r = refused.get_future();
  auto o = outcome.get_future();
  REQUIRE(settles(r));
  CHECK(r.get() == "refused");
  REQUIRE(settles(o));
  CHECK_FALSE(o.get());
}

}  // namespace graceful

using namespace graceful;

TEMPLATE_TEST_CASE("shutdown: a request in flight is answered before the connection closes, and a request read after shutdown began is refused with -32000",
                   "[sockets][shutdown]", json_threads_tcp, json_loop_tcp, bson_threads_unix,
                   bson_loop_unix) {
  pair<TestType> p;
  auto in_flight = start<int>(*p.client, "gated", 7);
  REQUIRE(eventually([&] { return p.server_services.gated_entered == 1; }));
  auto stopped = std::async(std::launch::async, [&] { return p.server->shutdown(20s); });
  // Once the shutdown has begun, a new request is refused (the probe may race its start).
  int refused = 0;
  for (int i = 0; i < 2000 && refused == 0; ++i) {
    auto probe = start<std::string>(*p.client, "echo", "late");
    REQUIRE(settles(probe));
    refused = error_code_of(probe);
    if (refused == 0) std::this_thread::sleep_for(1ms);
  }
  CHECK(refused == shutting_down);
  CHECK_FALSE(p.server->is_closed());  // the gated handler still runs
  p.server_services.hold.open();
  REQUIRE(settles(in_flight));
  CHECK(in_flight.get().result == 7);
  REQUIRE(settles(stopped));
  CHECK(stopped.get());
  CHECK(p.server->is_closed());
  CHECK(p.client->join(20s));  // the client saw the end of stream and closed too
}

TEMPLATE_TEST_CASE("shutdown: this side's own pending call still gets its reply, and shutdown waits for it",
                   "[sockets][shutdown]", json_threads_tcp, json_loop_tcp, bson_threads_unix,
                   bson_loop_unix) {
  pair<TestType> p;
  auto mine = start<int>(*p.server, "gated", 11);  // the client's handler waits
  REQUIRE(eventually([&] { return p.client_services.gated_entered == 1; }));
  auto stopped = std::async(std::launch::async, [&] { return p.server->shutdown(20s); });
  CHECK(stopped.wait_for(50ms) == std::future_status::timeout);
  p.client_services.hold.open();
  REQUIRE(settles(mine));
  CHECK(mine.get().result == 11);
  REQUIRE(settles(stopped));
  CHECK(stopped.get());
}

TEMPLATE_TEST_CASE("shutdown: a handler that outlasts the bound makes shutdown return false and close the connection; the peer's call fails with connection_closed",
                   "[sockets][shutdown]", json_threads_tcp, json_loop_tcp) {
  pair<TestType> p;
  auto stuck = start<int>(*p.client, "gated", 1);
  REQUIRE(eventually([&] { return p.server_services.gated_entered == 1; }));
  const auto started = std::chrono::steady_clock::now();
  CHECK_FALSE(p.server->shutdown(200ms));
  CHECK(std::chrono::steady_clock::now() - started < 10s);
  CHECK(p.server->is_closed());
  REQUIRE(settles(stuck));
  CHECK(error_code_of(stuck) == closed);
  p.server_services.hold.open();
  CHECK(p.server->join(20s));
}

TEMPLATE_TEST_CASE("shutdown: called twice at once, both wait for the same drain; close() during a shutdown completes async_shutdown with connection_closed",
                   "[sockets][shutdown]", json_threads_tcp, json_loop_tcp) {
  SECTION("twice") {
    pair<TestType> p;
    auto in_flight = start<int>(*p.client, "gated", 3);
    REQUIRE(eventually([&] { return p.server_services.gated_entered == 1; }));
    auto first = std::async(std::launch::async, [&] { return p.server->shutdown(20s); });
    auto second = std::async(std::launch::async, [&] { return p.server->shutdown(20s); });
    p.server_services.hold.open();
    REQUIRE(settles(first));
    REQUIRE(settles(second));
    CHECK(first.get());
    CHECK(second.get());
    CHECK(in_flight.get().result == 3);
    CHECK(p.server->shutdown(1s));  // after the fact: at once, same outcome
  }
  SECTION("close() during it") {
    pair<TestType> p;
    auto in_flight = start<int>(*p.client, "gated", 3);
    REQUIRE(eventually([&] { return p.server_services.gated_entered == 1; }));
    std::promise<std::error_code> outcome;
    p.server->async_shutdown(20s, [&](std::error_code ec) { outcome.set_value(ec); });
    p.server->close();
    auto done = outcome.get_future();
    p.server_services.hold.open();
    REQUIRE(settles(done));
    CHECK(done.get() == bsonrpc::errc::connection_closed);
    REQUIRE(settles(in_flight));
    CHECK(error_code_of(in_flight) == closed);
  }
}

TEMPLATE_TEST_CASE("shutdown: a blocking shutdown() in one of the connection's own handlers is refused; async_shutdown() there works",
                   "[sockets][shutdown]", json_threads_tcp, json_loop_tcp) {
  pair<TestType> p;
  std::promise<std::string> refused;
  std::promise<std::error_code> outcome;
  p.server_services.on_work = [&](int n) {
    if (n != 1) return;
    refused.set_value(blocking_shutdown_outcome(*p.server));
    p.server->async_shutdown([&](std::error_code ec) { outcome.set_value(ec); });
  };
  auto answered = start<int>(*p.client, "work", 5);
  REQUIRE(settles(answered));
  CHECK(answered.get().result == 5);  // its own reply still goes out
  check_refused_then_shut_down(refused, outcome);
}

TEST_CASE("shutdown: on the EventLoop's own thread, shutdown() is refused and async_shutdown() completes without blocking the loop",
          "[sockets][shutdown]") {
  pair<json_loop_tcp> p;
  std::promise<std::string> refused;
  std::promise<std::error_code> outcome;
  asio::post(p.io, [&] {
    refused.set_value(blocking_shutdown_outcome(*p.server));
    p.server->async_shutdown(5s, [&](std::error_code ec) { outcome.set_value(ec); });
  });
  check_refused_then_shut_down(refused, outcome);
  CHECK(p.client->join(20s));
}

// The client pipelines 10,000 calls; the server begins its shutdown from a handler once
// `trigger` handlers have run. Every call completes exactly once: with its own result if the
// server ran its handler (every handler's reply arrives), with -32000 if the server read it
// after the shutdown began, or with connection_closed if the server never answered it (read
// after its sending side was shut, or never read). Nothing else.
TEMPLATE_TEST_CASE("shutdown under 10,000 in-flight calls loses no reply",
                   "[sockets][shutdown]", json_threads_tcp, json_loop_tcp, bson_threads_unix,
                   bson_loop_unix) {
  constexpr int calls = 10000;
  constexpr int trigger = 1000;
  pair<TestType> p;
  std::promise<void> triggered;
  p.server_services.on_work = [&](int n) {
    if (n == trigger) triggered.set_value();
  };
  std::vector<std::atomic<int>> completions(calls);
  std::vector<std::atomic<int>> outcome(calls);  // 0 none, 1 result, 2 refused, 3 closed, 4 other
  std::atomic<int> done{0};
  for (int i = 0; i < calls; ++i) {
    p.client->template async_call<int>("work", i, [&, i](std::error_code ec, int result) {
      ++completions[i];
      if (!ec) outcome[i] = result == i ? 1 : 4;
      else if (ec == std::error_code(shutting_down, bsonrpc::rpc_category())) outcome[i] = 2;
      else if (ec == bsonrpc::errc::connection_closed) outcome[i] = 3;
      else outcome[i] = 4;
      ++done;
    });
  }
  auto t = triggered.get_future();
  REQUIRE(t.wait_for(20s) == std::future_status::ready);
  CHECK(p.server->shutdown(20s));
  REQUIRE(eventually([&] { return done == calls; }));
  int results = 0, refused = 0, closed_count = 0, other = 0, not_once = 0;
  for (int i = 0; i < calls; ++i) {
    if (completions[i] != 1) ++not_once;
    switch (outcome[i].load()) {
      case 1: ++results; break;
      case 2: ++refused; break;
      case 3: ++closed_count; break;
      default: ++other; break;
    }
  }
  INFO("results " << results << ", refused " << refused << ", closed " << closed_count);
  CHECK(not_once == 0);
  CHECK(other == 0);
  CHECK(results == p.server_services.handled.load());
  CHECK(results >= trigger);
  CHECK(results + refused + closed_count == calls);
  // Answered in order of reading: no call read before one that was refused has no result.
  int last_result = -1, first_unanswered = calls;
  for (int i = 0; i < calls; ++i) {
    if (outcome[i] == 1) last_result = i;
    else if (first_unanswered == calls) first_unanswered = i;
  }
  CHECK(last_result < first_unanswered);
  CHECK(p.client->join(20s));
}
