// fuzz_codec_bson: BsonCodec::decode throws nothing but decoding_error on any bytes; what it
// accepts re-encodes byte for byte to the input (array keys aside: they are renumbered "0",
// "1", ..., as the BSON corpus wants for its degenerate arrays), and its Extended JSON (when no
// key starts with '$') reads back and is stable from then on.
#include "extended_json_checks.hpp"

#include <bsonrpc/codec/bson.hpp>

#include <bson/bson.h>

#include <string>

namespace {

// Whether every array in the document at `it` (already validated) has keys "0", "1", ...
bool has_canonical_array_keys(bson_iter_t* it, bool is_array) {
  for (std::size_t i = 0; bson_iter_next(it); ++i) {
    if (is_array && bson_iter_key(it) != std::to_string(i)) return false;
    bson_iter_t inner;
    const bson_type_t type = bson_iter_type(it);
    if (type == BSON_TYPE_DOCUMENT || type == BSON_TYPE_ARRAY) {
      const bool is_inner_array = type == BSON_TYPE_ARRAY;
      if (!bson_iter_recurse(it, &inner) || !has_canonical_array_keys(&inner, is_inner_array))
        return false;
    } else if (type == BSON_TYPE_CODEWSCOPE) {
      std::uint32_t code_size = 0;
      std::uint32_t scope_size = 0;
      const std::uint8_t* scope = nullptr;
      bson_iter_codewscope(it, &code_size, &scope_size, &scope);
      if (!bson_iter_init_from_data(&inner, scope, scope_size) ||
          !has_canonical_array_keys(&inner, false))
        return false;
    }
  }
  return true;
}

bool has_canonical_array_keys(std::string_view document) {
  bson_iter_t it;
  return bson_iter_init_from_data(&it, reinterpret_cast<const std::uint8_t*>(document.data()),
                                  document.size()) &&
         has_canonical_array_keys(&it, false);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using bsonrpc::BsonCodec;
  using bsonrpc_fuzz::check;
  const std::string_view input = bsonrpc_fuzz::as_bytes(data, size);
  bsonrpc::value decoded;
  try {
    decoded = BsonCodec::decode(input);
  } catch (const bsonrpc::decoding_error&) {
    return 0;
  }
  std::string encoded;
  BsonCodec::encode(decoded, encoded);
  if (has_canonical_array_keys(input)) check(encoded == input);
  std::string again;
  BsonCodec::encode(BsonCodec::decode(encoded), again);
  check(again == encoded);

  if (bsonrpc_fuzz::has_dollar_key(decoded)) return 0;
  // One trip normalises what Extended JSON cannot keep (duplicate keys, regex flag order).
  const auto canonical = bsonrpc::extended_json_mode::canonical;
  const auto normalised = bsonrpc::from_extended_json(
      bsonrpc::to_extended_json<nlohmann::ordered_json>(decoded, canonical));
  bsonrpc_fuzz::check_extended_json_stable<nlohmann::ordered_json>(normalised);
  return 0;
}
