// Hostile peers against the library in-process: an accept_loop server of Rpc objects (either
// executor) and raw client sockets sending what no well-behaved peer would: absurd lengths,
// frames that never end, deep nesting, bad UTF-8, request storms, dropped connections, slow
// drips. After each, every server connection must have ended (no hang, no leaked thread) or
// answered as README's bad-input table says, and a fresh connection must still be served.
// Memory is bounded indirectly: how many bytes or requests the server took before it stopped.
#include <bsonrpc/bsonrpc.hpp>

#include "../support/fd_limit.hpp"

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <vector>

using namespace std::chrono_literals;

namespace hostile {

using steady = std::chrono::steady_clock;

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool sanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
constexpr bool sanitized = true;
#else
constexpr bool sanitized = false;
#endif
#else
constexpr bool sanitized = false;
#endif

constexpr std::size_t mib = 1024 * 1024;

struct Services {
  bsonrpc::any_value echo(const bsonrpc::any_value& v) const { return v; }
  std::string echo_times(const std::string& txt, int n) {
    ++handled;
    std::string out;
    for (int i = 0; i < n; ++i) out += txt;
    return out;
  }
  int sleep_ms(int ms) const {
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
    return ms;
  }
  std::atomic<std::size_t> handled{0};
};
BSONRPC_SERVICE(Services,
  BSONRPC_REQUEST(echo, value),
  BSONRPC_REQUEST(echo_times, txt, n),
  BSONRPC_REQUEST(sleep_ms, ms))

// Listens on 127.0.0.1 port 0 and gives every accepted connection an Rpc, kept until the
// server goes so that tests can wait for each to finish. EventLoop handlers run on a pool.
template <class Codec, class Framing, class Executor>
class server {
 public:
  using rpc = bsonrpc::Rpc<Codec, Framing, Executor>;

  explicit server(bsonrpc::Options options = {}) {
    if constexpr (std::is_same_v<Executor, bsonrpc::EventLoop>) {
      options.handler_runner = [this](std::function<void()> task) {
        asio::post(pool_, std::move(task));
      };
    }
    bsonrpc::accept_loop(acceptor_, [this, options](asio::ip::tcp::socket socket) {
      auto connection = std::make_unique<rpc>(std::move(socket), services, options);
      std::lock_guard lock(mutex_);
      connections_.push_back(std::move(connection));
    });
    loop_ = std::thread([this] { io_.run(); });
  }

  server(const server&) = delete;
  server& operator=(const server&) = delete;

  ~server() {
    asio::post(io_, [this] { acceptor_.close(); });
    std::list<std::unique_ptr<rpc>> doomed;
    {
      std::lock_guard lock(mutex_);
      doomed.swap(connections_);
    }
    for (auto& c : doomed) c->close();
    doomed.clear();  // Threads: waits for each connection's handlers and joins its threads
    work_.reset();
    io_.stop();
    loop_.join();
    pool_.join();
  }

  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }

  std::size_t accepted() {
    std::lock_guard lock(mutex_);
    return connections_.size();
  }

  // Waits until `count` connections have been accepted.
  bool wait_accepted(std::size_t count, std::chrono::milliseconds timeout = 20s) {
    const auto deadline = steady::now() + timeout;
    while (accepted() < count && steady::now() < deadline) std::this_thread::sleep_for(5ms);
    return accepted() >= count;
  }

  // Waits until every connection accepted so far has closed, stopped reading and finished its
  // handlers (Threads: its threads joined).
  bool all_finished(std::chrono::milliseconds timeout = 10s) {
    const auto deadline = steady::now() + timeout;
    std::vector<rpc*> all;
    {
      std::lock_guard lock(mutex_);
      for (auto& c : connections_) all.push_back(c.get());
    }
    for (rpc* c : all) {
      const auto left = std::max(steady::duration::zero(), deadline - steady::now());
      if (!c->join(std::chrono::duration_cast<std::chrono::milliseconds>(left))) return false;
    }
    return true;
  }

  Services services;  // declared first: outlives every connection

