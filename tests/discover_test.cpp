// JSON Schemas of C++ types (bsonrpc/json_schema.hpp) and the OpenRPC document rpc.discover
// answers (bsonrpc/discover.hpp), through dispatcher<JsonCodec> and dispatcher<BsonCodec>.
#include <bsonrpc/any_value.hpp>
#include <bsonrpc/codec/bson.hpp>
#include <bsonrpc/codec/json.hpp>
#include <bsonrpc/define_type.hpp>
#include <bsonrpc/dispatcher.hpp>
#include <bsonrpc/json_schema.hpp>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

// Everything in a namespace of its own: the unit tests are compiled in unity batches.
namespace schema_test {

using nlohmann::json;

struct point {
  int x = 0;
  std::optional<int> y;
};
BSONRPC_DEFINE_TYPE(point, x, y)

struct tree {
  std::string label;
  std::vector<tree> children;
};
BSONRPC_DEFINE_TYPE(tree, label, children)

struct shape {
  std::vector<point> corners;
  point centre;
  std::optional<std::string> name;
};
BSONRPC_DEFINE_TYPE(shape, corners, centre, name)

namespace other {
struct point {
  double lat = 0;
};
BSONRPC_DEFINE_TYPE(point, lat)
}  // namespace other

struct Geometry {
  int add(int a, int b) const { return a + b; }
  std::string greet(const std::string& name, std::optional<std::string> greeting) const {
    return greeting.value_or("hello") + " " + name;
  }
  double area(const shape&) const { return 1.0; }
  void log(const std::string&) {}
  int first_or(std::optional<int> maybe, int fallback) const { return maybe.value_or(fallback); }
  tree grow(bsonrpc::Context&, std::uint8_t depth) { return {std::to_string(depth), {}}; }
  void touch(const point&) {}
};
BSONRPC_SERVICE(Geometry,
  BSONRPC_REQUEST(add, a, b),
  BSONRPC_REQUEST(greet, name, greeting),
  BSONRPC_REQUEST(area),
  BSONRPC_NOTIFICATION(log, line),
  BSONRPC_REQUEST(first_or, maybe, fallback),
  BSONRPC_RPC_REQUEST(grow, depth),
  BSONRPC_NOTIFICATION(touch))

namespace {

json schema_of_integer(std::int64_t min, std::uint64_t max) {
  return {{"type", "integer"}, {"minimum", min}, {"maximum", max}};
}

template <class Codec>
json discover(bsonrpc::dispatcher<Codec>& d, const std::string& request =
    R"({"jsonrpc":"2.0","id":1,"method":"rpc.discover"})") {
  std::string out;
  REQUIRE(d.handle(request, out));
  return json::parse(out);
}

const json* method_named(const json& doc, const std::string& name) {
  for (const auto& m : doc.at("methods"))
    if (m.at("name") == name) return &m;
  return nullptr;
}

bsonrpc::Options discovering(std::string title = "geometry", std::string version = "2.1.0") {
  bsonrpc::Options options;
  options.discover = bsonrpc::discover_info{std::move(title), std::move(version), ""};
  return options;
}

// The rpc.discover document of a discovering dispatcher that serves Geometry.
json geometry_document() {
  Geometry g;
  bsonrpc::dispatcher<bsonrpc::JsonCodec> d(discovering());
  d.add_service(g);
  return discover(d).at("result");
}

}  // namespace

TEST_CASE("json schema: every integer width has its exact range", "[discover][schema]") {
  CHECK(bsonrpc::json_schema<std::int8_t>() == schema_of_integer(-128, 127));
  CHECK(bsonrpc::json_schema<std::uint8_t>() == schema_of_integer(0, 255));
  CHECK(bsonrpc::json_schema<std::int16_t>() == schema_of_integer(-32768, 32767));
  CHECK(bsonrpc::json_schema<std::uint16_t>() == schema_of_integer(0, 65535));
  CHECK(bsonrpc::json_schema<std::int32_t>() == schema_of_integer(-2147483648LL, 2147483647));
  CHECK(bsonrpc::json_schema<std::uint32_t>() == schema_of_integer(0, 4294967295ULL));
  CHECK(bsonrpc::json_schema<std::int64_t>() ==
        json{{"type", "integer"},
             {"minimum", std::numeric_limits<std::int64_t>::min()},
             {"maximum", std::numeric_limits<std::int64_t>::max()}});
  const json u64 = bsonrpc::json_schema<std::uint64_t>();
  CHECK(u64.at("maximum").get<std::uint64_t>() == 18446744073709551615ULL);
  CHECK(u64.dump() == R"({"maximum":18446744073709551615,"minimum":0,"type":"integer"})");
}

TEST_CASE("json schema: scalars, strings, null and dynamic values", "[discover][schema]") {
  CHECK(bsonrpc::json_schema<bool>() == json{{"type", "boolean"}});
  CHECK(bsonrpc::json_schema<double>() == json{{"type", "number"}});
  CHECK(bsonrpc::json_schema<float>() == json{{"type", "number"}});
  CHECK(bsonrpc::json_schema<std::string>() == json{{"type", "string"}});
  CHECK(bsonrpc::json_schema<const std::string&>() == json{{"type", "string"}});
  CHECK(bsonrpc::json_schema<void>() == json{{"type", "null"}});
  CHECK(bsonrpc::json_schema<json>() == json::object());
  CHECK(bsonrpc::json_schema<bsonrpc::value>() == json::object());
  CHECK(bsonrpc::json_schema<bsonrpc::any_value>() == json::object());
}

TEST_CASE("json schema: containers, maps, tuples and optionals", "[discover][schema]") {
  CHECK(bsonrpc::json_schema<std::vector<std::string>>() ==
        json{{"type", "array"}, {"items", {{"type", "string"}}}});
  CHECK(bsonrpc::json_schema<std::map<std::string, bool>>() ==
        json{{"type", "object"}, {"additionalProperties", {{"type", "boolean"}}}});
  CHECK(bsonrpc::json_schema<std::unordered_map<std::string, double>>() ==
        json{{"type", "object"}, {"additionalProperties", {{"type", "number"}}}});
  CHECK(bsonrpc::json_schema<std::pair<std::string, bool>>() ==
        json{{"type", "array"},
             {"items", {{{"type", "string"}}, {{"type", "boolean"}}}},
             {"minItems", 2},
             {"maxItems", 2}});
  CHECK(bsonrpc::json_schema<std::tuple<>>().at("maxItems") == 0);
  CHECK(bsonrpc::json_schema<std::optional<std::string>>() ==
        json{{"anyOf", {{{"type", "string"}}, {{"type", "null"}}}}});
  // Any value admits null already.
  CHECK(bsonrpc::json_schema<std::optional<json>>() == json::object());
}

TEST_CASE("json schema: bytes are an integer array in JSON and BSON binary in BSON",
          "[discover][schema]") {
  CHECK(bsonrpc::json_schema<std::vector<std::uint8_t>>() ==
        json{{"type", "array"}, {"items", schema_of_integer(0, 255)}});
  const json binary = bsonrpc::json_schema<std::vector<std::uint8_t>, bsonrpc::value>();
  CHECK(binary.at("required") == json{"$binary"});
  CHECK(binary.at("properties").at("$binary").at("required") == json{"base64", "subType"});
  const json date =
      bsonrpc::json_schema<std::chrono::system_clock::time_point, bsonrpc::value>();
  CHECK(date.at("required") == json{"$date"});
  // Other element types stay arrays in BSON too.
  CHECK(bsonrpc::json_schema<std::vector<int>, bsonrpc::value>().at("type") == "array");
}

TEST_CASE("json schema: a struct is an object whose optional members are not required",
          "[discover][schema]") {
  bsonrpc::schema_definitions definitions("#/components/schemas/");
  CHECK(bsonrpc::json_schema<point>(definitions) ==
        json{{"$ref", "#/components/schemas/point"}});
  CHECK(definitions.schemas().at("point") ==
        json{{"type", "object"},
             {"properties",
              {{"x", schema_of_integer(-2147483648LL, 2147483647)},
               {"y",
                {{"anyOf",
                  {schema_of_integer(-2147483648LL, 2147483647), {{"type", "null"}}}}}}}},
             {"required", {"x"}}});
}

TEST_CASE("json schema: nested structs are defined once and referred to", "[discover][schema]") {
  bsonrpc::schema_definitions definitions("#/components/schemas/");
  const json s = bsonrpc::json_schema<std::vector<shape>>(definitions);
  CHECK(s.at("items") == json{{"$ref", "#/components/schemas/shape"}});
  const json& shape_schema = definitions.schemas().at("shape");
  CHECK(shape_schema.at("properties").at("corners").at("items") ==
        json{{"$ref", "#/components/schemas/point"}});
  CHECK(shape_schema.at("properties").at("centre") == json{{"$ref", "#/components/schemas/point"}});
  CHECK(shape_schema.at("required") == json{"corners", "centre"});
  CHECK(definitions.schemas().size() == 2);
}

TEST_CASE("json schema: a recursive struct refers to itself", "[discover][schema]") {
  const json s = bsonrpc::json_schema<tree>();
  CHECK(s.at("allOf") == json{{{"$ref", "#/definitions/tree"}}});
  CHECK(s.at("definitions").at("tree").at("properties").at("children") ==
        json{{"type", "array"}, {"items", {{"$ref", "#/definitions/tree"}}}});
}

TEST_CASE("json schema: two structs of the same name get two definitions", "[discover][schema]") {
  bsonrpc::schema_definitions definitions;
  CHECK(bsonrpc::json_schema<point>(definitions) == json{{"$ref", "#/definitions/point"}});
  CHECK(bsonrpc::json_schema<other::point>(definitions) ==
        json{{"$ref", "#/definitions/point-2"}});
  CHECK(bsonrpc::json_schema<point>(definitions) == json{{"$ref", "#/definitions/point"}});
  CHECK(definitions.schemas().at("point-2").at("required") == json{"lat"});
}

TEST_CASE("discover: without Options::discover, rpc.discover is Method not found",
          "[discover]") {
  Geometry g;
  bsonrpc::dispatcher<bsonrpc::JsonCodec> d;
  d.add_service(g);
  CHECK_FALSE(d.has_request("rpc.discover"));
  CHECK(discover(d).at("error").at("code") == -32601);
}

TEST_CASE("discover: the document has openrpc, info and rpc.discover as the spec words it",
          "[discover]") {
  bsonrpc::dispatcher<bsonrpc::JsonCodec> d(discovering());
  const json doc = discover(d).at("result");
  CHECK(doc.at("openrpc") == "1.2.6");
  CHECK(doc.at("info") == json{{"title", "geometry"}, {"version", "2.1.0"}});
  REQUIRE(doc.at("methods").size() == 1);
  const json& self = doc.at("methods").at(0);
  CHECK(self.at("name") == "rpc.discover");
  CHECK(self.at("params") == json::array());
  CHECK(self.at("result").at("name") == "OpenRPC Schema");
  CHECK(self.at("result").at("schema").at("$ref") ==
        "https://raw.githubusercontent.com/open-rpc/meta-schema/master/schema.json");
  CHECK_FALSE(doc.contains("components"));
}

TEST_CASE("discover: info defaults and a description", "[discover]") {
  bsonrpc::Options options;
  options.discover.emplace();
  bsonrpc::dispatcher<bsonrpc::JsonCodec> plain(options);
  CHECK(discover(plain).at("result").at("info") ==
        json{{"title", "bsonrpc service"}, {"version", "0.0.0"}});
  options.discover->description = "Shapes.";
  bsonrpc::dispatcher<bsonrpc::JsonCodec> described(options);
  CHECK(discover(described).at("result").at("info").at("description") == "Shapes.");
}

TEST_CASE("discover: service methods with their parameter names and schemas", "[discover]") {
  const json doc = geometry_document();
  std::vector<std::string> names;
  for (const auto& m : doc.at("methods")) names.push_back(m.at("name"));
  CHECK(names == std::vector<std::string>{"rpc.discover", "add", "area", "first_or", "greet",
                                          "grow", "log", "touch"});
  const json int32 = schema_of_integer(-2147483648LL, 2147483647);

  const json& add = *method_named(doc, "add");
  CHECK(add.at("paramStructure") == "either");
  CHECK(add.at("params") == json{{{"name", "a"}, {"required", true}, {"schema", int32}},
                                 {{"name", "b"}, {"required", true}, {"schema", int32}}});
  CHECK(add.at("result") == json{{"name", "result"}, {"schema", int32}});

  const json& greet = *method_named(doc, "greet");
  CHECK(greet.at("params").at(1) ==
        json{{"name", "greeting"},
             {"required", false},
             {"schema", {{"anyOf", {{{"type", "string"}}, {{"type", "null"}}}}}}});

  // Only trailing optionals may be left out (by position): this one is required, nullable.
  const json& first_or = *method_named(doc, "first_or");
  CHECK(first_or.at("params").at(0).at("required") == true);
  CHECK(first_or.at("params").at(0).at("schema").contains("anyOf"));

  // A Context& first is not a parameter; a struct result is a reference.
  const json& grow = *method_named(doc, "grow");
  CHECK(grow.at("params") ==
        json{{{"name", "depth"}, {"required", true}, {"schema", schema_of_integer(0, 255)}}});
  CHECK(grow.at("result").at("schema") == json{{"$ref", "#/components/schemas/tree"}});
  CHECK(doc.at("components").at("schemas").contains("tree"));
}

TEST_CASE("discover: a whole-params struct lists its members by name, required first",
          "[discover]") {
  const json doc = geometry_document();
  const json& area = *method_named(doc, "area");
  CHECK(area.at("paramStructure") == "by-name");
  std::vector<std::pair<std::string, bool>> params;
  for (const auto& p : area.at("params")) params.emplace_back(p.at("name"), p.at("required"));
  CHECK(params == std::vector<std::pair<std::string, bool>>{
                      {"corners", true}, {"centre", true}, {"name", false}});
  CHECK(area.at("params").at(0).at("schema").at("items") ==
        json{{"$ref", "#/components/schemas/point"}});
  CHECK(doc.at("components").at("schemas").contains("point"));
}

TEST_CASE("discover: notifications are listed with no possible result and x-notification",
          "[discover]") {
  const json doc = geometry_document();
  const json& log = *method_named(doc, "log");
  CHECK(log.at("x-notification") == true);
  CHECK(log.at("params") ==
        json{{{"name", "line"}, {"required", true}, {"schema", {{"type", "string"}}}}});
  CHECK(log.at("result").at("schema") == json{{"not", json::object()}});
  CHECK_FALSE(method_named(doc, "add")->contains("x-notification"));
}

TEST_CASE("discover: functions and lambdas, named, by object, and registered later",
          "[discover]") {
  bsonrpc::dispatcher<bsonrpc::JsonCodec> d(discovering());
  d.add_request("math/add", [](int a, long long b) { return a + b; }, {"a", "b"});
  d.add_request("tools/list", [] { return std::vector<std::string>{"add"}; });
  d.add_request("echo", [](const json& params) { return params; });
  d.add_notification("math/add", [](int, int) {}, {"x", "y"});
  json doc = discover(d).at("result");
  const json& add = *method_named(doc, "math/add");
  CHECK_FALSE(add.contains("x-notification"));  // the request wins over the notification
  CHECK(add.at("params").at(1).at("name") == "b");
  CHECK(add.at("params").at(1).at("schema").at("maximum") ==
        std::numeric_limits<long long>::max());
  const json& list = *method_named(doc, "tools/list");
  CHECK(list.at("params") == json::array());
  CHECK(list.at("result").at("schema") == json{{"type", "array"}, {"items", {{"type", "string"}}}});
  const json& echo = *method_named(doc, "echo");
  CHECK(echo.at("paramStructure") == "by-position");
  CHECK(echo.at("params") ==
        json{{{"name", "params"}, {"required", true}, {"schema", json::object()}}});
  CHECK(doc.at("methods").size() == 4);

  d.start_dispatching();
  d.add_notification("late", [](const point&) {});
  doc = discover(d).at("result");
  CHECK(method_named(doc, "late")->at("paramStructure") == "by-name");
  CHECK(doc.at("methods").size() == 5);
}

TEST_CASE("discover: rpc.discover takes no params and cannot be registered again",
          "[discover]") {
  bsonrpc::dispatcher<bsonrpc::JsonCodec> d(discovering());
  CHECK(d.has_request("rpc.discover"));
  CHECK(discover(d, R"({"jsonrpc":"2.0","id":1,"method":"rpc.discover","params":[]})")
            .contains("result"));
  CHECK(discover(d, R"({"jsonrpc":"2.0","id":1,"method":"rpc.discover","params":{}})")
            .contains("result"));
  CHECK(discover(d, R"({"jsonrpc":"2.0","id":1,"method":"rpc.discover","params":[1]})")
            .at("error").at("code") == -32602);
  CHECK_THROWS_AS(d.add_request("rpc.discover", [] { return 1; }), std::logic_error);
}

TEST_CASE("discover: the BSON codec carries the same document, $-keys and uint64 included",
          "[discover][bson]") {
  Geometry g;
  bsonrpc::dispatcher<bsonrpc::JsonCodec> json_side(discovering());
  json_side.add_service(g);
  bsonrpc::dispatcher<bsonrpc::BsonCodec> bson_side(discovering());
  bson_side.add_service(g);
  bson_side.add_request("bytes", [](std::vector<std::uint8_t> b, std::uint64_t n) {
    return b.size() + n;
  }, {"b", "n"});

  bsonrpc::value request(bsonrpc::document{{"bsonrpc", "2.0"},
                                           {"id", std::int64_t{1}},
                                           {"method", "rpc.discover"}});
  std::string bytes;
  bsonrpc::BsonCodec::encode(request, bytes);
  std::string out;
  REQUIRE(bson_side.handle(bytes, out));
  const bsonrpc::value reply = bsonrpc::BsonCodec::decode(out, {});
  const bsonrpc::value* result = bsonrpc::value_traits<bsonrpc::value>::find(reply, "result");
  REQUIRE(result);
  const json doc = bsonrpc::from_value<json>(*result);

  json expected = discover(json_side).at("result");
  json bytes_method = *method_named(doc, "bytes");
  CHECK(bytes_method.at("params").at(0).at("schema").at("properties").contains("$binary"));
  // uint64's maximum is past int64: BSON carries it as a double.
  CHECK(bytes_method.at("params").at(1).at("schema").at("maximum").get<double>() ==
        18446744073709551615.0);
  json without_bytes = doc;
  auto& methods = without_bytes.at("methods");
  for (auto it = methods.begin(); it != methods.end(); ++it)
    if (it->at("name") == "bytes") {
      methods.erase(it);
      break;
    }
  CHECK(without_bytes == expected);
}

}  // namespace schema_test
