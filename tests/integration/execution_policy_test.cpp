// Execution policies declared at registration (bsonrpc/execution.hpp), over real sockets, for
// both executors: where each policy runs a handler, and what it allows or guarantees there.
#include <bsonrpc/bsonrpc.hpp>

#include "../support/rpc_pair.hpp"
#include "../support/socket_pairs.hpp"

#include <catch2/catch.hpp>

#include <asio.hpp>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

using namespace std::chrono_literals;

namespace policy_it {

// Whether the calling thread runs the connection's io_context, where messages are read.
inline bool on_io_thread(bsonrpc::Context& rpc) {
  const auto ex = rpc.get_executor();
  const auto* io = ex.target<asio::io_context::executor_type>();
  return io && io->running_in_this_thread();
}

struct Services {
  bool in_place_on_io(bsonrpc::Context& rpc) { return on_io_thread(rpc); }
  bool standard_on_io(bsonrpc::Context& rpc) { return on_io_thread(rpc); }
  bool concurrent_on_io(bsonrpc::Context& rpc) { return on_io_thread(rpc); }
  std::string in_place_calls_back(bsonrpc::Context& rpc) {
    return rpc.call<std::string>("swapper", "abc");
  }
  std::string swapper(const std::string& txt) const { return {txt.rbegin(), txt.rend()}; }

  // Returns whether `n` handlers met here within 10 s: they ran at the same time.
  bool meet(int n) { return meet_impl(n); }
  bool meet_standard(int n) { return meet_impl(n); }
  void meet_note(int n) { note_result(meet_impl(n) ? "met" : "alone"); }

  // Records its step, and whether another serial handler ran meanwhile.
  int step(int i) {
    enter_serial();
    std::this_thread::sleep_for(5ms);
    leave_serial(i);
    return i;
  }
  void step_note(int i) {
    enter_serial();
    std::this_thread::sleep_for(5ms);
    leave_serial(i);
  }

  void in_place_note(bsonrpc::Context& rpc) { note_result(on_io_thread(rpc) ? "io" : "elsewhere"); }

  // Waits until `count` notification results arrived (at most 10 s).
  std::vector<std::string> wait_notes(std::size_t count) {
    std::unique_lock lock(mutex);
    changed.wait_for(lock, 10s, [&] { return notes.size() >= count; });
    return notes;
  }
  std::vector<int> wait_steps(std::size_t count) {
    std::unique_lock lock(mutex);
    changed.wait_for(lock, 10s, [&] { return steps.size() >= count; });
    return steps;
  }

  std::mutex mutex;
  std::condition_variable changed;
  int inside = 0;
  int serial_running = 0;
  bool serial_overlapped = false;
  std::vector<int> steps;
  std::vector<std::string> notes;

 private:
  bool meet_impl(int n) {
    std::unique_lock lock(mutex);
    ++inside;
    changed.notify_all();
    return changed.wait_for(lock, 10s, [&] { return inside >= n; });
  }
  void note_result(std::string what) {
    std::lock_guard lock(mutex);
    notes.push_back(std::move(what));
    changed.notify_all();
  }
  void enter_serial() {
    std::lock_guard lock(mutex);
    if (++serial_running > 1) serial_overlapped = true;
  }
  void leave_serial(int i) {
    std::lock_guard lock(mutex);
    --serial_running;
    steps.push_back(i);
    changed.notify_all();
  }
};

using bsonrpc::execution;
BSONRPC_SERVICE(Services,
  BSONRPC_RPC_REQUEST(in_place_on_io).runs(execution::in_place),
  BSONRPC_RPC_REQUEST(standard_on_io),
  BSONRPC_RPC_REQUEST(concurrent_on_io).runs(execution::concurrent),
  BSONRPC_RPC_REQUEST(in_place_calls_back).runs(execution::in_place),
  BSONRPC_REQUEST(swapper, txt),
  BSONRPC_REQUEST(meet, n).runs(execution::concurrent),
  BSONRPC_REQUEST(meet_standard, n),
  BSONRPC_NOTIFICATION(meet_note, n).runs(execution::concurrent),
  BSONRPC_REQUEST(step, i).runs(execution::serial),
  BSONRPC_NOTIFICATION(step_note, i).runs(execution::serial),
  BSONRPC_RPC_NOTIFICATION(in_place_note).runs(execution::in_place))

template <class Codec, class Framing, class Executor>
using setup = bsonrpc::test::tcp_setup<bsonrpc::Rpc<Codec, Framing, Executor>>;
using threads_json = setup<bsonrpc::JsonCodec, bsonrpc::Rfc7464, bsonrpc::Threads>;
using threads_bson = setup<bsonrpc::BsonCodec, bsonrpc::BsonFraming, bsonrpc::Threads>;
// EventLoop as rpc_pair sets it up: one thread runs the io_context, a pool is the runner.
using loop_json = setup<bsonrpc::JsonCodec, bsonrpc::Rfc7464, bsonrpc::EventLoop>;
using loop_bson = setup<bsonrpc::BsonCodec, bsonrpc::BsonFraming, bsonrpc::EventLoop>;

template <class Setup>
using pair = bsonrpc::test::rpc_pair<Setup, Services>;

inline bsonrpc::Options with_pool(std::size_t threads) {
  bsonrpc::Options options;
  options.max_concurrent_requests = threads;
  return options;
}

}  // namespace policy_it