 private:
  asio::thread_pool pool_{4};
  asio::io_context io_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_{
      io_.get_executor()};
  asio::ip::tcp::acceptor acceptor_{io_, {asio::ip::make_address("127.0.0.1"), 0}};
  std::mutex mutex_;
  std::list<std::unique_ptr<rpc>> connections_;
  std::thread loop_;
};

// Checks that every connection has ended; if one has not, the server is leaked rather than
// destroyed, since destroying it would wait for that connection for ever.
template <class Server>
void require_all_finished(std::unique_ptr<Server>& s, std::chrono::milliseconds timeout = 10s) {
  const bool finished = s->all_finished(timeout);
  CHECK(finished);
  if (!finished) (void)s.release();
}

// A raw TCP client: non-blocking, every wait bounded by poll().
class raw_peer {
 public:
  explicit raw_peer(std::uint16_t port) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    REQUIRE(fd_ >= 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    const int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  raw_peer(const raw_peer&) = delete;
  raw_peer& operator=(const raw_peer&) = delete;
  ~raw_peer() { close(); }

  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  // Closes with a TCP RST instead of a FIN.
  void reset() {
    const linger abort_now{1, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &abort_now, sizeof abort_now);
    close();
  }

  void shutdown_write() { ::shutdown(fd_, SHUT_WR); }

  // Sends all of `bytes`; false if the peer closed first or `timeout` passed.
  bool send_all(std::string_view bytes, std::chrono::milliseconds timeout = 10s) {
    const auto deadline = steady::now() + timeout;
    while (!bytes.empty()) {
      const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n > 0) {
        bytes.remove_prefix(static_cast<std::size_t>(n));
        continue;
      }
      if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return false;
      if (steady::now() >= deadline || !wait_for(POLLOUT, deadline)) return false;
    }
    return true;
  }

  // Sends `bytes` without reading until the peer stops taking them for `stall`, or closes;
  // returns how many went through.
  std::size_t send_until_stalled(std::string_view bytes, std::chrono::milliseconds stall,
                                 std::chrono::milliseconds limit = 60s) {
    std::size_t sent = 0;
    const auto deadline = steady::now() + limit;
    auto progress = steady::now();
    while (sent < bytes.size() && steady::now() < deadline) {
      const std::size_t chunk = std::min<std::size_t>(bytes.size() - sent, mib);
      const ssize_t n = ::send(fd_, bytes.data() + sent, chunk, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n > 0) {
        sent += static_cast<std::size_t>(n);
        progress = steady::now();
      } else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        break;
      } else if (steady::now() - progress > stall) {
        break;
      } else {
        wait_for(POLLOUT, steady::now() + 10ms);
      }
    }
    return sent;
  }

  // Reads until the peer closes (true) or `timeout` passes (false); what arrived meanwhile
  // is appended to `received`.
  bool closed_within(std::chrono::milliseconds timeout, std::string& received) {
    const auto deadline = steady::now() + timeout;
    char chunk[65536];
    for (;;) {
      const ssize_t n = ::recv(fd_, chunk, sizeof chunk, MSG_DONTWAIT);
      if (n == 0) return true;
      if (n > 0) {
        received.append(chunk, static_cast<std::size_t>(n));
        continue;
      }
      if (errno == ECONNRESET) return true;
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return true;
      if (!wait_for(POLLIN, deadline)) return false;
    }
  }

  // Appends what is available within `timeout` to `buffer`; false if the peer closed.
  bool receive(std::string& buffer, steady::time_point deadline) {
    char chunk[65536];
    for (;;) {
      const ssize_t n = ::recv(fd_, chunk, sizeof chunk, MSG_DONTWAIT);
      if (n > 0) {
        buffer.append(chunk, static_cast<std::size_t>(n));
        return true;
      }
      if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) return false;
      if (!wait_for(POLLIN, deadline)) return true;
    }
  }

 private:
  bool wait_for(short events, steady::time_point deadline) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - steady::now());
    if (left.count() <= 0) return false;
    pollfd p{fd_, events, 0};
    return ::poll(&p, 1, static_cast<int>(left.count())) > 0;
  }

  int fd_;
};

