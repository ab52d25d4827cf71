// The registration macros: what they accept, how parameters and results convert, and what an
// rpc_ handler can do with its Context.
#include <bsonrpc/codec/json.hpp>
#include <bsonrpc/define_type.hpp>
#include <bsonrpc/dispatcher.hpp>
#include <bsonrpc/service.hpp>

#include "support/test_context.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

namespace app {

struct Point {
  int x = 0;
  int y = 0;
};
inline void to_json(nlohmann::json& j, const Point& p) { j = {{"x", p.x}, {"y", p.y}}; }
inline void from_json(const nlohmann::json& j, Point& p) {
  j.at("x").get_to(p.x);
  j.at("y").get_to(p.y);
}

// The checked alternative to hand-written from_json: BSONRPC_DEFINE_TYPE.
struct Size {
  std::uint16_t w = 0;
  std::uint16_t h = 0;
};
BSONRPC_DEFINE_TYPE(Size, w, h)
struct Box {
  Size size;
  std::optional<std::string> label;
  std::vector<int> tags;
};
BSONRPC_DEFINE_TYPE(Box, size, label, tags)

// Names that look like the library's own or the standard library's, const and non-const
// members, void results, a private helper, and the original README's long_process.
class Calculator {
 public:
  int add(int a, int b) const { return a + b; }
  std::string swapper(const std::string& txt) const { return reversed(txt); }
  void report_progress(const std::string& txt) { progress.push_back(txt); }
  int long_process(bsonrpc::Context& rpc, int a, int b, int c) {
    rpc.notify("report_progress", "Stage 1");
    rpc.peer().n["report_progress"]("Stage 2");
    last_swapped = rpc.call<std::string>("swapper", "TestinG");
    return a * b * c;
  }
  void close(bsonrpc::Context& rpc) { rpc.close_after_response(); }
  std::size_t size(const std::vector<int>& items) const noexcept { return items.size(); }
  bool call(bool b) const { return !b; }
  void notify() { ++notified; }
  std::string greet(const std::string& name, std::optional<std::string> greeting) const {
    return greeting.value_or("hello") + " " + name;
  }
  Point mirror(const Point& p) const { return {p.y, p.x}; }
  Box grow(const Box& b) const {
    return {{static_cast<std::uint16_t>(b.size.w + 1), static_cast<std::uint16_t>(b.size.h + 1)},
            b.label, b.tags};
  }
  std::map<std::string, int> count(const std::vector<std::string>& words) const {
    std::map<std::string, int> out;
    for (const auto& w : words) ++out[w];
    return out;
  }
  std::tuple<int, std::string> pair_up(std::tuple<int, std::string> t) const { return t; }
  nlohmann::json any(const nlohmann::json& v) const { return v; }
  std::uint8_t narrow(std::uint8_t v) const { return v; }
  std::int64_t wide(std::int64_t v) const { return v; }
  std::uint64_t huge(std::uint64_t v) const { return v; }
  double half(double v) const { return v / 2; }
  std::string id_of(bsonrpc::Context& rpc) const { return std::to_string(rpc.connection_id()); }

  std::vector<std::string> progress;
  std::string last_swapped;
  int notified = 0;

 private:
  static std::string reversed(const std::string& s) { return {s.rbegin(), s.rend()}; }
};

BSONRPC_SERVICE(Calculator,
  BSONRPC_REQUEST(add, a, b),
  BSONRPC_REQUEST(swapper, txt),
  BSONRPC_NOTIFICATION(report_progress, txt),
  BSONRPC_RPC_REQUEST(long_process, a, b, c),
  BSONRPC_RPC_NOTIFICATION(close),
  BSONRPC_REQUEST(size, items),
  BSONRPC_REQUEST(call, b),
  BSONRPC_NOTIFICATION(notify),
  BSONRPC_REQUEST(greet, name, greeting),
  BSONRPC_REQUEST(mirror, p),
  BSONRPC_REQUEST(grow, box),
  BSONRPC_REQUEST(count, words),
  BSONRPC_REQUEST(pair_up, t),
  BSONRPC_REQUEST(any, v),
  BSONRPC_REQUEST(narrow, v),
  BSONRPC_REQUEST(wide, v),
  BSONRPC_REQUEST(huge, v),
  BSONRPC_REQUEST(half, v),
  BSONRPC_RPC_REQUEST(id_of))

}  // namespace app

static_assert(bsonrpc::is_service_v<app::Calculator>);
static_assert(!bsonrpc::is_service_v<app::Point>);

namespace {

using json = nlohmann::json;

struct service_fixture {
  app::Calculator service;
  bsonrpc::dispatcher<bsonrpc::JsonCodec> engine;
  bsonrpc::test::recording_context context;

  service_fixture() { engine.add_service(service); }