#define POLICY_SETUPS \
  policy_it::threads_json, policy_it::threads_bson, policy_it::loop_json, policy_it::loop_bson

TEMPLATE_TEST_CASE("execution policy: in_place runs on the thread that read the message, standard and concurrent do not",
                   "[execution][integration]", POLICY_SETUPS) {
  policy_it::pair<TestType> p;
  CHECK(p.client->template call<bool>("in_place_on_io"));
  CHECK_FALSE(p.client->template call<bool>("standard_on_io"));
  CHECK_FALSE(p.client->template call<bool>("concurrent_on_io"));
}

TEMPLATE_TEST_CASE("execution policy: a blocking call from an in_place handler is refused, not deadlocked",
                   "[execution][integration][errors]", POLICY_SETUPS) {
  policy_it::pair<TestType> p;
  try {
    p.client->template call<std::string>("in_place_calls_back");
    FAIL("no exception");
  } catch (const bsonrpc::server_error& e) {
    CHECK_THAT(e.data().get<std::string>(), Catch::Contains("would deadlock"));
  }
  // The connection goes on.
  CHECK(p.client->template call<std::string>("swapper", "abc") == "cba");
}

TEMPLATE_TEST_CASE("execution policy: concurrent requests overlap on one connection",
                   "[execution][integration]", POLICY_SETUPS) {
  policy_it::pair<TestType> p(policy_it::with_pool(4));
  auto first = p.client->template async_call<bool>("meet", 2);
  auto second = p.client->template async_call<bool>("meet", 2);
  CHECK(first.get());
  CHECK(second.get());
}

TEMPLATE_TEST_CASE("execution policy: concurrent notifications overlap on one connection",
                   "[execution][integration]", POLICY_SETUPS) {
  policy_it::pair<TestType> p(policy_it::with_pool(4));
  p.client->notify("meet_note", 2);
  p.client->notify("meet_note", 2);
  CHECK(p.server_services.wait_notes(2) == std::vector<std::string>{"met", "met"});
}

TEMPLATE_TEST_CASE("execution policy: serial handlers never overlap and run in arrival order, requests and notifications alike",
                   "[execution][integration][order]", POLICY_SETUPS) {
  policy_it::pair<TestType> p(policy_it::with_pool(8));
  std::vector<std::future<int>> replies;
  for (int i = 0; i < 12; ++i) {
    if (i % 3 == 2) p.client->notify("step_note", i);
    else replies.push_back(p.client->template async_call<int>("step", i));
  }
  for (auto& r : replies) CHECK(r.get() >= 0);
  std::vector<int> expected;
  for (int i = 0; i < 12; ++i) expected.push_back(i);
  CHECK(p.server_services.wait_steps(12) == expected);
  std::lock_guard lock(p.server_services.mutex);
  CHECK_FALSE(p.server_services.serial_overlapped);
}