// A raw peer that frames and parses messages with the library's own codec and framing.
template <class Codec, class Framing>
class peer : public raw_peer {
 public:
  using value_type = typename Codec::value_type;

  using raw_peer::raw_peer;

  // The next message, or nullopt if the connection closes first or `timeout` passes.
  std::optional<value_type> next_message(std::chrono::milliseconds timeout = 10s) {
    const auto deadline = steady::now() + timeout;
    for (;;) {
      if (auto found = framing_.extract(buffer_, 1024 * mib)) {
        value_type message = Codec::decode(found->message(buffer_));
        buffer_.erase(0, found->consumed);
        return message;
      }
      if (steady::now() >= deadline) return std::nullopt;
      const std::size_t before = buffer_.size();
      if (!receive(buffer_, deadline) && buffer_.size() == before) return std::nullopt;
    }
  }

 private:
  Framing framing_;
  std::string buffer_;
};

template <class Codec, class Framing>
std::string request(std::string_view method, typename Codec::value_type params, std::int64_t id) {
  using traits = bsonrpc::value_traits<typename Codec::value_type>;
  const auto id_value = traits::make_integer(id);
  const auto message = bsonrpc::detail::make_request<Codec>(method, &params, &id_value,
                                                            bsonrpc::no_arguments::omit);
  std::string encoded;
  Codec::encode(message, encoded);
  std::string framed;
  Framing::wrap(encoded, framed);
  return framed;
}

template <class Codec, class... Args>
typename Codec::value_type params(const Args&... args) {
  using V = typename Codec::value_type;
  V array = bsonrpc::value_traits<V>::make_array();
  (bsonrpc::value_traits<V>::push_back(array, bsonrpc::to_value<V>(args)), ...);
  return array;
}

template <class V>
std::optional<std::int64_t> error_code(const std::optional<V>& message) {
  using traits = bsonrpc::value_traits<V>;
  if (!message) return std::nullopt;
  const V* error = traits::find(*message, "error");
  const V* code = error ? traits::find(*error, "code") : nullptr;
  if (!code || !traits::is_integer(*code)) return std::nullopt;
  return traits::as_integer(*code);
}

template <class V>
std::optional<std::string> string_result(const std::optional<V>& message) {
  using traits = bsonrpc::value_traits<V>;
  if (!message) return std::nullopt;
  const V* result = traits::find(*message, "result");
  if (!result || !traits::is_string(*result)) return std::nullopt;
  return std::string(traits::as_string(*result));
}

// A fresh connection gets its echo within a generous bound.
template <class Codec, class Framing, class Server>
bool serves_a_fresh_connection(Server& s) {
  peer<Codec, Framing> p(s.port());
  if (!p.send_all(request<Codec, Framing>("echo", params<Codec>(std::string("fresh")), 99)))
    return false;
  return string_result(p.next_message(5s)) == std::string("fresh");
}

// The peer closes the connection within `timeout` without having sent anything.
inline bool closed_without_reply(raw_peer& p, std::chrono::milliseconds timeout = 5s) {
  std::string received;
  return p.closed_within(timeout, received) && received.empty();
}

// `levels` BSON documents each holding the next under key "a".
inline std::string deep_bson(std::size_t levels) {
  auto int32 = [](std::uint32_t n) {
    std::string out(4, '\0');
    for (int i = 0; i < 4; ++i) out[i] = static_cast<char>(n >> (8 * i));
    return out;
  };
  std::string head, tail;
  for (std::size_t i = levels - 1; i > 0; --i) {
    head += int32(static_cast<std::uint32_t>(5 + 8 * i)) + std::string("\x03" "a\0", 3);
    tail += '\0';
  }
  return head + int32(5) + std::string(1, '\0') + tail;
}

template <class Executor>
using json_server = server<bsonrpc::JsonCodec, bsonrpc::Rfc7464, Executor>;
template <class Executor>
using bson_server = server<bsonrpc::BsonCodec, bsonrpc::BsonFraming, Executor>;

}  // namespace hostile

