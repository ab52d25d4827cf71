// Cancellation and progress on the wire (Options::protocol), over real sockets, with both
// executors: a pair of Rpc for what a caller sees, and a raw peer writing and reading JSON
// lines for exactly what crosses the wire (nothing twice, no error for a notification).
#include <bsonrpc/bsonrpc.hpp>

#include "../support/rpc_pair.hpp"
#include "../support/socket_pairs.hpp"

#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <sys/socket.h>
#include <sys/time.h>

#include <chrono>
#include <condition_variable>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using json = nlohmann::json;

namespace cancelsock {

// A latch with a timeout: every wait in these tests ends, passed or not.
class flag {
 public:
  void set() {
    std::lock_guard lock(mutex_);
    set_ = true;
    changed_.notify_all();
  }
  bool wait(std::chrono::milliseconds limit = 10s) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, limit, [&] { return set_; });
  }
  bool is_set() {
    std::lock_guard lock(mutex_);
    return set_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  bool set_ = false;
};

struct count_params {
  int n = 0;
};
BSONRPC_DEFINE_TYPE(count_params, n)

struct Services {
  flag started;
  flag cancel_seen;
  std::atomic<int> reported_without_token{-1};

  // Runs until the peer cancels it (10 s at most), then returns anyway: the reply is the
  // profile's, whatever this returns.
  std::string wait(bsonrpc::Context& ctx) {
    flag cancelled;
    ctx.on_cancel([&] { cancelled.set(); });
    started.set();
    if (cancelled.wait()) cancel_seen.set();
    return ctx.cancelled() ? "cancelled, but this is not the reply" : "finished";
  }
  int add(int a, int b) const { return a + b; }
  // Reports 1..n under the request's progress token, then answers n.
  int count(bsonrpc::Context& ctx, const count_params& p) {
    if (!ctx.progress_token()) {
      reported_without_token = ctx.report_progress(bsonrpc::value(0)) ? 1 : 0;
      return p.n;
    }
    // LSP sends {token, value: i}; MCP {progressToken, progress: i}.
    for (int i = 1; i <= p.n; ++i) ctx.report_progress(bsonrpc::value(i));
    return p.n;
  }
};

BSONRPC_SERVICE(Services,
  BSONRPC_RPC_REQUEST(wait).runs(bsonrpc::execution::concurrent),
  BSONRPC_REQUEST(add, a, b),
  BSONRPC_RPC_REQUEST(count))

using namespace bsonrpc::test::tcp_setups;  // json_threads, json_loop, bson_threads, bson_loop

bsonrpc::Options with(bsonrpc::protocol::profile profile) {
  bsonrpc::Options options;
  options.protocol = profile;
  return options;
}

// Log lines of one side, for the points a test must wait for (a cancel settled).
class log_book {
 public:
  bsonrpc::log_sink sink() {
    return [this](bsonrpc::log_level, std::uint64_t, std::string_view line) {
      std::lock_guard lock(mutex_);
      lines_.emplace_back(line);
      changed_.notify_all();
    };
  }
  // Waits (10 s at most) until `n` lines hold `text`.
  bool wait_for(std::string_view text, std::size_t n = 1) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, 10s, [&] { return count_locked(text) >= n; });
  }
  std::size_t count(std::string_view text) {
    std::lock_guard lock(mutex_);
    return count_locked(text);
  }

 private:
  std::size_t count_locked(std::string_view text) const {
    std::size_t n = 0;
    for (const auto& line : lines_) n += line.find(text) != std::string::npos;
    return n;
  }
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<std::string> lines_;
};

// A peer that writes and reads newline-delimited JSON on a blocking socket whose reads give
// up after 10 s.
class raw_peer {
 public:
  explicit raw_peer(asio::ip::tcp::socket socket) : socket_(std::move(socket)) {
    timeval limit{10, 0};
    ::setsockopt(socket_.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
  }
  void send(const json& message) {
    const std::string line = message.dump() + "\n";
    asio::write(socket_, asio::buffer(line));
  }
  json receive() {
    std::error_code ec;
    const std::size_t n = asio::read_until(socket_, asio::dynamic_buffer(buffer_), '\n', ec);
    if (ec) throw std::runtime_error("raw peer: nothing received: " + ec.message());
    json message = json::parse(buffer_.substr(0, n - 1));
    buffer_.erase(0, n);
    return message;
  }

 private:
  asio::ip::tcp::socket socket_;
  std::string buffer_;
};

json request(int id, std::string method, json params) {
  return {{"jsonrpc", "2.0"}, {"id", id}, {"method", std::move(method)}, {"params", std::move(params)}};
}
json notification(std::string method, json params) {
  return {{"jsonrpc", "2.0"}, {"method", std::move(method)}, {"params", std::move(params)}};
}
json cancel_of(bsonrpc::protocol::profile profile, json id) {
  if (profile == bsonrpc::protocol::lsp()) return notification("$/cancelRequest", {{"id", id}});
  return notification("notifications/cancelled", {{"requestId", id}, {"reason", "test"}});
}

// An Rpc speaking newline-delimited JSON, and a raw peer on the other end of its socket.
template <class Executor>
struct raw_pair {
  using rpc_type = bsonrpc::JsonRpc<bsonrpc::Ndjson, Executor>;
  Services services;
  log_book log;
  asio::io_context io;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::thread loop_thread;
  asio::thread_pool handler_pool{4};
  std::unique_ptr<rpc_type> rpc;
  std::unique_ptr<raw_peer> peer;