TEMPLATE_TEST_CASE("execution policy: standard requests still run concurrently where the executor allows",
                   "[execution][integration]", POLICY_SETUPS) {
  policy_it::pair<TestType> p(policy_it::with_pool(4));
  auto first = p.client->template async_call<bool>("meet_standard", 2);
  auto second = p.client->template async_call<bool>("meet_standard", 2);
  CHECK(first.get());
  CHECK(second.get());
}

TEMPLATE_TEST_CASE("execution policy: an in_place notification runs on the thread that read it",
                   "[execution][integration]", POLICY_SETUPS) {
  policy_it::pair<TestType> p;
  p.client->notify("in_place_note");
  CHECK(p.server_services.wait_notes(1) == std::vector<std::string>{"io"});
}

TEST_CASE("execution policy: on an event loop without a handler_runner, every policy runs on the loop",
          "[execution][integration][event_loop]") {
  using rpc = bsonrpc::Rpc<bsonrpc::JsonCodec, bsonrpc::Rfc7464, bsonrpc::EventLoop>;
  asio::io_context io;
  auto [s, c] = bsonrpc::test::tcp_transport::connect(io);
  policy_it::Services server_services, client_services;
  rpc server(std::move(s), server_services);
  rpc client(std::move(c), client_services);
  std::vector<bool> on_loop;
  int answered = 0;
  for (const char* method : {"in_place_on_io", "standard_on_io", "concurrent_on_io"}) {
    client.async_call<bool>(method, [&](std::error_code ec, bool here) {
      CHECK_FALSE(ec);
      on_loop.push_back(here);
      if (++answered == 3) {
        client.close();
        server.close();
      }
    });
  }
  io.run_for(10s);
  CHECK(on_loop == std::vector<bool>{true, true, true});
}

namespace policy_it {
// The thread that read each incoming request (an incoming hook runs where the message is
// read), and whether the request's handler ran on that same thread.
struct reading_threads {
  std::mutex mutex;
  std::thread::id last_reader;
};
struct SameThread {
  explicit SameThread(reading_threads& r) : readers(r) {}
  bool handled_where_read() {
    std::lock_guard lock(readers.mutex);
    return readers.last_reader == std::this_thread::get_id();
  }
  reading_threads& readers;
};
BSONRPC_SERVICE(SameThread, BSONRPC_REQUEST(handled_where_read))
}  // namespace policy_it

TEST_CASE("Threads: a standard request's handler runs on the thread that read it",
          "[execution][integration][threads]") {
  using rpc = bsonrpc::Rpc<bsonrpc::JsonCodec, bsonrpc::Rfc7464, bsonrpc::Threads>;
  policy_it::reading_threads readers;
  bsonrpc::Options options;
  options.hooks = {[&](bsonrpc::hook_message<nlohmann::json>& m) {
    if (!m.is_incoming() || m.kind() != bsonrpc::hook_kind::request) return;
    std::lock_guard lock(readers.mutex);
    readers.last_reader = std::this_thread::get_id();
  }};
  // Each side its own io_context, as a program holding one connection has: on a shared one,
  // the client's threads may read the server's messages too.
  asio::io_context server_io, client_io;
  asio::ip::tcp::acceptor acceptor(server_io, {asio::ip::make_address("127.0.0.1"), 0});
  asio::ip::tcp::socket c(client_io);
  c.connect(acceptor.local_endpoint());
  policy_it::SameThread services(readers);
  rpc server(acceptor.accept(), services, options);
  rpc client(std::move(c));
  // Sequential calls: each request is the only one read while its handler runs.
  for (int i = 0; i < 20; ++i) CHECK(client.call<bool>("handled_where_read"));
}

