#include <set>
// The JSON-RPC 2.0 specification's examples (section 7) and every error code, as wire bytes in
// and wire bytes out through dispatcher<JsonCodec>.
#include <bsonrpc/codec/json.hpp>
#include <bsonrpc/dispatcher.hpp>

#include "support/test_context.hpp"

#include <catch2/catch.hpp>

#include <optional>
#include <string>
#include <tuple>

namespace spec {

struct Examples {
  int subtract(int minuend, int subtrahend) const { return minuend - subtrahend; }
  int sum(int a, int b, int c) const { return a + b + c; }
  void update(int, int, int, int, int) { ++updates; }
  void notify_hello(int) { ++hellos; }
  std::tuple<std::string, int> get_data() const { return {"hello", 5}; }
  int updates = 0;
  int hellos = 0;
};

BSONRPC_SERVICE(Examples,
  BSONRPC_REQUEST(subtract, minuend, subtrahend),
  BSONRPC_REQUEST(sum, a, b, c),
  BSONRPC_NOTIFICATION(update, a, b, c, d, e),
  BSONRPC_NOTIFICATION(notify_hello, n),
  BSONRPC_REQUEST(get_data))

}  // namespace spec

namespace {

using json = nlohmann::json;

struct fixture {
  spec::Examples service;
  bsonrpc::dispatcher<bsonrpc::JsonCodec> engine;
  bsonrpc::test::recording_context context;

  fixture() { engine.add_service(service); }

  // The reply to `request`, parsed; nullopt when the dispatcher sends nothing.
  std::optional<json> reply(const std::string& request) {
    std::string out;
    if (!engine.handle(request, context, out)) {
      REQUIRE(out.empty());
      return std::nullopt;
    }
    return json::parse(out);
  }
};

}  // namespace

TEST_CASE("dispatcher: a call with positional parameters gets its result", "[dispatcher][spec]") {
  fixture f;
  CHECK(f.reply(R"({"jsonrpc": "2.0", "method": "subtract", "params": [42, 23], "id": 1})") ==
        json::parse(R"({"jsonrpc": "2.0", "result": 19, "id": 1})"));
  CHECK(f.reply(R"({"jsonrpc": "2.0", "method": "subtract", "params": [23, 42], "id": 2})") ==
        json::parse(R"({"jsonrpc": "2.0", "result": -19, "id": 2})"));
}

TEST_CASE("dispatcher: a call with named parameters gets its result in any key order",
          "[dispatcher][spec]") {
  fixture f;
  CHECK(f.reply(R"({"jsonrpc": "2.0", "method": "subtract", "params": {"subtrahend": 23, "minuend": 42}, "id": 3})") ==
        json::parse(R"({"jsonrpc": "2.0", "result": 19, "id": 3})"));
  CHECK(f.reply(R"({"jsonrpc": "2.0", "method": "subtract", "params": {"minuend": 42, "subtrahend": 23}, "id": 4})") ==
        json::parse(R"({"jsonrpc": "2.0", "result": 19, "id": 4})"));
}

TEST_CASE("dispatcher: a notification runs its handler and gets no response",
          "[dispatcher][spec]") {
  fixture f;
  CHECK_FALSE(f.reply(R"({"jsonrpc": "2.0", "method": "update", "params": [1,2,3,4,5]})"));
  CHECK(f.service.updates == 1);
  CHECK_FALSE(f.reply(R"({"jsonrpc": "2.0", "method": "foobar"})"));
}

TEST_CASE("dispatcher: a call to a method that does not exist gets -32601", "[dispatcher][spec]") {
  fixture f;
  CHECK(f.reply(R"({"jsonrpc": "2.0", "method": "foobar", "id": "1"})") ==
        json::parse(R"({"jsonrpc": "2.0", "error": {"code": -32601, "message": "Method not found"}, "id": "1"})"));
}

TEST_CASE("dispatcher: invalid JSON gets -32700 with a null id", "[dispatcher][spec]") {
  fixture f;
  CHECK(f.reply(R"({"jsonrpc": "2.0", "method": "foobar, "params": "bar", "baz])") ==
        json::parse(R"({"jsonrpc": "2.0", "error": {"code": -32700, "message": "Parse error"}, "id": null})"));
}

