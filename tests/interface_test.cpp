// bsonrpc/interface.hpp without sockets: what BSONRPC_INTERFACE declares (checked at compile
// time), which classes implement it, how a service registered through it answers, and what the
// stub sends.
#include <bsonrpc/codec/json.hpp>
#include <bsonrpc/dispatcher.hpp>
#include <bsonrpc/interface.hpp>
#include <bsonrpc/rpc.hpp>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <future>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <tuple>
#include <type_traits>
#include <vector>

namespace itf {

BSONRPC_INTERFACE(Calculator,
  BSONRPC_CALL(add, int(int a, int b)),
  BSONRPC_CALL(greet, std::string(const std::string& name, std::optional<std::string> greeting)),
  BSONRPC_CALL(histogram, std::map<std::string, int>(const std::vector<std::string>& words)),
  BSONRPC_CALL(reset, void()),
  BSONRPC_NOTIFY(log, void(const std::string& line)))

// Implements Calculator with every accepted variation: by value or const&, const/noexcept
// members, a leading Context&.
struct Implementation {
  int add(int a, int b) const noexcept { return a + b; }
  std::string greet(bsonrpc::Context&, std::string name, const std::optional<std::string>& greeting) {
    return greeting.value_or("hello") + " " + name;
  }
  std::map<std::string, int> histogram(std::vector<std::string> words) const {
    std::map<std::string, int> counts;
    for (const auto& w : words) ++counts[w];
    return counts;
  }
  void reset() { lines.clear(); }
  void log(const std::string& line) { lines.push_back(line); }
  std::vector<std::string> lines;
};
BSONRPC_IMPLEMENTS(Implementation, Calculator)

// Each of these gets one member wrong (they are never registered: that would not compile).
struct Complete {
  int add(int a, int b) { return a + b; }
  std::string greet(const std::string& name, std::optional<std::string>) { return name; }
  std::map<std::string, int> histogram(const std::vector<std::string>&) { return {}; }
  void reset() {}
  void log(const std::string&) {}
};
struct MissingMember : Complete {
  int histogram = 0;  // a data member, not a function
};
struct NoGreet {
  int add(int a, int b) { return a + b; }
};
struct WrongResult : Complete {
  long add(int a, int b) { return a + b; }
};
struct WrongParameterType : Complete {
  int add(int a, long b) { return a + static_cast<int>(b); }
};
struct WrongParameterCount : Complete {
  int add(int a, int b, int c) { return a + b + c; }
};
struct ContextNotFirst : Complete {
  int add(int a, bsonrpc::Context&, int b) { return a + b; }
};
struct NotificationWithResult : Complete {
  bool log(const std::string&) { return true; }
};
struct OverloadedMember : Complete {
  using Complete::add;
  int add(int a) { return a; }
};

BSONRPC_INTERFACE(Second, BSONRPC_CALL(twice, int(int n)))
struct Both : Implementation {
  int twice(int n) const { return 2 * n; }
};
BSONRPC_IMPLEMENTS(Both, Calculator, Second)

using problem = bsonrpc::detail::implementation_problem;
template <class Service, class Method>
constexpr problem problem_of = bsonrpc::detail::implementation_problem_of<Service, Method>();

// A caller recording what a stub sends, answering every call with `reply`.
struct recording_caller final : bsonrpc::caller {
  struct message {
    std::string method;
    std::optional<bsonrpc::value> params;
    bool is_notification;
  };
  std::vector<message> sent;
  bsonrpc::value reply;
  std::exception_ptr failure;
  asio::io_context io;

  bsonrpc::value call_value(std::string_view method, std::optional<bsonrpc::value> params,
                            timeout_type) override {
    sent.push_back({std::string(method), std::move(params), false});
    if (failure) std::rethrow_exception(failure);
    return reply;
  }
  void notify_value(std::string_view method, std::optional<bsonrpc::value> params) override {
    sent.push_back({std::string(method), std::move(params), true});
  }
  std::int64_t start_call_value(
      std::string_view method, std::optional<bsonrpc::value> params,
      std::function<void(bsonrpc::detail::call_outcome<bsonrpc::value>)> done) override {
    sent.push_back({std::string(method), std::move(params), false});
    done({reply, failure});
    return 1;
  }
  void cancel_call(std::int64_t) override {}
  asio::any_io_executor get_executor() override { return io.get_executor(); }
};

}  // namespace itf

