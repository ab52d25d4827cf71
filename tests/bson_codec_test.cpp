#include <bsonrpc/codec/bson.hpp>
#include <bsonrpc/define_type.hpp>

#include <bson/bson.h>
#include "support/bson_corpus.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

using bsonrpc::BsonCodec;
using bsonrpc::conversion_error;
using bsonrpc::decoding_error;
using bsonrpc::encoding_error;
using bsonrpc::value;

namespace {

using bsonrpc::test::corpus_dir;
using bsonrpc::test::corpus_files;
using bsonrpc::test::hex_bytes;
using bsonrpc::test::encode_bson;

std::string round_trip(std::string_view bytes) { return encode_bson(BsonCodec::decode(bytes)); }

// A bson_t built with libbson, owned.
struct libbson_doc {
  bson_t* doc = bson_new();
  libbson_doc() = default;
  libbson_doc(const libbson_doc&) = delete;
  libbson_doc& operator=(const libbson_doc&) = delete;
  ~libbson_doc() { bson_destroy(doc); }
  std::string bytes() const {
    return std::string(reinterpret_cast<const char*>(bson_get_data(doc)), doc->len);
  }
};

// `n` documents nested through key "a": {"a": {"a": ... {} }}, built in linear time.
std::string nested_documents(std::size_t n, char type = '\x03') {
  std::string out;
  out.reserve(n * 8);
  for (std::size_t level = n; level > 1; --level) {
    const auto length = static_cast<std::uint32_t>(5 + 8 * (level - 1));
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>(length >> (8 * i)));
    out += type;
    out += "a";
    out.push_back('\0');
  }
  out += std::string("\x05\x00\x00\x00\x00", 5);
  out.append(n - 1, '\0');
  return out;
}

template <class T>
T through_bson(const T& t) {
  const value message(bsonrpc::document{{"v", bsonrpc::to_value<value>(t)}});
  const value decoded = BsonCodec::decode(encode_bson(message));
  return bsonrpc::from_value<T>(*decoded.find("v"));
}

struct point {
  int x = 0;
  int y = 0;
  std::string label;
  friend bool operator==(const point& a, const point& b) {
    return a.x == b.x && a.y == b.y && a.label == b.label;
  }
};
void to_json(nlohmann::json& j, const point& p) {
  j = nlohmann::json{{"x", p.x}, {"y", p.y}, {"label", p.label}};
}
void from_json(const nlohmann::json& j, point& p) {
  j.at("x").get_to(p.x);
  j.at("y").get_to(p.y);
  j.at("label").get_to(p.label);
}

enum class colour { red, green };

struct tile {
  std::int16_t row = 0;
  std::optional<std::string> name;
  friend bool operator==(const tile& a, const tile& b) { return a.row == b.row && a.name == b.name; }
};
BSONRPC_DEFINE_TYPE(tile, row, name)

}  // namespace

TEST_CASE("bson codec: every valid corpus document decodes and re-encodes byte for byte",
          "[bson][corpus]") {
  const auto dir = corpus_dir();
  if (!dir) {
    WARN("BSON corpus folder not found: corpus test skipped");
    return;
  }
  std::size_t round_tripped = 0;
  for (const auto& [file, suite] : corpus_files(*dir)) {
    for (const auto& test : suite.value("valid", nlohmann::json::array())) {
      INFO(file << ": " << test["description"].get<std::string>());
      const std::string canonical = hex_bytes(test["canonical_bson"].get<std::string>());
      CHECK(round_trip(canonical) == canonical);
      ++round_tripped;
    }
  }
  CHECK(round_tripped == 728);
}

TEST_CASE("bson codec: every corpus decodeErrors case is rejected with decoding_error",
          "[bson][corpus]") {
  const auto dir = corpus_dir();
  if (!dir) {
    WARN("BSON corpus folder not found: corpus test skipped");
    return;
  }
  std::size_t rejected = 0;
  for (const auto& [file, suite] : corpus_files(*dir)) {
    for (const auto& test : suite.value("decodeErrors", nlohmann::json::array())) {
      INFO(file << ": " << test["description"].get<std::string>());
      CHECK_THROWS_AS(BsonCodec::decode(hex_bytes(test["bson"].get<std::string>())),
                      decoding_error);
      ++rejected;
    }
  }
  CHECK(rejected == 75);
}