using namespace hostile;
using json_peer = peer<bsonrpc::JsonCodec, bsonrpc::Rfc7464>;

TEMPLATE_TEST_CASE("hostile: a 20-digit netstring length closes that connection at once, no other",
                   "[hostile][netstring]", bsonrpc::Threads, bsonrpc::EventLoop) {
  using netstring_server = server<bsonrpc::JsonCodec, bsonrpc::Netstring, TestType>;
  auto s = std::make_unique<netstring_server>();
  for (const char* digits : {"99999999999999999999:", "18446744073709551616:"}) {
    INFO(digits);
    raw_peer p(s->port());
    REQUIRE(p.send_all(digits));
    CHECK(closed_without_reply(p));
    CHECK(serves_a_fresh_connection<bsonrpc::JsonCodec, bsonrpc::Netstring>(*s));
  }
  require_all_finished(s);
}

TEMPLATE_TEST_CASE("hostile: a BSON length of 2^31-1 then silence is refused on sight",
                   "[hostile][bson]", bsonrpc::Threads, bsonrpc::EventLoop) {
  bsonrpc::Options options;
  options.partial_message_timeout = 60s;  // a close within 5 s is the length check's
  auto s = std::make_unique<bson_server<TestType>>(options);
  raw_peer p(s->port());
  REQUIRE(p.send_all(std::string("\xff\xff\xff\x7f", 4)));
  CHECK(closed_without_reply(p));
  CHECK(serves_a_fresh_connection<bsonrpc::BsonCodec, bsonrpc::BsonFraming>(*s));
  require_all_finished(s);
}

TEMPLATE_TEST_CASE("hostile: a BSON length below 5 closes that connection",
                   "[hostile][bson]", bsonrpc::Threads, bsonrpc::EventLoop) {
  bsonrpc::Options options;
  options.partial_message_timeout = 60s;
  auto s = std::make_unique<bson_server<TestType>>(options);
  for (const std::string& length : {std::string("\x04\0\0\0", 4), std::string("\0\0\0\0", 4),
                                   std::string("\xff\xff\xff\xff", 4),
                                   std::string("\0\0\0\x80", 4)}) {
    raw_peer p(s->port());
    REQUIRE(p.send_all(length + std::string(16, '\0')));
    CHECK(closed_without_reply(p));
  }
  CHECK(serves_a_fresh_connection<bsonrpc::BsonCodec, bsonrpc::BsonFraming>(*s));
  require_all_finished(s);
}

namespace hostile {
// Streams 40 MiB of `filler` after `head`: the server must refuse once past max_message_bytes
// (16 MiB), so the 40 MiB never all go through, and close without a reply.
template <class Framing, class Executor>
void check_endless_frame(const std::string& head, const std::string& filler) {
  auto s = std::make_unique<server<bsonrpc::JsonCodec, Framing, Executor>>();
  raw_peer p(s->port());
  const std::size_t total = 40 * mib;
  std::string chunk;
  while (chunk.size() < mib) chunk += filler;
  std::size_t sent = 0;
  bool refused = !p.send_all(head);
  while (!refused && sent < total) {
    refused = !p.send_all(chunk, 20s);
    if (!refused) sent += chunk.size();
  }
  INFO(sent / mib << " MiB went through");
  CHECK(refused);
  CHECK(sent < total);
  std::string received;
  CHECK(p.closed_within(5s, received));
  CHECK(received.empty());
  CHECK(serves_a_fresh_connection<bsonrpc::JsonCodec, Framing>(*s));
  require_all_finished(s);
}
}  // namespace hostile

TEMPLATE_TEST_CASE("hostile: a frame that never ends is cut off past max_message_bytes",
                   "[hostile][framing]", bsonrpc::Threads, bsonrpc::EventLoop) {
  const std::string request_start = R"({"jsonrpc":"2.0","method":"echo","params":[")";
  SECTION("rfc7464") { check_endless_frame<bsonrpc::Rfc7464, TestType>("\x1e" + request_start, "a"); }
  SECTION("frameless, inside a string") {
    check_endless_frame<bsonrpc::Frameless, TestType>(request_start, "a");
  }
  SECTION("frameless, an array never closed") {
    check_endless_frame<bsonrpc::Frameless, TestType>("", "[1,");
  }
  SECTION("netstring with the largest length accepted, and no ','") {
    check_endless_frame<bsonrpc::Netstring, TestType>(std::to_string(16 * mib) + ":", "a");
  }
}

