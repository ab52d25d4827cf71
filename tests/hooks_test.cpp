// Message hooks through dispatcher<Codec> without a socket, for both codecs: the order of the
// chain, rewriting, answering, rejecting and dropping, batches, failing hooks, and the two
// ready-made hooks (metrics, allow_methods).
#include <bsonrpc/codec/bson.hpp>
#include <bsonrpc/codec/json.hpp>
#include <bsonrpc/dispatcher.hpp>
#include <bsonrpc/hooks.hpp>
#include <bsonrpc/hooks/allow_methods.hpp>
#include <bsonrpc/hooks/metrics.hpp>

#include "support/test_context.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;

namespace hooks_test {

using json = nlohmann::json;

struct Services {
  int add(int a, int b) {
    ++adds;
    return a + b;
  }
  std::string echo(const std::string& s) { return s; }
  void log(const std::string& line) { lines.push_back(line); }
  int slow(int ms) {
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
    return ms;
  }
  int adds = 0;
  std::vector<std::string> lines;
};
BSONRPC_SERVICE(Services,
  BSONRPC_REQUEST(add, a, b),
  BSONRPC_REQUEST(echo, s),
  BSONRPC_NOTIFICATION(log, line),
  BSONRPC_REQUEST(slow, ms))

// Messages are written as nlohmann::json and carried in the codec's own encoding.
template <class Codec>
std::string encode(const json& j) {
  std::string out;
  if constexpr (std::is_same_v<typename Codec::value_type, json>) Codec::encode(j, out);
  else Codec::encode(bsonrpc::value_traits<json>::to_neutral(j), out);
  return out;
}

template <class Codec>
json decode(const std::string& bytes) {
  auto v = Codec::decode(bytes);
  if constexpr (std::is_same_v<typename Codec::value_type, json>) return v;
  else return bsonrpc::value_traits<json>::from_neutral(v);
}

json request(const std::string& method, json params, json id) {
  return {{"jsonrpc", "2.0"}, {"method", method}, {"params", std::move(params)}, {"id", std::move(id)}};
}
json notification(const std::string& method, json params) {
  return {{"jsonrpc", "2.0"}, {"method", method}, {"params", std::move(params)}};
}

// A dispatcher with Services and the given hooks; the BSON codec names its version "bsonrpc".
template <class Codec>
struct fixture {
  Services services;
  std::vector<std::string> log_lines;
  bsonrpc::dispatcher<Codec> engine;
  bsonrpc::test::recording_context context;

  explicit fixture(std::vector<bsonrpc::hook> hooks)
      : engine(options(std::move(hooks)), bsonrpc::logger(
                                              [this](bsonrpc::log_level, std::uint64_t,
                                                     std::string_view line) {
                                                log_lines.emplace_back(line);
                                              },
                                              {}, 7)) {
    engine.add_service(services);
  }

  static bsonrpc::Options options(std::vector<bsonrpc::hook> hooks) {
    bsonrpc::Options o;
    o.hooks = std::move(hooks);
    return o;
  }

  static json versioned(json message) {
    if (Codec::protocol_key != "jsonrpc") {
      message.erase("jsonrpc");
      message[std::string(Codec::protocol_key)] = "2.0";
    }
    return message;
  }

  // The reply to `message`, as JSON (a single reply without its version member); nullopt when
  // none is sent.
  std::optional<json> send(const json& message) {
    std::string out;
    if (!engine.handle(encode<Codec>(versioned(message)), context, out)) return std::nullopt;
    json reply = decode<Codec>(out);
    if (reply.is_object()) reply.erase(std::string(Codec::protocol_key));
    return reply;
  }
};

// A hook appending "<name> <in|out> <kind> <method>" to a shared trace.
struct tracer {
  std::string name;
  std::shared_ptr<std::vector<std::string>> trace;
  template <class V>
  void operator()(bsonrpc::hook_message<V>& m) const {
    static const char* kinds[] = {"request", "notification", "response", "error"};
    trace->push_back(name + (m.is_incoming() ? " in " : " out ") +
                     kinds[static_cast<int>(m.kind())] + " " + std::string(m.method()));
  }
};

// Replaces the first positional param of incoming `add` requests.
struct param_rewriter {
  template <class V>
  void operator()(bsonrpc::hook_message<V>& m) const {
    using traits = bsonrpc::value_traits<V>;
    if (!m.is_incoming() || m.method() != "add") return;
    V params = traits::make_array();
    traits::push_back(params, traits::make_integer(100));
    traits::push_back(params, traits::make_integer(1));
    V rewritten = traits::make_object();
    traits::for_each_member(m.value(), [&](std::string_view key, const V& member) {
      traits::add_member(rewritten, key, key == "params" ? params : member);
    });
    m.value() = std::move(rewritten);
  }
};

}  // namespace hooks_test