TEST_CASE(
    "bson codec: every single-byte corruption of a corpus document decodes or throws "
    "decoding_error, and what decodes re-encodes stably",
    "[bson][corpus]") {
  const auto dir = corpus_dir();
  if (!dir) {
    WARN("BSON corpus folder not found: corpus test skipped");
    return;
  }
  std::size_t decoded = 0;
  std::size_t rejected = 0;
  for (const auto& [file, suite] : corpus_files(*dir)) {
    for (const auto& test : suite.value("valid", nlohmann::json::array())) {
      const std::string original = hex_bytes(test["canonical_bson"].get<std::string>());
      for (std::size_t i = 0; i < original.size(); ++i) {
        for (const char replacement : {'\x00', '\x01', '\x7F', '\x80', '\xFF'}) {
          std::string bytes = original;
          bytes[i] = replacement;
          try {
            const std::string once = round_trip(bytes);
            ++decoded;
            if (round_trip(once) != once) FAIL(file << ": unstable re-encoding at byte " << i);
          } catch (const decoding_error&) {
            ++rejected;
          }
        }
      }
    }
  }
  CHECK(decoded > 0);
  CHECK(rejected > 0);
}

TEST_CASE("bson codec: degenerate corpus arrays re-encode in canonical form, regex flags as read",
          "[bson][corpus]") {
  const auto dir = corpus_dir();
  if (!dir) {
    WARN("BSON corpus folder not found: corpus test skipped");
    return;
  }
  std::size_t checked = 0;
  for (const auto& [file, suite] : corpus_files(*dir)) {
    for (const auto& test : suite.value("valid", nlohmann::json::array())) {
      if (!test.contains("degenerate_bson")) continue;
      INFO(file << ": " << test["description"].get<std::string>());
      const std::string degenerate = hex_bytes(test["degenerate_bson"].get<std::string>());
      // Array keys are not kept, so arrays come out canonical; regex options are kept as sent
      // (unsorted), so that a decoded document always re-encodes to the bytes it came from.
      const std::string expected =
          file == "regex.json" ? degenerate : hex_bytes(test["canonical_bson"].get<std::string>());
      CHECK(round_trip(degenerate) == expected);
      ++checked;
    }
  }
  CHECK(checked == 4);
}

