#include <bsonrpc/codec/bson.hpp>
#include <bsonrpc/extended_json.hpp>

#include "support/bson_corpus.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <optional>
#include <string>
#include <vector>

using bsonrpc::conversion_error;
using bsonrpc::extended_json_mode;
using bsonrpc::from_extended_json;
using bsonrpc::to_extended_json;
using bsonrpc::value;
using nlohmann::json;
using nlohmann::ordered_json;

namespace {

using bsonrpc::test::corpus_dir;
using bsonrpc::test::corpus_files;
using bsonrpc::test::hex_bytes;
using bsonrpc::test::encode_bson;

// Rewrites every {"$numberDouble": "<finite>"} to nlohmann's spelling of the same double, so
// that "1.2345678921232E+18" and "1.2345678921232e+18" compare equal.
void normalize_doubles(ordered_json& j) {
  if (j.is_object() && j.size() == 1 && j.contains("$numberDouble") &&
      j["$numberDouble"].is_string()) {
    const std::string text = j["$numberDouble"].get<std::string>();
    if (text != "NaN" && text != "Infinity" && text != "-Infinity")
      j["$numberDouble"] = ordered_json(ordered_json::parse(text).get<double>()).dump();
    return;
  }
  if (j.is_structured())
    for (auto& member : j) normalize_doubles(member);
}

std::string canonical_text(ordered_json j) {
  normalize_doubles(j);
  return j.dump();
}

}  // namespace

TEST_CASE("extended json: relaxed output writes numbers plainly and wraps the other BSON types",
          "[extjson]") {
  using namespace bsonrpc;
  object_id id;
  id.bytes = {0x56, 0xe1, 0xfc, 0x72, 0xe0, 0xc9, 0x17, 0xe9, 0xc4, 0x71, 0x41, 0x61};
  const value v(document{
      {"i32", std::int32_t{-1}},
      {"i64", std::int64_t{5000000000}},
      {"dbl", 1.5},
      {"inf", std::numeric_limits<double>::infinity()},
      {"ninf", -std::numeric_limits<double>::infinity()},
      {"nan", std::nan("")},
      {"str", "s"},
      {"bin", binary{0x80, {0xFF, 0xFF}}},
      {"epoch", datetime{0}},
      {"date", datetime{1356351330501}},
      {"before", datetime{-1}},
      {"y10k", datetime{253402300800000}},
      {"oid", id},
      {"dec", decimal128{1, 0x3040000000000000}},
      {"ts", timestamp{4294967295u, 1}},
      {"re", regex{"a+", "i"}},
      {"min", min_key{}},
      {"max", max_key{}},
      {"undef", undefined{}},
      {"sym", symbol{"x"}},
      {"code", javascript{"f()"}},
      {"scoped", javascript_with_scope{"f()", {{"a", std::int32_t{1}}}}},
      {"ptr", db_pointer{"coll", id}},
      {"arr", array{nullptr, true}},
  });
  const json expected = json::parse(R"json({
    "i32": -1, "i64": 5000000000, "dbl": 1.5,
    "inf": {"$numberDouble": "Infinity"}, "ninf": {"$numberDouble": "-Infinity"},
    "nan": {"$numberDouble": "NaN"}, "str": "s",
    "bin": {"$binary": {"base64": "//8=", "subType": "80"}},
    "epoch": {"$date": "1970-01-01T00:00:00Z"},
    "date": {"$date": "2012-12-24T12:15:30.501Z"},
    "before": {"$date": {"$numberLong": "-1"}},
    "y10k": {"$date": {"$numberLong": "253402300800000"}},
    "oid": {"$oid": "56e1fc72e0c917e9c4714161"},
    "dec": {"$numberDecimal": "1"},
    "ts": {"$timestamp": {"t": 4294967295, "i": 1}},
    "re": {"$regularExpression": {"pattern": "a+", "options": "i"}},
    "min": {"$minKey": 1}, "max": {"$maxKey": 1}, "undef": {"$undefined": true},
    "sym": {"$symbol": "x"}, "code": {"$code": "f()"},
    "scoped": {"$code": "f()", "$scope": {"a": 1}},
    "ptr": {"$dbPointer": {"$ref": "coll", "$id": {"$oid": "56e1fc72e0c917e9c4714161"}}},
    "arr": [null, true]
  })json");
  CHECK(to_extended_json(v).dump() == expected.dump());
  CHECK(from_extended_json(to_extended_json(v)).find("ts")->is<timestamp>());
}

