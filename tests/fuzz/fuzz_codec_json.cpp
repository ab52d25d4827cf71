// fuzz_codec_json: JsonCodec::decode throws nothing but decoding_error on any bytes, and what it
// accepts re-encodes to a fixed point: encode(decode(encode(x))) == encode(x). The fast reader
// and writer (detail/json_text.hpp) agree with nlohmann's parser and serializer: whatever the
// reader accepts nlohmann parses to an identical value (same types, same bits), and the writer
// declines or writes nlohmann's exact text, for the parsed value and for the raw bytes as a
// string.
#include "check.hpp"

#include <bsonrpc/codec/json.hpp>

#include <cstring>
#include <optional>

namespace {

using nlohmann::json;

bool identical(const json& a, const json& b) {
  if (a.type() != b.type()) return false;
  switch (a.type()) {
    case json::value_t::number_float: {
      const double x = a.get<double>();
      const double y = b.get<double>();
      return std::memcmp(&x, &y, sizeof x) == 0;
    }
    case json::value_t::array: {
      if (a.size() != b.size()) return false;
      for (std::size_t i = 0; i < a.size(); ++i)
        if (!identical(a[i], b[i])) return false;
      return true;
    }
    case json::value_t::object: {
      if (a.size() != b.size()) return false;
      for (auto i = a.begin(), j = b.begin(); i != a.end(); ++i, ++j)
        if (i.key() != j.key() || !identical(i.value(), j.value())) return false;
      return true;
    }
    default: return a == b;
  }
}

std::optional<json> nlohmann_parse(std::string_view text) {
  if (bsonrpc::detail::json_nesting_depth(text, 128) > 128) return std::nullopt;
  try {
    return json::parse(text.begin(), text.end());
  } catch (const json::exception&) {
    return std::nullopt;
  }
}

std::optional<std::string> nlohmann_dump(const json& v) {
  try {
    return v.dump(-1, ' ', false, json::error_handler_t::strict);
  } catch (const json::exception&) {
    return std::nullopt;
  }
}

void check_writer_agrees(const json& v) {
  std::string fast;
  const auto reference = nlohmann_dump(v);
  if (bsonrpc::detail::json_writer::write(v, fast)) bsonrpc_fuzz::check(reference && fast == *reference);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using bsonrpc::JsonCodec;
  const std::string_view text = bsonrpc_fuzz::as_bytes(data, size);

  json fast;
  const auto reference = nlohmann_parse(text);
  if (bsonrpc::detail::json_reader(text, 128).read(fast))
    bsonrpc_fuzz::check(reference && identical(fast, *reference));
  if (reference) check_writer_agrees(*reference);
  check_writer_agrees(json(std::string(text)));

  json decoded;
  try {
    decoded = JsonCodec::decode(text);
  } catch (const bsonrpc::decoding_error&) {
    bsonrpc_fuzz::check(!reference);
    return 0;
  }
  bsonrpc_fuzz::check(reference && identical(decoded, *reference));
  std::string once;
  JsonCodec::encode(decoded, once);
  std::string twice;
  JsonCodec::encode(JsonCodec::decode(once), twice);
  bsonrpc_fuzz::check(once == twice);
  return 0;
}
