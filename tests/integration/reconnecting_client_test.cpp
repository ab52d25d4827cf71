// reconnecting_client over real sockets: a server killed and started again on the same port
// is reconnected to (on_connected runs again, the next call succeeds); calls while there is no
// connection fail at once with not_connected in every form; a call in flight when the
// connection drops fails once with connection_closed; attempts follow the backoff schedule;
// close() wakes a client sleeping between attempts. Both executors, both codecs.
#include <bsonrpc/bsonrpc.hpp>
#include <bsonrpc/reconnecting_client.hpp>

#include "../support/restartable_server.hpp"

#include <catch2/catch.hpp>

#include <asio.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

using namespace std::chrono_literals;

namespace reconnecting_it {

// Every wait of these tests is bounded by this; it only matters when something is broken.
constexpr auto patience = 20s;

template <class Codec, class Executor>
struct config {
  using client_rpc = bsonrpc::Rpc<Codec, std::conditional_t<std::is_same_v<Codec, bsonrpc::BsonCodec>,
                                                            bsonrpc::BsonFraming, bsonrpc::Rfc7464>,
                                  Executor>;
  using server_rpc = bsonrpc::Rpc<Codec, typename client_rpc::framing_type, bsonrpc::EventLoop>;
  static constexpr bool event_loop = std::is_same_v<Executor, bsonrpc::EventLoop>;
};

using json_threads = config<bsonrpc::JsonCodec, bsonrpc::Threads>;
using json_loop = config<bsonrpc::JsonCodec, bsonrpc::EventLoop>;
using bson_threads = config<bsonrpc::BsonCodec, bsonrpc::Threads>;
using bson_loop = config<bsonrpc::BsonCodec, bsonrpc::EventLoop>;

// The client's io_context: with EventLoop a thread runs it; with Threads each connection's
// own threads drive it.
struct client_loop {
  asio::io_context io;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::thread thread;
  explicit client_loop(bool run) {
    if (!run) return;
    work.emplace(io.get_executor());
    thread = std::thread([this] { io.run(); });
  }
  ~client_loop() {
    work.reset();
    if (thread.joinable()) thread.join();
  }
};

// A connect function to `port` on 127.0.0.1 making a Client Rpc.
template <class Client>
auto connect_to(asio::io_context& io, unsigned short port) {
  return [&io, port] {
    asio::ip::tcp::socket socket(io);
    socket.connect({asio::ip::make_address("127.0.0.1"), port});
    socket.set_option(asio::ip::tcp::no_delay(true));
    return std::make_unique<Client>(std::move(socket));
  };
}

// Waits until `done()` holds, at most `patience`.
template <class F>
bool eventually(F done) {
  const auto until = std::chrono::steady_clock::now() + patience;
  while (!done()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

// Holds the server's `hold` requests until opened (or `patience` passes).
struct gate {
  std::mutex mutex;
  std::condition_variable changed;
  bool entered = false;
  bool open = false;
  void pass() {
    std::unique_lock lock(mutex);
    entered = true;
    changed.notify_all();
    changed.wait_for(lock, patience, [&] { return open; });
  }
  bool wait_entered() {
    std::unique_lock lock(mutex);
    return changed.wait_for(lock, patience, [&] { return entered; });
  }
  void release() {
    std::lock_guard lock(mutex);
    open = true;
    changed.notify_all();
  }
};

template <class Server>
void register_methods(Server& methods, std::atomic<int>& subscriptions, gate* held = nullptr) {
  methods.add_request("add", [](int a, int b) { return a + b; }, {"a", "b"});
  methods.add_request("subscribe", [&subscriptions] { return ++subscriptions; });
  methods.add_request("hold", [held] {
    if (held) held->pass();
    return 0;
  });
}

// A connection refused at once: nothing listens on a port just released.
inline unsigned short unused_port() {
  asio::io_context io;
  asio::ip::tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
  return acceptor.local_endpoint().port();
}

}  // namespace reconnecting_it

TEMPLATE_TEST_CASE("reconnecting client: after the server is killed and started again, the next "
                   "call succeeds and on_connected has run again",
                   "[reconnecting_client][sockets]", reconnecting_it::json_threads,
                   reconnecting_it::json_loop, reconnecting_it::bson_threads,
                   reconnecting_it::bson_loop) {
  using namespace reconnecting_it;
  using client_rpc = typename TestType::client_rpc;
  std::atomic<int> subscriptions{0};
  bsonrpc::test::restartable_server<typename TestType::server_rpc> server(
      [&](auto& methods) { register_methods(methods, subscriptions); });
  client_loop loop(TestType::event_loop);
  std::atomic<int> connected_runs{0};
  bsonrpc::reconnect_options options;
  options.backoff.initial_delay = 10ms;
  options.backoff.max_delay = 50ms;
  bsonrpc::reconnecting_client<client_rpc> client(
      connect_to<client_rpc>(loop.io, server.port()),
      [&](client_rpc& rpc) {
        rpc.template call<int>("subscribe");  // the hook may call through its connection
        ++connected_runs;
      },
      options);

  REQUIRE(client.wait_connected(patience));
  CHECK(client.template call<int>("add", 1, 2) == 3);
  CHECK(connected_runs == 1);
  CHECK(subscriptions == 1);

  server.kill();
  REQUIRE(eventually([&] { return !client.is_connected(); }));
  server.start();
  REQUIRE(client.wait_connected(patience));

  CHECK(client.template call<int>("add", 20, 22) == 42);
  CHECK(connected_runs == 2);
  CHECK(subscriptions == 2);
  CHECK(client.connections() == 2);
  std::future<int> sum = client.template async_call<int>("add", 2, 2);
  CHECK(sum.get() == 4);
}

TEMPLATE_TEST_CASE("reconnecting client: while there is no connection every form of call fails "
                   "at once with not_connected",
                   "[reconnecting_client][sockets]", reconnecting_it::json_threads,
                   reconnecting_it::json_loop) {
  using namespace reconnecting_it;
  using client_rpc = typename TestType::client_rpc;
  client_loop loop(TestType::event_loop);
  std::atomic<int> failures{0};
  bsonrpc::reconnect_options options;
  options.backoff.initial_delay = 1h;  // one attempt, refused, then a long sleep
  options.on_connect_failed = [&](std::exception_ptr, std::chrono::milliseconds) { ++failures; };
  bsonrpc::reconnecting_client<client_rpc> client(connect_to<client_rpc>(loop.io, unused_port()),
                                                  {}, options);
  REQUIRE(eventually([&] { return failures == 1; }));
  CHECK_FALSE(client.is_connected());
  CHECK_FALSE(client.wait_connected(1ms));

  try {
    client.template call<int>("add", 1, 2);
    FAIL("call went through without a connection");
  } catch (const bsonrpc::not_connected& e) {
    CHECK(e.code() == bsonrpc::errc::not_connected);
  }
  // Caught as connection_closed too, so one handler covers both.
  CHECK_THROWS_AS(client.notify("log", "x"), bsonrpc::connection_closed);
  CHECK_THROWS_AS(client.template call_for<int>(1s, "add", 1, 2), bsonrpc::not_connected);
  CHECK_THROWS_AS(client.with_connection([](client_rpc&) { return 0; }), bsonrpc::not_connected);

  std::future<int> future = client.template async_call<int>("add", 1, 2);
  CHECK_THROWS_AS(future.get(), bsonrpc::not_connected);
  CHECK_THROWS_AS(client.template async_call<int>("add", 1, 2, asio::use_future).get(),
                  bsonrpc::not_connected);

  int completions = 0;
  std::error_code code;
  client.template async_call<int>("add", 1, 2, [&](std::error_code ec, int) {
    ++completions;
    code = ec;
  });
  CHECK(completions == 1);  // before async_call returned: the callback has no executor
  CHECK(code == bsonrpc::errc::not_connected);

  std::exception_ptr failure;
  client.template async_call<void>("log", [&](std::exception_ptr e) { failure = e; });
  CHECK_THROWS_AS(std::rethrow_exception(failure), bsonrpc::not_connected);
}

TEMPLATE_TEST_CASE("reconnecting client: a call in flight when the connection drops fails once "
                   "with connection_closed, and the client reconnects",
                   "[reconnecting_client][sockets]", reconnecting_it::json_threads,
                   reconnecting_it::json_loop, reconnecting_it::bson_threads,
                   reconnecting_it::bson_loop) {
  using namespace reconnecting_it;
  using client_rpc = typename TestType::client_rpc;
  std::atomic<int> subscriptions{0};
  gate held;
  bsonrpc::test::restartable_server<typename TestType::server_rpc> server(
      [&](auto& methods) { register_methods(methods, subscriptions, &held); });
  client_loop loop(TestType::event_loop);
  bsonrpc::reconnect_options options;
  options.backoff.initial_delay = 10ms;
  bsonrpc::reconnecting_client<client_rpc> client(connect_to<client_rpc>(loop.io, server.port()),
                                                  {}, options);
  REQUIRE(client.wait_connected(patience));

  std::atomic<int> completions{0};
  std::promise<std::error_code> outcome;
  client.template async_call<int>("hold", [&](std::error_code ec, int) {
    if (++completions == 1) outcome.set_value(ec);
  });
  // The request has reached the server once its handler runs; then the server goes away.
  REQUIRE(held.wait_entered());
  server.kill();
  held.release();
  auto ended = outcome.get_future();
  REQUIRE(ended.wait_for(patience) == std::future_status::ready);
  CHECK(ended.get() == bsonrpc::errc::connection_closed);

  server.start();
  REQUIRE(eventually([&] { return client.connections() == 2 && client.is_connected(); }));
  CHECK(client.template call<int>("add", 1, 1) == 2);
  CHECK(completions == 1);
}

TEST_CASE("reconnecting client: failed attempts wait as the backoff says, doubling up to the cap",
          "[reconnecting_client][sockets]") {
  using namespace reconnecting_it;
  using client_rpc = json_threads::client_rpc;
  client_loop loop(false);
  std::mutex mutex;
  std::vector<std::chrono::steady_clock::time_point> attempts;
  std::vector<std::chrono::milliseconds> delays;
  bsonrpc::reconnect_options options;
  options.backoff.initial_delay = 4ms;
  options.backoff.max_delay = 32ms;
  options.backoff.jitter = 0;
  options.on_connect_failed = [&](std::exception_ptr e, std::chrono::milliseconds delay) {
    CHECK_THROWS_AS(std::rethrow_exception(e), std::system_error);  // connection refused
    std::lock_guard lock(mutex);
    delays.push_back(delay);
  };
  const auto port = unused_port();
  bsonrpc::reconnecting_client<client_rpc> client(
      [&]() -> std::unique_ptr<client_rpc> {
        {
          std::lock_guard lock(mutex);
          attempts.push_back(std::chrono::steady_clock::now());
        }
        return connect_to<client_rpc>(loop.io, port)();
      },
      {}, options);
  REQUIRE(eventually([&] {
    std::lock_guard lock(mutex);
    return delays.size() >= 7;
  }));
  client.close();

  std::lock_guard lock(mutex);
  using ms = std::chrono::milliseconds;
  const std::vector<ms> expected{ms(4), ms(8), ms(16), ms(32), ms(32), ms(32), ms(32)};
  CHECK(std::vector<ms>(delays.begin(), delays.begin() + 7) == expected);
  // Each attempt came no sooner than the delay announced after the one before it.
  for (std::size_t i = 1; i < attempts.size() && i <= delays.size(); ++i)
    CHECK(attempts[i] - attempts[i - 1] >= delays[i - 1]);
}

TEST_CASE("reconnecting client: an on_connected that throws is a failed attempt, and the next "
          "attempt runs it again",
          "[reconnecting_client][sockets]") {
  using namespace reconnecting_it;
  using client_rpc = json_threads::client_rpc;
  std::atomic<int> subscriptions{0};
  bsonrpc::test::restartable_server<json_threads::server_rpc> server(
      [&](auto& methods) { register_methods(methods, subscriptions); });
  client_loop loop(false);
  std::atomic<int> runs{0};
  std::atomic<int> failures{0};
  bsonrpc::reconnect_options options;
  options.backoff.initial_delay = 1ms;
  options.on_connect_failed = [&](std::exception_ptr e, std::chrono::milliseconds) {
    CHECK_THROWS_WITH(std::rethrow_exception(e), "login refused");
    ++failures;
  };
  bsonrpc::reconnecting_client<client_rpc> client(
      connect_to<client_rpc>(loop.io, server.port()),
      [&](client_rpc&) {
        if (++runs < 3) throw std::runtime_error("login refused");
      },
      options);
  REQUIRE(client.wait_connected(patience));
  CHECK(runs == 3);
  CHECK(failures == 2);
  CHECK(client.connections() == 1);
  CHECK(client.template call<int>("add", 2, 3) == 5);
}

TEST_CASE("reconnecting client: close() wakes a client waiting between attempts, and a closed "
          "client makes no call",
          "[reconnecting_client][sockets]") {
  using namespace reconnecting_it;
  using client_rpc = json_loop::client_rpc;
  client_loop loop(true);
  std::atomic<int> failures{0};
  bsonrpc::reconnect_options options;
  options.backoff.initial_delay = 1h;  // without the wake-up, close() would wait an hour
  options.on_connect_failed = [&](std::exception_ptr, std::chrono::milliseconds) { ++failures; };
  bsonrpc::reconnecting_client<client_rpc> client(connect_to<client_rpc>(loop.io, unused_port()),
                                                  {}, options);
  REQUIRE(eventually([&] { return failures == 1; }));
  client.close();
  client.close();  // a second close does nothing
  CHECK_FALSE(client.wait_connected(std::nullopt));
  CHECK_THROWS_AS(client.template call<int>("add", 1, 2), bsonrpc::not_connected);
}

TEST_CASE("reconnecting client: close() ends a blocking call that on_connected is making, and the "
          "client's type is deduced from the connect function",
          "[reconnecting_client][sockets]") {
  using namespace reconnecting_it;
  using client_rpc = json_threads::client_rpc;
  std::atomic<int> subscriptions{0};
  gate held;
  bsonrpc::test::restartable_server<json_threads::server_rpc> server(
      [&](auto& methods) { register_methods(methods, subscriptions, &held); });
  client_loop loop(false);
  std::promise<std::error_code> hook_ended;
  bsonrpc::reconnecting_client client(
      connect_to<client_rpc>(loop.io, server.port()), [&](client_rpc& rpc) {
        try {
          rpc.call<int>("hold");  // answered only once the gate opens
          hook_ended.set_value({});
        } catch (const bsonrpc::error& e) {
          hook_ended.set_value(e.code());
          throw;
        }
      });
  static_assert(std::is_same_v<decltype(client), bsonrpc::reconnecting_client<client_rpc>>);
  REQUIRE(held.wait_entered());
  client.close();  // closes the connection being set up: the hook's call ends
  held.release();
  auto ended = hook_ended.get_future();
  REQUIRE(ended.wait_for(patience) == std::future_status::ready);
  CHECK(ended.get() == bsonrpc::errc::connection_closed);
  CHECK(client.connections() == 0);
  CHECK_FALSE(client.is_connected());
}
