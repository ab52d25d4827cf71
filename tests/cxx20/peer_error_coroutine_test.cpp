// C++20: co_await with asio::use_awaitable throws what the blocking call throws: the peer's
// rpc_error with its code, message and data, timeout_error, connection_closed. reply<T> holds
// the peer's error without throwing. On an Rpc, through a typed stub, and from a coroutine
// handler's Context; everything on one event-loop thread.
#include <bsonrpc/bsonrpc.hpp>

#include "../support/call_forms.hpp"
#include "../support/socket_pairs.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <utility>

using namespace std::chrono_literals;

namespace co_errors {

using bsonrpc::test::describe;
using bsonrpc::test::describe_result;

inline const std::string blob_error =
    R"(-32004 'no such blob' data={"name":"missing","tried":[1,2]})";

BSONRPC_INTERFACE(BlobApi, BSONRPC_CALL(fail, int()))

// Awaits `call` (an awaitable<R>) and says how it ended.
template <class R>
asio::awaitable<std::string> outcome_of(asio::awaitable<R> call) {
  std::exception_ptr failure;
  try {
    if constexpr (std::is_void_v<R>) {
      co_await std::move(call);
      co_return std::string("no failure");
    } else {
      co_return describe_result(co_await std::move(call));
    }
  } catch (...) {
    failure = std::current_exception();
  }
  co_return describe(failure);
}

struct Services {
  int fail() {
    throw bsonrpc::rpc_error(-32004, "no such blob",
                             bsonrpc::document{{"name", "missing"}, {"tried", bsonrpc::array{1, 2}}});
  }
  int hang_up(bsonrpc::Context& rpc) {
    rpc.abort();
    return 0;
  }
  // Awaits a timer the test cancels: a call that is never answered in time.
  asio::awaitable<int> stall() {
    stall_timer.emplace(co_await asio::this_coro::executor, 1h);
    std::error_code ignored;
    co_await stall_timer->async_wait(asio::redirect_error(asio::use_awaitable, ignored));
    co_return 1;
  }
  // A coroutine handler calling the peer's `method` back through its Context with
  // use_awaitable (for reply<int> when `as_reply`); `relayed` receives how that ended.
  asio::awaitable<int> relay(bsonrpc::Context& rpc, std::string method, bool as_reply) {
    std::string text;
    if (as_reply)
      text = co_await outcome_of(
          rpc.async_call<bsonrpc::reply<int>>(method, asio::use_awaitable));
    else
      text = co_await outcome_of(rpc.async_call<int>(method, asio::use_awaitable));
    relayed(text);
    co_return 0;
  }

  std::optional<asio::steady_timer> stall_timer;
  std::function<void(std::string)> relayed;
};
BSONRPC_SERVICE(Services,
  BSONRPC_REQUEST(fail),
  BSONRPC_RPC_REQUEST(hang_up),
  BSONRPC_REQUEST(stall),
  BSONRPC_RPC_REQUEST(relay, method, as_reply))

// Two endpoints on one io_context that this thread runs.
template <class Rpc>
struct loop_pair {
  asio::io_context io;  // first: the services' timers run on it and must go before it
  Services server_services, client_services;
  std::unique_ptr<Rpc> server, client;
  explicit loop_pair(std::optional<std::chrono::milliseconds> timeout = 10s) {
    auto [s, c] = bsonrpc::test::tcp_transport::connect(io);
    bsonrpc::Options options;
    options.default_timeout = timeout;
    server = std::make_unique<Rpc>(std::move(s), server_services, options);
    client = std::make_unique<Rpc>(std::move(c), client_services, options);
  }
  void close() {
    for (auto* s : {&server_services, &client_services})
      if (s->stall_timer) s->stall_timer->cancel();
    client->close();
    server->close();
  }
  // Runs `coroutine` (an awaitable<std::string>) to its end, then closes; its text.
  template <class Coroutine>
  std::string await(Coroutine coroutine) {
    std::optional<std::string> text;
    asio::co_spawn(io, std::move(coroutine), [&](std::exception_ptr e, std::string t) {
      text = e ? "the coroutine threw " + describe(e) : t;
      close();
    });
    io.run_for(bsonrpc::test::bound);
    return text.value_or(bsonrpc::test::no_completion);
  }
  // The server calls the client's `method` from a coroutine handler; how that call ended.
  std::string relay(const std::string& method, bool as_reply) {
    std::optional<std::string> text;
    server_services.relayed = [&](std::string t) {
      text = std::move(t);
      close();
    };
    client->template async_call<int>("relay", method, as_reply, [](std::error_code, int) {});
    io.run_for(bsonrpc::test::bound);
    return text.value_or(bsonrpc::test::no_completion);
  }
};

using json_loop = bsonrpc::JsonRpc<bsonrpc::Rfc7464, bsonrpc::EventLoop>;
using bson_loop = bsonrpc::BsonRpc<bsonrpc::EventLoop>;

}  // namespace co_errors

TEMPLATE_TEST_CASE("peer errors in coroutines: co_await throws the peer's rpc_error with its code, message and data",
                   "[errors][coroutine][event_loop]", co_errors::json_loop, co_errors::bson_loop) {
  co_errors::loop_pair<TestType> p;
  CHECK(p.await(co_errors::outcome_of(p.client->template async_call<int>("fail", asio::use_awaitable))) ==
        "rpc_error " + co_errors::blob_error);
  co_errors::loop_pair<TestType> q;
  CHECK(q.await(co_errors::outcome_of(q.client->template async_call<void>("fail", asio::use_awaitable))) ==
        "rpc_error " + co_errors::blob_error);
}

