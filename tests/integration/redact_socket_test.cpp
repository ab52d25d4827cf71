// bsonrpc::redact_params over real sockets: a server logging everything (debug level and up)
// receives secrets in the ways that put them in its log lines, and none of them shows.
#include <bsonrpc/bsonrpc.hpp>
#include <bsonrpc/redact.hpp>

#include "../support/socket_pairs.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

using namespace std::chrono_literals;

namespace redact_it {

// Handlers that put what they received in their exceptions, which the library logs.
struct Accounts {
  bool login(const bsonrpc::value& credentials) {
    throw std::runtime_error("login refused for " + bsonrpc::to_extended_json(credentials).dump());
  }
  void audit(const std::string& user, const std::string& password) {
    const nlohmann::json entry = {{"user", user}, {"password", password}};
    throw std::runtime_error("cannot audit " + nlohmann::json(entry.dump()).dump());  // JSON in a string
  }
};
BSONRPC_SERVICE(Accounts,
  BSONRPC_REQUEST(login, credentials),
  BSONRPC_NOTIFICATION(audit, user, password))

// Every line the server logs, at every level.
class captured_log {
 public:
  bsonrpc::log_sink sink() {
    return [this](bsonrpc::log_level, std::uint64_t, std::string_view line) {
      std::lock_guard lock(mutex_);
      lines_.emplace_back(line);
    };
  }
  std::vector<std::string> lines() {
    std::lock_guard lock(mutex_);
    return lines_;
  }
  // Waits until some line contains `text`.
  bool wait_for_line_with(const std::string& text) {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (std::chrono::steady_clock::now() < deadline) {
      for (const auto& line : lines())
        if (line.find(text) != std::string::npos) return true;
      std::this_thread::sleep_for(5ms);
    }
    return false;
  }

 private:
  std::mutex mutex_;
  std::vector<std::string> lines_;
};

bool any_line_contains(const std::vector<std::string>& lines, const std::string& text) {
  for (const auto& line : lines)
    if (line.find(text) != std::string::npos) return true;
  return false;
}

template <class Rpc>
struct logged_server {
  static constexpr bool event_loop = std::is_same_v<typename Rpc::executor_policy, bsonrpc::EventLoop>;

  Accounts accounts;
  captured_log log;
  asio::io_context io;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::thread loop_thread;
  std::unique_ptr<Rpc> server;
  std::unique_ptr<Rpc> client;

  explicit logged_server(bool redact) {
    auto [s, c] = bsonrpc::test::tcp_transport::connect(io);
    bsonrpc::Options options;
    options.default_timeout = 10s;
    options.log = log.sink();
    if (redact) options.log_filter = bsonrpc::redact_params({"password", "token"});
    if constexpr (event_loop) {
      work.emplace(io.get_executor());
      loop_thread = std::thread([this] { io.run(); });
    }
    server = std::make_unique<Rpc>(std::move(s), accounts, options);
    client = std::make_unique<Rpc>(std::move(c));
  }

  ~logged_server() {
    client.reset();
    server.reset();
    work.reset();
    if (loop_thread.joinable()) loop_thread.join();
  }

  // Sends the secrets in a request and a notification; returns once both are logged.
  void send_secrets() {
    const bsonrpc::value credentials(bsonrpc::document{
        {"user", "ann"}, {"password", "s3cret"}, {"session", bsonrpc::document{{"token", "t0ken"}}}});
    CHECK_THROWS_AS(client->template call<bool>("login", credentials), bsonrpc::server_error);
    client->notify("audit", "ann", "s3cret");
    CHECK(log.wait_for_line_with("cannot audit"));
  }
};

}  // namespace redact_it

TEMPLATE_TEST_CASE("log redactor: a server logging every line never logs the secrets it receives",
                   "[log][redact][integration]",
                   (bsonrpc::JsonRpc<bsonrpc::Rfc7464, bsonrpc::Threads>), bsonrpc::BsonRpc<bsonrpc::Threads>,
                   (bsonrpc::JsonRpc<bsonrpc::Rfc7464, bsonrpc::EventLoop>),
                   bsonrpc::BsonRpc<bsonrpc::EventLoop>) {
  SECTION("without the redactor, the secrets do reach the log (the scenario is a real leak)") {
    redact_it::logged_server<TestType> p(false);
    p.send_secrets();
    const auto lines = p.log.lines();
    CHECK(redact_it::any_line_contains(lines, "s3cret"));
    CHECK(redact_it::any_line_contains(lines, "t0ken"));
  }
  SECTION("with redact_params, they do not") {
    redact_it::logged_server<TestType> p(true);
    p.send_secrets();
    const auto lines = p.log.lines();
    REQUIRE(lines.size() >= 2);
    for (const auto& line : lines) {
      INFO(line);
      CHECK(line.find("s3cret") == std::string::npos);
      CHECK(line.find("t0ken") == std::string::npos);
    }
    CHECK(redact_it::any_line_contains(lines, R"("password":"***")"));
    CHECK(redact_it::any_line_contains(lines, R"(\"password\":\"***\")"));
    CHECK(redact_it::any_line_contains(lines, R"("user":"ann")"));
  }
}

TEMPLATE_TEST_CASE("log redactor: a malformed JSON message does not leak its secret through the parse error",
                   "[log][redact][integration]", bsonrpc::Threads, bsonrpc::EventLoop) {
  for (bool redact : {false, true}) {
    using rpc = bsonrpc::JsonRpc<bsonrpc::Rfc7464, TestType>;
    redact_it::Accounts accounts;
    redact_it::captured_log log;
    asio::io_context io;
    auto [s, c] = bsonrpc::test::tcp_transport::connect(io);
    bsonrpc::Options options;
    options.log = log.sink();
    if (redact) options.log_filter = bsonrpc::redact_params({"password"});
    // A guard made unconditionally: g++ -O2 warns (falsely) about an optional one in a loop.
    auto work = asio::make_work_guard(io);
    std::thread loop_thread;
    if constexpr (std::is_same_v<TestType, bsonrpc::EventLoop>)
      loop_thread = std::thread([&io] { io.run(); });
    else
      work.reset();
    {
      rpc server(std::move(s), accounts, options);
      // A raw control character in the secret: the parser stops inside it, and says where.
      const std::string message =
          "\x1e{\"jsonrpc\":\"2.0\",\"method\":\"login\",\"params\":{\"password\":\"s3cret\x01\"},\"id\":1}\n";
      asio::write(c, asio::buffer(message));
      std::string reply;
      asio::read_until(c, asio::dynamic_buffer(reply), '\n');
      CHECK(reply.find("-32700") != std::string::npos);
      INFO("redact: " << redact);
      CHECK(redact_it::any_line_contains(log.lines(), "undecodable message"));
      CHECK(redact_it::any_line_contains(log.lines(), "s3cret") == !redact);
    }
    work.reset();
    if (loop_thread.joinable()) loop_thread.join();
  }
}
