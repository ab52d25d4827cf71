// Options::idle_timeout and Options::keepalive_interval over real sockets: a silent peer is
// detected within idle_timeout plus one keepalive interval and its pending calls fail with
// connection_closed; a live but idle peer answers the pings and stays connected; without
// keepalive, traffic of either direction keeps a connection open and silence closes it.
#include <bsonrpc/bsonrpc.hpp>

#include "../support/rpc_pair.hpp"
#include "../support/socket_pairs.hpp"

#include <catch2/catch.hpp>

#include <asio.hpp>

#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>

using namespace std::chrono_literals;

namespace liveness_it {

struct Echo {
  std::string echo(const std::string& text) const { return text; }
};
BSONRPC_SERVICE(Echo, BSONRPC_REQUEST(echo, text))

constexpr auto idle = 300ms;
constexpr auto interval = 100ms;
// Scheduling slack on a loaded machine (or under a sanitizer) on top of the documented bound.
constexpr auto slack = 1500ms;

template <class Rpc>
constexpr bool is_event_loop = std::is_same_v<typename Rpc::executor_policy, bsonrpc::EventLoop>;

// An Rpc on one end of a TCP connection whose other end is a raw socket that accepts, reads
// what comes and never writes. With EventLoop, a thread runs the loop.
template <class Rpc>
struct silent_peer {
  asio::io_context io;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::thread loop;
  asio::ip::tcp::socket raw{io};
  std::unique_ptr<Rpc> rpc;

  explicit silent_peer(bsonrpc::Options options) {
    auto [server, client] = bsonrpc::test::tcp_transport::connect(io);
    raw = std::move(server);
    if constexpr (is_event_loop<Rpc>) {
      work.emplace(io.get_executor());
      loop = std::thread([this] { io.run(); });
    }
    rpc = std::make_unique<Rpc>(std::move(client), std::move(options));
  }
  ~silent_peer() {
    rpc.reset();
    work.reset();
    if (loop.joinable()) loop.join();
  }

  // Whatever the Rpc wrote so far (the raw socket never answers it).
  std::string received() {
    std::string bytes;
    std::error_code ec;
    raw.non_blocking(true, ec);
    char chunk[4096];
    for (;;) {
      const std::size_t n = raw.read_some(asio::buffer(chunk), ec);
      if (ec || n == 0) break;
      bytes.append(chunk, n);
    }
    return bytes;
  }
};

using json_threads = bsonrpc::JsonRpc<bsonrpc::Rfc7464, bsonrpc::Threads>;
using json_loop = bsonrpc::JsonRpc<bsonrpc::Rfc7464, bsonrpc::EventLoop>;

template <class Rpc>
using pair = bsonrpc::test::rpc_pair<bsonrpc::test::tcp_setup<Rpc>, Echo>;

}  // namespace liveness_it

using namespace liveness_it;

TEMPLATE_TEST_CASE("idle timeout: a silent peer is detected within idle_timeout plus one keepalive interval, and the pending call fails with connection_closed",
                   "[sockets][liveness]", json_threads, json_loop) {
  bsonrpc::Options options;
  options.idle_timeout = idle;
  options.keepalive_interval = interval;
  const auto started = std::chrono::steady_clock::now();
  silent_peer<TestType> peer(options);
  // A callback, not a future: ThreadSanitizer cannot follow a future's exception across
  // threads (libstdc++ counts its references unseen).
  std::promise<std::error_code> failed;
  peer.rpc->template async_call<std::string>(
      "echo", "anyone?", [&](std::error_code ec, const std::string&) { failed.set_value(ec); });
  auto pending = failed.get_future();
  REQUIRE(pending.wait_for(10s) == std::future_status::ready);
  const auto elapsed = std::chrono::steady_clock::now() - started;
  CHECK(pending.get() == bsonrpc::errc::connection_closed);
  CHECK(peer.rpc->is_closed());
  CHECK(elapsed >= idle);
  CHECK(elapsed < idle + interval + slack);
  // The pings went out (the peer never answered them).
  CHECK(peer.received().find(std::string(bsonrpc::keepalive_method)) != std::string::npos);
  CHECK(peer.rpc->join(10s));
}

TEMPLATE_TEST_CASE("idle timeout: without keepalive a connection closes after idle_timeout of silence, and traffic keeps it open",
                   "[sockets][liveness]", json_threads, json_loop) {
  bsonrpc::Options options;
  options.idle_timeout = idle;
  pair<TestType> p(options);
  // Calls every third of idle_timeout, for three idle_timeouts: it stays open.
  auto last_call = std::chrono::steady_clock::now();
  for (int i = 0; i < 9; ++i) {
    std::this_thread::sleep_for(idle / 3);
    last_call = std::chrono::steady_clock::now();
    CHECK(p.client->template call<std::string>("echo", "busy") == "busy");
  }
  CHECK_FALSE(p.client->is_closed());
  REQUIRE(p.client->join(10s));
  // The last bytes moved after the last call began (a blocking call may return some time
  // after its reply was read).
  CHECK(std::chrono::steady_clock::now() - last_call >= idle);
  CHECK_THROWS_AS(p.client->template call<std::string>("echo", "late"), bsonrpc::connection_closed);
}

TEMPLATE_TEST_CASE("keepalive: a live but idle peer answers the pings and stays connected past idle_timeout",
                   "[sockets][liveness]", json_threads, json_loop) {
  bsonrpc::Options options;
  options.idle_timeout = idle;
  options.keepalive_interval = interval;
  pair<TestType> p(options);
  std::this_thread::sleep_for(4 * idle);
  CHECK_FALSE(p.client->is_closed());
  CHECK_FALSE(p.server->is_closed());
  CHECK(p.client->template call<std::string>("echo", "still here") == "still here");
}

TEST_CASE("keepalive: the ping is a request for rpc.ping, which a bsonrpc peer answers with -32601 Method not found",
          "[sockets][liveness]") {
  pair<json_threads> p;
  try {
    p.client->call(std::string(bsonrpc::keepalive_method));
    FAIL("rpc.ping got a result");
  } catch (const bsonrpc::rpc_error& e) {
    CHECK(e.code_value() == -32601);
  }
}