  explicit raw_pair(bsonrpc::protocol::profile profile) {
    auto [s, c] = bsonrpc::test::tcp_transport::connect(io);
    bsonrpc::Options options = with(profile);
    options.log = log.sink();
    if constexpr (std::is_same_v<Executor, bsonrpc::EventLoop>) {
      options.handler_runner = [this](std::function<void()> task) {
        asio::post(handler_pool, std::move(task));
      };
      work.emplace(io.get_executor());
      loop_thread = std::thread([this] { io.run(); });
    }
    rpc = std::make_unique<rpc_type>(std::move(s), services, options);
    peer = std::make_unique<raw_peer>(std::move(c));
  }
  ~raw_pair() {
    rpc.reset();
    work.reset();
    if (loop_thread.joinable()) loop_thread.join();
    handler_pool.join();
  }
};

// Calls `method` on a thread of its own, blocking; the peer's error code, or 0. The exception
// lives and dies on that thread (a future would free it on the thread that read the reply,
// which ThreadSanitizer takes for a race).
template <class Rpc>
std::future<int> error_code_of_call(Rpc& rpc, std::string method) {
  return std::async(std::launch::async, [&rpc, method] {
    try {
      rpc.template call<std::string>(method);
    } catch (const bsonrpc::rpc_error& e) {
      return e.code_value();
    }
    return 0;
  });
}

}  // namespace cancelsock

TEMPLATE_TEST_CASE("cancellation: with LSP, $/cancelRequest ends a slow handler, its caller "
                   "gets -32800, and the next call is answered",
                   "[cancellation][integration]", cancelsock::json_threads,
                   cancelsock::json_loop, cancelsock::bson_threads, cancelsock::bson_loop) {
  bsonrpc::test::rpc_pair<TestType, cancelsock::Services> p(
      cancelsock::with(bsonrpc::protocol::lsp()));
  auto slow = cancelsock::error_code_of_call(*p.client, "wait");
  REQUIRE(p.server_services.started.wait());
  // The first call of a connection has id 1.
  p.client->notify("$/cancelRequest", bsonrpc::named{{"id", 1}});
  REQUIRE(slow.wait_for(10s) == std::future_status::ready);
  CHECK(slow.get() == -32800);
  CHECK(p.server_services.cancel_seen.is_set());
  CHECK(p.client->template call<int>("add", 1, 2) == 3);
}

TEMPLATE_TEST_CASE("cancellation: with MCP, notifications/cancelled leaves the slow request "
                   "unanswered, and the next calls are answered",
                   "[cancellation][integration]", bsonrpc::Threads, bsonrpc::EventLoop) {
  cancelsock::raw_pair<TestType> p(bsonrpc::protocol::mcp());
  p.peer->send(cancelsock::request(1, "wait", json::object()));
  REQUIRE(p.services.started.wait());
  p.peer->send(cancelsock::cancel_of(bsonrpc::protocol::mcp(), 1));
  p.peer->send(cancelsock::request(2, "add", {1, 2}));
  CHECK(p.peer->receive() == json{{"jsonrpc", "2.0"}, {"id", 2}, {"result", 3}});
  // Once the cancelled request has settled, a reply to it would have been queued before the
  // next one's: the next line is that one's.
  REQUIRE(p.log.wait_for("request cancelled by the peer"));
  p.peer->send(cancelsock::request(3, "add", {2, 2}));
  CHECK(p.peer->receive() == json{{"jsonrpc", "2.0"}, {"id", 3}, {"result", 4}});
}

