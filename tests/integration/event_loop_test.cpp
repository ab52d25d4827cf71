// The EventLoop executor: one thread serving many connections, the async API with each kind
// of completion token, back-pressure, and refusing blocking calls that would deadlock.
#include <bsonrpc/bsonrpc.hpp>

#include "../support/fd_limit.hpp"
#include "../support/socket_pairs.hpp"

#include <catch2/catch.hpp>

#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;

namespace loop_test {

struct Services {
  int add(int a, int b) const { return a + b; }
  std::string swapper(const std::string& txt) const { return {txt.rbegin(), txt.rend()}; }
  // A plain (blocking) handler calling the peer: refused on the io_context's thread.
  std::string blocking_call(bsonrpc::Context& rpc) { return rpc.call<std::string>("swapper", "x"); }
  void note(const std::string&) { ++notes; }
  std::atomic<int> notes{0};
};
BSONRPC_SERVICE(Services,
  BSONRPC_REQUEST(add, a, b),
  BSONRPC_REQUEST(swapper, txt),
  BSONRPC_RPC_REQUEST(blocking_call),
  BSONRPC_NOTIFICATION(note, txt))

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

namespace loop_test {

// A TCP socket that counts the writes made on it, direct or asynchronous, and its reads.
class counting_socket : public asio::ip::tcp::socket {
 public:
  counting_socket(asio::ip::tcp::socket socket, std::shared_ptr<std::atomic<int>> writes,
                  std::shared_ptr<std::atomic<int>> reads = std::make_shared<std::atomic<int>>())
      : asio::ip::tcp::socket(std::move(socket)),
        writes_(std::move(writes)),
        reads_(std::move(reads)) {}

  template <class Buffers>
  std::size_t write_some(const Buffers& buffers, std::error_code& ec) {
    ++*writes_;
    return asio::ip::tcp::socket::write_some(buffers, ec);
  }
  template <class Buffers, class Token>
  auto async_write_some(const Buffers& buffers, Token&& token) {
    ++*writes_;
    return asio::ip::tcp::socket::async_write_some(buffers, std::forward<Token>(token));
  }
  template <class Buffers, class Token>
  auto async_read_some(const Buffers& buffers, Token&& token) {
    ++*reads_;
    return asio::ip::tcp::socket::async_read_some(buffers, std::forward<Token>(token));
  }

 private:
  std::shared_ptr<std::atomic<int>> writes_;
  std::shared_ptr<std::atomic<int>> reads_;
};

// Runs `io` until `done()`, for 5 s at most.
template <class Done>
void run_until(asio::io_context& io, Done done) {
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (!done() && std::chrono::steady_clock::now() < deadline) io.run_one_for(50ms);
}

}  // namespace loop_test

namespace loop_test {

// Sends `requests` swapper requests for `text` to a server on `io` at once, before the server
// runs, reads every reply, and returns how many writes the server made for them.
int writes_to_answer(int requests, const std::string& text) {
  asio::io_context io;
  auto [s, client] = bsonrpc::test::tcp_transport::connect(io);
  auto writes = std::make_shared<std::atomic<int>>(0);
  Services services;
  rpc server(counting_socket(std::move(s), writes), services);
  std::string batch;
  for (int id = 1; id <= requests; ++id)
    bsonrpc::Rfc7464::wrap(R"({"jsonrpc":"2.0","method":"swapper","params":[")" + text +
                               R"("],"id":)" + std::to_string(id) + "}",
                           batch);
  asio::write(client, asio::buffer(batch));
  std::atomic<bool> answered{false};
  std::string replies;
  std::thread reader([&] {
    char chunk[4096];
    std::error_code ec;
    while (!ec && std::count(replies.begin(), replies.end(), '\x1e') < requests)
      replies.append(chunk, client.read_some(asio::buffer(chunk), ec));
    answered = true;
  });
  run_until(io, [&] { return answered.load(); });
  if (!answered) client.close();
  reader.join();
  REQUIRE(answered);
  CHECK(std::count(replies.begin(), replies.end(), '\x1e') == requests);
  CHECK(replies.find(R"("result":")" + std::string(text.rbegin(), text.rend()) + '"') !=
        std::string::npos);
  server.close();
  io.run_for(100ms);
  return writes->load();
}

}  // namespace loop_test

