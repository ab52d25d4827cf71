// bsonrpc/bson_rpc.hpp: BsonRpc, JSON-RPC 2.0 semantics in BSON documents, which frame
// themselves; without the JSON codec (so without nlohmann's headers).
#pragma once

#include <bsonrpc/codec/bson.hpp>
#include <bsonrpc/endpoint.hpp>
#include <bsonrpc/framing/bson.hpp>

namespace bsonrpc {

/// A BSON-RPC connection: Rpc with the BSON codec and BSON framing.
template <class Executor = Threads>
using BsonRpc = Rpc<BsonCodec, BsonFraming, Executor>;

}  // namespace bsonrpc