TEST_CASE("dispatcher: an invalid request object gets -32600 with a null id",
          "[dispatcher][spec]") {
  fixture f;
  CHECK(f.reply(R"({"jsonrpc": "2.0", "method": 1, "params": "bar"})") ==
        json::parse(R"({"jsonrpc": "2.0", "error": {"code": -32600, "message": "Invalid Request"}, "id": null})"));
}

TEST_CASE("dispatcher: a batch that is invalid JSON gets a single -32700", "[dispatcher][spec][batch]") {
  fixture f;
  CHECK(f.reply(R"([
  {"jsonrpc": "2.0", "method": "sum", "params": [1,2,4], "id": "1"},
  {"jsonrpc": "2.0", "method"
])") == json::parse(R"({"jsonrpc": "2.0", "error": {"code": -32700, "message": "Parse error"}, "id": null})"));
}

TEST_CASE("dispatcher: an empty batch gets a single -32600", "[dispatcher][spec][batch]") {
  fixture f;
  CHECK(f.reply("[]") ==
        json::parse(R"({"jsonrpc": "2.0", "error": {"code": -32600, "message": "Invalid Request"}, "id": null})"));
}

TEST_CASE("dispatcher: a batch of non-objects gets one -32600 per entry",
          "[dispatcher][spec][batch]") {
  fixture f;
  const auto invalid =
      json::parse(R"({"jsonrpc": "2.0", "error": {"code": -32600, "message": "Invalid Request"}, "id": null})");
  CHECK(f.reply("[1]") == json::array({invalid}));
  CHECK(f.reply("[1,2,3]") == json::array({invalid, invalid, invalid}));
}

TEST_CASE("dispatcher: a mixed batch gets one response per request, none for notifications",
          "[dispatcher][spec][batch]") {
  fixture f;
  auto reply = f.reply(R"([
    {"jsonrpc": "2.0", "method": "sum", "params": [1,2,4], "id": "1"},
    {"jsonrpc": "2.0", "method": "notify_hello", "params": [7]},
    {"jsonrpc": "2.0", "method": "subtract", "params": [42,23], "id": "2"},
    {"foo": "boo"},
    {"jsonrpc": "2.0", "method": "foo.get", "params": {"name": "myself"}, "id": "5"},
    {"jsonrpc": "2.0", "method": "get_data", "id": "9"}
  ])");
  REQUIRE(reply);
  REQUIRE(reply->is_array());
  // The specification lets responses come in any order: compare as multisets.
  std::multiset<std::string> got, expected;
  for (const auto& r : *reply) got.insert(r.dump());
  for (const auto& r : json::parse(R"([
    {"jsonrpc": "2.0", "result": 7, "id": "1"},
    {"jsonrpc": "2.0", "result": 19, "id": "2"},
    {"jsonrpc": "2.0", "error": {"code": -32600, "message": "Invalid Request"}, "id": null},
    {"jsonrpc": "2.0", "error": {"code": -32601, "message": "Method not found"}, "id": "5"},
    {"jsonrpc": "2.0", "result": ["hello", 5], "id": "9"}
  ])"))
    expected.insert(r.dump());
  CHECK(got == expected);
  CHECK(f.service.hellos == 1);
}

TEST_CASE("dispatcher: an all-notification batch gets no response at all",
          "[dispatcher][spec][batch]") {
  fixture f;
  CHECK_FALSE(f.reply(R"([
    {"jsonrpc": "2.0", "method": "notify_sum", "params": [1,2,4]},
    {"jsonrpc": "2.0", "method": "notify_hello", "params": [7]}
  ])"));
  CHECK(f.service.hellos == 1);
}

