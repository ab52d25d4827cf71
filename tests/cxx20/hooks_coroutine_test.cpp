// C++20: message hooks around coroutine handlers, whose replies leave after the handler
// resumes (not where it started).
#include <bsonrpc/bsonrpc.hpp>

#include "../support/socket_pairs.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

using namespace std::chrono_literals;

namespace hooks_co {

struct Services {
  asio::awaitable<int> wait_ms(int ms) {
    asio::steady_timer timer(co_await asio::this_coro::executor, std::chrono::milliseconds(ms));
    co_await timer.async_wait(asio::use_awaitable);
    co_return ms;
  }
  int calls = 0;
  asio::awaitable<int> count() {
    co_return ++calls;
  }
};
BSONRPC_SERVICE(Services, BSONRPC_REQUEST(wait_ms, ms), BSONRPC_REQUEST(count))

}  // namespace hooks_co

TEMPLATE_TEST_CASE("hooks: a coroutine handler's reply passes the outgoing hooks with its method",
                   "[hooks][coroutine][event_loop]",
                   (bsonrpc::JsonRpc<bsonrpc::Rfc7464, bsonrpc::EventLoop>),
                   bsonrpc::BsonRpc<bsonrpc::EventLoop>) {
  using V = typename TestType::value_type;
  asio::io_context io;
  auto [s, c] = bsonrpc::test::tcp_transport::connect(io);
  hooks_co::Services server_services, client_services;
  bsonrpc::hooks::metrics metrics;
  auto seen = std::make_shared<std::vector<std::string>>();
  bsonrpc::Options options;
  options.hooks = {metrics,
                   [seen](bsonrpc::hook_message<V>& m) {
                     seen->push_back((m.is_incoming() ? "in " : "out ") + std::string(m.method()));
                     if (m.is_incoming() && m.method() == "count") m.reject(-32001, "Unauthorized");
                   }};
  TestType server(std::move(s), server_services, options);
  TestType client(std::move(c), client_services);
  int waited = 0;
  std::error_code refused;
  client.template async_call<int>("wait_ms", 30, [&](std::error_code ec, int ms) {
    CHECK_FALSE(ec);
    waited = ms;
    client.template async_call<int>("count", [&](std::error_code ec2, int) {
      refused = ec2;
      client.close();
      server.close();
    });
  });
  io.run_for(10s);
  CHECK(waited == 30);
  CHECK(refused.value() == -32001);
  CHECK(server_services.calls == 0);
  CHECK(*seen == std::vector<std::string>{"in wait_ms", "out wait_ms", "in count"});
  const auto snapshot = metrics.snapshot();
  CHECK(snapshot.at("wait_ms").calls == 1);
  CHECK(snapshot.at("wait_ms").max_latency >= 30ms);
  CHECK(snapshot.at("count").errors == 1);
}
