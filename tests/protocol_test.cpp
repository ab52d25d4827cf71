// Protocol profiles (bsonrpc/protocol.hpp): reading cancel and progress notifications and
// progress tokens, building them, and attaching a token to a call's params, for LSP and MCP.
#include <bsonrpc/codec/bson.hpp>
#include <bsonrpc/codec/json.hpp>
#include <bsonrpc/define_type.hpp>
#include <bsonrpc/dispatcher.hpp>
#include <bsonrpc/options.hpp>
#include <bsonrpc/protocol.hpp>

#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <optional>
#include <string>

namespace {

using json = nlohmann::json;
namespace protocol = bsonrpc::protocol;

const json* cancelled_id(protocol::profile p, const json& params) {
  return bsonrpc::detail::cancelled_request_id(p, &params);
}
const json* token_of(protocol::profile p, const json& params) {
  return bsonrpc::detail::progress_token_of(p, &params);
}

}  // namespace

TEST_CASE("protocol: the default profile is none and names no method", "[protocol]") {
  const bsonrpc::Options options;
  CHECK(options.protocol == protocol::none());
  CHECK(options.protocol.is_none());
  CHECK(options.protocol.cancel_method().empty());
  CHECK(options.protocol.progress_method().empty());
  CHECK(cancelled_id(protocol::none(), json{{"id", 1}}) == nullptr);
  CHECK(token_of(protocol::none(), json{{"workDoneToken", "t"}}) == nullptr);
}

TEST_CASE("protocol: LSP and MCP name their cancel and progress notifications", "[protocol]") {
  CHECK(protocol::lsp().cancel_method() == "$/cancelRequest");
  CHECK(protocol::lsp().progress_method() == "$/progress");
  CHECK(protocol::lsp().answers_cancelled_requests());
  CHECK(protocol::mcp().cancel_method() == "notifications/cancelled");
  CHECK(protocol::mcp().progress_method() == "notifications/progress");
  CHECK_FALSE(protocol::mcp().answers_cancelled_requests());
  CHECK(bsonrpc::make_error_code(bsonrpc::errc::request_cancelled).message() ==
        "Request cancelled");
  CHECK(static_cast<int>(bsonrpc::errc::request_cancelled) == protocol::request_cancelled_code);
}

TEST_CASE("protocol: a cancel names its request by id (LSP) or requestId (MCP), string or "
          "integer",
          "[protocol][cancel]") {
  CHECK(*cancelled_id(protocol::lsp(), json{{"id", 7}}) == 7);
  CHECK(*cancelled_id(protocol::lsp(), json{{"id", "a"}}) == "a");
  CHECK(*cancelled_id(protocol::mcp(), json{{"requestId", 7}, {"reason", "user"}}) == 7);
  CHECK(*cancelled_id(protocol::mcp(), json{{"requestId", "a"}}) == "a");
  CHECK(cancelled_id(protocol::mcp(), json{{"id", 7}}) == nullptr);
  CHECK(cancelled_id(protocol::lsp(), json{{"requestId", 7}}) == nullptr);
}

TEST_CASE("protocol: a cancel with a missing or ill-typed id names no request",
          "[protocol][cancel]") {
  for (const auto& params : {json::object(), json{{"id", nullptr}}, json{{"id", 1.5}},
                             json{{"id", json::array({1})}}, json{{"id", json{{"x", 1}}}},
                             json{{"id", true}}, json::array({1}), json("id")}) {
    CAPTURE(params.dump());
    CHECK(cancelled_id(protocol::lsp(), params) == nullptr);
  }
  CHECK(bsonrpc::detail::cancelled_request_id<json>(protocol::lsp(), nullptr) == nullptr);
  CHECK(cancelled_id(protocol::mcp(), json{{"requestId", nullptr}}) == nullptr);
}

TEST_CASE("protocol: LSP reads workDoneToken, else partialResultToken, as the progress token",
          "[protocol][progress]") {
  CHECK(*token_of(protocol::lsp(), json{{"workDoneToken", "w"}, {"partialResultToken", "p"}}) ==
        "w");
  CHECK(*token_of(protocol::lsp(), json{{"partialResultToken", 3}}) == 3);
  CHECK(*token_of(protocol::lsp(), json{{"workDoneToken", 1.5}, {"partialResultToken", "p"}}) ==
        "p");
  CHECK(token_of(protocol::lsp(), json{{"_meta", {{"progressToken", "m"}}}}) == nullptr);
  CHECK(token_of(protocol::lsp(), json::array({json{{"workDoneToken", "w"}}})) == nullptr);
}

TEST_CASE("protocol: MCP reads _meta.progressToken as the progress token", "[protocol][progress]") {
  CHECK(*token_of(protocol::mcp(), json{{"_meta", {{"progressToken", "m"}}}}) == "m");
  CHECK(*token_of(protocol::mcp(), json{{"_meta", {{"progressToken", 4}}}}) == 4);
  CHECK(token_of(protocol::mcp(), json{{"_meta", "m"}}) == nullptr);
  CHECK(token_of(protocol::mcp(), json{{"_meta", {{"progressToken", nullptr}}}}) == nullptr);
  CHECK(token_of(protocol::mcp(), json{{"workDoneToken", "w"}}) == nullptr);
}

TEST_CASE("protocol: the cancel notification's params name our call's id", "[protocol][cancel]") {
  CHECK(bsonrpc::detail::cancel_params<json>(protocol::lsp(), 12) == json{{"id", 12}});
  const json mcp = bsonrpc::detail::cancel_params<json>(protocol::mcp(), 12);
  CHECK(mcp["requestId"] == 12);
  CHECK(mcp["reason"].is_string());
}