TEST_CASE(
    "bson codec: every type built by libbson decodes to its own type and re-encodes "
    "to the same bytes",
    "[bson]") {
  struct type_case {
    const char* name;
    void (*append)(bson_t*);
    bool (*check)(const value&);
  };
  static bson_oid_t oid;
  bson_oid_init_from_string(&oid, "56e1fc72e0c917e9c4714161");
  static const std::uint8_t payload[] = {0xFF, 0x00, 0x7F, 0x80};

  const type_case cases[] = {
      {"double", [](bson_t* b) { bson_append_double(b, "v", -1, 1.5); },
       [](const value& v) { return v.is<double>() && v.get<double>() == 1.5; }},
      {"negative zero double", [](bson_t* b) { bson_append_double(b, "v", -1, -0.0); },
       [](const value& v) { return v.is<double>() && std::signbit(v.get<double>()); }},
      {"NaN with a payload",
       [](bson_t* b) {
         const std::uint64_t bits = 0x7FF8000000000012u;
         double d;
         std::memcpy(&d, &bits, sizeof d);
         bson_append_double(b, "v", -1, d);
       },
       [](const value& v) { return v.is<double>() && std::isnan(v.get<double>()); }},
      {"string with an embedded NUL",
       [](bson_t* b) { bson_append_utf8(b, "v", -1, "a\0b\xC3\xA9", 5); },
       [](const value& v) {
         return v.is<std::string>() && v.get<std::string>() == std::string("a\0b\xC3\xA9", 5);
       }},
      {"document",
       [](bson_t* b) {
         bson_t child;
         bson_append_document_begin(b, "v", -1, &child);
         bson_append_int32(&child, "z", -1, 1);
         bson_append_int32(&child, "a", -1, 2);
         bson_append_document_end(b, &child);
       },
       [](const value& v) {
         return v.is_document() && v.get<bsonrpc::document>().front().first == "z";
       }},
      {"array",
       [](bson_t* b) {
         bson_t child;
         bson_append_array_begin(b, "v", -1, &child);
         bson_append_int32(&child, "0", -1, 1);
         bson_append_utf8(&child, "1", -1, "x", -1);
         bson_append_array_end(b, &child);
       },
       [](const value& v) { return v.is_array() && v.get<bsonrpc::array>().size() == 2; }},
      {"binary subtype 0",
       [](bson_t* b) { bson_append_binary(b, "v", -1, BSON_SUBTYPE_BINARY, payload, 4); },
       [](const value& v) {
         return v.is<bsonrpc::binary>() && v.get<bsonrpc::binary>().subtype == 0 &&
                v.get<bsonrpc::binary>().bytes.size() == 4;
       }},
      {"old binary subtype 2",
       [](bson_t* b) {
         bson_append_binary(b, "v", -1, BSON_SUBTYPE_BINARY_DEPRECATED, payload, 4);
       },
       [](const value& v) {
         return v.is<bsonrpc::binary>() && v.get<bsonrpc::binary>().subtype == 2 &&
                v.get<bsonrpc::binary>().bytes == std::vector<std::uint8_t>(payload, payload + 4);
       }},
      {"binary subtype 4 (UUID)",
       [](bson_t* b) { bson_append_binary(b, "v", -1, BSON_SUBTYPE_UUID, payload, 4); },
       [](const value& v) {
         return v.is<bsonrpc::binary>() && v.get<bsonrpc::binary>().subtype == 4;
       }},
      {"binary user subtype 0x80",
       [](bson_t* b) { bson_append_binary(b, "v", -1, BSON_SUBTYPE_USER, payload, 0); },
       [](const value& v) {
         return v.is<bsonrpc::binary>() && v.get<bsonrpc::binary>().subtype == 0x80 &&
                v.get<bsonrpc::binary>().bytes.empty();
       }},
      {"undefined", [](bson_t* b) { bson_append_undefined(b, "v", -1); },
       [](const value& v) { return v.is<bsonrpc::undefined>(); }},
      {"ObjectId", [](bson_t* b) { bson_append_oid(b, "v", -1, &oid); },
       [](const value& v) {
         return v.is<bsonrpc::object_id>() &&
                std::memcmp(v.get<bsonrpc::object_id>().bytes.data(), oid.bytes, 12) == 0;
       }},
      {"bool", [](bson_t* b) { bson_append_bool(b, "v", -1, true); },
       [](const value& v) { return v.is<bool>() && v.get<bool>(); }},
      {"datetime", [](bson_t* b) { bson_append_date_time(b, "v", -1, -284643869501); },
       [](const value& v) {
         return v.is<bsonrpc::datetime>() &&
                v.get<bsonrpc::datetime>().milliseconds == -284643869501;
       }},
      {"null", [](bson_t* b) { bson_append_null(b, "v", -1); },
       [](const value& v) { return v.is_null(); }},
      {"regex", [](bson_t* b) { bson_append_regex(b, "v", -1, "^a.c$", "imx"); },
       [](const value& v) {
         return v.is<bsonrpc::regex>() && v.get<bsonrpc::regex>().pattern == "^a.c$" &&
                v.get<bsonrpc::regex>().options == "imx";
       }},
      {"DBPointer", [](bson_t* b) { bson_append_dbpointer(b, "v", -1, "db.coll", &oid); },
       [](const value& v) {
         return v.is<bsonrpc::db_pointer>() && v.get<bsonrpc::db_pointer>().collection == "db.coll";
       }},
      {"JavaScript code", [](bson_t* b) { bson_append_code(b, "v", -1, "function() {}"); },
       [](const value& v) {
         return v.is<bsonrpc::javascript>() && v.get<bsonrpc::javascript>().code == "function() {}";
       }},
      {"symbol", [](bson_t* b) { bson_append_symbol(b, "v", -1, "sym", -1); },
       [](const value& v) {
         return v.is<bsonrpc::symbol>() && v.get<bsonrpc::symbol>().text == "sym";
       }},
      {"JavaScript code with scope",
       [](bson_t* b) {
         libbson_doc scope;
         bson_append_int32(scope.doc, "x", -1, 1);
         bson_append_code_with_scope(b, "v", -1, "x + 1", scope.doc);
       },
       [](const value& v) {
         return v.is<bsonrpc::javascript_with_scope>() &&
                v.get<bsonrpc::javascript_with_scope>().scope.size() == 1;
       }},
      {"int32", [](bson_t* b) { bson_append_int32(b, "v", -1, -7); },
       [](const value& v) { return v.is<std::int32_t>() && v.get<std::int32_t>() == -7; }},
      {"timestamp", [](bson_t* b) { bson_append_timestamp(b, "v", -1, 4000000000u, 42); },
       [](const value& v) {
         return v.is<bsonrpc::timestamp>() &&
                v.get<bsonrpc::timestamp>() == bsonrpc::timestamp{4000000000u, 42};
       }},
      {"small int64", [](bson_t* b) { bson_append_int64(b, "v", -1, 1); },
       [](const value& v) { return v.is<std::int64_t>() && v.get<std::int64_t>() == 1; }},
      {"decimal128",
       [](bson_t* b) {
         bson_decimal128_t d;
         bson_decimal128_from_string("-1.23E+4000", &d);
         bson_append_decimal128(b, "v", -1, &d);
       },
       [](const value& v) { return v.is<bsonrpc::decimal128>(); }},
      {"MaxKey", [](bson_t* b) { bson_append_maxkey(b, "v", -1); },
       [](const value& v) { return v.is<bsonrpc::max_key>(); }},
      {"MinKey", [](bson_t* b) { bson_append_minkey(b, "v", -1); },
       [](const value& v) { return v.is<bsonrpc::min_key>(); }},
  };

  for (const auto& c : cases) {
    INFO(c.name);
    libbson_doc doc;
    c.append(doc.doc);
    const std::string bytes = doc.bytes();
    const value decoded = BsonCodec::decode(bytes);
    REQUIRE(decoded.find("v") != nullptr);
    CHECK(c.check(*decoded.find("v")));
    CHECK(encode_bson(decoded) == bytes);
  }
}