namespace hostile {
// `bytes` get a -32700 with a null id; then the stream goes on (or closes if !goes_on).
template <class Codec, class Framing, class Server>
void check_parse_error(Server& s, const std::string& bytes, bool goes_on) {
  using V = typename Codec::value_type;
  peer<Codec, Framing> p(s.port());
  REQUIRE(p.send_all(bytes));
  const auto reply = p.next_message(10s);
  CHECK(error_code(reply) == -32700);
  if (reply) {
    const V* id = bsonrpc::value_traits<V>::find(*reply, "id");
    CHECK((id && bsonrpc::value_traits<V>::is_null(*id)));
  }
  if (goes_on) {
    REQUIRE(p.send_all(request<Codec, Framing>("echo", params<Codec>(std::string("after")), 2)));
    CHECK(string_result(p.next_message()) == std::string("after"));
  } else {
    CHECK(closed_without_reply(p));
  }
}

template <class Framing>
std::string framed(const std::string& message) {
  std::string out;
  Framing::wrap(message, out);
  return out;
}

template <class Framing, class Executor>
void check_deep_json() {
  constexpr bool goes_on = bsonrpc::framing_resynchronises<Framing>::value;
  const std::size_t n = 100'000;
  const std::string arrays = std::string(n, '[') + std::string(n, ']');
  std::string objects;
  for (std::size_t i = 0; i < n; ++i) objects += R"({"a":)";
  objects += "1" + std::string(n, '}');
  auto s = std::make_unique<server<bsonrpc::JsonCodec, Framing, Executor>>();
  check_parse_error<bsonrpc::JsonCodec, Framing>(*s, framed<Framing>(arrays), goes_on);
  check_parse_error<bsonrpc::JsonCodec, Framing>(
      *s, framed<Framing>(R"({"jsonrpc":"2.0","method":"echo","params":[)" + arrays + R"(],"id":1})"),
      goes_on);
  check_parse_error<bsonrpc::JsonCodec, Framing>(*s, framed<Framing>(objects), goes_on);
  CHECK(serves_a_fresh_connection<bsonrpc::JsonCodec, Framing>(*s));
  require_all_finished(s);
}
}  // namespace hostile

TEMPLATE_TEST_CASE("hostile: 100,000 nested arrays or objects get -32700, never a deep recursion",
                   "[hostile][json]", bsonrpc::Threads, bsonrpc::EventLoop) {
  SECTION("rfc7464: the stream goes on") { check_deep_json<bsonrpc::Rfc7464, TestType>(); }
  SECTION("netstring: the stream goes on") { check_deep_json<bsonrpc::Netstring, TestType>(); }
  SECTION("frameless: then the connection closes") {
    check_deep_json<bsonrpc::Frameless, TestType>();
  }
}

