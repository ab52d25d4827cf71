// A peer that goes away is routine for a server: the connection ends and says so at debug
// level, with no error line an operator would have to act on.
#include <bsonrpc/bsonrpc.hpp>

#include <catch2/catch.hpp>

#include <asio.hpp>

#include <chrono>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

using namespace std::chrono_literals;

namespace hangup {

struct Echo {
  std::string echo(const std::string& text) const { return text; }
};
BSONRPC_SERVICE(Echo, BSONRPC_REQUEST(echo, text))

// Log lines of one connection, by level.
struct log_record {
  std::mutex mutex;
  std::vector<std::pair<bsonrpc::log_level, std::string>> lines;
  bsonrpc::log_sink sink() {
    return [this](bsonrpc::log_level level, std::uint64_t, std::string_view line) {
      std::lock_guard lock(mutex);
      lines.emplace_back(level, std::string(line));
    };
  }
  std::vector<std::string> at(bsonrpc::log_level level) {
    std::lock_guard lock(mutex);
    std::vector<std::string> out;
    for (auto& [l, text] : lines)
      if (l == level) out.push_back(text);
    return out;
  }
};

// A server Rpc on one accepted connection, and the raw client socket connected to it. The
// client first proves the connection is served (one echo), then hangs up with `hang_up`.
template <class Rpc, class HangUp>
void serve_then_hang_up(HangUp hang_up, log_record& log) {
  asio::io_context io;
  asio::ip::tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
  asio::ip::tcp::socket client(io);
  client.connect(acceptor.local_endpoint());
  Echo echo;
  bsonrpc::Options options;
  options.log = log.sink();
  Rpc server(acceptor.accept(), echo, options);

  const std::string request =
      "\x1e{\"jsonrpc\":\"2.0\",\"method\":\"echo\",\"params\":[\"hi\"],\"id\":1}\n";
  asio::write(client, asio::buffer(request));
  std::string reply;
  asio::read_until(client, asio::dynamic_buffer(reply), '\n');
  REQUIRE(reply.find("\"result\":\"hi\"") != std::string::npos);

  hang_up(client);
  REQUIRE(server.join(10s));
}

}  // namespace hangup

// One debug line says the peer went away (naming why, if `why` is given); no error line.
void expect_hang_up_logged(hangup::log_record& log, const char* why) {
  CHECK(log.at(bsonrpc::log_level::error).empty());
  const auto debug = log.at(bsonrpc::log_level::debug);
  REQUIRE(debug.size() == 1);
  CHECK(debug.front().find("peer closed the connection") != std::string::npos);
  CHECK(debug.front().find(why) != std::string::npos);
}

// The reader logs it, whatever the executor: Threads drives the socket itself.
TEST_CASE("hang-ups: a peer that resets its connection is logged at debug level, not as an error",
          "[sockets][hangup]") {
  hangup::log_record log;
  hangup::serve_then_hang_up<bsonrpc::JsonRpc<>>(
      [](asio::ip::tcp::socket& s) {
        s.set_option(asio::socket_base::linger(true, 0));  // close() now sends a reset
        s.close();
      },
      log);
  expect_hang_up_logged(log, "reset");
}

TEST_CASE("hang-ups: a peer that closes its connection in order is logged at debug level",
          "[sockets][hangup]") {
  hangup::log_record log;
  hangup::serve_then_hang_up<bsonrpc::JsonRpc<>>(
      [](asio::ip::tcp::socket& s) {
        s.shutdown(asio::socket_base::shutdown_both);
        s.close();
      },
      log);
  expect_hang_up_logged(log, "End of file");
}