TEST_CASE("bson codec: decimal128s built by libbson keep their bytes and print as libbson prints",
          "[bson][decimal128]") {
  for (const char* text : {"NaN", "-Infinity", "-0", "0E+6111", "1E+6144", "1E-6176", "-1.23E+4000",
                           "0.000001", "1E-7", "123.456", "9999999999999999999999999999999999"}) {
    INFO(text);
    bson_decimal128_t d;
    REQUIRE(bson_decimal128_from_string(text, &d));
    char printed[BSON_DECIMAL128_STRING];
    bson_decimal128_to_string(&d, printed);
    libbson_doc doc;
    bson_append_decimal128(doc.doc, "v", -1, &d);
    const value decoded = BsonCodec::decode(doc.bytes());
    CHECK(encode_bson(decoded) == doc.bytes());
    const auto extended = bsonrpc::to_extended_json(decoded);
    CHECK(extended["v"]["$numberDecimal"] == printed);
    CHECK(encode_bson(bsonrpc::from_extended_json(extended)) == doc.bytes());
  }
}

TEST_CASE("bson codec: encoding builds exactly the bytes libbson builds", "[bson]") {
  libbson_doc expected;
  bson_append_utf8(expected.doc, "bsonrpc", -1, "2.0", -1);
  bson_append_utf8(expected.doc, "method", -1, "add", -1);
  bson_t params;
  bson_append_array_begin(expected.doc, "params", -1, &params);
  bson_append_int32(&params, "0", -1, 1);
  bson_append_int64(&params, "1", -1, 2);
  bson_append_double(&params, "2", -1, 3.5);
  bson_append_array_end(expected.doc, &params);
  bson_append_int32(expected.doc, "id", -1, 7);

  const value message(
      bsonrpc::document{{"bsonrpc", "2.0"},
                        {"method", "add"},
                        {"params", bsonrpc::array{std::int32_t{1}, std::int64_t{2}, 3.5}},
                        {"id", std::int32_t{7}}});
  CHECK(encode_bson(message) == expected.bytes());
}

TEST_CASE("bson codec: encode appends to the output and refuses what BSON cannot hold", "[bson]") {
  std::string out = "prefix";
  BsonCodec::encode(value(bsonrpc::document{}), out);
  CHECK(out == std::string("prefix\x05\x00\x00\x00\x00", 11));

  const auto refuses = [&](const value& message) {
    std::string buffer = "keep";
    CHECK_THROWS_AS(BsonCodec::encode(message, buffer), encoding_error);
    CHECK(buffer == "keep");
  };
  using bsonrpc::document;
  refuses(value(std::int32_t{1}));
  refuses(value(bsonrpc::array{}));
  refuses(value(document{{std::string("a\0b", 3), nullptr}}));
  refuses(value(document{{"s", std::string("\xE9")}}));
  refuses(value(document{{std::string("\xFF"), nullptr}}));
  refuses(value(document{{"r", bsonrpc::regex{std::string("a\0", 2), ""}}}));
  refuses(value(document{{"nested", document{{"deep", std::string("\xC3")}}}}));
}