TEST_CASE("extended json: canonical output keeps int32, int64, doubles and dates typed",
          "[extjson]") {
  using namespace bsonrpc;
  const value v(document{
      {"a", std::int32_t{1}}, {"b", std::int64_t{1}}, {"c", 1.0}, {"d", -0.0}, {"e", datetime{0}}});
  const ordered_json out = to_extended_json<ordered_json>(v, extended_json_mode::canonical);
  CHECK(out.dump() ==
        R"({"a":{"$numberInt":"1"},"b":{"$numberLong":"1"},"c":{"$numberDouble":"1.0"},)"
        R"("d":{"$numberDouble":"-0.0"},"e":{"$date":{"$numberLong":"0"}}})");
  const value back = from_extended_json(out);
  CHECK(back == v);
  CHECK(std::signbit(back.find("d")->get<double>()));
}

TEST_CASE(
    "extended json: corpus documents print as the corpus's relaxed and canonical "
    "Extended JSON",
    "[extjson][corpus]") {
  const auto dir = corpus_dir();
  if (!dir) {
    WARN("BSON corpus folder not found: corpus test skipped");
    return;
  }
  std::size_t relaxed_compared = 0;
  std::size_t canonical_compared = 0;
  for (const auto& [file, suite] : corpus_files(*dir)) {
    for (const auto& test : suite.value("valid", json::array())) {
      INFO(file << ": " << test["description"].get<std::string>());
      const value decoded =
          bsonrpc::BsonCodec::decode(hex_bytes(test["canonical_bson"].get<std::string>()));
      // ordered_json: key order is compared too.
      CHECK(
          canonical_text(to_extended_json<ordered_json>(decoded, extended_json_mode::canonical)) ==
          canonical_text(ordered_json::parse(test["canonical_extjson"].get<std::string>())));
      ++canonical_compared;
      if (test.contains("relaxed_extjson")) {
        CHECK(to_extended_json<ordered_json>(decoded).dump() ==
              ordered_json::parse(test["relaxed_extjson"].get<std::string>()).dump());
        ++relaxed_compared;
      }
    }
  }
  CHECK(canonical_compared == 728);
  CHECK(relaxed_compared == 27);
}

TEST_CASE("extended json: corpus Extended JSON parses to the corpus's canonical BSON",
          "[extjson][corpus]") {
  const auto dir = corpus_dir();
  if (!dir) {
    WARN("BSON corpus folder not found: corpus test skipped");
    return;
  }
  std::size_t canonical_parsed = 0;
  std::size_t degenerate_parsed = 0;
  std::size_t relaxed_round_trips = 0;
  std::size_t lossy_skipped = 0;
  for (const auto& [file, suite] : corpus_files(*dir)) {
    for (const auto& test : suite.value("valid", json::array())) {
      INFO(file << ": " << test["description"].get<std::string>());
      const std::string canonical_bson = hex_bytes(test["canonical_bson"].get<std::string>());
      if (test.value("lossy", false)) {
        // NaN payloads and non-canonical decimal128 encodings cannot come back from text.
        ++lossy_skipped;
      } else {
        const auto parsed = ordered_json::parse(test["canonical_extjson"].get<std::string>());
        CHECK(encode_bson(from_extended_json(parsed)) == canonical_bson);
        ++canonical_parsed;
        if (test.contains("degenerate_extjson")) {
          const auto degenerate =
              ordered_json::parse(test["degenerate_extjson"].get<std::string>());
          CHECK(encode_bson(from_extended_json(degenerate)) == canonical_bson);
          ++degenerate_parsed;
        }
      }
      if (test.contains("relaxed_extjson")) {
        const auto relaxed = ordered_json::parse(test["relaxed_extjson"].get<std::string>());
        CHECK(to_extended_json<ordered_json>(from_extended_json(relaxed)).dump() == relaxed.dump());
        ++relaxed_round_trips;
      }
    }
  }
  CHECK(canonical_parsed + lossy_skipped == 728);
  CHECK(lossy_skipped == 10);
  CHECK(degenerate_parsed > 0);
  CHECK(relaxed_round_trips == 27);
}