  json call(const std::string& method, const json& params) {
    json request = {{"jsonrpc", "2.0"}, {"method", method}, {"params", params}, {"id", 1}};
    std::string out;
    REQUIRE(engine.handle(request.dump(), context, out));
    return json::parse(out);
  }
  json result(const std::string& method, const json& params) {
    json r = call(method, params);
    INFO(r.dump());
    REQUIRE(r.contains("result"));
    return r["result"];
  }
  int error_code(const std::string& method, const json& params) {
    json r = call(method, params);
    INFO(r.dump());
    REQUIRE(r.contains("error"));
    return r["error"]["code"].get<int>();
  }
};

}  // namespace

TEST_CASE("service: members named like library or standard functions register and run",
          "[service]") {
  service_fixture f;
  CHECK(f.result("size", json::array({json::array({1, 2, 3})})) == 3);
  CHECK(f.result("call", {true}) == false);
  std::string out;
  CHECK_FALSE(f.engine.handle(R"({"jsonrpc":"2.0","method":"notify"})", f.context, out));
  CHECK(f.service.notified == 1);
  CHECK(f.engine.has_request("add"));
  CHECK(f.engine.has_notification("report_progress"));
  CHECK_FALSE(f.engine.has_request("reversed"));
}

TEST_CASE("service: an rpc_ request calls and notifies the peer through its Context",
          "[service][context]") {
  service_fixture f;
  f.context.canned_results["swapper"] = "GnitseT";
  CHECK(f.result("long_process", {2, 3, 4}) == 24);
  REQUIRE(f.context.sent_messages.size() == 3);
  CHECK(f.context.sent_messages[0].method == "report_progress");
  CHECK_FALSE(f.context.sent_messages[0].is_call);
  CHECK(*f.context.sent_messages[0].params == bsonrpc::value(bsonrpc::array{"Stage 1"}));
  CHECK(*f.context.sent_messages[1].params == bsonrpc::value(bsonrpc::array{"Stage 2"}));
  CHECK(f.context.sent_messages[2].method == "swapper");
  CHECK(f.context.sent_messages[2].is_call);
  CHECK(f.service.last_swapped == "GnitseT");
  CHECK(f.result("id_of", json::array()) == "7");
}

TEST_CASE("service: a peer error during an rpc_ request's call becomes that request's error",
          "[service][context]") {
  service_fixture f;  // no canned result for swapper: the fake peer answers -32601
  CHECK(f.error_code("long_process", {2, 3, 4}) == -32601);
}

TEST_CASE("service: an rpc_ notification can ask to close after the response",
          "[service][context]") {
  service_fixture f;
  std::string out;
  CHECK_FALSE(f.engine.handle(R"({"jsonrpc":"2.0","method":"close"})", f.context, out));
  CHECK(f.context.closing);
}

TEST_CASE("service: trailing optional parameters may be omitted, by position or by name",
          "[service][params]") {
  service_fixture f;
  CHECK(f.result("greet", {"bob"}) == "hello bob");
  CHECK(f.result("greet", {"bob", "hi"}) == "hi bob");
  CHECK(f.result("greet", {"bob", nullptr}) == "hello bob");
  CHECK(f.result("greet", {{"name", "ann"}}) == "hello ann");
  CHECK(f.result("greet", {{"greeting", "hey"}, {"name", "ann"}}) == "hey ann");
  CHECK(f.error_code("greet", {{"greeting", "hey"}}) == -32602);
}

TEST_CASE("service: user structs convert through their to_json and from_json", "[service][params]") {
  service_fixture f;
  CHECK(f.result("mirror", {{{"x", 1}, {"y", 2}}}) == json({{"x", 2}, {"y", 1}}));
  CHECK(f.result("mirror", {{"p", {{"x", 5}, {"y", 6}}}}) == json({{"x", 6}, {"y", 5}}));
  CHECK(f.error_code("mirror", {{{"x", 1}}}) == -32602);
  CHECK(f.error_code("mirror", {"not a point"}) == -32602);
}

TEST_CASE("service: structs declared with BSONRPC_DEFINE_TYPE convert member by member, checked",
          "[service][params]") {
  service_fixture f;
  CHECK(f.result("grow", {{{"size", {{"w", 1}, {"h", 2}}}, {"tags", {7}}}}) ==
        json({{"size", {{"w", 2}, {"h", 3}}}, {"label", nullptr}, {"tags", {7}}}));
  CHECK(f.result("grow", {{{"size", {{"w", 0}, {"h", 0}}}, {"label", "b"}, {"tags", json::array()},
                           {"unknown", true}}}) ==
        json({{"size", {{"w", 1}, {"h", 1}}}, {"label", "b"}, {"tags", json::array()}}));

  // Each refused with -32602 and the member's path in data, never cast: 1e300 into an int
  // through nlohmann's get_to is undefined behaviour.
  const auto reason = [&](const json& box) {
    const json r = f.call("grow", json::array({box}));
    INFO(r.dump());
    REQUIRE(r.contains("error"));
    CHECK(r["error"]["code"] == -32602);
    return r["error"]["data"].dump();
  };
  const json tags = json::array();
  CHECK_THAT(reason({{"size", {{"w", 1e300}, {"h", 1}}}, {"tags", tags}}),
             Catch::Contains("member \\\"size\\\": member \\\"w\\\": expected an integer"));
  CHECK_THAT(reason({{"size", {{"w", 65536}, {"h", 1}}}, {"tags", tags}}),
             Catch::Contains("integer 65536 is out of range"));
  CHECK_THAT(reason({{"size", {{"w", -1}, {"h", 1}}}, {"tags", tags}}),
             Catch::Contains("integer -1 is out of range"));
  CHECK_THAT(reason({{"size", {{"w", 1}}}, {"tags", tags}}),
             Catch::Contains("missing member \\\"h\\\""));
  CHECK_THAT(reason({{"size", {{"w", 1}, {"h", 1}}}, {"tags", {1.5}}}),
             Catch::Contains("member \\\"tags\\\": expected an integer"));
  CHECK_THAT(reason({{"size", "big"}, {"tags", tags}}), Catch::Contains("expected an object"));
  CHECK_THAT(reason({{"size", {{"w", 1}, {"h", 1}}}, {"label", 5}, {"tags", tags}}),
             Catch::Contains("member \\\"label\\\": expected a string"));
}

