// C++20: a coroutine handler's cancellation slot fires when the peer cancels its request
// (Options::protocol), with both executors.
#include <bsonrpc/bsonrpc.hpp>

#include "../support/rpc_pair.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <string>

using namespace std::chrono_literals;

namespace cocancel {

struct Services {
  std::mutex mutex;
  std::condition_variable changed;
  bool started = false;
  bool slot_fired = false;

  void mark(bool Services::*what) {
    std::lock_guard lock(mutex);
    this->*what = true;
    changed.notify_all();
  }
  bool wait_for(bool Services::*what) {
    std::unique_lock lock(mutex);
    return changed.wait_for(lock, 10s, [&] { return this->*what; });
  }

  // Sleeps 10 s unless its cancellation slot ends the wait first.
  asio::awaitable<std::string> sleep(bsonrpc::Context& ctx) {
    asio::steady_timer timer(co_await asio::this_coro::executor, 10s);
    mark(&Services::started);
    try {
      co_await timer.async_wait(asio::use_awaitable);
    } catch (const std::system_error& e) {
      if (e.code() == asio::error::operation_aborted && ctx.cancelled())
        mark(&Services::slot_fired);
      throw;
    }
    co_return "slept";
  }
  int add(int a, int b) const { return a + b; }
};
BSONRPC_SERVICE(Services, BSONRPC_RPC_REQUEST(sleep), BSONRPC_REQUEST(add, a, b))

template <class Rpc>
using setup = bsonrpc::test::tcp_setup<Rpc>;
using json_threads = setup<bsonrpc::JsonRpc<bsonrpc::Rfc7464, bsonrpc::Threads>>;
using json_loop = setup<bsonrpc::JsonRpc<bsonrpc::Rfc7464, bsonrpc::EventLoop>>;
using bson_loop = setup<bsonrpc::BsonRpc<bsonrpc::EventLoop>>;

}  // namespace cocancel

TEMPLATE_TEST_CASE("coroutines: a cancelled request's coroutine handler sees its cancellation "
                   "slot fire, and its caller gets -32800",
                   "[coroutine][cancellation]", cocancel::json_threads, cocancel::json_loop,
                   cocancel::bson_loop) {
  bsonrpc::Options options;
  options.protocol = bsonrpc::protocol::lsp();
  bsonrpc::test::rpc_pair<TestType, cocancel::Services> p(options);
  // Blocking, on a thread of its own: the exception lives and dies there (see
  // integration/cancellation_socket_test.cpp).
  auto slow = std::async(std::launch::async, [&] {
    try {
      p.client->template call<std::string>("sleep");
    } catch (const bsonrpc::rpc_error& e) {
      return e.code_value();
    }
    return 0;
  });
  REQUIRE(p.server_services.wait_for(&cocancel::Services::started));
  p.client->notify("$/cancelRequest", bsonrpc::named{{"id", 1}});  // the connection's first call
  REQUIRE(slow.wait_for(10s) == std::future_status::ready);
  CHECK(slow.get() == -32800);
  CHECK(p.server_services.wait_for(&cocancel::Services::slot_fired));
  CHECK(p.client->template call<int>("add", 1, 2) == 3);
}

TEMPLATE_TEST_CASE("coroutines: with MCP a coroutine handler cancelled by the peer is never "
                   "answered, and the connection goes on",
                   "[coroutine][cancellation]", cocancel::json_threads, cocancel::json_loop) {
  bsonrpc::Options options;
  options.protocol = bsonrpc::protocol::mcp();
  bsonrpc::test::rpc_pair<TestType, cocancel::Services> p(options);
  auto slow = p.client->template async_call<std::string>("sleep");
  REQUIRE(p.server_services.wait_for(&cocancel::Services::started));
  p.client->notify("notifications/cancelled", bsonrpc::named{{"requestId", 1}});
  CHECK(p.server_services.wait_for(&cocancel::Services::slot_fired));
  CHECK(p.client->template call<int>("add", 1, 2) == 3);
  CHECK(slow.wait_for(0s) == std::future_status::timeout);  // the raw-peer socket test checks "never"
}