// What the declaration holds.
static_assert(bsonrpc::is_interface_v<itf::Calculator>);
static_assert(!bsonrpc::is_interface_v<itf::Implementation>);
static_assert(itf::Calculator::add::method_name == "add");
static_assert(itf::Calculator::add::kind == bsonrpc::detail::method_kind::request);
static_assert(itf::Calculator::log::kind == bsonrpc::detail::method_kind::notification);
static_assert(std::is_same_v<itf::Calculator::greet::result_type, std::string>);
static_assert(std::is_same_v<itf::Calculator::greet::param_types,
                             std::tuple<std::string, std::optional<std::string>>>);
static_assert(itf::Calculator::greet::param_names[0] == "name" &&
              itf::Calculator::greet::param_names[1] == "greeting");
static_assert(std::is_same_v<itf::Calculator::histogram::result_type, std::map<std::string, int>>);
static_assert(itf::Calculator::histogram::param_names[0] == "words");
static_assert(itf::Calculator::reset::arity == 0);

// What the stub's calls return, for a connection and for a handler's Context.
template <class Endpoint>
constexpr bool stub_types_are_declared() {
  using api = itf::Calculator::client<Endpoint>;
  api* stub = nullptr;
  static_assert(std::is_same_v<decltype(stub->add(1, 2)), int>);
  static_assert(std::is_same_v<decltype(stub->greet("ann", std::nullopt)), std::string>);
  static_assert(std::is_same_v<decltype(stub->histogram({"a"})), std::map<std::string, int>>);
  static_assert(std::is_same_v<decltype(stub->reset()), void>);
  static_assert(std::is_same_v<decltype(stub->log("line")), void>);
  static_assert(std::is_same_v<decltype(stub->add.call_for(std::chrono::seconds(1), 1, 2)), int>);
  static_assert(std::is_same_v<decltype(stub->async_add(1, 2, asio::use_future)), std::future<int>>);
  static_assert(std::is_same_v<decltype(stub->async_reset(asio::use_future)), std::future<void>>);
  static_assert(std::is_same_v<decltype(stub->async_log("line", asio::use_future)), std::future<void>>);
  // Arguments are checked against the declaration.
  static_assert(std::is_invocable_v<decltype(stub->add), short, int>);
  static_assert(!std::is_invocable_v<decltype(stub->add), std::string, int>);
  static_assert(!std::is_invocable_v<decltype(stub->add), int>);
  static_assert(!std::is_invocable_v<decltype(stub->add), int, int, int>);
  static_assert(!std::is_invocable_v<decltype(stub->log), int>);
  static_assert(!std::is_invocable_v<decltype(stub->async_add), int, int>);  // no token
  return stub == nullptr;
}
static_assert(stub_types_are_declared<bsonrpc::JsonRpc<>>());
static_assert(stub_types_are_declared<bsonrpc::BsonRpc<bsonrpc::EventLoop>>());
static_assert(stub_types_are_declared<bsonrpc::Context>());
// The stub's endpoint type is deduced from what it is bound to.
static_assert(std::is_same_v<decltype(itf::Calculator::client(std::declval<bsonrpc::Context&>())),
                             itf::Calculator::client<bsonrpc::Context>>);
static_assert(std::is_same_v<decltype(itf::Calculator::client(std::declval<bsonrpc::JsonRpc<>&>())),
                             itf::Calculator::client<bsonrpc::JsonRpc<>>>);

// Which classes implement it, and what is wrong with those that do not.
static_assert(bsonrpc::implements_v<itf::Implementation, itf::Calculator>);
static_assert(bsonrpc::implements_v<itf::Complete, itf::Calculator>);
static_assert(bsonrpc::implements_v<itf::Both, itf::Second>);
static_assert(!bsonrpc::implements_v<itf::Implementation, itf::Second>);
static_assert(!bsonrpc::implements_v<itf::WrongResult, itf::Calculator>);
static_assert(itf::problem_of<itf::NoGreet, itf::Calculator::greet> == itf::problem::missing_member);
static_assert(itf::problem_of<itf::OverloadedMember, itf::Calculator::add> == itf::problem::missing_member);
static_assert(itf::problem_of<itf::MissingMember, itf::Calculator::histogram> ==
              itf::problem::not_a_member_function);
static_assert(itf::problem_of<itf::WrongResult, itf::Calculator::add> == itf::problem::wrong_result_type);
static_assert(itf::problem_of<itf::WrongParameterType, itf::Calculator::add> ==
              itf::problem::wrong_parameter_types);