namespace policy_it {
struct Sleeper {
  int sleep_ms(int ms) {
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
    return ms;
  }
  int echo(int x) { return x; }
};
BSONRPC_SERVICE(Sleeper, BSONRPC_REQUEST(sleep_ms, ms), BSONRPC_REQUEST(echo, x))

// Each side its own io_context, as a program holding one connection has.
struct threads_pair {
  using rpc = bsonrpc::Rpc<bsonrpc::JsonCodec, bsonrpc::Rfc7464, bsonrpc::Threads>;
  explicit threads_pair(bsonrpc::Options client_options = {}) {
    asio::ip::tcp::acceptor acceptor(server_io, {asio::ip::make_address("127.0.0.1"), 0});
    asio::ip::tcp::socket c(client_io);
    c.connect(acceptor.local_endpoint());
    server.emplace(acceptor.accept(), services);
    client.emplace(std::move(c), client_options);
  }
  asio::io_context server_io, client_io;
  Sleeper services;
  std::optional<rpc> server;
  std::optional<rpc> client;
};
}  // namespace policy_it

TEST_CASE("Threads: a blocking call reads its own reply on the calling thread",
          "[execution][integration][threads]") {
  std::mutex mutex;
  std::vector<std::thread::id> readers;  // the thread that read each response
  bsonrpc::Options options;
  options.hooks = {[&](bsonrpc::hook_message<nlohmann::json>& m) {
    if (!m.is_incoming() || m.kind() != bsonrpc::hook_kind::response) return;
    std::lock_guard lock(mutex);
    readers.push_back(std::this_thread::get_id());
  }};
  policy_it::threads_pair pair(options);
  // Each reply leaves 2 ms after its request, so a reader asked for the role (between two
  // completions) hands it over before the reply arrives.
  for (int i = 0; i < 20; ++i) CHECK(pair.client->call<int>("sleep_ms", 2) == 2);
  std::lock_guard lock(mutex);
  REQUIRE(readers.size() == 20);
  // The caller keeps the role between calls, unless it stays away longer than
  // reading_role::takeover_after (2 ms): a loaded machine, or ThreadSanitizer, sometimes
  // delays it that long, and a standby then reads the next reply before it hands the role
  // back. So most replies, not all, are read here; with no hand-over, none would be.
  const auto here = std::count(readers.begin(), readers.end(), std::this_thread::get_id());
  CHECK(here >= 10);
}

TEST_CASE("Threads: a request that runs long does not hold up the requests read with it",
          "[execution][integration][threads]") {
  policy_it::threads_pair pair;
  const auto started = std::chrono::steady_clock::now();
  // Sent back to back, so that the server usually reads them together; the reading thread
  // starts the first itself, and a standby hands the second to the pool.
  auto slow = pair.client->async_call<int>("sleep_ms", 500);
  auto fast = pair.client->async_call<int>("echo", 7);
  CHECK(fast.get() == 7);
  CHECK(std::chrono::steady_clock::now() - started < 400ms);
  CHECK(slow.get() == 500);
}

namespace policy_it {
struct Listener {
  std::mutex mutex;
  std::condition_variable arrived;
  int count = 0;
  void ping() {
    std::lock_guard lock(mutex);
    ++count;
    arrived.notify_all();
  }
};
BSONRPC_SERVICE(Listener, BSONRPC_NOTIFICATION(ping))
}  // namespace policy_it

TEST_CASE("Threads: the peer's notification is read while the caller that read last is away",
          "[execution][integration][threads]") {
  using rpc = bsonrpc::Rpc<bsonrpc::JsonCodec, bsonrpc::Rfc7464, bsonrpc::Threads>;
  policy_it::Listener listener;
  asio::io_context server_io, client_io;
  asio::ip::tcp::acceptor acceptor(server_io, {asio::ip::make_address("127.0.0.1"), 0});
  asio::ip::tcp::socket c(client_io);
  c.connect(acceptor.local_endpoint());
  policy_it::Sleeper services;
  rpc server(acceptor.accept(), services);
  rpc client(std::move(c), listener);
  // The main thread holds the client's reading role after its calls, then does not call
  // again: a standby must take the role over to read the notification.
  for (int i = 0; i < 5; ++i) CHECK(client.call<int>("echo", i) == i);
  server.notify("ping");
  std::unique_lock lock(listener.mutex);
  CHECK(listener.arrived.wait_for(lock, 5s, [&] { return listener.count == 1; }));
}
