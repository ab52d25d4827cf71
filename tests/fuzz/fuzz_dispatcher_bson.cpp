// fuzz_dispatcher_bson: dispatcher<BsonCodec>::handle on any bytes lets no exception escape and
// answers with nothing (notifications, responses) or with one valid BSON-RPC response document
// with "bsonrpc": "2.0", an id and a result or an error.
#include "dispatcher_service.hpp"

#include <bsonrpc/codec/bson.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  bsonrpc_fuzz::check_dispatcher<bsonrpc::BsonCodec>(bsonrpc_fuzz::as_bytes(data, size));
  return 0;
}
