// Wire names, by-object params and lambdas registered on a running Rpc, over real sockets,
// with both executors and both codecs.
#include <bsonrpc/bsonrpc.hpp>

#include "../support/rpc_pair.hpp"
#include "../support/socket_pairs.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

namespace regsock {

struct position {
  int line = 0;
  int character = 0;
};
BSONRPC_DEFINE_TYPE(position, line, character)

struct hover_params {
  std::string uri;
  position at;
};
BSONRPC_DEFINE_TYPE(hover_params, uri, at)

struct Lsp {
  std::string hover(const hover_params& p) const {
    return p.uri + ":" + std::to_string(p.at.line) + ":" + std::to_string(p.at.character);
  }
};
BSONRPC_SERVICE(Lsp, BSONRPC_REQUEST(hover).as("textDocument/hover"))

using namespace bsonrpc::test::tcp_setups;  // json_threads, json_loop, bson_threads, bson_loop

}  // namespace regsock

TEMPLATE_TEST_CASE("registration: over a socket, a member under its wire name takes the whole "
                   "params object",
                   "[registration][integration]", regsock::json_threads, regsock::json_loop,
                   regsock::bson_threads, regsock::bson_loop) {
  bsonrpc::test::rpc_pair<TestType, regsock::Lsp> p;
  const regsock::hover_params params{"file:///x", {4, 2}};
  CHECK(p.client->template call<std::string>("textDocument/hover", params) == "file:///x:4:2");
  CHECK(p.client->template call<std::string>(
            "textDocument/hover",
            bsonrpc::named{{"uri", "u"},
                           {"at", bsonrpc::document{{"line", 1}, {"character", 9}}}}) ==
        "u:1:9");
  CHECK_THROWS_AS(p.client->template call<std::string>("textDocument/hover", 1, 2),
                  bsonrpc::invalid_params);
  CHECK_THROWS_AS(p.client->template call<std::string>("hover", params),
                  bsonrpc::method_not_found);
}

TEMPLATE_TEST_CASE("registration: lambdas added to a running Rpc answer, while calls to its "
                   "other methods go on",
                   "[registration][integration]", regsock::json_threads, regsock::json_loop,
                   regsock::bson_threads, regsock::bson_loop) {
  bsonrpc::test::rpc_pair<TestType, regsock::Lsp> p;
  std::atomic<bool> stop{false};
  std::atomic<int> answered{0};
  std::thread caller([&] {
    const regsock::hover_params params{"u", {0, 0}};
    while (!stop) {
      if (p.client->template call<std::string>("textDocument/hover", params) == "u:0:0") ++answered;
    }
  });
  for (int i = 0; i < 50; ++i)
    p.server->add_request("late/" + std::to_string(i), [i](int x) { return x + i; }, {"x"});
  std::atomic<int> notifications{0};
  p.server->add_notification("ping/seen", [&notifications] { ++notifications; });
  for (int i = 0; i < 50; ++i)
    CHECK(p.client->template call<int>("late/" + std::to_string(i), 100) == 100 + i);
  p.client->notify("ping/seen");
  CHECK(p.client->template call<int>("late/0", bsonrpc::named{{"x", 7}}) == 7);
  stop = true;
  caller.join();
  CHECK(answered > 0);
  for (int i = 0; i < 200 && notifications == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  CHECK(notifications == 1);
}

TEMPLATE_TEST_CASE("registration: functions registered by the constructor's setup answer the "
                   "peer's very first message",
                   "[registration][integration]", regsock::json_threads, regsock::bson_threads) {
  using rpc_type = typename TestType::rpc;
  asio::io_context io;
  auto [server_socket, client_socket] = TestType::transport::connect(io);
  regsock::Lsp lsp;
  // The client speaks first, before the server's constructor has even returned: whatever the
  // setup registered must already be there.
  auto client = std::make_unique<rpc_type>(std::move(client_socket));
  auto first = client->template async_call<int>("first", 41);
  rpc_type server(std::move(server_socket), [&lsp](auto& methods) {
    methods.add_service(lsp);
    methods.add_request("first", [](int x) { return x + 1; });
  });
  CHECK(first.get() == 42);
  CHECK(client->template call<std::string>("textDocument/hover",
                                           regsock::hover_params{"f", {1, 2}}) == "f:1:2");
  client.reset();
}
