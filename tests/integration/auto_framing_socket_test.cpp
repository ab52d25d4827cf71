// AutoFraming over loopback TCP: a server with JsonRpc<AutoFraming> serves the library's own
// clients of every JSON framing, answering (and calling back) in the client's framing, with both
// executors; a BSON client and bytes of no framing get one clear log line and a closed connection.
#include <bsonrpc/bsonrpc.hpp>

#include "../support/socket_pairs.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

using namespace std::chrono_literals;

namespace auto_framing_it {

// Collects log lines of the server.
struct log_lines {
  std::mutex mutex;
  std::condition_variable changed;
  std::vector<std::string> lines;

  bsonrpc::log_sink sink() {
    return [this](bsonrpc::log_level, std::uint64_t, std::string_view line) {
      std::lock_guard lock(mutex);
      lines.emplace_back(line);
      changed.notify_all();
    };
  }
  // The first line holding `text`, waiting for it up to 5 s; "" if none came.
  std::string wait_for(const std::string& text) {
    std::unique_lock lock(mutex);
    std::string found;
    changed.wait_for(lock, 5s, [&] {
      for (const auto& l : lines)
        if (l.find(text) != std::string::npos) found = l;
      return !found.empty();
    });
    return found;
  }
};

void register_methods(bsonrpc::dispatcher<bsonrpc::JsonCodec>& methods) {
  methods.add_request("add", [](int a, int b) { return a + b; }, {"a", "b"});
  // Calls the client back, in the client's framing, before answering.
  methods.add_request("twice", [](bsonrpc::Context& ctx, int x) {
    return ctx.call<int>("add", x, x);
  }, {"x"});
}

// A server over AutoFraming and a client over `ClientFraming`, with executor E on both.
template <class ClientFraming, class E>
void check_detected(asio::io_context& io) {
  auto [s, c] = bsonrpc::test::tcp_transport::connect(io);
  bsonrpc::Rpc<bsonrpc::JsonCodec, bsonrpc::AutoFraming, E> server(std::move(s), register_methods);
  bsonrpc::Rpc<bsonrpc::JsonCodec, ClientFraming, E> client(std::move(c), register_methods);
  CHECK(client.template call_for<int>(5s, "add", 2, 3) == 5);
  CHECK(client.template call_for<int>(5s, "twice", 21) == 42);
  // A batch too (frameless batches are JSON arrays, netstrings carry them as any message).
  bsonrpc::Batch batch;
  batch.request("add", 1, 1);
  batch.request("add", 2, 2);
  const auto results = client.batch_call(batch, 5s);
  REQUIRE(results.size() == 2);
  CHECK(results[1].template get<int>() == 4);
  CHECK_FALSE(server.is_closed());
}

template <class T>
struct type_tag {
  using type = T;
};

}  // namespace auto_framing_it

using namespace auto_framing_it;

TEST_CASE("auto framing: a server detects every JSON framing of the library's own client "
          "(threads executor)",
          "[auto][framing][integration]") {
  asio::io_context io;
  SECTION("rfc7464") { check_detected<bsonrpc::Rfc7464, bsonrpc::Threads>(io); }
  SECTION("netstring") { check_detected<bsonrpc::Netstring, bsonrpc::Threads>(io); }
  SECTION("content-length") { check_detected<bsonrpc::ContentLength, bsonrpc::Threads>(io); }
  SECTION("ndjson") { check_detected<bsonrpc::Ndjson, bsonrpc::Threads>(io); }
  SECTION("frameless") { check_detected<bsonrpc::Frameless, bsonrpc::Threads>(io); }
}

// EventLoop: "twice" blocks its handler on a call back, so handlers run on a pool.
TEST_CASE("auto framing: a server detects every JSON framing of the library's own client "
          "(event loop executor)",
          "[auto][framing][integration]") {
  asio::io_context io;
  auto work = asio::make_work_guard(io);
  std::thread loop([&] { io.run(); });
  asio::thread_pool pool(2);
  bsonrpc::Options options;
  options.handler_runner = [&pool](std::function<void()> task) { asio::post(pool, std::move(task)); };
  auto run = [&](auto framing_tag) {
    using F = typename decltype(framing_tag)::type;
    auto [s, c] = bsonrpc::test::tcp_transport::connect(io);
    bsonrpc::Rpc<bsonrpc::JsonCodec, bsonrpc::AutoFraming, bsonrpc::EventLoop> server(
        std::move(s), register_methods, options);
    bsonrpc::Rpc<bsonrpc::JsonCodec, F, bsonrpc::EventLoop> client(std::move(c), register_methods,
                                                                   options);
    INFO(F::name);
    CHECK(client.template call_for<int>(5s, "add", 2, 3) == 5);
    CHECK(client.template call_for<int>(5s, "twice", 21) == 42);
  };
  run(type_tag<bsonrpc::Rfc7464>{});
  run(type_tag<bsonrpc::Netstring>{});
  run(type_tag<bsonrpc::ContentLength>{});
  run(type_tag<bsonrpc::Ndjson>{});
  run(type_tag<bsonrpc::Frameless>{});
  work.reset();
  loop.join();
  pool.join();
}

TEST_CASE("auto framing: a BSON client gets a clear log line and a closed connection",
          "[auto][framing][integration]") {
  asio::io_context io;
  auto [s, c] = bsonrpc::test::tcp_transport::connect(io);
  log_lines log;
  bsonrpc::Options options;
  options.log = log.sink();
  bsonrpc::JsonRpc<bsonrpc::AutoFraming> server(std::move(s), register_methods, options);
  bsonrpc::BsonRpc<> client(std::move(c));
  CHECK_THROWS_AS(client.call_for<int>(5s, "add", 2, 3), bsonrpc::connection_closed);
  CHECK(log.wait_for("framing error, closing: auto: the peer sends BSON") != "");
  CHECK(server.join(5s));
}

TEST_CASE("auto framing: bytes of no framing get a log line naming them, and the connection "
          "closes",
          "[auto][framing][integration]") {
  asio::io_context io;
  auto [s, c] = bsonrpc::test::tcp_transport::connect(io);
  log_lines log;
  bsonrpc::Options options;
  options.log = log.sink();
  bsonrpc::JsonRpc<bsonrpc::AutoFraming> server(std::move(s), register_methods, options);
  asio::write(c, asio::buffer(std::string("GET / HTTP/1.1\r\n\r\n")));
  CHECK(log.wait_for("auto: the first bytes match no framing").find("47 45 54 20") !=
        std::string::npos);
  CHECK(server.join(5s));
  // The server closed its end: the raw client reads end of stream.
  char byte;
  std::error_code ec;
  c.read_some(asio::buffer(&byte, 1), ec);
  CHECK(ec == asio::error::eof);
}

TEST_CASE("auto framing: the server cannot call before its peer's first bytes",
          "[auto][framing][integration]") {
  asio::io_context io;
  auto [s, c] = bsonrpc::test::tcp_transport::connect(io);
  bsonrpc::JsonRpc<bsonrpc::AutoFraming> server(std::move(s), register_methods);
  bsonrpc::JsonRpc<bsonrpc::Ndjson> client(std::move(c), register_methods);
  CHECK_THROWS_AS(server.notify("add", 1, 2), bsonrpc::encoding_error);
  CHECK(client.call_for<int>(5s, "add", 2, 3) == 5);
  CHECK(server.call_for<int>(5s, "add", 4, 5) == 9);  // detected now: ndjson
}
