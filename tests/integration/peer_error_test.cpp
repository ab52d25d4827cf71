// One error object on every path: whichever way a call is made (blocking, callback, future,
// use_future, deferred, on an Rpc or a handler's Context), the peer's error reply arrives with
// its code, message and data; a timeout and a closed connection arrive as themselves. Forms
// that report an std::error_code get the same code. reply<T> holds the peer's error without
// failing. (use_awaitable: tests/cxx20/peer_error_coroutine_test.cpp.)
#include <bsonrpc/bsonrpc.hpp>

#include "../support/call_forms.hpp"
#include "../support/rpc_pair.hpp"
#include "../support/socket_pairs.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <system_error>
#include <type_traits>
#include <vector>

using namespace std::chrono_literals;

namespace peer_errors {

using bsonrpc::test::call_form;
using bsonrpc::test::call_forms;

inline const std::string blob_error =
    R"(-32004 'no such blob' data={"name":"missing","tried":[1,2]})";

struct Services {
  int fail() {
    throw bsonrpc::rpc_error(-32004, "no such blob",
                             bsonrpc::document{{"name", "missing"}, {"tried", bsonrpc::array{1, 2}}});
  }
  int stall() {
    stalled.wait();
    return 1;
  }
  int hang_up(bsonrpc::Context& rpc) {
    rpc.abort();
    return 0;
  }
  // Calls the peer's `method` back through this handler's Context with the form named `form`
  // (for reply<int> when `as_reply`) and posts how that call ended.
  int relay(bsonrpc::Context& rpc, const std::string& form, const std::string& method,
            bool as_reply) {
    relayed.put(as_reply ? run<bsonrpc::reply<int>>(rpc, form, method)
                         : run<int>(rpc, form, method));
    return 0;
  }
  template <class R>
  static std::string run(bsonrpc::Context& rpc, const std::string& form,
                         const std::string& method) {
    for (auto& f : call_forms<bsonrpc::Context, R>())
      if (f.name == form) return f.run(rpc, method);
    return "no form " + form;
  }

  bsonrpc::test::gate stalled;
  bsonrpc::test::mailbox relayed;
};
BSONRPC_SERVICE(Services,
  BSONRPC_REQUEST(fail),
  BSONRPC_REQUEST(stall),
  BSONRPC_RPC_REQUEST(hang_up),
  BSONRPC_RPC_REQUEST(relay, form, method, as_reply))

using namespace bsonrpc::test::tcp_setups;  // json_threads, json_loop, bson_threads, bson_loop

// A connected pair whose stalled handlers are released before it closes.
template <class Setup>
struct pair : bsonrpc::test::rpc_pair<Setup, Services> {
  explicit pair(std::chrono::milliseconds timeout)
      : bsonrpc::test::rpc_pair<Setup, Services>(options(timeout)) {}
  ~pair() {
    this->server_services.stalled.open();
    this->client_services.stalled.open();
  }
  static bsonrpc::Options options(std::chrono::milliseconds timeout) {
    bsonrpc::Options o;
    o.default_timeout = timeout;
    return o;
  }
  // The server calls the client's `method` with `form` from a handler, and says how it ended.
  std::string relay(const std::string& form, const std::string& method, bool as_reply) {
    this->client->template async_call<int>("relay", form, method, as_reply,
                                           [](std::error_code, int) {});
    return this->server_services.relayed.take();
  }
};

// Long enough for any answered call, and bounds every blocking one.
constexpr auto patient = 10s;
// Short: the stalled calls time out quickly.
constexpr auto impatient = 150ms;

}  // namespace peer_errors

#define PEER_ERROR_SETUPS \
  peer_errors::json_threads, peer_errors::bson_threads, peer_errors::json_loop, peer_errors::bson_loop

TEMPLATE_TEST_CASE("peer errors: every call form receives the peer's error with its code, message and data",
                   "[errors][integration][async]", PEER_ERROR_SETUPS) {
  peer_errors::pair<TestType> p(peer_errors::patient);
  for (const auto& form : bsonrpc::test::call_forms<typename TestType::rpc, int>()) {
    INFO(form.name);
    CHECK(form.run(*p.client, "fail") ==
          expected(form, "rpc_error " + peer_errors::blob_error, std::error_code(-32004, bsonrpc::rpc_category())));
    CHECK(form.run(*p.client, "no_such_method") ==
          expected(form, "rpc_error -32601 'Method not found'", bsonrpc::errc::method_not_found));
  }
}