TEST_CASE("extended json: corpus parseErrors are rejected with conversion_error",
          "[extjson][corpus]") {
  const auto dir = corpus_dir();
  if (!dir) {
    WARN("BSON corpus folder not found: corpus test skipped");
    return;
  }
  std::size_t rejected = 0;
  for (const auto& [file, suite] : corpus_files(*dir)) {
    const bool decimal = suite["bson_type"] == "0x13";
    for (const auto& test : suite.value("parseErrors", json::array())) {
      const std::string text = test["string"].get<std::string>();
      INFO(file << ": " << test["description"].get<std::string>() << ": " << text);
      // Decimal128 cases give the $numberDecimal string alone; the others a whole document.
      const ordered_json input =
          decimal ? ordered_json{{"d", {{"$numberDecimal", text}}}} : ordered_json::parse(text);
      CHECK_THROWS_AS(from_extended_json(input), conversion_error);
      ++rejected;
    }
  }
  CHECK(rejected == 180);
}

TEST_CASE("extended json: plain JSON numbers become int32, int64 or double", "[extjson]") {
  CHECK(from_extended_json(json(1)).is<std::int32_t>());
  CHECK(from_extended_json(json(-2147483648LL)).is<std::int32_t>());
  CHECK(from_extended_json(json(2147483648LL)).is<std::int64_t>());
  CHECK(from_extended_json(json::parse("9223372036854775807")).is<std::int64_t>());
  CHECK(from_extended_json(json::parse("-9223372036854775808")).is<std::int64_t>());
  CHECK(from_extended_json(json(1.0)).is<double>());
  CHECK(from_extended_json(json::parse("1e3")).is<double>());
  CHECK_THROWS_AS(from_extended_json(json::parse("9223372036854775808")), conversion_error);
  CHECK_THROWS_AS(from_extended_json(json::parse("18446744073709551615")), conversion_error);
  // Canonical wrappers pin the type whatever the magnitude.
  CHECK(from_extended_json(json::parse(R"({"$numberLong": "1"})")).is<std::int64_t>());
  CHECK(from_extended_json(json::parse(R"({"$numberDouble": "1"})")).is<double>());
  CHECK(std::signbit(from_extended_json(json::parse(R"({"$numberDouble": "-0"})")).get<double>()));
  CHECK_THROWS_AS(from_extended_json(json::parse(R"({"$numberInt": "2147483648"})")),
                  conversion_error);
  CHECK_THROWS_AS(from_extended_json(json::parse(R"({"$numberInt": " 1"})")), conversion_error);
  CHECK_THROWS_AS(from_extended_json(json::parse(R"({"$numberDouble": "01.5"})")),
                  conversion_error);
  CHECK_THROWS_AS(from_extended_json(json::parse(R"({"$numberDouble": "1e999"})")),
                  conversion_error);
}

TEST_CASE("extended json: decimal128 prints and parses as the BSON specification says",
          "[extjson]") {
  const auto print = [](const char* text) {
    const value v = from_extended_json(json{{"$numberDecimal", text}});
    REQUIRE(v.is<bsonrpc::decimal128>());
    return to_extended_json(v)["$numberDecimal"].get<std::string>();
  };
  CHECK(print("0") == "0");
  CHECK(print("-0") == "-0");
  CHECK(print("0.000001") == "0.000001");
  CHECK(print("0.0000001") == "1E-7");
  CHECK(print("123.456") == "123.456");
  CHECK(print("1E+3") == "1E+3");
  CHECK(print("1000") == "1000");
  CHECK(print("-1.5e-3") == "-0.0015");
  CHECK(print("9999999999999999999999999999999999") == "9999999999999999999999999999999999");
  CHECK(print("1E6112") == "1.0E+6112");
  CHECK(print("1E-6176") == "1E-6176");
  CHECK(print("0E+99999") == "0E+6111");
  CHECK(print("-INFINITY") == "-Infinity");
  CHECK(print("nan") == "NaN");
  CHECK_THROWS_AS(print("99999999999999999999999999999999999"), conversion_error);
  CHECK_THROWS_AS(print("1E-6177"), conversion_error);
  CHECK_THROWS_AS(print("1.2.3"), conversion_error);
}