TEST_CASE("bson codec: malformed documents are rejected with decoding_error", "[bson]") {
  libbson_doc doc;
  bson_append_utf8(doc.doc, "key", -1, "value", -1);
  const std::string good = doc.bytes();
  REQUIRE_NOTHROW(BsonCodec::decode(good));

  SECTION("empty and shorter than 5 bytes") {
    CHECK_THROWS_AS(BsonCodec::decode(""), decoding_error);
    CHECK_THROWS_AS(BsonCodec::decode(std::string("\x04\x00\x00\x00", 4)), decoding_error);
    CHECK_THROWS_AS(BsonCodec::decode(std::string("\x04\x00\x00\x00\x00", 5)), decoding_error);
  }
  SECTION("truncated") {
    for (std::size_t n = 0; n < good.size(); ++n)
      CHECK_THROWS_AS(BsonCodec::decode(good.substr(0, n)), decoding_error);
  }
  SECTION("length field larger or smaller than the bytes") {
    std::string longer = good;
    longer[0] = static_cast<char>(longer[0] + 1);
    CHECK_THROWS_AS(BsonCodec::decode(longer), decoding_error);
    std::string shorter = good;
    shorter[0] = static_cast<char>(shorter[0] - 1);
    CHECK_THROWS_AS(BsonCodec::decode(shorter), decoding_error);
    CHECK_THROWS_AS(BsonCodec::decode(good + '\0'), decoding_error);
  }
  SECTION("missing trailing 0x00") {
    std::string bad = good;
    bad.back() = 'x';
    CHECK_THROWS_AS(BsonCodec::decode(bad), decoding_error);
  }
  SECTION("invalid UTF-8 in a string and in a key") {
    std::string bad_string = good;
    bad_string[bad_string.find("value")] = '\xC3';
    CHECK_THROWS_AS(BsonCodec::decode(bad_string), decoding_error);
    std::string bad_key = good;
    bad_key[bad_key.find("key")] = '\xFF';
    CHECK_THROWS_AS(BsonCodec::decode(bad_key), decoding_error);
  }
  SECTION("unknown element type") {
    std::string bad = good;
    bad[4] = '\x42';
    CHECK_THROWS_AS(BsonCodec::decode(bad), decoding_error);
  }
}

TEST_CASE("bson codec: strings are strict UTF-8, checked eight bytes at a time", "[bson]") {
  using bsonrpc::detail::is_valid_utf8;
  const std::string ascii(100, 'a');
  for (const std::string good : {"", "a", "h\xc3\xa9llo", "\xe2\x82\xac", "\xef\xbf\xbf",
                                 "\xf0\x90\x80\x80", "\xf4\x8f\xbf\xbf", "\xed\x9f\xbf"}) {
    INFO(good);
    CHECK(is_valid_utf8(good, false));
    CHECK(is_valid_utf8(ascii + good + ascii, false));
    CHECK(is_valid_utf8(good + ascii.substr(0, 7), false));
  }
  // Overlong forms, surrogates, past U+10FFFF, stray or missing continuation bytes.
  for (const std::string bad : {"\xc0\x80", "\xc1\xbf", "\xe0\x9f\xbf", "\xf0\x8f\xbf\xbf",
                                "\xed\xa0\x80", "\xed\xbf\xbf", "\xf4\x90\x80\x80", "\xf5\x80\x80\x80",
                                "\x80", "\xbf", "\xc3", "\xe2\x82", "\xf0\x90\x80", "\xff", "\xfe"}) {
    INFO("bad sequence of " << bad.size() << " bytes, first 0x" << std::hex
                            << static_cast<int>(static_cast<unsigned char>(bad[0])));
    CHECK_FALSE(is_valid_utf8(bad, true));
    CHECK_FALSE(is_valid_utf8(ascii + bad + ascii, true));
    CHECK_FALSE(is_valid_utf8(ascii.substr(0, 13) + bad, true));
    bsonrpc::document doc;
    doc.emplace_back("s", bsonrpc::value(bad));
    std::string bytes;
    CHECK_THROWS_AS(BsonCodec::encode(bsonrpc::value(doc), bytes), bsonrpc::encoding_error);
  }
  // NUL: allowed inside a string, never in a key, wherever it sits in a word.
  for (std::size_t at = 0; at < 17; ++at) {
    std::string with_nul = ascii.substr(0, 17);
    with_nul[at] = '\0';
    CHECK(is_valid_utf8(with_nul, true));
    CHECK_FALSE(is_valid_utf8(with_nul, false));
  }
}