using hooks_test::json;
using hooks_test::notification;
using hooks_test::request;

#define HOOKS_CODECS bsonrpc::JsonCodec, bsonrpc::BsonCodec

TEMPLATE_TEST_CASE("hooks: incoming messages pass the hooks first to last, replies last to first",
                   "[hooks]", HOOKS_CODECS) {
  auto trace = std::make_shared<std::vector<std::string>>();
  hooks_test::fixture<TestType> f({hooks_test::tracer{"A", trace}, hooks_test::tracer{"B", trace}});
  CHECK(f.send(request("add", {1, 2}, 5)) == json({{"result", 3}, {"id", 5}}));
  f.send(notification("log", {"x"}));
  CHECK(*trace == std::vector<std::string>{"A in request add", "B in request add",
                                           "B out response add", "A out response add",
                                           "A in notification log", "B in notification log"});
  CHECK(f.services.lines == std::vector<std::string>{"x"});
}

TEMPLATE_TEST_CASE("hooks: a hook sees the message's method, id, params, connection and time",
                   "[hooks]", HOOKS_CODECS) {
  using V = typename TestType::value_type;
  using traits = bsonrpc::value_traits<V>;
  std::vector<std::string> seen;
  const auto before = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point in_time, out_time;
  hooks_test::fixture<TestType> f({[&](bsonrpc::hook_message<V>& m) {
    seen.push_back(std::string(m.method()) + " id=" + std::to_string(traits::as_integer(*m.id())) +
                   " conn=" + std::to_string(m.connection_id()) +
                   (m.in_batch() ? " batch" : " single"));
    if (m.is_incoming()) {
      REQUIRE(m.params());
      CHECK(traits::size(*m.params()) == 2);
      CHECK(m.kind() == bsonrpc::hook_kind::request);
      in_time = m.received_at();
    } else {
      REQUIRE(m.result());
      CHECK(traits::as_integer(*m.result()) == 7);
      CHECK(m.kind() == bsonrpc::hook_kind::response);
      out_time = m.received_at();
    }
  }});
  f.send(request("add", {3, 4}, 9));
  CHECK(seen == std::vector<std::string>{"add id=9 conn=7 single", "add id=9 conn=7 single"});
  CHECK(in_time >= before);
  CHECK(out_time == in_time);
}

TEMPLATE_TEST_CASE("hooks: a hook rewrites a request's params before the handler sees them",
                   "[hooks]", HOOKS_CODECS) {
  hooks_test::fixture<TestType> f({hooks_test::param_rewriter{}});
  CHECK(f.send(request("add", {1, 2}, 1)) == json({{"result", 101}, {"id", 1}}));
  CHECK(f.send(request("echo", {"untouched"}, 2)) == json({{"result", "untouched"}, {"id", 2}}));
}

TEMPLATE_TEST_CASE("hooks: a hook rewrites the result of a reply on its way out", "[hooks]",
                   HOOKS_CODECS) {
  using V = typename TestType::value_type;
  hooks_test::fixture<TestType> f({[](bsonrpc::hook_message<V>& m) {
    if (!m.is_incoming() && m.method() == "echo") m.answer(bsonrpc::to_value<V>("redacted"));
  }});
  CHECK(f.send(request("echo", {"secret"}, 3)) == json({{"result", "redacted"}, {"id", 3}}));
  CHECK(f.send(request("add", {1, 1}, 4)) == json({{"result", 2}, {"id", 4}}));
}

TEMPLATE_TEST_CASE("hooks: a hook answers a request: the peer gets its result, the handler never runs",
                   "[hooks]", HOOKS_CODECS) {
  using V = typename TestType::value_type;
  auto trace = std::make_shared<std::vector<std::string>>();
  hooks_test::fixture<TestType> f(
      {hooks_test::tracer{"outer", trace},
       [](bsonrpc::hook_message<V>& m) {
         if (m.is_incoming() && m.kind() == bsonrpc::hook_kind::request)
           m.answer(bsonrpc::to_value<V>(42));
       },
       hooks_test::tracer{"inner", trace}});
  CHECK(f.send(request("add", {1, 2}, "abc")) == json({{"result", 42}, {"id", "abc"}}));
  CHECK(f.services.adds == 0);
  // The answer goes back through the hooks the request had passed, and only those.
  CHECK(*trace == std::vector<std::string>{"outer in request add", "outer out response add"});
}

