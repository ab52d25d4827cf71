// fuzz_extended_json: from_extended_json throws nothing but conversion_error on any JSON (nested
// at most 128 deep, as JsonCodec admits); what it accepts writes back, canonical or relaxed, to
// Extended JSON that reads back to the same Extended JSON; and a document survives a trip
// through BSON bytes with its canonical Extended JSON unchanged.
#include "extended_json_checks.hpp"

#include <bsonrpc/codec/bson.hpp>
#include <bsonrpc/codec/json.hpp>

#include <nlohmann/json.hpp>

namespace {

template <class Json>
void check_json(std::string_view text) {
  using bsonrpc_fuzz::check;
  const Json parsed = Json::parse(text.begin(), text.end(), nullptr, false);
  if (parsed.is_discarded()) return;
  bsonrpc::value v;
  try {
    v = bsonrpc::from_extended_json(parsed);
  } catch (const bsonrpc::conversion_error&) {
    return;
  }
  bsonrpc_fuzz::check_extended_json_stable<Json>(v);
  if (!v.is_document()) return;
  std::string bson;
  bsonrpc::BsonCodec::encode(v, bson);
  const auto canonical = bsonrpc::extended_json_mode::canonical;
  check(bsonrpc::to_extended_json<Json>(bsonrpc::BsonCodec::decode(bson), canonical) ==
        bsonrpc::to_extended_json<Json>(v, canonical));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = bsonrpc_fuzz::as_bytes(data, size);
  // from_extended_json recurses once per level; the JSON codec refuses deeper messages anyway.
  if (bsonrpc::detail::json_nesting_depth(text, 128) > 128) return 0;
  check_json<nlohmann::json>(text);
  check_json<nlohmann::ordered_json>(text);
  return 0;
}