TEST_CASE("event loop: the replies to requests read together leave in one write, not one each",
          "[event_loop][writes]") {
  // 16 requests of about 60 bytes: the server's first read (1 KiB) takes them all, and their
  // replies (about 700 bytes together) stay below detail::held_write_bytes.
  CHECK(loop_test::writes_to_answer(16, "ab") == 1);
}

TEST_CASE("event loop: replies read together leave in writes of a few KiB, not held all at once",
          "[event_loop][writes]") {
  // 16 replies of about 1 KiB each: a write starts once 4 KiB are held, so the peer can start
  // on the first replies while the server handles the rest.
  const int writes = loop_test::writes_to_answer(16, std::string(1000, 'x') + "y");
  CHECK(writes > 1);
  CHECK(writes <= 8);
}

TEST_CASE("event loop: a burst of BSON messages is read in a few growing reads",
          "[event_loop][reads]") {
  asio::io_context io;
  auto [s, client] = bsonrpc::test::tcp_transport::connect(io);
  auto reads = std::make_shared<std::atomic<int>>(0);
  loop_test::Services services;
  bsonrpc::BsonRpc<bsonrpc::EventLoop> server(
      loop_test::counting_socket(std::move(s), std::make_shared<std::atomic<int>>(), reads),
      services);
  // 256 notifications of about 100 bytes (a BSON frame announces its size, which the reader
  // uses for the frame at the end of a read): sent before the server runs.
  constexpr int notifications = 256;
  std::string burst;
  for (int i = 0; i < notifications; ++i) {
    const bsonrpc::value message(bsonrpc::document{
        {"bsonrpc", bsonrpc::value("2.0")},
        {"method", bsonrpc::value("note")},
        {"params", bsonrpc::value(bsonrpc::array{bsonrpc::value(std::string(48, 'a'))})}});
    bsonrpc::BsonCodec::encode(message, burst);
  }
  REQUIRE(burst.size() > 20 * 1024);
  asio::write(client, asio::buffer(burst));
  loop_test::run_until(io, [&] { return services.notes == notifications; });
  CHECK(services.notes == notifications);
  // The buffer doubles while reads fill it (1, 2, 4, 8, 16 KiB): a handful of reads. Sized
  // for the frame at the end of each read instead, it took 16.
  INFO("reads: " << reads->load() << " for " << burst.size() << " bytes");
  CHECK(reads->load() <= 8);
  server.close();
  io.run_for(100ms);
}

TEST_CASE("event loop: calls chained from completions leave together, not one write each",
          "[event_loop][writes]") {
  asio::io_context io;
  auto [s, c] = bsonrpc::test::tcp_transport::connect(io);
  auto writes = std::make_shared<std::atomic<int>>(0);
  loop_test::Services services;
  loop_test::rpc server(std::move(s), services);
  loop_test::rpc client(loop_test::counting_socket(std::move(c), writes));
  constexpr int chains = 16;
  constexpr int rounds = 20;
  std::atomic<int> completed{0};
  std::atomic<int> failed{0};
  std::function<void(int)> chain = [&](int left) {
    client.async_call<int>("add", 1, 2, [&, left](std::error_code ec, int sum) {
      if (ec || sum != 3) ++failed;
      ++completed;
      if (left > 1) chain(left - 1);
    });
  };
  asio::post(io, [&] {
    for (int i = 0; i < chains; ++i) chain(rounds);
  });
  loop_test::run_until(io, [&] { return completed == chains * rounds; });
  REQUIRE(completed == chains * rounds);
  CHECK(failed == 0);
  // The first 16 calls leave one write each: nothing holds them. The calls chained from the
  // completions of one read leave together: 304 more calls, in far fewer writes.
  INFO("writes: " << writes->load());
  CHECK(writes->load() < chains + (rounds - 1) * chains / 4);
  client.close();
  server.close();
  io.run_for(100ms);
}