namespace errors {

struct Faulty {
  int add(int a, int b) const { return a + b; }
  void fail(int code, const std::string& message) const {
    throw bsonrpc::rpc_error(code, message, bsonrpc::value(bsonrpc::document{{"why", "asked"}}));
  }
  void throw_error(const std::string& message) const { throw std::runtime_error(message); }
  void throw_int() const { throw 42; }
  std::string bad_utf8() const { return "\xff\xfe"; }
  void crash_notification() { throw std::runtime_error("nobody hears this"); }
};

BSONRPC_SERVICE(Faulty,
  BSONRPC_REQUEST(add, a, b),
  BSONRPC_REQUEST(fail, code, message),
  BSONRPC_REQUEST(throw_error, message),
  BSONRPC_REQUEST(throw_int),
  BSONRPC_REQUEST(bad_utf8),
  BSONRPC_NOTIFICATION(crash_notification))

struct fixture {
  Faulty service;
  std::vector<std::string> log_lines;
  bsonrpc::dispatcher<bsonrpc::JsonCodec> engine{
      bsonrpc::Options{},
      bsonrpc::logger([this](bsonrpc::log_level, std::uint64_t, std::string_view line) {
        log_lines.emplace_back(line);
      }, {}, 1)};
  bsonrpc::test::recording_context context;

  fixture() { engine.add_service(service); }

  std::optional<json> reply(const std::string& request) {
    std::string out;
    if (!engine.handle(request, context, out)) return std::nullopt;
    return json::parse(out);
  }
  int error_code(const std::string& request) {
    auto r = reply(request);
    REQUIRE(r);
    REQUIRE(r->contains("error"));
    return (*r)["error"]["code"].get<int>();
  }
};

}  // namespace errors

TEST_CASE("dispatcher: invalid requests get -32600, echoing the id when it is valid",
          "[dispatcher][errors]") {
  errors::fixture f;
  SECTION("wrong protocol version") {
    auto r = f.reply(R"({"jsonrpc": "1.0", "method": "add", "params": [1, 2], "id": 1})");
    REQUIRE(r);
    CHECK((*r)["error"]["code"] == -32600);
    CHECK((*r)["id"] == 1);
  }
  SECTION("missing protocol version") {
    CHECK(f.error_code(R"({"method": "add", "params": [1, 2], "id": 1})") == -32600);
  }
  SECTION("protocol version as a number") {
    CHECK(f.error_code(R"({"jsonrpc": 2.0, "method": "add", "params": [1, 2], "id": 1})") == -32600);
  }
  SECTION("method not a string") {
    CHECK(f.error_code(R"({"jsonrpc": "2.0", "method": ["add"], "id": 1})") == -32600);
  }
  SECTION("params neither array nor object") {
    CHECK(f.error_code(R"({"jsonrpc": "2.0", "method": "add", "params": 3, "id": 1})") == -32600);
    CHECK(f.error_code(R"({"jsonrpc": "2.0", "method": "add", "params": null, "id": 1})") == -32600);
  }
  SECTION("id of a wrong type gets a null id back") {
    for (const char* id : {"1.5", "true", "[1]", "{}"}) {
      auto r = f.reply(std::string(R"({"jsonrpc": "2.0", "method": "add", "params": [1, 2], "id": )") + id + "}");
      REQUIRE(r);
      CHECK((*r)["error"]["code"] == -32600);
      CHECK((*r)["id"].is_null());
    }
  }
  SECTION("a message that is not an object") {
    CHECK(f.error_code(R"("add")") == -32600);
    CHECK(f.error_code("42") == -32600);
  }
  SECTION("an object that is neither request nor response") {
    CHECK(f.error_code(R"({"jsonrpc": "2.0", "id": 1})") == -32600);
  }
}

TEST_CASE("dispatcher: a null id is a request and gets a response with a null id",
          "[dispatcher]") {
  errors::fixture f;
  CHECK(f.reply(R"({"jsonrpc": "2.0", "method": "add", "params": [1, 2], "id": null})") ==
        json::parse(R"({"jsonrpc": "2.0", "result": 3, "id": null})"));
}