TEMPLATE_TEST_CASE("cancellation: bad cancels are harmless: unknown or finished ids, no or "
                   "ill-typed id, a cancel sent twice or as a request, progress under an "
                   "unknown token",
                   "[cancellation][integration]", bsonrpc::Threads, bsonrpc::EventLoop) {
  for (auto profile : {bsonrpc::protocol::lsp(), bsonrpc::protocol::mcp()}) {
    CAPTURE(profile.cancel_method());
    cancelsock::raw_pair<TestType> p(profile);
    auto& peer = *p.peer;
    const std::string cancel = std::string(profile.cancel_method());
    const std::string id_key = profile == bsonrpc::protocol::lsp() ? "id" : "requestId";

    peer.send(cancelsock::request(1, "add", {1, 2}));
    CHECK(peer.receive()["result"] == 3);
    peer.send(cancelsock::cancel_of(profile, 1));   // after its reply
    peer.send(cancelsock::cancel_of(profile, 99));  // never sent
    peer.send(cancelsock::cancel_of(profile, "1"));  // the string, not the integer
    peer.send(cancelsock::notification(cancel, json::object()));
    peer.send(cancelsock::notification(cancel, {{id_key, nullptr}}));
    peer.send(cancelsock::notification(cancel, {{id_key, 1.5}}));
    peer.send(cancelsock::notification(cancel, {{id_key, {1}}}));
    peer.send(cancelsock::notification(cancel, {1}));
    peer.send({{"jsonrpc", "2.0"}, {"method", cancel}});
    peer.send({{"jsonrpc", "2.0"}, {"method", cancel}, {"params", "x"}});
    peer.send({{"method", cancel}, {"params", {{id_key, 1}}}});  // no version
    peer.send(cancelsock::notification(std::string(profile.progress_method()),
                                       {{"token", "nope"}, {"progressToken", "nope"},
                                        {"value", 1}, {"progress", 1}}));
    // A cancel sent as a request is not a cancel: it is answered, once, as any request.
    peer.send(cancelsock::request(2, cancel, {{id_key, 1}}));
    const json answer = peer.receive();
    CHECK(answer["id"] == 2);
    CHECK(answer["error"]["code"] == -32601);
    peer.send(cancelsock::request(3, "add", {1, 1}));
    CHECK(peer.receive() == json{{"jsonrpc", "2.0"}, {"id", 3}, {"result", 2}});

    // A cancel sent twice cancels once: one reply (LSP) or none (MCP).
    peer.send(cancelsock::request(4, "wait", json::object()));
    REQUIRE(p.services.started.wait());
    peer.send(cancelsock::cancel_of(profile, 4));
    peer.send(cancelsock::cancel_of(profile, 4));
    REQUIRE(p.log.wait_for("request cancelled by the peer"));
    peer.send(cancelsock::request(5, "add", {2, 3}));
    // The log line comes before the cancelled handler wakes, so request 5 may be answered
    // first: replies carry no order (JSON-RPC 2.0), each is matched by its id.
    std::map<int, json> replies;
    for (int n = profile == bsonrpc::protocol::lsp() ? 2 : 1; n > 0; --n) {
      json reply = peer.receive();
      const int id = reply["id"].get<int>();
      CHECK(replies.emplace(id, std::move(reply)).second);
    }
    if (profile == bsonrpc::protocol::lsp()) {
      CHECK(replies[4] == json{{"jsonrpc", "2.0"}, {"id", 4},
                               {"error", {{"code", -32800}, {"message", "Request cancelled"}}}});
    }
    CHECK(replies[5] == json{{"jsonrpc", "2.0"}, {"id", 5}, {"result", 5}});
    CHECK(p.log.count("request cancelled by the peer") == 1);
    CHECK(p.log.count("a cancel callback threw") == 0);
  }
}