TEST_CASE("protocol: a progress report is LSP {token, value} or MCP {progressToken, ...report}",
          "[protocol][progress]") {
  using bsonrpc::detail::progress_params;
  CHECK(progress_params<json>(protocol::lsp(), "t", json{{"kind", "report"}, {"percentage", 50}}) ==
        json{{"token", "t"}, {"value", {{"kind", "report"}, {"percentage", 50}}}});
  CHECK(progress_params<json>(protocol::mcp(), 5, json{{"progress", 1}, {"total", 4}}) ==
        json{{"progressToken", 5}, {"progress", 1}, {"total", 4}});
  CHECK(progress_params<json>(protocol::mcp(), "t", json(0.5)) ==
        json{{"progressToken", "t"}, {"progress", 0.5}});
  // The report cannot pass itself off as another request's progress.
  CHECK(progress_params<json>(protocol::mcp(), "t", json{{"progressToken", "x"}, {"progress", 1}}) ==
        json{{"progressToken", "t"}, {"progress", 1}});
}

TEST_CASE("protocol: an incoming progress report gives its token and what the callback receives",
          "[protocol][progress]") {
  using bsonrpc::detail::read_progress;
  const json lsp{{"token", "t"}, {"value", {{"kind", "end"}}}};
  auto r = read_progress(protocol::lsp(), &lsp);
  REQUIRE(r);
  CHECK(*r->first == "t");
  CHECK(*r->second == json{{"kind", "end"}});
  const json mcp{{"progressToken", 3}, {"progress", 1}};
  r = read_progress(protocol::mcp(), &mcp);
  REQUIRE(r);
  CHECK(*r->first == 3);
  CHECK(*r->second == mcp);
  for (const auto& bad : {json::object(), json{{"token", "t"}}, json{{"token", 1.5}, {"value", 1}},
                          json::array({1})}) {
    CAPTURE(bad.dump());
    CHECK_FALSE(read_progress(protocol::lsp(), &bad));
  }
  const json no_token{{"progress", 1}};
  CHECK_FALSE(read_progress(protocol::mcp(), &no_token));
}

TEST_CASE("protocol: a progress token is attached to an object's params, or makes them",
          "[protocol][progress]") {
  using bsonrpc::detail::attach_progress_token;
  std::optional<json> params = json{{"uri", "u"}};
  REQUIRE(attach_progress_token(protocol::lsp(), params, json("t")));
  CHECK(*params == json{{"uri", "u"}, {"workDoneToken", "t"}});

  params = json{{"name", "sleep"}, {"_meta", {{"other", 1}, {"progressToken", "old"}}}};
  REQUIRE(attach_progress_token(protocol::mcp(), params, json("t")));
  CHECK(*params == json{{"name", "sleep"}, {"_meta", {{"other", 1}, {"progressToken", "t"}}}});

  params = json{{"_meta", "not an object"}};
  REQUIRE(attach_progress_token(protocol::mcp(), params, json("t")));
  CHECK(*params == json{{"_meta", {{"progressToken", "t"}}}});

  params.reset();
  REQUIRE(attach_progress_token(protocol::mcp(), params, json("t")));
  CHECK(*params == json{{"_meta", {{"progressToken", "t"}}}});

  params = json::array({1, 2});
  CHECK_FALSE(attach_progress_token(protocol::lsp(), params, json("t")));
  CHECK(*params == json::array({1, 2}));
  params = json::object();
  CHECK_FALSE(attach_progress_token(protocol::none(), params, json("t")));
}

TEST_CASE("protocol: the BSON codec's values read and build the same messages",
          "[protocol][bson]") {
  using bsonrpc::document;
  using bsonrpc::value;
  const value cancel(document{{"requestId", "r"}});
  const value* id = bsonrpc::detail::cancelled_request_id(protocol::mcp(), &cancel);
  REQUIRE(id);
  CHECK(bsonrpc::detail::id_key(*id) == "sr");
  CHECK(bsonrpc::detail::id_key(value(std::int64_t{5})) == "i5");
  std::optional<value> params = value(document{{"a", 1}});
  REQUIRE(bsonrpc::detail::attach_progress_token(protocol::mcp(), params, value("t")));
  const value* token = bsonrpc::detail::progress_token_of(protocol::mcp(), &*params);
  REQUIRE(token);
  CHECK(*token == value("t"));
}

namespace {
struct call_params {
  std::string name;
};
BSONRPC_DEFINE_TYPE(call_params, name)
}  // namespace

TEST_CASE("protocol: a by-object handler accepts params carrying _meta or workDoneToken",
          "[protocol][registration]") {
  // BSONRPC_DEFINE_TYPE ignores members it does not list, so the protocol's own keys pass.
  bsonrpc::dispatcher<bsonrpc::JsonCodec> dispatcher;
  dispatcher.add_request("tools/call", [](const call_params& p) { return p.name; });
  std::string out;
  dispatcher.handle(R"({"jsonrpc":"2.0","id":1,"method":"tools/call",
                        "params":{"name":"echo","_meta":{"progressToken":"t"}}})", out);
  CHECK(out == R"({"id":1,"jsonrpc":"2.0","result":"echo"})");
  out.clear();
  dispatcher.handle(R"({"jsonrpc":"2.0","id":2,"method":"tools/call",
                        "params":{"name":"x","workDoneToken":1,"partialResultToken":"p"}})", out);
  CHECK(out == R"({"id":2,"jsonrpc":"2.0","result":"x"})");
}