TEST_CASE("bson codec: nesting is limited by decode_limits::max_depth, the message being depth 1",
          "[bson]") {
  CHECK_NOTHROW(BsonCodec::decode(nested_documents(128)));
  CHECK_THROWS_AS(BsonCodec::decode(nested_documents(129)), decoding_error);
  CHECK_NOTHROW(BsonCodec::decode(nested_documents(129), bsonrpc::decode_limits{129}));
  CHECK_THROWS_AS(BsonCodec::decode(nested_documents(3), bsonrpc::decode_limits{2}),
                  decoding_error);

  // Arrays count like documents (the innermost container of nested_documents is a document).
  CHECK_NOTHROW(BsonCodec::decode(nested_documents(128, '\x04')));
  CHECK_THROWS_AS(BsonCodec::decode(nested_documents(129, '\x04')), decoding_error);

  // A code-with-scope's scope is one level deeper than the code element.
  libbson_doc scope;
  bson_append_int32(scope.doc, "x", -1, 1);
  libbson_doc doc;
  bson_append_code_with_scope(doc.doc, "f", -1, "x", scope.doc);
  CHECK_NOTHROW(BsonCodec::decode(doc.bytes(), bsonrpc::decode_limits{2}));
  CHECK_THROWS_AS(BsonCodec::decode(doc.bytes(), bsonrpc::decode_limits{1}), decoding_error);
}

TEST_CASE("bson codec: 100,000 nested documents are refused without exhausting the stack",
          "[bson]") {
  CHECK_THROWS_AS(BsonCodec::decode(nested_documents(100000)), decoding_error);
  CHECK_THROWS_AS(BsonCodec::decode(nested_documents(100000, '\x04')), decoding_error);
}

TEST_CASE("bson value traits: read and build values as the dispatcher does", "[bson]") {
  using traits = bsonrpc::value_traits<value>;
  value object = traits::make_object();
  traits::add_member(object, "b", traits::make_integer(1));
  traits::add_member(object, "a", traits::make_integer(std::int64_t{1} << 40));
  value list = traits::make_array();
  traits::push_back(list, traits::make_string("x"));
  traits::push_back(list, traits::make_null());
  traits::add_member(object, "list", list);

  CHECK(traits::is_object(object));
  CHECK(traits::size(object) == 3);
  CHECK(traits::find(object, "b")->is<std::int32_t>());
  CHECK(traits::find(object, "a")->is<std::int64_t>());
  CHECK(traits::as_integer(*traits::find(object, "a")) == std::int64_t{1} << 40);
  CHECK(traits::find(object, "missing") == nullptr);
  CHECK(traits::size(*traits::find(object, "list")) == 2);
  CHECK(traits::as_string(traits::at(*traits::find(object, "list"), 0)) == "x");
  CHECK(traits::is_null(traits::at(*traits::find(object, "list"), 1)));
  CHECK(traits::is_number(value(1.5)));
  CHECK(traits::is_number(value(std::int64_t{1})));
  CHECK_FALSE(traits::is_integer(value(1.5)));
  CHECK_FALSE(traits::is_number(value(true)));
  CHECK(traits::is_bool(value(false)));

  std::vector<std::string> keys;
  traits::for_each_member(object,
                          [&](std::string_view key, const value&) { keys.emplace_back(key); });
  CHECK(keys == std::vector<std::string>{"b", "a", "list"});
  CHECK(traits::to_neutral(object) == object);
  CHECK(traits::from_neutral(object) == object);
}

