// C++20: coroutine handlers (members returning asio::awaitable<T>) and co_await on calls.
#include <bsonrpc/bsonrpc.hpp>

#include "../support/socket_pairs.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;

namespace co {

struct Services {
  std::string swapper(const std::string& txt) const { return {txt.rbegin(), txt.rend()}; }
  // A coroutine handler: calls the peer back without holding a thread.
  asio::awaitable<std::string> ask_back(bsonrpc::Context& rpc, std::string txt) {
    const std::string swapped =
        co_await rpc.async_call<std::string>("swapper", txt, asio::use_awaitable);
    co_return "peer said " + swapped;
  }
  asio::awaitable<int> wait_ms(int ms) {
    asio::steady_timer timer(co_await asio::this_coro::executor, std::chrono::milliseconds(ms));
    co_await timer.async_wait(asio::use_awaitable);
    co_return ms;
  }
  asio::awaitable<void> fail() {
    co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
    throw bsonrpc::rpc_error(-32042, "coroutine failed");
  }
};
BSONRPC_SERVICE(Services,
  BSONRPC_REQUEST(swapper, txt),
  BSONRPC_RPC_REQUEST(ask_back, txt),
  BSONRPC_REQUEST(wait_ms, ms),
  BSONRPC_REQUEST(fail))

template <class Rpc>
struct loop_pair {
  Services server_services, client_services;
  asio::io_context io;
  std::unique_ptr<Rpc> server, client;
  loop_pair() {
    auto [s, c] = bsonrpc::test::tcp_transport::connect(io);
    server = std::make_unique<Rpc>(std::move(s), server_services);
    client = std::make_unique<Rpc>(std::move(c), client_services);
  }
};

using json_loop = bsonrpc::JsonRpc<bsonrpc::Rfc7464, bsonrpc::EventLoop>;
using bson_loop = bsonrpc::BsonRpc<bsonrpc::EventLoop>;

}  // namespace co

TEMPLATE_TEST_CASE("coroutines: a coroutine handler calls back the peer without a thread",
                   "[coroutine][event_loop]", co::json_loop, co::bson_loop) {
  co::loop_pair<TestType> p;
  std::string answer;
  int waited = 0;
  std::error_code failure;
  int remaining = 2;
  auto finished = [&] {
    if (--remaining == 0) p.client->close();
  };
  // Everything runs on this one thread: the handler suspends while the peer answers, and the
  // other calls are served meanwhile.
  asio::co_spawn(p.io, [&]() -> asio::awaitable<void> {
    answer = co_await p.client->template async_call<std::string>("ask_back", "abc", asio::use_awaitable);
    try {
      co_await p.client->template async_call<void>("fail", asio::use_awaitable);
    } catch (const bsonrpc::rpc_error& e) {
      failure = e.code();
    }
    finished();
  }, asio::detached);
  p.client->template async_call<int>("wait_ms", 20, [&](std::error_code ec, int ms) {
    CHECK_FALSE(ec);
    waited = ms;
    finished();
  });
  p.io.run_for(10s);
  CHECK(answer == "peer said cba");
  CHECK(waited == 20);
  CHECK(failure.value() == -32042);
}

TEST_CASE("coroutines: a coroutine handler also works with the Threads executor",
          "[coroutine][threads]") {
  asio::io_context io;
  auto [s, c] = bsonrpc::test::tcp_transport::connect(io);
  co::Services server_services, client_services;
  bsonrpc::JsonRpc<> server(std::move(s), server_services);
  bsonrpc::JsonRpc<> client(std::move(c), client_services);
  CHECK(client.call<std::string>("ask_back", "xyz") == "peer said zyx");
  CHECK(client.call<int>("wait_ms", 5) == 5);
  CHECK_THROWS_AS(client.call<void>("fail"), bsonrpc::rpc_error);
}

TEST_CASE("coroutines: cancelling a pending async_call releases it and reports operation_aborted",
          "[coroutine][cancellation]") {
  co::loop_pair<co::json_loop> p;
  asio::cancellation_signal cancel;
  std::error_code result;
  bool completed = false;
  p.client->template async_call<int>(
      "wait_ms", 300,
      asio::bind_cancellation_slot(cancel.slot(), [&](std::error_code ec, int) {
        result = ec;
        completed = true;
      }));
  asio::steady_timer timer(p.io, 20ms);
  timer.async_wait([&](std::error_code) { cancel.emit(asio::cancellation_type::terminal); });
  asio::steady_timer stop(p.io, 500ms);  // the late response arrives and is dropped
  stop.async_wait([&](std::error_code) { p.client->close(); });
  p.io.run_for(10s);
  CHECK(completed);
  CHECK(result == asio::error::operation_aborted);
}

TEST_CASE("coroutines: the dispatcher runs a coroutine handler to completion without a socket",
          "[coroutine][dispatcher]") {
  co::Services services;
  bsonrpc::dispatcher<bsonrpc::JsonCodec> engine;
  engine.add_service(services);
  std::string out;
  REQUIRE(engine.handle(R"({"jsonrpc":"2.0","method":"wait_ms","params":[1],"id":1})", out));
  CHECK(nlohmann::json::parse(out)["result"] == 1);
}

