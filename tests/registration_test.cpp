// Registration without the member's own name or a class: wire names (.as), by-object params,
// and free functions and lambdas (dispatcher::add_request / add_notification).
#include <bsonrpc/codec/json.hpp>
#include <bsonrpc/define_type.hpp>
#include <bsonrpc/dispatcher.hpp>

#include "support/test_context.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace reg {

struct position {
  int line = 0;
  int character = 0;
};
BSONRPC_DEFINE_TYPE(position, line, character)

struct hover_params {
  std::string uri;
  position at;
};
BSONRPC_DEFINE_TYPE(hover_params, uri, at)

struct Editor {
  std::string hover(const hover_params& p) const {
    return p.uri + ":" + std::to_string(p.at.line) + ":" + std::to_string(p.at.character);
  }
  int count_words(const std::string& text) const {
    int n = 0;
    bool in_word = false;
    for (char c : text) {
      const bool letter = c != ' ';
      if (letter && !in_word) ++n;
      in_word = letter;
    }
    return n;
  }
  std::string who(bsonrpc::Context&, const hover_params& p) const { return "context " + p.uri; }
  void opened(const hover_params& p) { opened_uris.push_back(p.uri); }
  std::vector<std::string> opened_uris;
};

BSONRPC_SERVICE(Editor,
  BSONRPC_REQUEST(hover).as("textDocument/hover"),
  BSONRPC_REQUEST(count_words, text).as("$/words"),
  BSONRPC_RPC_REQUEST(who).as("who/is"),
  BSONRPC_NOTIFICATION(opened).as("textDocument/didOpen"))

int triple(int x) { return 3 * x; }

}  // namespace reg

namespace {

using json = nlohmann::json;

struct fixture {
  reg::Editor editor;
  bsonrpc::dispatcher<bsonrpc::JsonCodec> engine;
  bsonrpc::test::recording_context context;

  fixture() { engine.add_service(editor); }

  std::optional<json> reply(const std::string& request) {
    std::string out;
    if (!engine.handle(request, context, out)) return std::nullopt;
    return json::parse(out);
  }
  json call(const std::string& method, const std::string& params) {
    auto r = reply(R"({"jsonrpc":"2.0","id":1,"method":")" + method + R"(","params":)" + params +
                   "}");
    REQUIRE(r);
    return *r;
  }
  json call_without_params(const std::string& method) {
    auto r = reply(R"({"jsonrpc":"2.0","id":1,"method":")" + method + R"("})");
    REQUIRE(r);
    return *r;
  }
};

int error_code(const json& reply) { return reply.at("error").at("code").get<int>(); }

}  // namespace

TEST_CASE("registration: a member registered .as a wire name answers to that name only",
          "[registration][unit]") {
  fixture f;
  CHECK(f.call("$/words", R"({"text": "one two three"})").at("result") == 3);
  CHECK(f.call("$/words", R"(["a b"])").at("result") == 2);
  CHECK(error_code(f.call("count_words", R"(["a b"])")) == -32601);
  CHECK(f.engine.has_request("textDocument/hover"));
  CHECK_FALSE(f.engine.has_request("hover"));
  CHECK(f.engine.has_notification("textDocument/didOpen"));
}

TEST_CASE("registration: a member taking one struct and no names receives the whole params "
          "object",
          "[registration][unit]") {
  fixture f;
  const std::string params = R"({"uri": "file:///a.cpp", "at": {"line": 3, "character": 7}})";
  CHECK(f.call("textDocument/hover", params).at("result") == "file:///a.cpp:3:7");
  SECTION("or an array holding it alone") {
    CHECK(f.call("textDocument/hover", "[" + params + "]").at("result") == "file:///a.cpp:3:7");
  }
  SECTION("after a Context&") {
    CHECK(f.call("who/is", params).at("result") == "context file:///a.cpp");
  }
  SECTION("as a notification") {
    CHECK_FALSE(f.reply(R"({"jsonrpc":"2.0","method":"textDocument/didOpen","params":)" + params +
                        "}"));
    CHECK(f.editor.opened_uris == std::vector<std::string>{"file:///a.cpp"});
  }
}

