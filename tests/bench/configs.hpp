// tests/bench/configs.hpp: what one benchmark row measures, chosen at run time, and the
// compile-time types (framing, Rpc) each choice stands for.
#pragma once

#include <bsonrpc/bsonrpc.hpp>

#include <initializer_list>
#include <stdexcept>
#include <string>
#include <string_view>

namespace bench {

// bsonrpc itself (`rpc`: the library's echo server of rpc_endpoints.hpp), the shipped
// bsonrpc-server example program as the server (`server`), or one of the two ping-pong
// baselines of the goals: `raw` sends the framed bytes back untouched (the loopback limit),
// `nlohmann` makes each side parse every frame it receives with nlohmann::json and dump its
// next message (the cost of the cheapest endpoint built on a JSON library).
enum class kind { rpc, server, raw, nlohmann };
enum class codec { json, bson };
enum class framing { rfc7464, netstring, frameless, bson };
enum class executor { threads, asio };

// BSON frames itself; the other framings carry JSON.
inline codec codec_of(framing f) { return f == framing::bson ? codec::bson : codec::json; }

struct config {
  bench::kind kind = kind::rpc;
  bench::framing framing = framing::rfc7464;
  bench::executor executor = executor::threads;  // rpc and server only

  // Whether the row runs bsonrpc on both sides, so its codec and executor matter.
  bool is_bsonrpc() const { return kind == kind::rpc || kind == kind::server; }

  friend bool operator==(const config& a, const config& b) {
    return a.kind == b.kind && a.framing == b.framing &&
           (!a.is_bsonrpc() || a.executor == b.executor);
  }
};

inline std::string_view to_string(kind k) {
  switch (k) {
    case kind::rpc: return "bsonrpc";
    case kind::server: return "bsonrpc-server";
    case kind::raw: return "raw";
    case kind::nlohmann: return "nlohmann";
  }
  return "?";
}
inline std::string_view to_string(codec c) { return c == codec::json ? "json" : "bson"; }
inline std::string_view to_string(framing f) {
  switch (f) {
    case framing::rfc7464: return "rfc7464";
    case framing::netstring: return "netstring";
    case framing::frameless: return "frameless";
    case framing::bson: return "bson";
  }
  return "?";
}
inline std::string_view to_string(executor e) {
  return e == executor::threads ? "threads" : "asio";
}

// "bsonrpc json/rfc7464 asio", "bsonrpc-server bson/bson threads", "raw rfc7464",
// "nlohmann bson".
inline std::string to_string(const config& c) {
  std::string out(to_string(c.kind));
  out += ' ';
  if (c.is_bsonrpc()) {
    out += to_string(codec_of(c.framing));
    out += '/';
  }
  out += to_string(c.framing);
  if (c.is_bsonrpc()) {
    out += ' ';
    out += to_string(c.executor);
  }
  return out;
}

template <class E>
E parse(std::string_view text, std::initializer_list<E> choices) {
  for (E e : choices)
    if (to_string(e) == text) return e;
  throw std::invalid_argument("unknown value '" + std::string(text) + "'");
}

template <class T>
struct type_tag {
  using type = T;
};

// Calls fn(type_tag<Framing>{}) with the framing type of `f`.
template <class F>
decltype(auto) with_framing(framing f, F&& fn) {
  switch (f) {
    case framing::netstring: return fn(type_tag<bsonrpc::Netstring>{});
    case framing::frameless: return fn(type_tag<bsonrpc::Frameless>{});
    case framing::bson: return fn(type_tag<bsonrpc::BsonFraming>{});
    case framing::rfc7464: break;
  }
  return fn(type_tag<bsonrpc::Rfc7464>{});
}

template <class Executor, class F>
decltype(auto) with_rpc_type(framing f, F&& fn) {
  switch (f) {
    case framing::netstring: return fn(type_tag<bsonrpc::JsonRpc<bsonrpc::Netstring, Executor>>{});
    case framing::frameless: return fn(type_tag<bsonrpc::JsonRpc<bsonrpc::Frameless, Executor>>{});
    case framing::bson: return fn(type_tag<bsonrpc::BsonRpc<Executor>>{});
    case framing::rfc7464: break;
  }
  return fn(type_tag<bsonrpc::JsonRpc<bsonrpc::Rfc7464, Executor>>{});
}

// Calls fn(type_tag<Rpc>{}) with the Rpc type of an rpc or server config.
template <class F>
decltype(auto) with_rpc_type(const config& c, F&& fn) {
  if (c.executor == executor::asio) return with_rpc_type<bsonrpc::EventLoop>(c.framing, fn);
  return with_rpc_type<bsonrpc::Threads>(c.framing, fn);
}

}  // namespace bench