TEST_CASE("bson converters: integers keep their width and are range-checked", "[bson][convert]") {
  using bsonrpc::from_value;
  using bsonrpc::to_value;
  CHECK(to_value<value>(std::int32_t{5}).is<std::int32_t>());
  CHECK(to_value<value>(std::int16_t{5}).is<std::int32_t>());
  CHECK(to_value<value>(std::int64_t{5}).is<std::int64_t>());
  CHECK(to_value<value>(5LL).is<std::int64_t>());
  CHECK(to_value<value>(std::uint32_t{5}).is<std::int32_t>());
  CHECK(to_value<value>(std::uint32_t{4000000000u}).is<std::int64_t>());
  CHECK(to_value<value>(std::uint64_t{5}).is<std::int32_t>());
  CHECK_THROWS_AS(to_value<value>(std::numeric_limits<std::uint64_t>::max()), encoding_error);

  CHECK(through_bson(std::int64_t{1}) == 1);
  CHECK(through_bson(std::numeric_limits<std::int64_t>::min()) ==
        std::numeric_limits<std::int64_t>::min());
  CHECK(through_bson(std::uint8_t{255}) == 255);

  CHECK(from_value<std::int64_t>(value(std::int32_t{-3})) == -3);
  CHECK(from_value<std::int32_t>(value(std::int64_t{-3})) == -3);
  CHECK_THROWS_AS(from_value<std::int32_t>(value(std::int64_t{5000000000})), conversion_error);
  CHECK_THROWS_AS(from_value<std::uint32_t>(value(std::int32_t{-1})), conversion_error);
  CHECK_THROWS_AS(from_value<std::int8_t>(value(std::int32_t{128})), conversion_error);
  CHECK_THROWS_AS(from_value<int>(value(1.0)), conversion_error);
  CHECK_THROWS_AS(from_value<int>(value(true)), conversion_error);
  CHECK_THROWS_AS(from_value<int>(value("1")), conversion_error);
  CHECK_THROWS_AS(from_value<bool>(value(std::int32_t{1})), conversion_error);
}

TEST_CASE("bson converters: doubles, strings, bools and null", "[bson][convert]") {
  using bsonrpc::from_value;
  using bsonrpc::to_value;
  CHECK(to_value<value>(1.5f).is<double>());
  CHECK(through_bson(2.25) == 2.25);
  CHECK(from_value<double>(value(std::int32_t{3})) == 3.0);
  CHECK(from_value<double>(value(std::int64_t{1} << 40)) == 1099511627776.0);
  CHECK_THROWS_AS(from_value<float>(value(1e300)), conversion_error);
  CHECK_THROWS_AS(from_value<double>(value("1.5")), conversion_error);

  CHECK(through_bson(std::string("h\xC3\xA9llo")) == "h\xC3\xA9llo");
  CHECK(to_value<value>("literal") == value("literal"));
  CHECK(to_value<value>(std::string_view("view")) == value("view"));
  CHECK_THROWS_AS(from_value<std::string>(value(bsonrpc::symbol{"s"})), conversion_error);

  CHECK(through_bson(true) == true);
  CHECK(to_value<value>(nullptr).is_null());
  CHECK_THROWS_AS(from_value<std::nullptr_t>(value(false)), conversion_error);
}

TEST_CASE("bson converters: byte vectors are binary and time points are datetimes",
          "[bson][convert]") {
  using bsonrpc::from_value;
  using bsonrpc::to_value;
  const std::vector<std::uint8_t> bytes{0, 1, 2, 255};
  const value v = to_value<value>(bytes);
  REQUIRE(v.is<bsonrpc::binary>());
  CHECK(v.get<bsonrpc::binary>().subtype == 0);
  CHECK(through_bson(bytes) == bytes);
  CHECK(from_value<std::vector<std::uint8_t>>(value(bsonrpc::binary{0x80, bytes})) == bytes);
  CHECK_THROWS_AS(from_value<std::vector<std::uint8_t>>(value(bsonrpc::array{})), conversion_error);
  // Other vectors are arrays.
  CHECK(to_value<value>(std::vector<std::int32_t>{1, 2}).is_array());

  using std::chrono::system_clock;
  const system_clock::time_point t =
      system_clock::time_point(std::chrono::milliseconds(1356351330501));
  REQUIRE(to_value<value>(t).is<bsonrpc::datetime>());
  CHECK(to_value<value>(t).get<bsonrpc::datetime>().milliseconds == 1356351330501);
  CHECK(through_bson(t) == t);
  const auto before_epoch = system_clock::time_point(std::chrono::microseconds(-1500));
  CHECK(to_value<value>(before_epoch).get<bsonrpc::datetime>().milliseconds == -2);
  CHECK_THROWS_AS(from_value<system_clock::time_point>(
                      value(bsonrpc::datetime{std::numeric_limits<std::int64_t>::max()})),
                  conversion_error);
}

