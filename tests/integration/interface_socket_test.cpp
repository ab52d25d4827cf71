// bsonrpc/interface.hpp over real sockets: typed stubs and interface-implementing services on
// both ends of one connection, for JSON-RPC and BSON-RPC, with the Threads and EventLoop
// executors.
#include <bsonrpc/bsonrpc.hpp>
#include <bsonrpc/interface.hpp>

#include "../support/socket_pairs.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <system_error>
#include <thread>
#include <type_traits>
#include <vector>

using namespace std::chrono_literals;

namespace typed {

// The protocol, declared once for both ends.
BSONRPC_INTERFACE(ServerApi,
  BSONRPC_CALL(swapper, std::string(const std::string& txt)),
  BSONRPC_CALL(echo_times, std::string(const std::string& txt, int n)),
  BSONRPC_CALL(word_lengths, std::map<std::string, int>(const std::vector<std::string>& words)),
  BSONRPC_CALL(long_process, int(int a, int b, int c)),
  BSONRPC_CALL(fail, void(int code)),
  BSONRPC_NOTIFY(report_progress, void(const std::string& txt)))

BSONRPC_INTERFACE(ClientApi,
  BSONRPC_CALL(swapper, std::string(const std::string& txt)),
  BSONRPC_NOTIFY(report_progress, void(const std::string& txt)))

// Notifications received, waited for with a timeout.
class inbox {
 public:
  void add(const std::string& txt) {
    std::lock_guard lock(mutex_);
    lines_.push_back(txt);
    changed_.notify_all();
  }
  std::vector<std::string> wait_for(std::size_t n) {
    std::unique_lock lock(mutex_);
    changed_.wait_for(lock, 10s, [&] { return lines_.size() >= n; });
    return lines_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<std::string> lines_;
};

struct Server {
  std::string swapper(const std::string& txt) const { return {txt.rbegin(), txt.rend()}; }
  std::string echo_times(std::string txt, int n) const {
    std::string out;
    while (n-- > 0) out += txt;
    return out;
  }
  std::map<std::string, int> word_lengths(const std::vector<std::string>& words) const {
    std::map<std::string, int> lengths;
    for (const auto& w : words) lengths[w] = static_cast<int>(w.size());
    return lengths;
  }
  // Calls the client back through its own interface, on the handler's Context.
  int long_process(bsonrpc::Context& rpc, int a, int b, int c) {
    ClientApi::client client(rpc);
    client.report_progress("Stage 1");
    swapped = client.swapper("TestinG");
    return a * b * c;
  }
  void fail(int code) { throw bsonrpc::rpc_error(code, "failed on purpose", "some data"); }
  void report_progress(const std::string& txt) { progress.add(txt); }

  inbox progress;
  std::string swapped;
};
BSONRPC_IMPLEMENTS(Server, ServerApi)

struct Client {
  std::string swapper(const std::string& txt) const { return {txt.rbegin(), txt.rend()}; }
  void report_progress(std::string txt) { progress.add(txt); }
  inbox progress;
};
BSONRPC_IMPLEMENTS(Client, ClientApi)

template <class Rpc>
struct connected {
  using rpc = Rpc;
  static constexpr bool event_loop = std::is_same_v<typename Rpc::executor_policy, bsonrpc::EventLoop>;

  Server server_services;
  Client client_services;
  asio::thread_pool handler_pool{4};
  asio::io_context io;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::thread loop_thread;
  std::unique_ptr<Rpc> server;
  std::unique_ptr<Rpc> client;

  connected() {
    auto [s, c] = bsonrpc::test::tcp_transport::connect(io);
    bsonrpc::Options options;
    options.default_timeout = 10s;
    if constexpr (event_loop) {
      // long_process blocks on its call back: handlers run on a pool, the loop on its thread.
      options.handler_runner = [this](std::function<void()> task) {
        asio::post(handler_pool, std::move(task));
      };
      work.emplace(io.get_executor());
      loop_thread = std::thread([this] { io.run(); });
    }
    server = std::make_unique<Rpc>(std::move(s), server_services, options);
    client = std::make_unique<Rpc>(std::move(c), client_services, options);
  }

