// C++20: typed interface stubs awaited with asio::use_awaitable, and coroutine members
// implementing an interface, on one event-loop thread.
#include <bsonrpc/bsonrpc.hpp>
#include <bsonrpc/interface.hpp>

#include "../support/socket_pairs.hpp"

#include <asio/experimental/as_tuple.hpp>
#include <catch2/catch.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <system_error>
#include <tuple>

using namespace std::chrono_literals;

namespace typed_co {

BSONRPC_INTERFACE(ServerApi,
  BSONRPC_CALL(ask_back, std::string(const std::string& txt)),
  BSONRPC_CALL(fail, void(int code)),
  BSONRPC_NOTIFY(report, void(const std::string& txt)))

BSONRPC_INTERFACE(ClientApi,
  BSONRPC_CALL(swapper, std::string(const std::string& txt)))

struct Server {
  // A coroutine implementing ask_back: it awaits the client's swapper through ClientApi.
  asio::awaitable<std::string> ask_back(bsonrpc::Context& rpc, std::string txt) {
    ClientApi::client client(rpc);
    const std::string swapped = co_await client.async_swapper(txt, asio::use_awaitable);
    co_return "peer said " + swapped;
  }
  asio::awaitable<void> fail(int code) {
    co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
    throw bsonrpc::rpc_error(code, "coroutine failed");
  }
  void report(const std::string& txt) { reported = txt; }
  std::string reported;
};
BSONRPC_IMPLEMENTS(Server, ServerApi)

struct Client {
  std::string swapper(const std::string& txt) const { return {txt.rbegin(), txt.rend()}; }
};
BSONRPC_IMPLEMENTS(Client, ClientApi)

static_assert(bsonrpc::implements_v<Server, ServerApi>);

}  // namespace typed_co

TEMPLATE_TEST_CASE("interface coroutines: stubs are awaited with use_awaitable, on one thread",
                   "[interface][coroutine][event_loop]",
                   (bsonrpc::JsonRpc<bsonrpc::Rfc7464, bsonrpc::EventLoop>),
                   bsonrpc::BsonRpc<bsonrpc::EventLoop>) {
  asio::io_context io;
  auto [s, c] = bsonrpc::test::tcp_transport::connect(io);
  typed_co::Server server_services;
  typed_co::Client client_services;
  TestType server(std::move(s), server_services);
  TestType client(std::move(c), client_services);
  typed_co::ServerApi::client api(client);

  std::string answer;
  std::error_code failure;
  std::string failure_message;
  std::error_code as_tuple_failure;
  bool reported = false;
  asio::co_spawn(io, [&]() -> asio::awaitable<void> {
    answer = co_await api.async_ask_back("abc", asio::use_awaitable);
    try {
      co_await api.async_fail(-32042, asio::use_awaitable);
    } catch (const bsonrpc::rpc_error& e) {  // the peer's error object itself
      failure = e.code();
      failure_message = e.message();
    }
    // A token the stub passes through unchanged: errors as values.
    auto [ec] = co_await api.async_fail(-32043, asio::experimental::as_tuple(asio::use_awaitable));
    as_tuple_failure = ec;
    co_await api.async_report("done", asio::use_awaitable);
    reported = true;
    // One more round trip, so that the notification has been handled when this one returns.
    co_await api.async_ask_back("x", asio::use_awaitable);
    client.close();
  }, asio::detached);
  io.run_for(10s);
  CHECK(answer == "peer said cba");
  CHECK(failure.value() == -32042);
  CHECK(failure_message == "coroutine failed");
  CHECK(as_tuple_failure.value() == -32043);
  CHECK(reported);
  CHECK(server_services.reported == "done");
}
