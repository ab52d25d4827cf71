// fuzz_codec_json: JsonCodec::decode throws nothing but decoding_error on any bytes, and what it
// accepts re-encodes to a fixed point: encode(decode(encode(x))) == encode(x).
#include "check.hpp"

#include <bsonrpc/codec/json.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using bsonrpc::JsonCodec;
  nlohmann::json decoded;
  try {
    decoded = JsonCodec::decode(bsonrpc_fuzz::as_bytes(data, size));
  } catch (const bsonrpc::decoding_error&) {
    return 0;
  }
  std::string once;
  JsonCodec::encode(decoded, once);
  std::string twice;
  JsonCodec::encode(JsonCodec::decode(once), twice);
  bsonrpc_fuzz::check(once == twice);
  return 0;
}