TEST_CASE("bson converters: every BSON alternative converts to and from itself",
          "[bson][convert]") {
  bsonrpc::object_id id;
  id.bytes[11] = 1;
  CHECK(through_bson(id) == id);
  CHECK(through_bson(bsonrpc::decimal128{1, 0x3040000000000000}) ==
        bsonrpc::decimal128{1, 0x3040000000000000});
  CHECK(through_bson(bsonrpc::timestamp{1, 2}) == bsonrpc::timestamp{1, 2});
  CHECK(through_bson(bsonrpc::regex{"a+", "i"}) == bsonrpc::regex{"a+", "i"});
  CHECK(through_bson(bsonrpc::datetime{-1}) == bsonrpc::datetime{-1});
  CHECK(through_bson(bsonrpc::binary{2, {1, 2}}) == bsonrpc::binary{2, {1, 2}});
  CHECK(through_bson(bsonrpc::min_key{}) == bsonrpc::min_key{});
  CHECK(through_bson(bsonrpc::max_key{}) == bsonrpc::max_key{});
  CHECK(through_bson(bsonrpc::undefined{}) == bsonrpc::undefined{});
  CHECK(through_bson(bsonrpc::symbol{"s"}) == bsonrpc::symbol{"s"});
  CHECK(through_bson(bsonrpc::javascript{"f()"}) == bsonrpc::javascript{"f()"});
  const bsonrpc::javascript_with_scope scoped{"x", {{"x", std::int32_t{1}}}};
  CHECK(through_bson(scoped) == scoped);
  CHECK(through_bson(bsonrpc::db_pointer{"c", id}) == bsonrpc::db_pointer{"c", id});
  const bsonrpc::document doc{{"k", std::int64_t{1}}, {"k", "duplicate kept"}};
  CHECK(through_bson(doc) == doc);
  CHECK_THROWS_AS(bsonrpc::from_value<bsonrpc::object_id>(value("x")), conversion_error);
}

TEST_CASE("bson converters: maps, optionals and tuples go through BSON", "[bson][convert]") {
  const std::map<std::string, int> map{{"one", 1}, {"two", 2}};
  CHECK(through_bson(map) == map);
  CHECK(through_bson(std::optional<std::string>()) == std::nullopt);
  CHECK(through_bson(std::optional<std::string>("x")) == std::optional<std::string>("x"));
  const std::tuple<int, std::string, double> tuple{1, "two", 3.0};
  CHECK(through_bson(tuple) == tuple);
  const std::vector<std::optional<int>> holes{1, std::nullopt, 3};
  CHECK(through_bson(holes) == holes);
  CHECK_THROWS_AS(
      (bsonrpc::from_value<std::tuple<int, int>>(value(bsonrpc::array{std::int32_t{1}}))),
      conversion_error);
}

TEST_CASE("bson converters: user types with to_json/from_json go through BSON", "[bson][convert]") {
  const point p{3, -4, "corner"};
  const value v = bsonrpc::to_value<value>(p);
  REQUIRE(v.is_document());
  CHECK(v.find("x")->is<std::int32_t>());
  CHECK(through_bson(p) == p);
  CHECK(through_bson(std::vector<point>{p, p}) == std::vector<point>{p, p});
  CHECK_THROWS_AS(bsonrpc::from_value<point>(value(bsonrpc::document{{"x", "not a number"}})),
                  conversion_error);

  // A BSON double where an int is wanted: through BSONRPC_DEFINE_TYPE it is refused (nlohmann's
  // get_to would cast 1e300 into the int, which is undefined behaviour).
  CHECK(through_bson(tile{-7, "t"}) == tile{-7, "t"});
  CHECK(through_bson(tile{3, std::nullopt}) == tile{3, std::nullopt});
  CHECK_THROWS_WITH(bsonrpc::from_value<tile>(value(bsonrpc::document{{"row", 1e300}})),
                    "member \"row\": expected an integer");
  CHECK_THROWS_WITH(bsonrpc::from_value<tile>(value(bsonrpc::document{{"row", std::int32_t{40000}}})),
                    "member \"row\": integer 40000 is out of range");
  CHECK_THROWS_WITH(bsonrpc::from_value<tile>(value(bsonrpc::document{{"name", "n"}})),
                    "missing member \"row\"");

  // Enums and other standard containers nlohmann knows take the same path.
  CHECK(bsonrpc::to_value<value>(colour::green) == value(std::int32_t{1}));
  CHECK(through_bson(colour::green) == colour::green);
  CHECK(through_bson(std::set<std::string>{"b", "a"}) == std::set<std::string>{"a", "b"});

  const nlohmann::json j = {{"n", 1}, {"id", {{"$oid", "56e1fc72e0c917e9c4714161"}}}};
  const value from_json = bsonrpc::to_value<value>(j);
  CHECK(from_json.find("id")->is<bsonrpc::object_id>());
  CHECK(through_bson(j) == j);
  CHECK_THROWS_AS(bsonrpc::to_value<value>(nlohmann::json{{"$oid", 42}}), encoding_error);
}
