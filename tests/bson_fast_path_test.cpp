// BSON on the fast path: encoding reserves its output once, and converters move large strings
// and binaries out of an rvalue value instead of copying them.
#include <bsonrpc/codec/bson.hpp>

#include "support/bson_corpus.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

using bsonrpc::array;
using bsonrpc::binary;
using bsonrpc::BsonCodec;
using bsonrpc::document;
using bsonrpc::value;

namespace {

const std::string mebibyte_text = [] {
  std::string s(1024 * 1024, 'x');
  for (std::size_t i = 0; i < s.size(); i += 4099) s[i] = static_cast<char>('a' + i % 26);
  s.replace(1000, 2, "\xc3\xa9");  // some UTF-8 beyond ASCII
  return s;
}();

const std::vector<std::uint8_t> mebibyte_bytes = [] {
  std::vector<std::uint8_t> b(1024 * 1024);
  for (std::size_t i = 0; i < b.size(); ++i) b[i] = static_cast<std::uint8_t>(i * 7 + i / 256);
  return b;
}();

std::string encode(const value& v) {
  std::string out;
  BsonCodec::encode(v, out);
  return out;
}

}  // namespace

TEST_CASE("bson codec: the size reserved before encoding is exactly the size written",
          "[bson][fast]") {
  using bsonrpc::detail::bson_wire::document_size;
  document many;
  array long_array;
  for (int i = 0; i < 123; ++i) long_array.push_back(value(i));
  many.emplace_back("array", value(long_array));
  many.emplace_back("old binary", value(binary{2, {1, 2, 3}}));
  many.emplace_back("binary", value(binary{0, mebibyte_bytes}));
  many.emplace_back("text", value(mebibyte_text));
  many.emplace_back("code", value(bsonrpc::javascript_with_scope{"x", document{{"y", value(1)}}}));
  many.emplace_back("regex", value(bsonrpc::regex{"a.*b", "i"}));
  many.emplace_back("pointer", value(bsonrpc::db_pointer{"c", {}}));
  CHECK(encode(value(many)).size() == document_size(many));

  const auto dir = bsonrpc::test::corpus_dir();
  if (!dir) {
    WARN("BSON corpus folder not found: corpus part skipped");
    return;
  }
  std::size_t checked = 0;
  for (const auto& [file, suite] : bsonrpc::test::corpus_files(*dir)) {
    for (const auto& test : suite.value("valid", nlohmann::json::array())) {
      INFO(file << ": " << test["description"].get<std::string>());
      const std::string canonical =
          bsonrpc::test::hex_bytes(test["canonical_bson"].get<std::string>());
      const value decoded = BsonCodec::decode(canonical);
      CHECK(document_size(decoded.get<document>()) == canonical.size());
      ++checked;
    }
  }
  CHECK(checked == 728);
}

TEST_CASE("bson codec: encoding appends to what the output already holds, growing it as before",
          "[bson][fast]") {
  const value small(document{{"a", value(1)}});
  std::string out = "prefix";
  std::string expected = "prefix";
  for (int i = 0; i < 1000; ++i) {
    BsonCodec::encode(small, out);
    expected += encode(small);
  }
  CHECK(out == expected);
}

TEST_CASE("bson codec: a 1 MiB string and a 1 MiB binary round-trip unchanged", "[bson][fast]") {
  const value message(document{{"text", value(mebibyte_text)},
                               {"bytes", value(binary{0, mebibyte_bytes})},
                               {"old", value(binary{2, mebibyte_bytes})}});
  const std::string bytes = encode(message);
  CHECK(BsonCodec::decode(bytes) == message);
  CHECK(encode(BsonCodec::decode(bytes)) == bytes);
}

TEST_CASE("bson converters: strings and binaries move out of an rvalue value, not copied",
          "[bson][convert][fast]") {
  using bsonrpc::from_value;
  using bsonrpc::to_value;
  value text(mebibyte_text);
  const char* text_data = text.get<std::string>().data();
  const std::string moved_text = from_value<std::string>(std::move(text));
  CHECK(moved_text.data() == text_data);

  value bytes(binary{0, mebibyte_bytes});
  const std::uint8_t* bytes_data = bytes.get<binary>().bytes.data();
  const auto moved_bytes = from_value<std::vector<std::uint8_t>>(std::move(bytes));
  CHECK(moved_bytes.data() == bytes_data);

  value raw(binary{4, mebibyte_bytes});
  const std::uint8_t* raw_data = raw.get<binary>().bytes.data();
  const auto moved_raw = from_value<binary>(std::move(raw));
  CHECK(moved_raw.bytes.data() == raw_data);
  CHECK(moved_raw.subtype == 4);

  value maybe(mebibyte_text);
  const char* maybe_data = maybe.get<std::string>().data();
  const auto moved_maybe = from_value<std::optional<std::string>>(std::move(maybe));
  REQUIRE(moved_maybe);
  CHECK(moved_maybe->data() == maybe_data);

  value list(array{value(mebibyte_text), value("short")});
  const char* first_data = list.get<array>()[0].get<std::string>().data();
  const auto moved_list = from_value<std::vector<std::string>>(std::move(list));
  REQUIRE(moved_list.size() == 2);
  CHECK(moved_list[0].data() == first_data);
  CHECK(moved_list[1] == "short");

  std::vector<std::uint8_t> out_bytes = mebibyte_bytes;
  const std::uint8_t* out_data = out_bytes.data();
  const value written = to_value<value>(std::move(out_bytes));
  CHECK(written.get<binary>().bytes.data() == out_data);

  // From an lvalue, the value keeps what it holds.
  const value kept(mebibyte_text);
  CHECK(from_value<std::string>(kept) == mebibyte_text);
  CHECK(kept.get<std::string>() == mebibyte_text);
}

TEST_CASE("bson converters: an rvalue of the wrong type is refused like an lvalue",
          "[bson][convert][fast]") {
  using bsonrpc::conversion_error;
  using bsonrpc::from_value;
  CHECK_THROWS_AS(from_value<std::string>(value(1)), conversion_error);
  CHECK_THROWS_AS(from_value<std::vector<std::uint8_t>>(value("text")), conversion_error);
  CHECK_THROWS_AS(from_value<binary>(value("text")), conversion_error);
  CHECK_THROWS_AS(from_value<std::vector<std::string>>(value(array{value(1)})),
                  conversion_error);
  CHECK_THROWS_AS(from_value<std::optional<std::string>>(value(true)), conversion_error);
}