TEMPLATE_TEST_CASE("cancellation: cancelling a call through cancel_call or its cancellation "
                   "slot tells the peer once, and LSP's late -32800 is dropped quietly",
                   "[cancellation][integration]", bsonrpc::Threads, bsonrpc::EventLoop) {
  for (auto profile : {bsonrpc::protocol::lsp(), bsonrpc::protocol::mcp()}) {
    CAPTURE(profile.cancel_method());
    cancelsock::raw_pair<TestType> p(profile);
    auto& peer = *p.peer;
    const bool lsp = profile == bsonrpc::protocol::lsp();

    // cancel_call, twice: the call ends with operation_aborted, the peer hears of it once.
    std::promise<std::exception_ptr> first;
    const std::int64_t id = p.rpc->start_call_value(
        "slow", std::nullopt,
        [&](bsonrpc::detail::call_outcome<bsonrpc::value> o) { first.set_value(o.error); });
    CHECK(peer.receive()["id"] == id);
    p.rpc->cancel_call(id);
    p.rpc->cancel_call(id);
    auto aborted = first.get_future();
    REQUIRE(aborted.wait_for(10s) == std::future_status::ready);
    CHECK_THROWS_AS(std::rethrow_exception(aborted.get()), std::system_error);
    const json told = peer.receive();
    CHECK(told["method"] == profile.cancel_method());
    CHECK(told["params"][lsp ? "id" : "requestId"] == id);
    CHECK(told.find("id") == told.end());

    // Through an Asio cancellation slot.
    asio::cancellation_signal signal;
    std::promise<std::error_code> second;
    p.rpc->template async_call<std::string>(
        "slow", asio::bind_cancellation_slot(signal.slot(), [&](std::error_code ec, std::string) {
          second.set_value(ec);
        }));
    const json call = peer.receive();
    asio::post(p.rpc->get_executor(), [&] { signal.emit(asio::cancellation_type::terminal); });
    auto ended = second.get_future();
    REQUIRE(ended.wait_for(10s) == std::future_status::ready);
    CHECK(ended.get() == asio::error::operation_aborted);
    const json told_again = peer.receive();
    CHECK(told_again["method"] == profile.cancel_method());
    CHECK(told_again["params"][lsp ? "id" : "requestId"] == call["id"]);

    // The peer answers the cancelled calls as LSP does; the next call still works.
    if (lsp) {
      for (const auto& cancelled : {json(id), call["id"]})
        peer.send({{"jsonrpc", "2.0"}, {"id", cancelled},
                   {"error", {{"code", -32800}, {"message", "Request cancelled"}}}});
    }
    auto next = p.rpc->template async_call<int>("add", 1, 2);
    const json add = peer.receive();  // the next call, not a second cancel
    CHECK(add["method"] == "add");
    peer.send({{"jsonrpc", "2.0"}, {"id", add["id"]}, {"result", 3}});
    REQUIRE(next.wait_for(10s) == std::future_status::ready);
    CHECK(next.get() == 3);
    CHECK(p.log.count("unknown or expired") == 0);
    if (lsp) CHECK(p.log.count("dropped") == 2);
  }
}

TEMPLATE_TEST_CASE("progress: a handler's reports reach the caller's callback in order, with "
                   "LSP and MCP",
                   "[progress][integration]", cancelsock::json_threads, cancelsock::json_loop,
                   cancelsock::bson_threads, cancelsock::bson_loop) {
  for (auto profile : {bsonrpc::protocol::lsp(), bsonrpc::protocol::mcp()}) {
    CAPTURE(profile.progress_method());
    bsonrpc::test::rpc_pair<TestType, cancelsock::Services> p(cancelsock::with(profile));
    std::mutex mutex;
    std::vector<std::int64_t> seen;
    bsonrpc::call_options options;
    options.on_progress = [&](const bsonrpc::value& report) {
      const bsonrpc::value& progress =
          profile == bsonrpc::protocol::lsp() ? report : *report.find("progress");
      std::lock_guard lock(mutex);
      seen.push_back(bsonrpc::from_value<std::int64_t>(progress));
    };
    auto counted = p.client->template async_call<int>(options, "count",
                                                      bsonrpc::named{{"n", 20}});
    REQUIRE(counted.wait_for(10s) == std::future_status::ready);
    CHECK(counted.get() == 20);
    std::vector<std::int64_t> expected;
    for (int i = 1; i <= 20; ++i) expected.push_back(i);
    std::lock_guard lock(mutex);
    CHECK(seen == expected);
    // Without a callback the request carries no token: reporting sends nothing.
    CHECK(p.client->template call<int>("count", bsonrpc::named{{"n", 3}}) == 3);
    CHECK(p.server_services.reported_without_token == 0);
  }
}

TEMPLATE_TEST_CASE("progress: a progress callback without a protocol profile is refused",
                   "[progress][integration]", cancelsock::json_threads, cancelsock::json_loop) {
  bsonrpc::test::rpc_pair<TestType, cancelsock::Services> p;
  bsonrpc::call_options options;
  options.on_progress = [](const bsonrpc::value&) {};
  CHECK_THROWS_AS(p.client->template async_call<int>(options, "count", bsonrpc::named{{"n", 1}}),
                  std::logic_error);
  CHECK_THROWS_AS(p.client->template async_call<int>(options, "add", 1, 2), std::logic_error);
  CHECK(p.client->template call<int>("add", 1, 2) == 3);
}