TEST_CASE("registration: by-object params that do not fit the struct are Invalid params",
          "[registration][unit]") {
  fixture f;
  const json wrong_type = f.call("textDocument/hover", R"({"uri": 5, "at": {}})");
  CHECK(error_code(wrong_type) == -32602);
  CHECK(wrong_type.at("error").at("data").get<std::string>().find("params") != std::string::npos);
  CHECK(error_code(f.call_without_params("textDocument/hover")) == -32602);
  CHECK(error_code(f.call("textDocument/hover", "[1, 2]")) == -32602);
  CHECK(error_code(f.call("textDocument/hover", "[]")) == -32602);
  CHECK(error_code(f.call("textDocument/hover", "[7]")) == -32602);
}

TEST_CASE("registration: a lambda with parameter names takes positional and named params",
          "[registration][unit]") {
  fixture f;
  f.engine.add_request("math/add", [](int a, int b) { return a + b; }, {"a", "b"});
  CHECK(f.call("math/add", "[2, 3]").at("result") == 5);
  CHECK(f.call("math/add", R"({"b": 10, "a": 1})").at("result") == 11);
  CHECK(error_code(f.call("math/add", R"({"a": 1, "c": 2})")) == -32602);
  CHECK(error_code(f.call("math/add", "[1, 2, 3]")) == -32602);
  CHECK(error_code(f.call("math/add", R"(["x", 2])")) == -32602);
}

TEST_CASE("registration: lambdas, functions and notifications register without a class",
          "[registration][unit]") {
  fixture f;
  int notified = 0;
  f.engine.add_request("tools/list", [] { return std::vector<std::string>{"echo", "add"}; });
  f.engine.add_request("triple", &reg::triple, {"x"});
  f.engine.add_request("uri/of", [](const reg::hover_params& p) { return p.uri; });
  f.engine.add_request("id/of", [](bsonrpc::Context&, int x) { return x; }, {"x"});
  int calls = 0;
  f.engine.add_request("counter", [calls]() mutable { return ++calls; });
  f.engine.add_notification("notifications/initialized", [&notified] { ++notified; });
  CHECK(f.call_without_params("tools/list").at("result") == json::parse(R"(["echo", "add"])"));
  CHECK(f.call("triple", "[4]").at("result") == 12);
  CHECK(f.call("uri/of", R"({"uri": "u", "at": {"line": 0, "character": 0}})").at("result") ==
        "u");
  CHECK(f.call("id/of", R"({"x": 9})").at("result") == 9);
  CHECK(f.call_without_params("counter").at("result") == 1);
  CHECK(f.call_without_params("counter").at("result") == 2);
  CHECK_FALSE(f.reply(R"({"jsonrpc":"2.0","method":"notifications/initialized"})"));
  CHECK(notified == 1);
}

TEST_CASE("registration: a name registered twice, or a notification with a result, is refused",
          "[registration][unit]") {
  fixture f;
  CHECK_THROWS_AS(f.engine.add_request("$/words", [] { return 1; }), std::logic_error);
  f.engine.add_request("x", [] { return 1; });
  CHECK_THROWS_AS(f.engine.add_request("x", [] { return 2; }), std::logic_error);
  CHECK_THROWS_AS(f.engine.add_notification("n", [] { return 1; }), std::logic_error);
  CHECK(f.call_without_params("x").at("result") == 1);
}

TEST_CASE("registration: a method added after dispatching started is found, and the ones "
          "before still are",
          "[registration][unit]") {
  fixture f;
  f.engine.start_dispatching();
  for (int i = 0; i < 20; ++i)
    f.engine.add_request("late/" + std::to_string(i), [i] { return i; });
  CHECK(f.call_without_params("late/0").at("result") == 0);
  CHECK(f.call_without_params("late/19").at("result") == 19);
  CHECK(f.call("$/words", R"(["a"])").at("result") == 1);
}
