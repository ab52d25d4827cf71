// bsonrpc/rpc.hpp: Rpc<Codec, Framing, Executor> with both shipped codecs: JsonRpc (see
// json_rpc.hpp) and BsonRpc (see bson_rpc.hpp). A program that speaks only one of them can
// include that header alone and skip the other codec's dependency.
#pragma once

#include <bsonrpc/bson_rpc.hpp>
#include <bsonrpc/endpoint.hpp>
#include <bsonrpc/json_rpc.hpp>
