// JsonCodec: compact output, strict input (UTF-8, nesting), and conversions of every value type.
#include <bsonrpc/codec/json.hpp>

#include <catch2/catch.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

using bsonrpc::JsonCodec;
using json = nlohmann::json;

namespace {
std::string encode(const json& j) {
  std::string out;
  JsonCodec::encode(j, out);
  return out;
}

template <class T>
T round_trip(const T& t) {
  const std::string bytes = encode(bsonrpc::to_value<json>(t));
  return bsonrpc::from_value<T>(JsonCodec::decode(bytes));
}
}  // namespace

TEST_CASE("json codec: output is compact and appended to what the buffer holds", "[json][codec]") {
  std::string out = "prefix";
  JsonCodec::encode(json::parse(R"({ "a" : [ 1, 2 ], "b" : { "c" : null } })"), out);
  CHECK(out == R"(prefix{"a":[1,2],"b":{"c":null}})");
}

TEST_CASE("json codec: invalid UTF-8 in input is a decoding error", "[json][codec]") {
  CHECK_THROWS_AS(JsonCodec::decode("{\"a\":\"\xff\"}"), bsonrpc::decoding_error);
  CHECK_THROWS_AS(JsonCodec::decode("{\"a\":\"\xc3\"}"), bsonrpc::decoding_error);
  CHECK_THROWS_AS(JsonCodec::decode("{\"a\":\"\xed\xa0\x80\"}"), bsonrpc::decoding_error);
  CHECK(JsonCodec::decode("{\"a\":\"h\xc3\xa9llo \xe2\x9c\x93 \xf0\x9f\x98\x80\"}")["a"] ==
        "h\xc3\xa9llo \xe2\x9c\x93 \xf0\x9f\x98\x80");
}

TEST_CASE("json codec: malformed or trailing input is a decoding error", "[json][codec]") {
  for (const char* bad : {"", " ", "{", "{\"a\":1", "{\"a\":1}}", "{\"a\":1} x", "[1,]", "nul",
                          "{'a':1}", "{\"a\":01}", "\"\\x\""})
    CHECK_THROWS_AS(JsonCodec::decode(bad), bsonrpc::decoding_error);
}

TEST_CASE("json codec: nesting beyond the limit is refused before parsing", "[json][codec]") {
  const bsonrpc::decode_limits limits{4};
  CHECK_NOTHROW(JsonCodec::decode("[[[[1]]]]", limits));
  CHECK_THROWS_AS(JsonCodec::decode("[[[[[1]]]]]", limits), bsonrpc::decoding_error);
  CHECK_NOTHROW(JsonCodec::decode(R"(["[[[[[[", {"a": "]]]]]]\"[[[[["}])", limits));
  const std::string deep(1000000, '[');
  CHECK_THROWS_AS(JsonCodec::decode(deep), bsonrpc::decoding_error);
}

TEST_CASE("json codec: a string that is not UTF-8 cannot be encoded", "[json][codec]") {
  CHECK_THROWS_AS(encode(json("\xff")), bsonrpc::encoding_error);
}

TEST_CASE("json codec: every supported C++ type round-trips through JSON text", "[json][convert]") {
  CHECK(round_trip(true) == true);
  CHECK(round_trip(std::int8_t{-128}) == -128);
  CHECK(round_trip(std::uint16_t{65535}) == 65535);
  CHECK(round_trip(std::int32_t{-2147483647 - 1}) == -2147483647 - 1);
  CHECK(round_trip(std::int64_t{-9223372036854775807LL - 1}) == -9223372036854775807LL - 1);
  CHECK(round_trip(std::uint64_t{18446744073709551615ULL}) == 18446744073709551615ULL);
  CHECK(round_trip(0.1) == 0.1);
  CHECK(round_trip(std::string("h\xc3\xa9")) == "h\xc3\xa9");
  CHECK(round_trip(std::vector<int>{1, 2, 3}) == std::vector<int>{1, 2, 3});
  CHECK(round_trip(std::map<std::string, double>{{"a", 1.5}}) ==
        std::map<std::string, double>{{"a", 1.5}});
  CHECK(round_trip(std::optional<int>{}) == std::nullopt);
  CHECK(round_trip(std::optional<int>{4}) == 4);
  CHECK(round_trip(std::tuple<int, std::string, bool>{1, "x", false}) ==
        std::tuple<int, std::string, bool>{1, "x", false});
  CHECK(round_trip(std::pair<int, int>{1, 2}) == std::pair<int, int>{1, 2});
  CHECK(round_trip(std::vector<std::vector<std::string>>{{"a"}, {}}) ==
        std::vector<std::vector<std::string>>{{"a"}, {}});
}

TEST_CASE("json codec: conversions refuse wrong types and out-of-range numbers", "[json][convert]") {
  using bsonrpc::conversion_error;
  using bsonrpc::from_value;
  CHECK_THROWS_AS(from_value<int>(json(2147483648LL)), conversion_error);
  CHECK_THROWS_AS(from_value<int>(json(1.0)), conversion_error);
  CHECK_THROWS_AS(from_value<int>(json(true)), conversion_error);
  CHECK_THROWS_AS(from_value<unsigned>(json(-1)), conversion_error);
  CHECK_THROWS_AS(from_value<std::int64_t>(json(18446744073709551615ULL)), conversion_error);
  CHECK_THROWS_AS(from_value<bool>(json(1)), conversion_error);
  CHECK_THROWS_AS(from_value<std::string>(json(1)), conversion_error);
  CHECK_THROWS_AS(from_value<double>(json("1")), conversion_error);
  CHECK_THROWS_AS(from_value<std::vector<int>>(json({{"a", 1}})), conversion_error);
  CHECK_THROWS_AS((from_value<std::map<std::string, int>>(json::array({1}))), conversion_error);
  CHECK_THROWS_AS((from_value<std::tuple<int, int>>(json::array({1, 2, 3}))), conversion_error);
}

TEST_CASE("json codec: BSON-only values cross into JSON as extended JSON and back",
          "[json][convert]") {
  const bsonrpc::value v = bsonrpc::document{{"n", std::int32_t{1}}, {"s", "x"}};
  const json j = bsonrpc::to_value<json>(v);
  CHECK(j == json({{"n", 1}, {"s", "x"}}));
  CHECK(bsonrpc::from_value<bsonrpc::value>(j) == v);
}