TEMPLATE_TEST_CASE("hostile: 100,000 nested BSON documents get -32700 and the stream goes on",
                   "[hostile][bson]", bsonrpc::Threads, bsonrpc::EventLoop) {
  auto s = std::make_unique<bson_server<TestType>>();
  check_parse_error<bsonrpc::BsonCodec, bsonrpc::BsonFraming>(*s, deep_bson(100'000), true);
  CHECK(serves_a_fresh_connection<bsonrpc::BsonCodec, bsonrpc::BsonFraming>(*s));
  require_all_finished(s);
}

TEMPLATE_TEST_CASE("hostile: invalid UTF-8 inside a JSON string gets -32700",
                   "[hostile][json]", bsonrpc::Threads, bsonrpc::EventLoop) {
  const std::vector<std::string> bad = {"\xff", "ab\xc3", "\xc0\xaf", "\xed\xa0\x80",
                                        "\xf4\x90\x80\x80"};
  auto message = [](const std::string& raw) {
    return R"({"jsonrpc":"2.0","method":"echo","params":[")" + raw + R"("],"id":1})";
  };
  SECTION("rfc7464: the stream goes on") {
    auto s = std::make_unique<json_server<TestType>>();
    for (const auto& raw : bad)
      check_parse_error<bsonrpc::JsonCodec, bsonrpc::Rfc7464>(*s, framed<bsonrpc::Rfc7464>(message(raw)), true);
    require_all_finished(s);
  }
  SECTION("netstring: the stream goes on") {
    auto s = std::make_unique<server<bsonrpc::JsonCodec, bsonrpc::Netstring, TestType>>();
    for (const auto& raw : bad)
      check_parse_error<bsonrpc::JsonCodec, bsonrpc::Netstring>(*s, framed<bsonrpc::Netstring>(message(raw)), true);
    require_all_finished(s);
  }
  SECTION("frameless: then the connection closes") {
    auto s = std::make_unique<server<bsonrpc::JsonCodec, bsonrpc::Frameless, TestType>>();
    for (const auto& raw : bad)
      check_parse_error<bsonrpc::JsonCodec, bsonrpc::Frameless>(*s, message(raw), false);
    CHECK(serves_a_fresh_connection<bsonrpc::JsonCodec, bsonrpc::Frameless>(*s));
    require_all_finished(s);
  }
}

TEMPLATE_TEST_CASE("hostile: a storm of pipelined requests with unread replies is held back, "
                   "then answered in full or dropped with the connection",
                   "[hostile][backpressure]", bsonrpc::Threads, bsonrpc::EventLoop) {
  // 1 KiB replies against a 1 MiB outgoing cap: the server may take about a thousand
  // requests, plus max_pending_requests (1024), plus as many replies as the kernel's socket
  // buffers hold (a few MiB); 4,000 to 5,000 were seen. Never the whole storm.
  const std::size_t n = sanitized ? 50'000 : 100'000;
  const std::size_t most_taken = 25'000;
  bsonrpc::Options options;
  options.max_pending_outgoing_bytes = 1 * mib;
  auto s = std::make_unique<json_server<TestType>>(options);
  std::string storm;
  for (std::size_t i = 0; i < n; ++i)
    storm += request<bsonrpc::JsonCodec, bsonrpc::Rfc7464>(
        "echo_times", params<bsonrpc::JsonCodec>(std::string("0123456789abcdef"), 64),
        static_cast<std::int64_t>(i));
  json_peer p(s->port());
  const std::size_t sent = p.send_until_stalled(storm, 500ms);
  // Let the server settle: the count of handled requests stops moving.
  std::size_t handled = s->services.handled;
  for (auto deadline = steady::now() + 10s; steady::now() < deadline;) {
    std::this_thread::sleep_for(300ms);
    if (s->services.handled == handled) break;
    handled = s->services.handled;
  }
  INFO(sent << " of " << storm.size() << " bytes sent, " << handled << " requests handled");
  CHECK(handled < most_taken);
  CHECK(serves_a_fresh_connection<bsonrpc::JsonCodec, bsonrpc::Rfc7464>(*s));

  SECTION("once the client reads, every request is answered") {
    std::string_view rest = std::string_view(storm).substr(sent);
    std::size_t replies = 0;
    bool errors = false;
    std::string buffer;
    for (auto deadline = steady::now() + 60s; replies < n && steady::now() < deadline;) {
      if (!rest.empty()) {
        const std::size_t k = p.send_until_stalled(rest.substr(0, mib), 0ms);
        rest.remove_prefix(k);
      }
      buffer.clear();
      if (!p.receive(buffer, steady::now() + 10ms)) break;
      replies += static_cast<std::size_t>(std::count(buffer.begin(), buffer.end(), '\n'));
      errors = errors || buffer.find("\"error\"") != std::string::npos;
    }
    INFO(rest.size() << " bytes of requests still unsent, " << replies << " replies");
    CHECK(replies == n);
    CHECK_FALSE(errors);
    CHECK(s->services.handled == n);
  }
  SECTION("a close (FIN) ends the connection, queue and all") {
    p.close();
    require_all_finished(s);
  }
  SECTION("a reset (RST) ends the connection, queue and all") {
    p.reset();
    require_all_finished(s);
  }
  if (s) CHECK(serves_a_fresh_connection<bsonrpc::JsonCodec, bsonrpc::Rfc7464>(*s));
}

TEMPLATE_TEST_CASE("hostile: requests pipelined all at once under tight back-pressure limits "
                   "are all answered",
                   "[hostile][backpressure]", bsonrpc::Threads, bsonrpc::EventLoop) {
  // Reading pauses and resumes thousands of times, and the client sends its last bytes long
  // before the server has handled them: those buffered must not wait for bytes to come.
  const std::size_t n = 20'000;
  bsonrpc::Options options;
  options.max_pending_requests = 2;
  options.max_pending_outgoing_bytes = 4096;
  auto s = std::make_unique<json_server<TestType>>(options);
  std::string requests;
  for (std::size_t i = 0; i < n; ++i)
    requests += request<bsonrpc::JsonCodec, bsonrpc::Rfc7464>(
        "echo", params<bsonrpc::JsonCodec>(static_cast<std::int64_t>(i)), static_cast<std::int64_t>(i));
  json_peer p(s->port());
  std::string_view rest = requests;
  std::size_t replies = 0;
  std::string buffer;
  for (auto deadline = steady::now() + 60s; replies < n && steady::now() < deadline;) {
    if (!rest.empty()) rest.remove_prefix(p.send_until_stalled(rest, 0ms));
    buffer.clear();
    if (!p.receive(buffer, steady::now() + 10ms)) break;
    replies += static_cast<std::size_t>(std::count(buffer.begin(), buffer.end(), '\n'));
  }
  INFO(rest.size() << " bytes of requests still unsent");
  CHECK(replies == n);
}

TEMPLATE_TEST_CASE("hostile: 500 connections dropped mid-message all end, and others are served",
                   "[hostile][lifecycle]", bsonrpc::Threads, bsonrpc::EventLoop) {
  std::size_t count = 500;
  const rlim_t limit = bsonrpc::test::raise_fd_limit();
  if (limit < 2 * count + 64) {
    count = (limit - 64) / 2;
    WARN("descriptor limit " << limit << ": testing " << count << " connections");
  }
  auto s = std::make_unique<json_server<TestType>>();
  const std::string whole =
      request<bsonrpc::JsonCodec, bsonrpc::Rfc7464>("sleep_ms", params<bsonrpc::JsonCodec>(20), 1);
  const std::vector<std::string> halves = {
      whole.substr(0, whole.size() / 2), whole + whole.substr(0, whole.size() / 2), "\x1e", "\x1e{"};
  std::vector<std::unique_ptr<raw_peer>> peers;
  for (std::size_t i = 0; i < count; ++i) {
    peers.push_back(std::make_unique<raw_peer>(s->port()));
    CHECK(peers.back()->send_all(halves[i % halves.size()]));
  }
  CHECK(s->wait_accepted(count));
  for (std::size_t i = 0; i < peers.size(); ++i) {
    if (i % 2) peers[i]->reset();
    else peers[i]->close();
  }
  require_all_finished(s, 30s);
  if (s) CHECK(serves_a_fresh_connection<bsonrpc::JsonCodec, bsonrpc::Rfc7464>(*s));
}

namespace hostile {
// A peer dripping 5 bytes of one frame every 50 ms is closed after partial_message_timeout
// (600 ms), while a peer sending each frame in two halves 50 ms apart is served throughout.
template <class Codec, class Framing, class Executor>
void check_slow_drip() {
  bsonrpc::Options options;
  options.partial_message_timeout = 600ms;
  auto s = std::make_unique<server<Codec, Framing, Executor>>(options);
  const std::string frame =
      request<Codec, Framing>("echo", params<Codec>(std::string(200, 'd')), 1);
  raw_peer dripper(s->port());
  peer<Codec, Framing> steady(s->port());
  const auto started = steady::now();
  std::optional<steady::duration> closed_after;
  int answered = 0;
  std::string half;
  for (int tick = 0; tick < 20; ++tick) {  // 1 s; the dripper needs 2.5 s
    if (!closed_after && tick * 5 < static_cast<int>(frame.size())) {
      std::string ignored;
      if (!dripper.send_all(std::string_view(frame).substr(tick * 5, 5)) ||
          dripper.closed_within(0ms, ignored))
        closed_after = steady::now() - started;
    }
    if (tick % 2 == 0) {
      const std::string message = request<Codec, Framing>("echo", params<Codec>(tick), tick);
      REQUIRE(steady.send_all(std::string_view(message).substr(0, message.size() / 2)));
      half = message.substr(message.size() / 2);
    } else {
      REQUIRE(steady.send_all(half));
      const auto reply = steady.next_message(5s);
      answered += reply && bsonrpc::value_traits<typename Codec::value_type>::find(*reply, "result");
    }
    std::this_thread::sleep_for(50ms);
  }
  if (!closed_after) {  // not seen during the loop (a slow machine): wait up to the bound below
    std::string ignored;
    const auto left = 5s - (steady::now() - started);
    if (left > 0s &&
        dripper.closed_within(std::chrono::duration_cast<std::chrono::milliseconds>(left), ignored))
      closed_after = steady::now() - started;
  }
  REQUIRE(closed_after);
  INFO("closed after " << std::chrono::duration_cast<std::chrono::milliseconds>(*closed_after).count() << " ms");
  CHECK(*closed_after >= 550ms);  // the timer starts with the first byte the server reads
  CHECK(*closed_after < 5s);
  CHECK(answered == 10);
  steady.close();
  require_all_finished(s);
}
}  // namespace hostile

TEMPLATE_TEST_CASE("hostile: a slow-drip peer is closed after partial_message_timeout, "
                   "a steady one is not",
                   "[hostile][timeout]", bsonrpc::Threads, bsonrpc::EventLoop) {
  SECTION("rfc7464") { check_slow_drip<bsonrpc::JsonCodec, bsonrpc::Rfc7464, TestType>(); }
  SECTION("netstring") { check_slow_drip<bsonrpc::JsonCodec, bsonrpc::Netstring, TestType>(); }
  SECTION("frameless") { check_slow_drip<bsonrpc::JsonCodec, bsonrpc::Frameless, TestType>(); }
  SECTION("bson") { check_slow_drip<bsonrpc::BsonCodec, bsonrpc::BsonFraming, TestType>(); }
}

TEMPLATE_TEST_CASE("hostile: peers closing right after a request end their connections cleanly",
                   "[hostile][lifecycle]", bsonrpc::Threads, bsonrpc::EventLoop) {
  auto s = std::make_unique<json_server<TestType>>();
  using C = bsonrpc::JsonCodec;
  using F = bsonrpc::Rfc7464;
  const std::vector<std::string> requests = {
      request<C, F>("echo", params<C>(std::string("gone")), 1),
      request<C, F>("sleep_ms", params<C>(100), 2),
      request<C, F>("echo_times", params<C>(std::string("0123456789"), 100'000), 3),  // 1 MB
      request<C, F>("echo", params<C>(1), 4) + request<C, F>("sleep_ms", params<C>(50), 5),
  };
  for (int round = 0; round < 3; ++round) {
    for (const auto& r : requests) {
      raw_peer p(s->port());
      REQUIRE(p.send_all(r));
      if (round == 0) {
        p.close();
      } else if (round == 1) {
        p.reset();
      } else {
        p.shutdown_write();  // the server sees the end of the stream; what it sends is moot
        std::string ignored;
        p.closed_within(2s, ignored);
      }
    }
  }
  CHECK(s->wait_accepted(3 * requests.size()));
  require_all_finished(s);
  if (s) CHECK(serves_a_fresh_connection<C, F>(*s));
}