  ~connected() {
    client.reset();
    server.reset();
    work.reset();
    if (loop_thread.joinable()) loop_thread.join();
    handler_pool.join();
  }
};

using json_threads = connected<bsonrpc::JsonRpc<bsonrpc::Rfc7464, bsonrpc::Threads>>;
using bson_threads = connected<bsonrpc::BsonRpc<bsonrpc::Threads>>;
using json_loop = connected<bsonrpc::JsonRpc<bsonrpc::Rfc7464, bsonrpc::EventLoop>>;
using bson_loop = connected<bsonrpc::BsonRpc<bsonrpc::EventLoop>>;

}  // namespace typed

#define TYPED_SETUPS typed::json_threads, typed::bson_threads, typed::json_loop, typed::bson_loop

TEMPLATE_TEST_CASE("interface over sockets: blocking stub calls return the declared types",
                   "[interface][integration]", TYPED_SETUPS) {
  TestType p;
  typed::ServerApi::client server(*p.client);
  std::string swapped = server.swapper("Hello World!");
  CHECK(swapped == "!dlroW olleH");
  CHECK(server.echo_times("ab", 3) == "ababab");
  CHECK(server.word_lengths({"a", "abc"}) == std::map<std::string, int>{{"a", 1}, {"abc", 3}});
  CHECK(server.echo_times.call_for(5s, "x", 2) == "xx");
  // The other direction, on the same connection.
  typed::ClientApi::client client(*p.server);
  CHECK(client.swapper("from server") == "revres morf");
}

TEMPLATE_TEST_CASE("interface over sockets: declared notifications reach the other side",
                   "[interface][integration]", TYPED_SETUPS) {
  TestType p;
  typed::ServerApi::client server(*p.client);
  server.report_progress("one");
  server.report_progress("two");
  CHECK(p.server_services.progress.wait_for(2) == std::vector<std::string>{"one", "two"});
  typed::ClientApi::client client(*p.server);
  client.report_progress("back");
  CHECK(p.client_services.progress.wait_for(1) == std::vector<std::string>{"back"});
}

TEMPLATE_TEST_CASE("interface over sockets: a handler calls the peer through its interface on the Context",
                   "[interface][integration]", TYPED_SETUPS) {
  TestType p;
  typed::ServerApi::client server(*p.client);
  CHECK(server.long_process(2, 3, 4) == 24);
  CHECK(p.server_services.swapped == "GnitseT");
  CHECK(p.client_services.progress.wait_for(1) == std::vector<std::string>{"Stage 1"});
}

TEMPLATE_TEST_CASE("interface over sockets: async stub calls complete through callbacks and futures",
                   "[interface][integration]", TYPED_SETUPS) {
  TestType p;
  typed::ServerApi::client server(*p.client);
  std::promise<std::string> swapped;
  server.async_swapper("abc", [&](std::error_code ec, std::string result) {
    if (ec) swapped.set_value("error: " + ec.message());
    else swapped.set_value(result);
  });
  std::future<std::map<std::string, int>> lengths =
      server.async_word_lengths({"four", "sixsix"}, asio::use_future);
  std::future<void> notified = server.async_report_progress("async", asio::use_future);
  std::future<int> processed = server.async_long_process(1, 2, 3, asio::use_future);

  auto swapped_future = swapped.get_future();
  REQUIRE(swapped_future.wait_for(10s) == std::future_status::ready);
  CHECK(swapped_future.get() == "cba");
  REQUIRE(lengths.wait_for(10s) == std::future_status::ready);
  CHECK(lengths.get() == std::map<std::string, int>{{"four", 4}, {"sixsix", 6}});
  REQUIRE(notified.wait_for(10s) == std::future_status::ready);
  notified.get();
  CHECK(p.server_services.progress.wait_for(1) == std::vector<std::string>{"async"});
  REQUIRE(processed.wait_for(10s) == std::future_status::ready);
  CHECK(processed.get() == 6);
}

TEMPLATE_TEST_CASE("interface over sockets: the peer's error reaches blocking calls as rpc_error, "
                   "async calls as its code",
                   "[interface][integration]", TYPED_SETUPS) {
  TestType p;
  typed::ServerApi::client server(*p.client);
  try {
    server.fail(-32077);
    FAIL("fail() returned");
  } catch (const bsonrpc::rpc_error& e) {
    CHECK(e.code().value() == -32077);
    CHECK(std::string(e.what()).find("failed on purpose") != std::string::npos);
  }
  // A callback, not use_future: an exception_ptr made on the I/O thread and rethrown here is
  // reference-counted inside libstdc++, which ThreadSanitizer cannot see, so it reports a race.
  std::promise<std::error_code> failed;
  server.async_fail(-32078, [&failed](std::error_code ec) { failed.set_value(ec); });
  auto failure = failed.get_future();
  REQUIRE(failure.wait_for(10s) == std::future_status::ready);
  CHECK(failure.get().value() == -32078);
  // The connection is still usable.
  CHECK(server.swapper("ok") == "ko");
}

TEMPLATE_TEST_CASE("interface over sockets: an untyped peer may call the implementing service by name",
                   "[interface][integration]", TYPED_SETUPS) {
  TestType p;
  CHECK(p.client->template call<std::string>("echo_times", bsonrpc::named{{"n", 2}, {"txt", "ab"}}) ==
        "abab");
  CHECK(p.client->template call<std::string>("swapper", bsonrpc::named{{"txt", "xy"}}) == "yx");
  CHECK_THROWS_AS(p.client->template call<std::string>("swapper", bsonrpc::named{{"text", "xy"}}),
                  bsonrpc::invalid_params);
}
