// fuzz_dispatcher_json: dispatcher<JsonCodec>::handle on any bytes lets no exception escape and
// answers with nothing (notifications, responses) or with valid JSON-RPC 2.0 responses: an
// object, or a non-empty array of them, each with "jsonrpc": "2.0", an id and a result or error.
#include "dispatcher_service.hpp"

#include <bsonrpc/codec/json.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  bsonrpc_fuzz::check_dispatcher<bsonrpc::JsonCodec>(bsonrpc_fuzz::as_bytes(data, size));
  return 0;
}