TEST_CASE("dispatcher: -32602 is reported for every kind of invalid params",
          "[dispatcher][errors][params]") {
  errors::fixture f;
  auto data_of = [&](const std::string& request) {
    auto r = f.reply(request);
    REQUIRE(r);
    REQUIRE((*r)["error"]["code"] == -32602);
    CHECK((*r)["error"]["message"] == "Invalid params");
    return (*r)["error"]["data"].get<std::string>();
  };
  CHECK_THAT(data_of(R"({"jsonrpc": "2.0", "method": "add", "params": [1, 2, 3], "id": 1})"),
             Catch::Contains("at most 2"));
  CHECK_THAT(data_of(R"({"jsonrpc": "2.0", "method": "add", "params": [1], "id": 1})"),
             Catch::Contains("missing parameter 'b'"));
  CHECK_THAT(data_of(R"({"jsonrpc": "2.0", "method": "add", "id": 1})"),
             Catch::Contains("missing parameter 'a'"));
  CHECK_THAT(data_of(R"({"jsonrpc": "2.0", "method": "add", "params": [1, "2"], "id": 1})"),
             Catch::Contains("parameter 'b'"));
  CHECK_THAT(data_of(R"({"jsonrpc": "2.0", "method": "add", "params": {"a": 1}, "id": 1})"),
             Catch::Contains("missing parameter 'b'"));
  CHECK_THAT(data_of(R"({"jsonrpc": "2.0", "method": "add", "params": {"a": 1, "b": 2, "c": 3}, "id": 1})"),
             Catch::Contains("unknown parameter 'c'"));
  CHECK_THAT(data_of(R"({"jsonrpc": "2.0", "method": "add", "params": [1, 3000000000], "id": 1})"),
             Catch::Contains("out of range"));
  CHECK_THAT(data_of(R"({"jsonrpc": "2.0", "method": "add", "params": [1, 2.5], "id": 1})"),
             Catch::Contains("parameter 'b'"));
}

TEST_CASE("dispatcher: a handler's rpc_error becomes that exact error object",
          "[dispatcher][errors]") {
  errors::fixture f;
  CHECK(f.reply(R"({"jsonrpc": "2.0", "method": "fail", "params": [-32099, "custom"], "id": 5})") ==
        json::parse(R"({"jsonrpc": "2.0", "error": {"code": -32099, "message": "custom", "data": {"why": "asked"}}, "id": 5})"));
  CHECK(f.reply(R"({"jsonrpc": "2.0", "method": "fail", "params": [17, "positive"], "id": 6})") ==
        json::parse(R"({"jsonrpc": "2.0", "error": {"code": 17, "message": "positive", "data": {"why": "asked"}}, "id": 6})"));
}

TEST_CASE("dispatcher: a handler that throws gets -32000 with its what() in data",
          "[dispatcher][errors]") {
  errors::fixture f;
  CHECK(f.reply(R"({"jsonrpc": "2.0", "method": "throw_error", "params": ["boom"], "id": 1})") ==
        json::parse(R"({"jsonrpc": "2.0", "error": {"code": -32000, "message": "Server error", "data": "boom"}, "id": 1})"));
  CHECK(f.error_code(R"({"jsonrpc": "2.0", "method": "throw_int", "id": 2})") == -32000);
}

TEST_CASE("dispatcher: a result the codec cannot encode gets -32603", "[dispatcher][errors]") {
  errors::fixture f;
  CHECK(f.reply(R"({"jsonrpc": "2.0", "method": "bad_utf8", "id": 1})") ==
        json::parse(R"({"jsonrpc": "2.0", "error": {"code": -32603, "message": "Internal error"}, "id": 1})"));
  auto batch = f.reply(R"([{"jsonrpc": "2.0", "method": "bad_utf8", "id": 1},
                           {"jsonrpc": "2.0", "method": "add", "params": [1, 2], "id": 2}])");
  REQUIRE(batch);
  CHECK((*batch)[0]["error"]["code"] == -32603);
  CHECK((*batch)[1]["result"] == 3);
}

TEST_CASE("dispatcher: notifications never get a response, even on error",
          "[dispatcher][errors]") {
  errors::fixture f;
  CHECK_FALSE(f.reply(R"({"jsonrpc": "2.0", "method": "crash_notification"})"));
  CHECK_FALSE(f.reply(R"({"jsonrpc": "2.0", "method": "no_such_notification", "params": [1]})"));
  CHECK_FALSE(f.reply(R"({"jsonrpc": "2.0", "method": "add", "params": [1, "x"]})"));
  CHECK_FALSE(f.reply(R"({"jsonrpc": "1.0", "method": "crash_notification"})"));
  CHECK_FALSE(f.reply(R"({"jsonrpc": "2.0", "method": "crash_notification", "params": 5})"));
  CHECK(f.log_lines.size() >= 5);
}

