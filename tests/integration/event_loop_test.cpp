// The EventLoop executor: one thread serving many connections, the async API with each kind
// of completion token, back-pressure, and refusing blocking calls that would deadlock.
#include <bsonrpc/bsonrpc.hpp>

#include "../support/fd_limit.hpp"
#include "../support/socket_pairs.hpp"

#include <catch2/catch.hpp>

#include <sys/resource.h>

#include <chrono>
#include <future>
#include <string>
#include <vector>

using namespace std::chrono_literals;

namespace loop_test {

struct Services {
  int add(int a, int b) const { return a + b; }
  std::string swapper(const std::string& txt) const { return {txt.rbegin(), txt.rend()}; }
  // A plain (blocking) handler calling the peer: refused on the io_context's thread.
  std::string blocking_call(bsonrpc::Context& rpc) { return rpc.call<std::string>("swapper", "x"); }
};
BSONRPC_SERVICE(Services,
  BSONRPC_REQUEST(add, a, b),
  BSONRPC_REQUEST(swapper, txt),
  BSONRPC_RPC_REQUEST(blocking_call))

using rpc = bsonrpc::JsonRpc<bsonrpc::Rfc7464, bsonrpc::EventLoop>;

}  // namespace loop_test

TEST_CASE("event loop: one thread serves 1,000 concurrent connections each making calls",
          "[event_loop][integration][scale]") {
  std::size_t connections = 1000;
  const rlim_t limit = bsonrpc::test::raise_fd_limit();
  if (limit < 2 * connections + 64) {
    connections = (limit - 64) / 2;
    WARN("descriptor limit " << limit << ": testing " << connections << " connections");
  }
  asio::io_context io;
  loop_test::Services services;
  asio::ip::tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
  bsonrpc::connection_set<loop_test::rpc> servers;
  bsonrpc::accept_loop(acceptor, [&](asio::ip::tcp::socket socket) {
    servers.add(std::move(socket), services);
  });

  std::vector<std::unique_ptr<loop_test::rpc>> clients;
  std::size_t answered = 0;
  std::size_t wrong = 0;
  std::size_t served = 0;
  // Once every call is answered, close everything: the loop then runs out of work and returns.
  auto finish = [&] {
    served = servers.size();
    acceptor.close();
    for (auto& c : clients) c->close();
    servers.close_all();
  };
  const int calls_each = 3;
  for (std::size_t i = 0; i < connections; ++i) {
    asio::ip::tcp::socket socket(io);
    socket.connect(acceptor.local_endpoint());
    clients.push_back(std::make_unique<loop_test::rpc>(std::move(socket)));
    for (int k = 0; k < calls_each; ++k) {
      const int a = static_cast<int>(i);
      clients.back()->async_call<int>("add", a, k, [&, a, k](std::error_code ec, int sum) {
        if (ec || sum != a + k) ++wrong;
        if (++answered == connections * calls_each) finish();
      });
    }
  }
  io.run_for(60s);  // this thread is the only one
  CHECK(wrong == 0);
  CHECK(answered == connections * calls_each);
  CHECK(served == connections);
  CHECK(servers.size() == 0);
}

TEST_CASE("event loop: async_call completes through a callback, a future and a batch",
          "[event_loop][integration][async]") {
  asio::io_context io;
  auto [s, c] = bsonrpc::test::tcp_transport::connect(io);
  loop_test::Services services;
  loop_test::rpc server(std::move(s), services);
  loop_test::rpc client(std::move(c));
  std::error_code missing;
  client.async_call<int>("missing", [&](std::error_code ec, int) { missing = ec; });
  std::future<int> sum = client.async_call<int>("add", 2, 3, asio::use_future);
  std::vector<bsonrpc::batch_result> batch_results;
  std::error_code batch_error = bsonrpc::errc::internal_error;
  bsonrpc::Batch batch;
  batch.request("add", 1, 1).request("swapper", "ab");
  // Callbacks run on the loop's thread: they record, the main thread checks (Catch2 is not
  // thread-safe).
  client.async_batch_call(batch, [&](std::error_code ec, std::vector<bsonrpc::batch_result> r) {
    batch_error = ec;
    batch_results = std::move(r);
  });
  std::error_code notified = bsonrpc::errc::internal_error;
  client.async_notify("add", 1, 2, [&](std::error_code ec) { notified = ec; });
  std::thread loop([&] { io.run_for(10s); });
  CHECK(sum.get() == 5);
  client.call<int>("add", 0, 0);  // a blocking call from another thread is fine
  client.close();
  server.close();
  loop.join();
  CHECK(missing == bsonrpc::errc::method_not_found);
  CHECK_FALSE(batch_error);
  REQUIRE(batch_results.size() == 2);
  CHECK(batch_results[0].get<int>() == 2);
  CHECK(batch_results[1].get<std::string>() == "ba");
  CHECK_FALSE(notified);
}