TEST_CASE("extended json: decimal128 edge values read to the specification's bits and print back",
          "[extjson][decimal128]") {
  using bsonrpc::decimal128;
  struct edge {
    const char* text;
    decimal128 bits;
    const char* printed;
  };
  const edge edges[] = {
      {"NaN", {0, 0x7C00000000000000}, "NaN"},
      {"-NaN", {0, 0xFC00000000000000}, "NaN"},  // libbson 1.23 drops the sign; both print NaN
      {"-Infinity", {0, 0xF800000000000000}, "-Infinity"},
      {"inf", {0, 0x7800000000000000}, "Infinity"},
      {"-0", {0, 0xB040000000000000}, "-0"},
      {"-0E+7000", {0, 0xDFFE000000000000}, "-0E+6111"},  // zeros clamp freely
      {"0E-6200", {0, 0}, "0E-6176"},
      // Clamped: zeros are added to the significand until the exponent fits.
      {"1E+6144", {0x38C15B0A00000000, 0x5FFE314DC6448D93},
       "1.000000000000000000000000000000000E+6144"},
      {"9.999999999999999999999999999999999E+6144", {0x378D8E63FFFFFFFF, 0x5FFFED09BEAD87C0},
       "9.999999999999999999999999999999999E+6144"},
      {"1E-6176", {1, 0}, "1E-6176"},  // the smallest subnormal
      {"1.230E-6174", {123, 0}, "1.23E-6174"},  // a trailing zero absorbs the underflow
      {"1234567890123456789012345678901234.0", {0xDE825CD07E96AFF2, 0x30403CDE6FFF9732},
       "1234567890123456789012345678901234"},
      // Exact, though libbson 1.23 refuses it (a '.' misleads its inexact check).
      {"43400007000000000047820053037004590.0", {0x7FDABE3E9B70EBEB, 0x3042D5FA829581AE},
       "4.340000700000000004782005303700459E+34"},
  };
  for (const auto& e : edges) {
    INFO(e.text);
    const value v = from_extended_json(json{{"$numberDecimal", e.text}});
    REQUIRE(v.is<decimal128>());
    CHECK(v.get<decimal128>() == e.bits);
    CHECK(to_extended_json(v)["$numberDecimal"] == e.printed);
  }

  // Inexact values and malformed text are refused, including what libbson 1.23 would round
  // or misread.
  const std::vector<std::string> refused = {
      "1.234E-6174", "1E+6145", "12345678901234567890123456789012345",
      "-0020900000830047220606102104040504000050", "1E 5", "1E4294967296",
      "1E99999999999999999999", std::string("1\0" "2", 3), std::string("Inf\0" "x", 5)};
  for (const auto& text : refused) {
    INFO(text);
    CHECK_THROWS_AS(from_extended_json(json{{"$numberDecimal", text}}), conversion_error);
  }

  // A significand above 10^34 - 1 is non-canonical and reads as zero, keeping sign and exponent.
  const auto print = [](decimal128 d) {
    return to_extended_json(value(d))["$numberDecimal"].get<std::string>();
  };
  CHECK(print({0x378D8E63FFFFFFFF, 0x3041ED09BEAD87C0}) == "9999999999999999999999999999999999");
  CHECK(print({0x378D8E6400000000, 0x3041ED09BEAD87C0}) == "0");
  CHECK(print({0xFFFFFFFFFFFFFFFF, 0xB03DFFFFFFFFFFFF}) == "-0.00");
  CHECK(print({0, 0x6000000000000000}) == "0E-6176");  // the "11" form: at least 2^113
}

TEST_CASE("extended json: dates are read from ISO-8601 with offsets and from $numberLong",
          "[extjson]") {
  const auto ms = [](const char* date) {
    const value v = from_extended_json(json{{"$date", date}});
    REQUIRE(v.is<bsonrpc::datetime>());
    return v.get<bsonrpc::datetime>().milliseconds;
  };
  CHECK(ms("1970-01-01T00:00:00Z") == 0);
  CHECK(ms("1970-01-01T00:00:00.000Z") == 0);
  CHECK(ms("2012-12-24T12:15:30.501Z") == 1356351330501);
  CHECK(ms("2012-12-24T13:15:30.5+01:00") == 1356351330500);
  CHECK(ms("2012-12-24T07:15:30.501-0500") == 1356351330501);
  CHECK(ms("1960-01-01T00:00:00Z") == -315619200000);
  CHECK(ms("2000-02-29T00:00:00Z") == 951782400000);
  CHECK(ms("9999-12-31T23:59:59.999Z") == 253402300799999);
  CHECK_THROWS_AS(ms("2001-02-29T00:00:00Z"), conversion_error);
  CHECK_THROWS_AS(ms("2012-12-24 12:15:30Z"), conversion_error);
  CHECK_THROWS_AS(ms("2012-12-24T12:15:30"), conversion_error);
  CHECK(from_extended_json(json::parse(R"({"$date": {"$numberLong": "-5"}})")) ==
        value(bsonrpc::datetime{-5}));

  for (const std::int64_t t : {std::int64_t{0}, std::int64_t{951782400000},
                               std::int64_t{253402300799999}, std::int64_t{1}}) {
    const json out = to_extended_json(value(bsonrpc::datetime{t}));
    REQUIRE(out["$date"].is_string());
    CHECK(from_extended_json(out) == value(bsonrpc::datetime{t}));
  }
}