static_assert(itf::problem_of<itf::WrongParameterCount, itf::Calculator::add> ==
              itf::problem::wrong_parameter_count);
static_assert(itf::problem_of<itf::ContextNotFirst, itf::Calculator::add> ==
              itf::problem::wrong_parameter_count);
static_assert(itf::problem_of<itf::NotificationWithResult, itf::Calculator::log> ==
              itf::problem::wrong_result_type);
static_assert(itf::problem_of<itf::WrongResult, itf::Calculator::greet> == itf::problem::none);

// Reading parameter names from the spelled signature.
constexpr bool names_are(std::string_view signature, std::initializer_list<std::string_view> expected) {
  if (expected.size() == 2) {
    const auto read = bsonrpc::detail::read_parameter_names<2>(signature);
    return read.all_named && read.names[0] == *expected.begin() && read.names[1] == *(expected.begin() + 1);
  }
  return false;
}
static_assert(names_are("int(int a, int b)", {"a", "b"}));
static_assert(names_are("std::map<std::string, int>(const std::map<std::string, int>& m, std::vector<int> v_2)",
                        {"m", "v_2"}));
static_assert(names_are("std::function<void(int, int)>(std::function<void(int, int)> f, std::pair<int, int> p)",
                        {"f", "p"}));
static_assert(names_are(" int ( unsigned long long count , const char * text ) ", {"count", "text"}));
static_assert(bsonrpc::detail::read_parameter_names<0>("void()").all_named);
static_assert(bsonrpc::detail::read_parameter_names<0>("void(void)").all_named);
static_assert(!bsonrpc::detail::read_parameter_names<1>("int(const std::string&)").all_named);
static_assert(!bsonrpc::detail::read_parameter_names<1>("int(std::string)").all_named);
static_assert(!bsonrpc::detail::read_parameter_names<1>("int(unsigned int)").all_named);
static_assert(!bsonrpc::detail::read_parameter_names<2>("int(int a, int)").all_named);

TEST_CASE("interface: a service registered through its interface answers calls by position and by name",
          "[interface]") {
  itf::Implementation implementation;
  bsonrpc::dispatcher<bsonrpc::JsonCodec> dispatcher;
  dispatcher.add_service(implementation);
  const auto ask = [&](const std::string& request) {
    std::string reply;
    dispatcher.handle(request, reply);
    return reply.empty() ? nlohmann::json() : nlohmann::json::parse(reply);
  };
  CHECK(ask(R"({"jsonrpc":"2.0","method":"add","params":[1,2],"id":1})")["result"] == 3);
  CHECK(ask(R"({"jsonrpc":"2.0","method":"add","params":{"b":2,"a":40},"id":2})")["result"] == 42);
  CHECK(ask(R"({"jsonrpc":"2.0","method":"greet","params":{"name":"ann"},"id":3})")["result"] == "hello ann");
  CHECK(ask(R"({"jsonrpc":"2.0","method":"greet","params":["bob","hi"],"id":4})")["result"] == "hi bob");
  CHECK(ask(R"({"jsonrpc":"2.0","method":"histogram","params":[["a","b","a"]],"id":5})")["result"] ==
        nlohmann::json({{"a", 2}, {"b", 1}}));
  CHECK(ask(R"({"jsonrpc":"2.0","method":"log","params":["one"]})").is_null());
  CHECK(implementation.lines == std::vector<std::string>{"one"});
  CHECK(ask(R"({"jsonrpc":"2.0","method":"reset","id":6})")["result"].is_null());
  CHECK(implementation.lines.empty());
  // Declared types are enforced on the wire as for any service: -32602.
  CHECK(ask(R"({"jsonrpc":"2.0","method":"add","params":["1",2],"id":7})")["error"]["code"] == -32602);
  CHECK(ask(R"({"jsonrpc":"2.0","method":"add","params":{"a":1,"c":2},"id":8})")["error"]["code"] == -32602);
  // A notification is registered as one: called as a request, it is not found.
  CHECK(ask(R"({"jsonrpc":"2.0","method":"log","params":["x"],"id":9})")["error"]["code"] == -32601);
  CHECK(dispatcher.has_notification("log"));
  CHECK_FALSE(dispatcher.has_request("log"));
}

