// JsonCodec: compact output, strict input (UTF-8, nesting), and conversions of every value type.
#include <bsonrpc/codec/json.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
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
  // nlohmann's type_error 316 becomes encoding_error, and the buffer keeps only what it held,
  // though the fast writer declined halfway (at the binary value).
  std::string out = "prefix";
  const json message = {{"a", 1}, {"b", json::binary({1})}, {"c", "ok\xff"}};
  CHECK_THROWS_WITH(JsonCodec::encode(message, out),
                    Catch::Contains("type_error.316") && Catch::Contains("invalid UTF-8"));
  CHECK(out == "prefix");
}

namespace {
// Whether two values have the same types all the way down (nlohmann's == equates 1 and 1u) and
// the same contents, doubles bit for bit.
bool identical(const json& a, const json& b) {
  if (a.type() != b.type()) return false;
  if (a.is_number_float()) return std::signbit(a.get<double>()) == std::signbit(b.get<double>()) &&
                                  a.get<double>() == b.get<double>();
  if (a.is_array() || a.is_object()) {
    if (a.size() != b.size()) return false;
    for (auto i = a.begin(), j = b.begin(); i != a.end(); ++i, ++j)
      if ((a.is_object() && i.key() != j.key()) || !identical(*i, *j)) return false;
    return true;
  }
  return a == b;
}
}  // namespace

TEST_CASE("json codec: the fast reader gives nlohmann's value, or declines and nlohmann decides",
          "[json][codec]") {
  const std::vector<std::string> accepted = {
      R"({"jsonrpc":"2.0","method":"echo","params":["hi"],"id":1})",
      " \t\r\n{ \"a\" : [ 1 , -2 , 3.5 , -0 , -0.0 , 1e3 , 2E-2 , true , false , null ] } \n",
      R"([0, 18446744073709551615, 18446744073709551616, -9223372036854775808,
          -9223372036854775809, 1.7976931348623157e308, 5e-324, 123456789012345678901234])",
      R"(["\"\\\/\b\f\n\r\t", "\u0000\u001f\u00e9\u20AC\ud83d\ude00", "h\u00e9llo"])",
      "[\"h\xc3\xa9llo \xe2\x9c\x93 \xf0\x9f\x98\x80 \x7f\"]",
      R"({"a":1,"a":{"b":2},"c":[],"d":{},"e":"","f":[[]]})",
      "\xef\xbb\xbf{\"bom\":true}",
      R"([1e-400, 0.1, 0.30000000000000004, 1E+2, 100000000000000000000000000000e-10])",
      std::string(5000, 'x').insert(0, "\"").append("\""),
  };
  for (const auto& text : accepted) {
    INFO(text);
    const json reference = json::parse(text);
    const json decoded = JsonCodec::decode(text);
    CHECK(identical(decoded, reference));
    json fast;
    if (bsonrpc::detail::json_reader(text, 128).read(fast)) CHECK(identical(fast, reference));
    CHECK(encode(decoded) == reference.dump());
  }
  // The fast reader declines what it leaves to nlohmann rather than guessing.
  json declined;
  CHECK_FALSE(bsonrpc::detail::json_reader("\xef\xbb\xbf{}", 128).read(declined));
  CHECK_FALSE(bsonrpc::detail::json_reader("[1e-400]", 128).read(declined));
  CHECK_FALSE(bsonrpc::detail::json_reader("[[1]]", 1).read(declined));
  CHECK(bsonrpc::detail::json_reader("[[1]]", 2).read(declined));

  for (const char* bad : {"[1e400]", "[-]", "[1.]", "[.5]", "[1e]", "[1e+]", "[+1]", "[01]",
                          "[\"\\ud800\"]", "[\"\\udc00\"]", "[\"\\ud800\\u0041\"]", "[\"\\u12\"]",
                          "[\"\x01\"]", "[\"\xc0\x80\"]", "[\"\xf4\x90\x80\x80\"]", "[tru]",
                          "[true false]", "{\"a\" 1}", "{\"a\":1,}", "{1:2}", "\"a"}) {
    INFO(bad);
    CHECK_THROWS_AS(json::parse(bad), json::exception);
    CHECK_THROWS_AS(JsonCodec::decode(bad), bsonrpc::decoding_error);
  }
}

TEST_CASE("json codec: the fast writer writes exactly what nlohmann's dump writes",
          "[json][codec]") {
  std::string controls;
  for (int c = 0; c < 0x20; ++c) controls += static_cast<char>(c);
  const json values = {
      nullptr, true, false, 0, -1, std::int64_t{-9223372036854775807 - 1},
      std::uint64_t{18446744073709551615ULL}, 0.0, -0.0, 1.0, 0.1, 1e300, 5e-324,
      std::numeric_limits<double>::infinity(), std::nan(""), controls + "\"\\/\x7f",
      "h\xc3\xa9llo \xf0\x9f\x98\x80", std::string(3000, 'y') + "\n",
      json::object({{"z", 1}, {"a", json::array()}, {"\t", json::object()}})};
  CHECK(encode(values) == values.dump());
  std::string partial;
  CHECK_FALSE(bsonrpc::detail::json_writer::write(json::binary({1, 2, 3}), partial));
  CHECK_FALSE(bsonrpc::detail::json_writer::write(json("ok\xff"), partial));
  CHECK(encode(json::binary({1, 2, 3})) == json::binary({1, 2, 3}).dump());
  CHECK_THROWS_WITH(encode(json("ok\xff")), Catch::Contains("invalid UTF-8 byte at index 2"));
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