TEST_CASE("extended json: wrappers and look-alikes", "[extjson]") {
  // DBRefs and query operators are plain documents.
  CHECK(from_extended_json(json::parse(R"({"$ref": "c", "$id": 1})")).is_document());
  CHECK(from_extended_json(json::parse(R"({"$type": "string"})")).is_document());
  CHECK(from_extended_json(
            json::parse(R"({"$regex": {"$regularExpression": {"pattern": "p", "options": ""}}})"))
            .find("$regex")
            ->is<bsonrpc::regex>());
  // Legacy forms.
  CHECK(from_extended_json(json::parse(R"({"$binary": "//8=", "$type": "80"})")) ==
        value(bsonrpc::binary{0x80, {0xFF, 0xFF}}));
  CHECK(from_extended_json(json::parse(R"({"$regex": "p", "$options": "mi"})")) ==
        value(bsonrpc::regex{"p", "im"}));
  CHECK(from_extended_json(json::parse(R"({"$uuid": "73ffd264-44b3-4c69-90e8-e7d1dfc035d4"})"))
            .get<bsonrpc::binary>()
            .subtype == 4);
  // Malformed wrappers are errors, not documents.
  CHECK_THROWS_AS(
      from_extended_json(json::parse(R"({"$binary": {"base64": "!!!!", "subType": "00"}})")),
      conversion_error);
  CHECK_THROWS_AS(from_extended_json(json::parse(R"({"$scope": {}})")), conversion_error);
  CHECK_THROWS_AS(from_extended_json(json::parse(R"({"$oid": "56e1fc72e0c917e9c471416"})")),
                  conversion_error);
  // nlohmann binary values become BSON binary.
  CHECK(from_extended_json(json::binary({1, 2}, 5)) == value(bsonrpc::binary{5, {1, 2}}));
}

TEST_CASE(
    "extended json: nlohmann::json sorts document keys, ordered_json keeps them, the first "
    "duplicate wins",
    "[extjson]") {
  const value v(
      bsonrpc::document{{"b", std::int32_t{1}}, {"a", std::int32_t{2}}, {"b", std::int32_t{3}}});
  CHECK(to_extended_json(v).dump() == R"({"a":2,"b":1})");
  CHECK(to_extended_json<ordered_json>(v).dump() == R"({"b":1,"a":2})");
  const value from_ordered = from_extended_json(ordered_json::parse(R"({"z": 1, "a": 2})"));
  CHECK(from_ordered.get<bsonrpc::document>().front().first == "z");
  const value from_sorted = from_extended_json(json::parse(R"({"z": 1, "a": 2})"));
  CHECK(from_sorted.get<bsonrpc::document>().front().first == "a");
  CHECK_THROWS_AS(from_extended_json(json{{std::string("a\0b", 3), 1}}), conversion_error);
}

TEST_CASE("extended json: the JSON codec converts bsonrpc::value through Extended JSON",
          "[extjson][convert]") {
  const value v(bsonrpc::document{{"when", bsonrpc::datetime{0}}, {"n", std::int64_t{7}}});
  const json j = bsonrpc::to_value<json>(v);
  CHECK(j.dump() == R"({"n":7,"when":{"$date":"1970-01-01T00:00:00Z"}})");
  const value back = bsonrpc::from_value<value>(j);
  CHECK(back.find("when")->is<bsonrpc::datetime>());
  CHECK(back.find("n")->is<std::int32_t>());  // relaxed JSON does not keep int64
  CHECK_THROWS_AS(bsonrpc::from_value<value>(json{{"$oid", 1}}), conversion_error);
}
