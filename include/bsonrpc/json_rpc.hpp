// bsonrpc/json_rpc.hpp: JsonRpc, JSON-RPC 2.0 over a stream, without the BSON codec (so
// without libbson's headers). RFC 7464 framing by default, as in the original library.
#pragma once

#include <bsonrpc/codec/json.hpp>
#include <bsonrpc/endpoint.hpp>
#include <bsonrpc/framing/rfc7464.hpp>

namespace bsonrpc {

/// A JSON-RPC 2.0 connection: Rpc with the JSON codec, RFC 7464 framing by default.
template <class Framing = Rfc7464, class Executor = Threads>
using JsonRpc = Rpc<JsonCodec, Framing, Executor>;

}  // namespace bsonrpc