TEMPLATE_TEST_CASE("hooks: a hook rejects a request with an error of its choosing", "[hooks]",
                   HOOKS_CODECS) {
  using V = typename TestType::value_type;
  hooks_test::fixture<TestType> f({[](bsonrpc::hook_message<V>& m) {
    if (m.is_incoming() && m.method() == "add") m.reject(-32001, "Unauthorized", bsonrpc::value("no token"));
  }});
  CHECK(f.send(request("add", {1, 2}, 8)) ==
        json({{"error", {{"code", -32001}, {"message", "Unauthorized"}, {"data", "no token"}}},
              {"id", 8}}));
  CHECK(f.services.adds == 0);
  CHECK(f.send(request("echo", {"ok"}, 9)) == json({{"result", "ok"}, {"id", 9}}));
}

TEMPLATE_TEST_CASE("hooks: a dropped notification never reaches its handler", "[hooks]",
                   HOOKS_CODECS) {
  using V = typename TestType::value_type;
  using traits = bsonrpc::value_traits<V>;
  hooks_test::fixture<TestType> f({[](bsonrpc::hook_message<V>& m) {
    if (m.kind() != bsonrpc::hook_kind::notification) return;
    const auto line = traits::as_string(traits::at(*m.params(), 0));
    if (line == "drop") m.drop();
    if (line == "reject") m.reject(-32001, "no");  // a notification is never answered
    if (line == "answer") m.answer(traits::make_null());  // misuse: throws, so dropped
  }});
  CHECK_FALSE(f.send(notification("log", {"drop"})));
  CHECK_FALSE(f.send(notification("log", {"reject"})));
  CHECK_FALSE(f.send(notification("log", {"answer"})));
  CHECK_FALSE(f.send(notification("log", {"kept"})));
  CHECK(f.services.lines == std::vector<std::string>{"kept"});
  REQUIRE(f.log_lines.size() == 1);
  CHECK_THAT(f.log_lines[0], Catch::Contains("cannot be answered"));
}

TEMPLATE_TEST_CASE("hooks: a hook that throws turns a request into -32603 and the handler never runs",
                   "[hooks]", HOOKS_CODECS) {
  using V = typename TestType::value_type;
  hooks_test::fixture<TestType> f({[](bsonrpc::hook_message<V>& m) {
    if (m.is_incoming()) throw std::runtime_error("secret detail");
  }});
  const auto reply = f.send(request("add", {1, 2}, 1));
  CHECK(reply == json({{"error", {{"code", -32603}, {"message", "Internal error"}}}, {"id", 1}}));
  CHECK(f.services.adds == 0);
  CHECK_FALSE(f.send(notification("log", {"x"})));
  CHECK(f.services.lines.empty());
  REQUIRE(f.log_lines.size() == 2);
  CHECK_THAT(f.log_lines[0], Catch::Contains("secret detail"));
}

TEMPLATE_TEST_CASE("hooks: a hook that throws on a reply turns it into -32603 for the same id",
                   "[hooks]", HOOKS_CODECS) {
  using V = typename TestType::value_type;
  hooks_test::fixture<TestType> f({[](bsonrpc::hook_message<V>& m) {
    if (!m.is_incoming()) throw 17;  // not even a std::exception
  }});
  CHECK(f.send(request("add", {1, 2}, 4)) ==
        json({{"error", {{"code", -32603}, {"message", "Internal error"}}}, {"id", 4}}));
  CHECK(f.services.adds == 1);
}

TEMPLATE_TEST_CASE("hooks: misusing drop() on a request counts as a failing hook", "[hooks]",
                   HOOKS_CODECS) {
  using V = typename TestType::value_type;
  hooks_test::fixture<TestType> f({[](bsonrpc::hook_message<V>& m) {
    if (m.is_incoming()) m.drop();
  }});
  CHECK(f.send(request("add", {1, 2}, 2)) ==
        json({{"error", {{"code", -32603}, {"message", "Internal error"}}}, {"id", 2}}));
}

