// tests/bench/echo.hpp: what the benchmarks send, `echo` of a string, and the service that
// answers it, as a user would write it: a typed member, no any_value.
#pragma once

#include <bsonrpc/bsonrpc.hpp>

#include <string>
#include <type_traits>

namespace bench {

struct echo_service {
  std::string echo(const std::string& text) const { return text; }
};
BSONRPC_SERVICE(echo_service, BSONRPC_REQUEST(echo, text))

// The request a bsonrpc client sends for echo(text), with id 1, as the codec's value.
template <class Codec>
typename Codec::value_type echo_request(const std::string& text) {
  using traits = bsonrpc::value_traits<typename Codec::value_type>;
  auto params = traits::make_array();
  traits::push_back(params, traits::make_string(text));
  auto request = traits::make_object();
  traits::add_member(request, Codec::protocol_key, traits::make_string("2.0"));
  traits::add_member(request, "method", traits::make_string("echo"));
  traits::add_member(request, "params", std::move(params));
  traits::add_member(request, "id", traits::make_integer(1));
  return request;
}

// The codec a framing carries: BSON frames itself, the other framings carry JSON.
template <class Framing>
using codec_for =
    std::conditional_t<std::is_same_v<Framing, bsonrpc::BsonFraming>, bsonrpc::BsonCodec,
                       bsonrpc::JsonCodec>;

// echo_request(text) as it goes on the wire: encoded, then framed.
template <class Framing>
std::string framed_echo_request(const std::string& text) {
  using codec = codec_for<Framing>;
  std::string encoded;
  codec::encode(echo_request<codec>(text), encoded);
  std::string framed;
  Framing::wrap(encoded, framed);
  return framed;
}

}  // namespace bench