TEMPLATE_TEST_CASE("peer errors: reply<T> holds the peer's error without failing, on every asynchronous form",
                   "[errors][integration][async][reply]", PEER_ERROR_SETUPS) {
  peer_errors::pair<TestType> p(peer_errors::patient);
  for (const auto& form : bsonrpc::test::call_forms<typename TestType::rpc, bsonrpc::reply<int>>()) {
    INFO(form.name);
    CHECK(form.run(*p.client, "fail") == "reply error " + peer_errors::blob_error);
  }
}

TEMPLATE_TEST_CASE("peer errors: a timeout arrives as timeout_error, or as errc::timeout, on every form",
                   "[errors][integration][async][timeout]", PEER_ERROR_SETUPS) {
  for (const auto& form : bsonrpc::test::call_forms<typename TestType::rpc, int>()) {
    INFO(form.name);
    peer_errors::pair<TestType> p(peer_errors::impatient);
    CHECK(form.run(*p.client, "stall") == expected(form, "timeout_error 4", bsonrpc::errc::timeout));
  }
  for (const auto& form : bsonrpc::test::call_forms<typename TestType::rpc, bsonrpc::reply<int>>()) {
    INFO(form.name << " with reply<int>");
    peer_errors::pair<TestType> p(peer_errors::impatient);
    CHECK(form.run(*p.client, "stall") == expected(form, "timeout_error 4", bsonrpc::errc::timeout));
  }
}

TEMPLATE_TEST_CASE("peer errors: a closed connection arrives as connection_closed, or as errc::connection_closed, on every form",
                   "[errors][integration][async][close]", PEER_ERROR_SETUPS) {
  for (const auto& form : bsonrpc::test::call_forms<typename TestType::rpc, int>()) {
    INFO(form.name);
    peer_errors::pair<TestType> p(peer_errors::patient);
    CHECK(form.run(*p.client, "hang_up") ==
          expected(form, "connection_closed 5", bsonrpc::errc::connection_closed));
  }
  for (const auto& form : bsonrpc::test::call_forms<typename TestType::rpc, bsonrpc::reply<int>>()) {
    INFO(form.name << " with reply<int>");
    peer_errors::pair<TestType> p(peer_errors::patient);
    CHECK(form.run(*p.client, "hang_up") ==
          expected(form, "connection_closed 5", bsonrpc::errc::connection_closed));
  }
}

TEMPLATE_TEST_CASE("peer errors: a handler's Context receives the peer's error whole on every form, and reply<T> holds it",
                   "[errors][integration][async][context]", PEER_ERROR_SETUPS) {
  peer_errors::pair<TestType> p(peer_errors::patient);
  for (const auto& form : bsonrpc::test::call_forms<bsonrpc::Context, int>()) {
    INFO(form.name);
    CHECK(p.relay(form.name, "fail", false) ==
          expected(form, "rpc_error " + peer_errors::blob_error, std::error_code(-32004, bsonrpc::rpc_category())));
  }
  for (const auto& form : bsonrpc::test::call_forms<bsonrpc::Context, bsonrpc::reply<int>>()) {
    INFO(form.name << " with reply<int>");
    CHECK(p.relay(form.name, "fail", true) == "reply error " + peer_errors::blob_error);
  }
}

TEMPLATE_TEST_CASE("peer errors: a handler's Context receives a timeout and a closed connection as themselves on every form",
                   "[errors][integration][async][context]", PEER_ERROR_SETUPS) {
  for (const auto& form : bsonrpc::test::call_forms<bsonrpc::Context, int>()) {
    INFO(form.name);
    {
      peer_errors::pair<TestType> p(peer_errors::impatient);
      CHECK(p.relay(form.name, "stall", false) ==
            expected(form, "timeout_error 4", bsonrpc::errc::timeout));
    }
    peer_errors::pair<TestType> p(peer_errors::patient);
    CHECK(p.relay(form.name, "hang_up", false) ==
          expected(form, "connection_closed 5", bsonrpc::errc::connection_closed));
  }
}