TEMPLATE_TEST_CASE("hooks: a hook that makes a request invalid gets it answered with -32600",
                   "[hooks]", HOOKS_CODECS) {
  using V = typename TestType::value_type;
  using traits = bsonrpc::value_traits<V>;
  auto trace = std::make_shared<std::vector<std::string>>();
  hooks_test::fixture<TestType> f(
      {[](bsonrpc::hook_message<V>& m) {
         if (!m.is_incoming()) return;
         V broken = traits::make_object();
         traits::add_member(broken, "id", *m.id());
         m.value() = std::move(broken);
       },
       hooks_test::tracer{"later", trace}});
  CHECK(f.send(request("add", {1, 2}, 6)) ==
        json({{"error", {{"code", -32600}, {"message", "Invalid Request"}}}, {"id", 6}}));
  // The later hook never saw the broken message; it sees the library's error reply.
  CHECK(*trace == std::vector<std::string>{"later out error "});
}

TEMPLATE_TEST_CASE("hooks: error replies to undecodable input pass the outgoing hooks",
                   "[hooks]", HOOKS_CODECS) {
  auto trace = std::make_shared<std::vector<std::string>>();
  hooks_test::fixture<TestType> f({hooks_test::tracer{"A", trace}});
  std::string out;
  CHECK(f.engine.handle(std::string("\x05\x00\x00\x00\x01{", 6), f.context, out));
  CHECK(*trace == std::vector<std::string>{"A out error "});
}

TEST_CASE("hooks: batch entries are screened one by one; answered entries join the reply",
          "[hooks][batch]") {
  using V = json;
  auto trace = std::make_shared<std::vector<std::string>>();
  hooks_test::fixture<bsonrpc::JsonCodec> f(
      {hooks_test::tracer{"A", trace}, [](bsonrpc::hook_message<V>& m) {
         if (!m.is_incoming()) return;
         CHECK(m.in_batch());
         if (m.method() == "echo") m.reject(-32001, "Unauthorized");
         if (m.method() == "log" && m.params()->at(0) == "drop") m.drop();
       }});
  const auto reply = f.send(json::array({request("add", {1, 2}, 1), request("echo", {"x"}, 2),
                                         notification("log", {"drop"}),
                                         notification("log", {"keep"}), request("add", {2, 2}, 3)}));
  CHECK(reply == json::array({{{"jsonrpc", "2.0"}, {"result", 3}, {"id", 1}},
                              {{"jsonrpc", "2.0"},
                               {"error", {{"code", -32001}, {"message", "Unauthorized"}}},
                               {"id", 2}},
                              {{"jsonrpc", "2.0"}, {"result", 4}, {"id", 3}}}));
  CHECK(f.services.lines == std::vector<std::string>{"keep"});
  CHECK(*trace == std::vector<std::string>{
                      "A in request add", "A in request echo", "A out error echo",
                      "A in notification log", "A in notification log", "A in request add",
                      "A out response add", "A out response add"});
}

TEST_CASE("hooks: a batch whose requests hooks all answer gets every answer, and no handler runs",
          "[hooks][batch]") {
  hooks_test::fixture<bsonrpc::JsonCodec> f({[](bsonrpc::hook_message<json>& m) {
    if (m.is_incoming() && m.kind() == bsonrpc::hook_kind::request) m.answer(m.value()["id"]);
    if (m.kind() == bsonrpc::hook_kind::notification) m.drop();
  }});
  const auto reply =
      f.send(json::array({request("add", {1, 2}, 10), notification("log", {"x"}),
                          request("add", {1, 2}, 11)}));
  REQUIRE(reply);
  CHECK(*reply == json::array({{{"jsonrpc", "2.0"}, {"result", 10}, {"id", 10}},
                               {{"jsonrpc", "2.0"}, {"result", 11}, {"id", 11}}}));
  CHECK(f.services.adds == 0);
  CHECK(f.services.lines.empty());
  // Only notifications, all dropped: nothing at all is sent (section 6).
  CHECK_FALSE(f.send(json::array({notification("log", {"x"}), notification("log", {"y"})})));
}

TEMPLATE_TEST_CASE("hooks: a hook rewrites or rejects a response before the caller gets it",
                   "[hooks]", HOOKS_CODECS) {
  using V = typename TestType::value_type;
  using traits = bsonrpc::value_traits<V>;
  hooks_test::fixture<TestType> f({[](bsonrpc::hook_message<V>& m) {
    if (m.kind() != bsonrpc::hook_kind::response) return;
    if (traits::as_integer(*m.id()) == 1) m.answer(traits::make_string("rewritten"));
    else m.reject(-32050, "refused by a hook");
  }});
  std::vector<std::string> got;
  f.engine.set_response_handler([&](const typename bsonrpc::dispatcher<TestType>::message& m) {
    if (m.result) got.push_back(std::string(traits::as_string(*m.result)));
    if (m.error) got.push_back(bsonrpc::detail::error_from_response(*m.error).message());
  });
  CHECK_FALSE(f.send({{"jsonrpc", "2.0"}, {"result", "original"}, {"id", 1}}));
  CHECK_FALSE(f.send({{"jsonrpc", "2.0"}, {"result", "original"}, {"id", 2}}));
  CHECK(got == std::vector<std::string>{"rewritten", "refused by a hook"});
}

