// bsonrpc/bson_rpc.hpp: BsonRpc, JSON-RPC 2.0 semantics in BSON documents, which frame
// themselves; without the JSON codec (so without nlohmann's headers).
#pragma once

#include <bsonrpc/codec/bson.hpp>
#include <bsonrpc/endpoint.hpp>
#include <bsonrpc/framing/bson.hpp>

namespace bsonrpc {

template <class Executor = Threads>
using BsonRpc = Rpc<BsonCodec, BsonFraming, Executor>;

}  // namespace bsonrpc