TEST_CASE("service: containers, tuples and any-values convert both ways", "[service][params]") {
  service_fixture f;
  CHECK(f.result("count", {{"a", "b", "a"}}) == json({{"a", 2}, {"b", 1}}));
  CHECK(f.error_code("count", {{"a", 1}}) == -32602);
  CHECK(f.result("pair_up", {{3, "x"}}) == json::array({3, "x"}));
  CHECK(f.error_code("pair_up", {{3}}) == -32602);
  CHECK(f.error_code("pair_up", {{"x", 3}}) == -32602);
  const json anything = {{"nested", {1, 2.5, nullptr, true, "s"}}};
  CHECK(f.result("any", json::array({anything})) == anything);
}

TEST_CASE("service: integers are range-checked for every width, never wrapped", "[service][params]") {
  service_fixture f;
  CHECK(f.result("narrow", {255}) == 255);
  CHECK(f.error_code("narrow", {256}) == -32602);
  CHECK(f.error_code("narrow", {-1}) == -32602);
  CHECK(f.result("wide", {-9223372036854775807LL - 1}) == -9223372036854775807LL - 1);
  CHECK(f.error_code("wide", json::array({json(18446744073709551615ULL)})) == -32602);
  CHECK(f.result("huge", json::array({json(18446744073709551615ULL)})) == 18446744073709551615ULL);
  CHECK(f.error_code("huge", {-1}) == -32602);
  CHECK(f.error_code("add", {true, 1}) == -32602);
  CHECK(f.result("half", {3}) == 1.5);
  CHECK(f.error_code("half", {"3"}) == -32602);
}

namespace policy_unit {

struct Worker {
  int quick(int x) const { return x; }
  int slow(int x) const { return x; }
  int ordered(int x) const { return x; }
  int plain(int x) const { return x; }
  void note(int) {}
};
BSONRPC_SERVICE(Worker,
  BSONRPC_REQUEST(quick, x).runs(bsonrpc::execution::in_place),
  BSONRPC_REQUEST(slow, x).runs(bsonrpc::execution::concurrent),
  BSONRPC_REQUEST(ordered, x).runs(bsonrpc::execution::serial),
  BSONRPC_REQUEST(plain, x),
  BSONRPC_NOTIFICATION(note, x).runs(bsonrpc::execution::in_place))

}  // namespace policy_unit

TEST_CASE("service: runs() is stored in the entry and the dispatcher looks it up by message",
          "[service][execution]") {
  using bsonrpc::execution;
  constexpr auto entry = [] {
    using bsonrpc_self = policy_unit::Worker;
    return BSONRPC_REQUEST(quick, x).runs(execution::serial);
  }();
  STATIC_REQUIRE(entry.policy == execution::serial);
  STATIC_REQUIRE(entry.name == "quick");

  policy_unit::Worker worker;
  bsonrpc::dispatcher<bsonrpc::JsonCodec> engine;
  engine.add_service(worker);
  auto policy_of = [&](const nlohmann::json& message) {
    return engine.execution_of(bsonrpc::detail::classify<bsonrpc::JsonCodec>(message));
  };
  auto request = [](const char* method) {
    return nlohmann::json{{"jsonrpc", "2.0"}, {"id", 1}, {"method", method}, {"params", {1}}};
  };
  CHECK(policy_of(request("quick")) == execution::in_place);
  CHECK(policy_of(request("slow")) == execution::concurrent);
  CHECK(policy_of(request("ordered")) == execution::serial);
  CHECK(policy_of(request("plain")) == execution::standard);
  CHECK(policy_of(request("no_such_method")) == execution::standard);
  // Requests and notifications are looked up in their own tables.
  CHECK(policy_of(request("note")) == execution::standard);
  CHECK(policy_of({{"jsonrpc", "2.0"}, {"method", "note"}, {"params", {1}}}) ==
        execution::in_place);
  CHECK(policy_of({{"jsonrpc", "2.0"}, {"method", "quick"}, {"params", {1}}}) ==
        execution::standard);
}