TEST_CASE("hooks: a hook for JSON only is refused by a BSON dispatcher", "[hooks]") {
  bsonrpc::Options options;
  options.hooks.push_back([](bsonrpc::hook_message<json>&) {});
  CHECK_NOTHROW(bsonrpc::dispatcher<bsonrpc::JsonCodec>(options));
  CHECK_THROWS_AS(bsonrpc::dispatcher<bsonrpc::BsonCodec>(options), std::invalid_argument);
  CHECK(options.hooks[0].serves<json>());
  CHECK_FALSE(options.hooks[0].serves<bsonrpc::value>());
}

TEMPLATE_TEST_CASE("hooks: allow_methods answers unlisted requests with -32601 and drops unlisted notifications",
                   "[hooks][allow_methods]", HOOKS_CODECS) {
  hooks_test::fixture<TestType> f({bsonrpc::hooks::allow_methods({"echo"})});
  CHECK(f.send(request("echo", {"hi"}, 1)) == json({{"result", "hi"}, {"id", 1}}));
  CHECK(f.send(request("add", {1, 2}, 2)) ==
        json({{"error", {{"code", -32601}, {"message", "Method not found"}}}, {"id", 2}}));
  CHECK(f.services.adds == 0);
  CHECK_FALSE(f.send(notification("log", {"x"})));
  CHECK(f.services.lines.empty());
}

TEMPLATE_TEST_CASE("hooks: allow_methods answers with a configured error code and message",
                   "[hooks][allow_methods]", HOOKS_CODECS) {
  const bsonrpc::hooks::allow_methods check({"add", "log"}, -32001, "Unauthorized");
  CHECK(check.allows("add"));
  CHECK_FALSE(check.allows("echo"));
  hooks_test::fixture<TestType> f({check});
  CHECK(f.send(request("add", {1, 2}, 1)) == json({{"result", 3}, {"id", 1}}));
  CHECK(f.send(request("echo", {"x"}, 2)) ==
        json({{"error", {{"code", -32001}, {"message", "Unauthorized"}}}, {"id", 2}}));
  CHECK_FALSE(f.send(notification("log", {"x"})));
  CHECK(f.services.lines == std::vector<std::string>{"x"});
}

TEMPLATE_TEST_CASE("hooks: metrics counts calls, errors and notifications per method, with latencies",
                   "[hooks][metrics]", HOOKS_CODECS) {
  bsonrpc::hooks::metrics metrics;
  hooks_test::fixture<TestType> f({metrics});
  for (int i = 0; i < 3; ++i) f.send(request("add", {i, 1}, i));
  f.send(request("add", {"not a number", 1}, 3));  // -32602
  f.send(request("slow", {20}, 4));
  f.send(request("nope", json::array(), 5));  // -32601, still counted under its name
  f.send(notification("log", {"x"}));
  f.send(notification("log", {"y"}));
  const auto snapshot = metrics.snapshot();
  REQUIRE(snapshot.size() == 4);
  const auto& add = snapshot.at("add");
  CHECK(add.calls == 4);
  CHECK(add.errors == 1);
  CHECK(add.latency.samples() == 4);
  CHECK(add.latency.counts.size() == add.latency.upper_bounds.size() + 1);
  const auto& slow = snapshot.at("slow");
  CHECK(slow.calls == 1);
  CHECK(slow.errors == 0);
  CHECK(slow.max_latency >= 20ms);
  CHECK(slow.total_latency == slow.max_latency);
  REQUIRE(slow.latency.quantile(0.5));
  CHECK(*slow.latency.quantile(0.5) >= 20ms);
  CHECK(*slow.latency.quantile(0.5) <= 500ms);
  CHECK(snapshot.at("nope").errors == 1);
  CHECK(snapshot.at("log").notifications == 2);
  CHECK(snapshot.at("log").calls == 0);
}