TEMPLATE_TEST_CASE("peer errors in coroutines: a predefined error arrives as its own class",
                   "[errors][coroutine][event_loop]", co_errors::json_loop, co_errors::bson_loop) {
  co_errors::loop_pair<TestType> p;
  bool caught = false;
  p.await([&]() -> asio::awaitable<std::string> {
    try {
      co_await p.client->template async_call<int>("no_such_method", asio::use_awaitable);
    } catch (const bsonrpc::method_not_found&) {
      caught = true;
    }
    co_return "";
  });
  CHECK(caught);
}

TEMPLATE_TEST_CASE("peer errors in coroutines: reply<T> holds the peer's error and co_await does not throw",
                   "[errors][coroutine][event_loop][reply]", co_errors::json_loop, co_errors::bson_loop) {
  co_errors::loop_pair<TestType> p;
  CHECK(p.await(co_errors::outcome_of(p.client->template async_call<bsonrpc::reply<int>>(
            "fail", asio::use_awaitable))) == "reply error " + co_errors::blob_error);
  co_errors::loop_pair<TestType> q;
  // A deferred operation awaited later follows the same rule.
  CHECK(q.await([&]() -> asio::awaitable<std::string> {
          auto op = q.client->template async_call<bsonrpc::reply<int>>(
              "fail", asio::experimental::deferred);
          co_return co_await co_errors::outcome_of(std::move(op)(asio::use_awaitable));
        }) == "reply error " + co_errors::blob_error);
}

TEMPLATE_TEST_CASE("peer errors in coroutines: a typed stub's co_await throws the peer's rpc_error whole",
                   "[errors][coroutine][event_loop][interface]", co_errors::json_loop, co_errors::bson_loop) {
  co_errors::loop_pair<TestType> p;
  co_errors::BlobApi::client<TestType> api(*p.client);
  CHECK(p.await(co_errors::outcome_of(api.async_fail(asio::use_awaitable))) ==
        "rpc_error " + co_errors::blob_error);
}

TEMPLATE_TEST_CASE("peer errors in coroutines: a timeout throws timeout_error and a closed connection connection_closed",
                   "[errors][coroutine][event_loop][timeout][close]", co_errors::json_loop, co_errors::bson_loop) {
  for (bool as_reply : {false, true}) {
    INFO((as_reply ? "reply<int>" : "int"));
    auto call = [&](auto& pair, const char* method) {
      if (as_reply)
        return co_errors::outcome_of(
            pair.client->template async_call<bsonrpc::reply<int>>(method, asio::use_awaitable));
      return co_errors::outcome_of(pair.client->template async_call<int>(method, asio::use_awaitable));
    };
    co_errors::loop_pair<TestType> slow(150ms);
    CHECK(slow.await(call(slow, "stall")) == "timeout_error 4");
    co_errors::loop_pair<TestType> closing;
    CHECK(closing.await(call(closing, "hang_up")) == "connection_closed 5");
  }
}

TEMPLATE_TEST_CASE("peer errors in coroutines: a coroutine handler's Context gets the peer's error, a timeout and a closed connection whole",
                   "[errors][coroutine][event_loop][context]", co_errors::json_loop, co_errors::bson_loop) {
  {
    co_errors::loop_pair<TestType> p;
    CHECK(p.relay("fail", false) == "rpc_error " + co_errors::blob_error);
  }
  {
    co_errors::loop_pair<TestType> p;
    CHECK(p.relay("fail", true) == "reply error " + co_errors::blob_error);
  }
  {
    co_errors::loop_pair<TestType> p(150ms);
    CHECK(p.relay("stall", false) == "timeout_error 4");
  }
  co_errors::loop_pair<TestType> p;
  CHECK(p.relay("hang_up", false) == "connection_closed 5");
}

TEST_CASE("peer errors in coroutines: co_spawn with a rethrowing handler ends io.run() with the peer's error instead of hanging",
          "[errors][coroutine][event_loop]") {
  co_errors::loop_pair<co_errors::json_loop> p;
  asio::co_spawn(
      p.io,
      [&]() -> asio::awaitable<void> {
        co_await p.client->template async_call<int>("fail", asio::use_awaitable);
        p.close();  // never reached: the call throws
      },
      [](std::exception_ptr e) {
        if (e) std::rethrow_exception(e);
      });
  std::string seen = "io.run_for returned";
  try {
    p.io.run_for(bsonrpc::test::bound);
  } catch (const bsonrpc::rpc_error& e) {
    seen = "rpc_error " + bsonrpc::test::describe(e);
  }
  CHECK(seen == "rpc_error " + co_errors::blob_error);
  p.close();
  p.io.restart();
  p.io.run_for(bsonrpc::test::bound);
}

TEST_CASE("peer errors in coroutines: async_notify and async_batch_call throw connection_closed once the connection is closed",
          "[errors][coroutine][event_loop][close]") {
  co_errors::loop_pair<co_errors::json_loop> p;
  p.client->close();
  CHECK(p.await([&]() -> asio::awaitable<std::string> {
          co_return co_await co_errors::outcome_of(p.client->async_notify("fail", asio::use_awaitable));
        }) == "connection_closed 5");
  co_errors::loop_pair<co_errors::json_loop> q;
  q.client->close();
  bsonrpc::Batch batch;
  batch.request("fail");
  std::string seen;
  q.await([&]() -> asio::awaitable<std::string> {
    try {
      co_await q.client->async_batch_call(batch, asio::use_awaitable);
      seen = "no failure";
    } catch (const bsonrpc::connection_closed&) {
      seen = "connection_closed";
    }
    co_return "";
  });
  CHECK(seen == "connection_closed");
}
