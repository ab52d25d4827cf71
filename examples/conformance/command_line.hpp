// conformance/command_line.hpp: the flags bsonrpc-server and bsonrpc-client share: addresses,
// codec, framing and executor, and picking the Rpc type they select.
#pragma once

#include <bsonrpc/bsonrpc.hpp>

#include <charconv>
#include <cstdint>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace conformance {

// Bad command-line input: the program prints it on one line and exits 2.
class usage_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// `127.0.0.1:PORT`, `[::1]:PORT`, `localhost:PORT` or `unix:/path/to.sock`.
struct address {
  bool is_unix = false;
  std::string host;  // without brackets
  std::uint16_t port = 0;
  std::string path;  // is_unix

  std::string to_string() const {
    if (is_unix) return "unix:" + path;
    const bool v6 = host.find(':') != std::string::npos;
    return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
  }
};

template <class Integer>
Integer parse_integer(std::string_view text, std::string_view what, Integer min,
                      Integer max = std::numeric_limits<Integer>::max()) {
  Integer n{};
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty() || n < min || n > max)
    throw usage_error("invalid " + std::string(what) + ": '" + std::string(text) + "'");
  return n;
}

inline address parse_address(std::string_view text) {
  address a;
  if (text.substr(0, 5) == "unix:") {
    a.is_unix = true;
    a.path = std::string(text.substr(5));
    if (a.path.empty()) throw usage_error("invalid address '" + std::string(text) + "': no path");
    return a;
  }
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0)
    throw usage_error("invalid address '" + std::string(text) +
                      "': expected HOST:PORT, [IPv6]:PORT or unix:/path");
  std::string_view host = text.substr(0, colon);
  if (host.front() == '[') {
    if (host.back() != ']' || host.size() < 3)
      throw usage_error("invalid address '" + std::string(text) + "'");
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string_view::npos) {
    throw usage_error("invalid address '" + std::string(text) + "': write IPv6 as [::1]:PORT");
  }
  a.host = std::string(host);
  a.port = parse_integer<std::uint16_t>(text.substr(colon + 1), "port", 0);
  return a;
}

enum class codec { json, bson };
// auto_detect: bsonrpc::AutoFraming, each connection's framing detected from its first bytes
// (servers only: the side that speaks first has nothing to detect).
enum class framing { rfc7464, netstring, frameless, content_length, ndjson, auto_detect };

inline codec parse_codec(std::string_view text) {
  if (text == "json") return codec::json;
  if (text == "bson") return codec::bson;
  throw usage_error("invalid --codec '" + std::string(text) + "': expected json or bson");
}

// `allow_auto`: whether "auto" is accepted (the server's flag, not the client's).
inline framing parse_framing(std::string_view text, bool allow_auto = false) {
  if (text == "rfc7464") return framing::rfc7464;
  if (text == "netstring") return framing::netstring;
  if (text == "frameless") return framing::frameless;
  if (text == "content-length") return framing::content_length;
  if (text == "ndjson") return framing::ndjson;
  if (allow_auto && text == "auto") return framing::auto_detect;
  throw usage_error("invalid --framing '" + std::string(text) +
                    "': expected rfc7464, netstring, frameless, content-length" +
                    (allow_auto ? ", ndjson or auto" : " or ndjson"));
}

enum class executor { threads, asio };

// `threads`: bsonrpc::Threads, a thread per connection; `asio`: bsonrpc::EventLoop, every
// connection on one io_context.
inline executor parse_executor(std::string_view text) {
  if (text == "threads") return executor::threads;
  if (text == "asio") return executor::asio;
  throw usage_error("invalid --executor '" + std::string(text) + "': expected threads or asio");
}

// Walks argv: flags with and without values, with one-line errors for the rest.
class arguments {
 public:
  arguments(int argc, char** argv) : items_(argv + 1, argv + argc) {}

  bool done() const { return next_ >= items_.size(); }
  const std::string& flag() { return items_[next_++]; }
  // The value that must follow `flag`.
  const std::string& value_for(const std::string& flag) {
    if (done()) throw usage_error(flag + " needs a value");
    return items_[next_++];
  }
  // A value that may follow: the next argument, unless it is another flag.
  std::optional<std::string> optional_value() {
    if (done() || items_[next_].rfind("--", 0) == 0) return std::nullopt;
    return items_[next_++];
  }

 private:
  std::vector<std::string> items_;
  std::size_t next_ = 0;
};

template <class T>
struct type_tag {
  using type = T;
};

// Calls fn(type_tag<Rpc>{}) with the Rpc type the flags select; BSON frames itself.
template <class Executor, class F>
decltype(auto) with_rpc_type(codec c, framing f, F&& fn) {
  if (c == codec::bson) return fn(type_tag<bsonrpc::BsonRpc<Executor>>{});
  switch (f) {
    case framing::netstring: return fn(type_tag<bsonrpc::JsonRpc<bsonrpc::Netstring, Executor>>{});
    case framing::frameless: return fn(type_tag<bsonrpc::JsonRpc<bsonrpc::Frameless, Executor>>{});
    case framing::content_length:
      return fn(type_tag<bsonrpc::JsonRpc<bsonrpc::ContentLength, Executor>>{});
    case framing::ndjson: return fn(type_tag<bsonrpc::JsonRpc<bsonrpc::Ndjson, Executor>>{});
    case framing::auto_detect:
      return fn(type_tag<bsonrpc::JsonRpc<bsonrpc::AutoFraming, Executor>>{});
    case framing::rfc7464: break;
  }
  return fn(type_tag<bsonrpc::JsonRpc<bsonrpc::Rfc7464, Executor>>{});
}

// Calls fn(type_tag<Rpc>{}) with the Rpc type of the codec, framing and executor flags.
template <class F>
decltype(auto) with_rpc_type(codec c, framing f, executor e, F&& fn) {
  if (e == executor::asio) return with_rpc_type<bsonrpc::EventLoop>(c, f, std::forward<F>(fn));
  return with_rpc_type<bsonrpc::Threads>(c, f, std::forward<F>(fn));
}

}  // namespace conformance