TEST_CASE("dispatcher: a request method called as a notification is not run, and vice versa",
          "[dispatcher]") {
  errors::fixture f;
  CHECK(f.error_code(R"({"jsonrpc": "2.0", "method": "crash_notification", "id": 1})") == -32601);
  CHECK_FALSE(f.reply(R"({"jsonrpc": "2.0", "method": "throw_error", "params": ["x"]})"));
}

TEST_CASE("dispatcher: a batch longer than max_batch_size gets a single -32600",
          "[dispatcher][batch]") {
  errors::Faulty service;
  bsonrpc::Options options;
  options.max_batch_size = 3;
  bsonrpc::dispatcher<bsonrpc::JsonCodec> engine(options);
  engine.add_service(service);
  bsonrpc::test::recording_context context;
  const std::string call = R"({"jsonrpc": "2.0", "method": "add", "params": [1, 2], "id": 1})";
  std::string out;
  REQUIRE(engine.handle("[" + call + "," + call + "," + call + "]", context, out));
  CHECK(json::parse(out).size() == 3);
  out.clear();
  REQUIRE(engine.handle("[" + call + "," + call + "," + call + "," + call + "]", context, out));
  CHECK(json::parse(out) ==
        json::parse(R"({"jsonrpc": "2.0", "error": {"code": -32600, "message": "Invalid Request"}, "id": null})"));
}

TEST_CASE("dispatcher: input nested deeper than max_depth is a parse error", "[dispatcher]") {
  errors::fixture f;
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  CHECK(f.error_code(deep) == -32700);
  const std::string ok = R"({"jsonrpc": "2.0", "method": "add", "params": )" +
                         std::string(126, '[') + std::string(126, ']') + R"(, "id": 1})";
  CHECK(f.error_code(ok) == -32602);
}

TEST_CASE("dispatcher: responses are routed to the response handler, not answered",
          "[dispatcher][responses]") {
  errors::fixture f;
  std::vector<json> results;
  std::vector<int> codes;
  f.engine.set_response_handler([&](const bsonrpc::dispatcher<bsonrpc::JsonCodec>::message& m) {
    if (m.result) results.push_back(*m.result);
    else codes.push_back((*m.error)["code"].get<int>());
    CHECK(*m.id == 9);
  });
  CHECK_FALSE(f.reply(R"({"jsonrpc": "2.0", "result": [1, 2], "id": 9})"));
  CHECK_FALSE(f.reply(R"({"jsonrpc": "2.0", "error": {"code": -32601, "message": "Method not found"}, "id": 9})"));
  CHECK_FALSE(f.reply(R"([{"jsonrpc": "2.0", "result": 3, "id": 9}, {"jsonrpc": "2.0", "result": 4, "id": 9}])"));
  CHECK(results == std::vector<json>{json::array({1, 2}), 3, 4});
  CHECK(codes == std::vector<int>{-32601});
}

TEST_CASE("dispatcher: malformed responses are answered as invalid requests", "[dispatcher][responses]") {
  errors::fixture f;
  CHECK(f.error_code(R"({"jsonrpc": "2.0", "result": 1, "error": {"code": 1, "message": "x"}, "id": 3})") == -32600);
  CHECK(f.error_code(R"({"jsonrpc": "2.0", "error": {"code": "1", "message": "x"}, "id": 3})") == -32600);
  CHECK(f.error_code(R"({"jsonrpc": "2.0", "result": 1})") == -32600);
}

TEST_CASE("dispatcher: registering the same method twice is refused", "[dispatcher]") {
  errors::Faulty a, b;
  bsonrpc::dispatcher<bsonrpc::JsonCodec> engine;
  engine.add_service(a);
  CHECK_THROWS_AS(engine.add_service(b), std::logic_error);
}