TEST_CASE("event loop: a default timeout applies to asynchronous calls", "[event_loop][timeout]") {
  asio::io_context io;
  auto [s, c] = bsonrpc::test::tcp_transport::connect(io);
  bsonrpc::Options options;
  options.default_timeout = 30ms;
  // A server that never answers: its socket is simply not read.
  loop_test::rpc client(std::move(c), options);
  std::error_code result;
  client.async_call<int>("add", 1, 2, [&](std::error_code ec, int) {
    result = ec;
    client.close();
  });
  io.run_for(10s);
  CHECK(result == bsonrpc::errc::timeout);
}

TEST_CASE("event loop: a blocking call from the io_context's own thread is refused, not deadlocked",
          "[event_loop][errors]") {
  asio::io_context io;
  auto [s, c] = bsonrpc::test::tcp_transport::connect(io);
  loop_test::Services services;
  loop_test::rpc server(std::move(s), services);
  loop_test::rpc client(std::move(c), services);
  std::error_code result;
  client.async_call<std::string>("blocking_call", [&](std::error_code ec, std::string) {
    result = ec;
    client.close();
    server.close();
  });
  io.run_for(10s);
  CHECK(result == bsonrpc::errc::server_error);
}

TEST_CASE("event loop: calls and notifications report back-pressure past the outgoing cap",
          "[event_loop][backpressure]") {
  asio::io_context io;  // never run: nothing drains the queue
  auto [s, c] = bsonrpc::test::tcp_transport::connect(io);
  bsonrpc::Options options;
  options.max_pending_outgoing_bytes = 1024;
  loop_test::rpc client(std::move(c), options);
  const std::string big(800, 'x');
  client.notify("swapper", big);
  try {
    client.notify("swapper", big);
    FAIL("no back-pressure");
  } catch (const bsonrpc::error& e) {
    CHECK(e.code() == bsonrpc::errc::backpressure);
  }
  std::error_code refused;
  client.async_call<std::string>("swapper", big, [&](std::error_code ec, std::string) { refused = ec; });
  io.run_for(100ms);
  CHECK(refused == bsonrpc::errc::backpressure);
}

TEST_CASE("event loop: async_call<reply<T>> carries the peer's error message and data",
          "[event_loop][async][errors]") {
  asio::io_context io;
  auto [s, c] = bsonrpc::test::tcp_transport::connect(io);
  loop_test::Services services;
  loop_test::rpc server(std::move(s), services);
  loop_test::rpc client(std::move(c));
  std::error_code failed_code = bsonrpc::errc::internal_error, ok_code = bsonrpc::errc::internal_error;
  bsonrpc::reply<int> failed, succeeded;
  client.async_call<bsonrpc::reply<int>>("add", 1, "x", [&](std::error_code ec, bsonrpc::reply<int> r) {
    failed_code = ec;
    failed = std::move(r);
  });
  client.async_call<bsonrpc::reply<int>>("add", 1, 2, [&](std::error_code ec, bsonrpc::reply<int> r) {
    ok_code = ec;
    succeeded = std::move(r);
    client.close();
    server.close();
  });
  io.run_for(10s);
  CHECK_FALSE(failed_code);  // the peer's error is the reply's, not the call's failure
  REQUIRE(failed.error() != nullptr);
  CHECK(failed.error()->code() == bsonrpc::errc::invalid_params);
  CHECK(failed.error()->message() == "Invalid params");
  CHECK(failed.error()->data().get<std::string>().find("parameter 'b'") != std::string::npos);
  CHECK_THROWS_AS(failed.value(), bsonrpc::rpc_error);
  CHECK_FALSE(ok_code);
  CHECK(succeeded.ok());
  CHECK(succeeded.value() == 3);
}