TEMPLATE_TEST_CASE("hooks: metrics first counts what a later access check refuses; metrics after it does not",
                   "[hooks][metrics][allow_methods]", HOOKS_CODECS) {
  bsonrpc::hooks::metrics outer;
  bsonrpc::hooks::metrics inner;
  hooks_test::fixture<TestType> f({outer, bsonrpc::hooks::allow_methods({"add"}), inner});
  f.send(request("add", {1, 2}, 1));
  f.send(request("echo", {"x"}, 2));
  const auto seen_outside = outer.snapshot();
  CHECK(seen_outside.at("add").calls == 1);
  CHECK(seen_outside.at("echo").calls == 1);
  CHECK(seen_outside.at("echo").errors == 1);
  const auto seen_inside = inner.snapshot();
  CHECK(seen_inside.size() == 1);
  CHECK(seen_inside.at("add").calls == 1);
}

TEST_CASE("hooks: metrics keeps at most max_methods rows, whatever names peers send",
          "[hooks][metrics]") {
  bsonrpc::hooks::metrics metrics(bsonrpc::hooks::metrics::default_bounds(), 2, 8);
  hooks_test::fixture<bsonrpc::JsonCodec> f({metrics});
  for (const char* method : {"a", "b", "c", "d", "a-very-long-method-name"})
    f.send(request(method, json::array(), 1));
  f.send(request("a", json::array(), 1));
  const auto snapshot = metrics.snapshot();
  CHECK(snapshot.size() == 3);
  CHECK(snapshot.at("a").calls == 2);
  CHECK(snapshot.at("b").calls == 1);
  CHECK(snapshot.at(std::string(bsonrpc::hooks::metrics::other_methods)).calls == 3);
}

TEST_CASE("hooks: metrics refuses histogram bounds that do not ascend", "[hooks][metrics]") {
  using us = std::chrono::microseconds;
  CHECK_THROWS_AS(bsonrpc::hooks::metrics({us(10), us(10)}), std::invalid_argument);
  CHECK_NOTHROW(bsonrpc::hooks::metrics({us(10), us(20)}));
}

TEST_CASE("hooks: a latency histogram's quantile is the bound its share of samples falls under",
          "[hooks][metrics]") {
  using us = std::chrono::microseconds;
  bsonrpc::hooks::latency_histogram h{{us(10), us(100), us(1000)}, {5, 3, 1, 1}};
  CHECK(h.samples() == 10);
  CHECK(h.quantile(0.5) == us(10));
  CHECK(h.quantile(0.8) == us(100));
  CHECK(h.quantile(0.9) == us(1000));
  CHECK_FALSE(h.quantile(0.95));  // in the unbounded last bucket
  CHECK_FALSE(bsonrpc::hooks::latency_histogram{{us(10)}, {0, 0}}.quantile(0.5));
}

TEMPLATE_TEST_CASE("hooks: a hook that rewrites a request and then rejects it answers the request's id",
                   "[hooks]", HOOKS_CODECS) {
  using V = typename TestType::value_type;
  using traits = bsonrpc::value_traits<V>;
  // Adding members may move the message's storage: the answer must not use stale views of it.
  hooks_test::fixture<TestType> f({[](bsonrpc::hook_message<V>& m) {
    if (!m.is_incoming() || m.kind() != bsonrpc::hook_kind::request) return;
    for (int i = 0; i < 40; ++i)
      traits::add_member(m.value(), "trace" + std::to_string(i), traits::make_integer(i));
    m.reject(-32001, "Unauthorized");
  }});
  const auto reply = f.send(request("add", {1, 2}, 42));
  REQUIRE(reply);
  CHECK((*reply)["id"] == 42);
  CHECK((*reply)["error"]["code"] == -32001);
  CHECK(f.services.adds == 0);
}

TEMPLATE_TEST_CASE("hooks: a hook that replaces a request and then throws answers the new request's id",
                   "[hooks]", HOOKS_CODECS) {
  using V = typename TestType::value_type;
  hooks_test::fixture<TestType> f({[](bsonrpc::hook_message<V>& m) {
    if (!m.is_incoming() || m.kind() != bsonrpc::hook_kind::request) return;
    m.value() = bsonrpc::value_traits<V>::from_neutral(
        bsonrpc::value_traits<json>::to_neutral(hooks_test::fixture<TestType>::versioned(
            request("echo", {"x"}, 7))));
    throw std::runtime_error("after the rewrite");
  }});
  const auto reply = f.send(request("add", {1, 2}, 42));
  REQUIRE(reply);
  CHECK((*reply)["id"] == 7);
  CHECK((*reply)["error"]["code"] == -32603);
}