TEST_CASE("interface: a class may implement several interfaces", "[interface]") {
  itf::Both both;
  bsonrpc::dispatcher<bsonrpc::JsonCodec> dispatcher;
  dispatcher.add_service(both);
  for (const char* method : {"add", "greet", "histogram", "reset", "twice"})
    CHECK(dispatcher.has_request(method));
  std::string reply;
  dispatcher.handle(R"({"jsonrpc":"2.0","method":"twice","params":{"n":21},"id":1})", reply);
  CHECK(nlohmann::json::parse(reply)["result"] == 42);
}

TEST_CASE("interface: the stub sends its arguments by position, notifications without waiting",
          "[interface]") {
  itf::recording_caller peer;
  itf::Calculator::client api(peer);
  peer.reply = bsonrpc::value(std::int32_t{3});
  CHECK(api.add(1, 2) == 3);
  peer.reply = bsonrpc::value("hi ann");
  CHECK(api.greet("ann", std::nullopt) == "hi ann");
  peer.reply = bsonrpc::value();
  api.reset();
  api.log("line");
  REQUIRE(peer.sent.size() == 4);
  CHECK(peer.sent[0].method == "add");
  CHECK_FALSE(peer.sent[0].is_notification);
  CHECK(peer.sent[0].params == bsonrpc::value(bsonrpc::array{std::int32_t{1}, std::int32_t{2}}));
  CHECK(peer.sent[1].params == bsonrpc::value(bsonrpc::array{"ann", nullptr}));
  CHECK(peer.sent[2].method == "reset");
  CHECK_FALSE(peer.sent[2].params.has_value());
  CHECK(peer.sent[3].method == "log");
  CHECK(peer.sent[3].is_notification);
  CHECK(peer.sent[3].params == bsonrpc::value(bsonrpc::array{"line"}));
}

TEST_CASE("interface: a result of the wrong type, or the peer's error, reaches the stub's caller",
          "[interface]") {
  itf::recording_caller peer;
  itf::Calculator::client api(peer);
  peer.reply = bsonrpc::value("three");
  CHECK_THROWS_AS(api.add(1, 2), bsonrpc::decoding_error);
  peer.failure = std::make_exception_ptr(bsonrpc::rpc_error(-32001, "no adding today"));
  CHECK_THROWS_AS(api.add(1, 2), bsonrpc::rpc_error);
  std::error_code code;
  api.async_add(1, 2, [&](std::error_code ec, int) { code = ec; });
  peer.io.run();
  CHECK(code.value() == -32001);
}

TEST_CASE("interface: the async stub completes through any completion token", "[interface]") {
  itf::recording_caller peer;
  itf::Calculator::client api(peer);
  peer.reply = bsonrpc::value(bsonrpc::document{{"a", std::int32_t{2}}});
  std::map<std::string, int> histogram;
  std::error_code histogram_error = make_error_code(bsonrpc::errc::internal_error);
  api.async_histogram({"a", "a"}, [&](std::error_code ec, std::map<std::string, int> counts) {
    histogram_error = ec;
    histogram = std::move(counts);
  });
  int logged = 0;
  api.async_log("line", [&](std::error_code ec) { logged += ec ? 100 : 1; });
  // Deferred: nothing is sent until the operation is launched.
  auto deferred = api.async_reset(asio::experimental::deferred);
  CHECK(peer.sent.size() == 2);
  bool reset = false;
  std::move(deferred)([&](std::error_code ec) { reset = !ec; });
  peer.io.run();
  CHECK_FALSE(histogram_error);
  CHECK(histogram == std::map<std::string, int>{{"a", 2}});
  CHECK(logged == 1);
  CHECK(reset);
  REQUIRE(peer.sent.size() == 3);
  CHECK(peer.sent[0].params == bsonrpc::value(bsonrpc::array{bsonrpc::array{"a", "a"}}));
  CHECK(peer.sent[1].is_notification);
  CHECK(peer.sent[2].method == "reset");
}

TEST_CASE("interface: a move-only callback completes an async stub call on a Context or caller",
          "[interface]") {
  itf::recording_caller peer;
  itf::Calculator::client api(peer);
  peer.reply = bsonrpc::value(std::int32_t{3});
  int total = 0;
  api.async_add(1, 2, [owned = std::make_unique<int>(40), &total](std::error_code ec, int sum) {
    if (!ec) total = *owned + sum;
  });
  api.async_log("x", [owned = std::make_unique<int>(1), &total](std::error_code ec) {
    if (!ec) total += *owned;
  });
  peer.io.run();
  CHECK(total == 44);
}
