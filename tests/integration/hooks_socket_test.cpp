// Message hooks over real sockets (loopback TCP), for both executors and both codecs: order,
// rewriting, early answers, dropped notifications, batches, failing hooks, outgoing calls, and
// the metrics and allow_methods hooks.
#include <bsonrpc/bsonrpc.hpp>

#include "../support/socket_pairs.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

using namespace std::chrono_literals;

namespace hooks_it {

struct Services {
  int add(int a, int b) {
    std::lock_guard lock(mutex);
    ++adds;
    return a + b;
  }
  std::string echo(const std::string& s) const { return s; }
  void log(const std::string& line) {
    std::lock_guard lock(mutex);
    lines.push_back(line);
    changed.notify_all();
  }
  // Notifications run in arrival order: one sent last tells the ones before it have run.
  void note(const std::string& line) { log("note: " + line); }
  // Waits until `count` lines arrived (at most 10 s).
  std::vector<std::string> wait_lines(std::size_t count) {
    std::unique_lock lock(mutex);
    changed.wait_for(lock, 10s, [&] { return lines.size() >= count; });
    return lines;
  }
  int add_count() {
    std::lock_guard lock(mutex);
    return adds;
  }

  std::mutex mutex;
  std::condition_variable changed;
  std::vector<std::string> lines;
  int adds = 0;
};
BSONRPC_SERVICE(Services,
  BSONRPC_REQUEST(add, a, b),
  BSONRPC_REQUEST(echo, s),
  BSONRPC_NOTIFICATION(log, line),
  BSONRPC_NOTIFICATION(note, line))

template <class Codec, class Framing, class Executor>
struct setup {
  using rpc = bsonrpc::Rpc<Codec, Framing, Executor>;
  using value_type = typename Codec::value_type;
  using traits = bsonrpc::value_traits<value_type>;
  static constexpr bool event_loop = std::is_same_v<Executor, bsonrpc::EventLoop>;
};

using threads_json = setup<bsonrpc::JsonCodec, bsonrpc::Rfc7464, bsonrpc::Threads>;
using threads_bson = setup<bsonrpc::BsonCodec, bsonrpc::BsonFraming, bsonrpc::Threads>;
using loop_json = setup<bsonrpc::JsonCodec, bsonrpc::Rfc7464, bsonrpc::EventLoop>;
using loop_bson = setup<bsonrpc::BsonCodec, bsonrpc::BsonFraming, bsonrpc::EventLoop>;

// A client and a server over loopback TCP, each with its own hooks. With EventLoop, one
// thread runs the io_context and handlers run on it; the test thread makes blocking calls.
template <class Setup>
struct pair {
  Services server_services;
  Services client_services;
  asio::io_context io;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::thread loop_thread;
  std::unique_ptr<typename Setup::rpc> server;
  std::unique_ptr<typename Setup::rpc> client;

  pair(std::vector<bsonrpc::hook> server_hooks, std::vector<bsonrpc::hook> client_hooks) {
    auto [s, c] = bsonrpc::test::tcp_transport::connect(io);
    if constexpr (Setup::event_loop) {
      work.emplace(io.get_executor());
      loop_thread = std::thread([this] { io.run(); });
    }
    bsonrpc::Options server_options;
    server_options.hooks = std::move(server_hooks);
    bsonrpc::Options client_options;
    client_options.hooks = std::move(client_hooks);
    client_options.default_timeout = 10s;
    server = std::make_unique<typename Setup::rpc>(std::move(s), server_services, server_options);
    client = std::make_unique<typename Setup::rpc>(std::move(c), client_services, client_options);
  }

  ~pair() {
    client.reset();
    server.reset();
    work.reset();
    if (loop_thread.joinable()) loop_thread.join();
  }
};

// A thread-safe trace of "<name> <in|out> <kind> <method>" lines.
struct trace {
  std::mutex mutex;
  std::vector<std::string> lines;
  std::vector<std::string> take() {
    std::lock_guard lock(mutex);
    return std::exchange(lines, {});
  }
};

struct tracer {
  std::string name;
  std::shared_ptr<trace> out;
  template <class V>
  void operator()(bsonrpc::hook_message<V>& m) const {
    static const char* kinds[] = {"request", "notification", "response", "error"};
    std::lock_guard lock(out->mutex);
    out->lines.push_back(name + (m.is_incoming() ? " in " : " out ") +
                         kinds[static_cast<int>(m.kind())] + " " + std::string(m.method()));
  }
};

// The value of member `key` of an object, or nullptr.
template <class V>
const V* member(const V& object, std::string_view key) {
  return bsonrpc::value_traits<V>::find(object, key);
}

// Adds member `key` to an object (a copy with the member appended).
template <class V>
V with_member(const V& object, std::string_view key, V added) {
  using traits = bsonrpc::value_traits<V>;
  V out = traits::make_object();
  traits::for_each_member(object, [&](std::string_view k, const V& v) {
    if (k != key) traits::add_member(out, k, v);
  });
  traits::add_member(out, key, std::move(added));
  return out;
}

}  // namespace hooks_it

#define HOOKS_IT_SETUPS hooks_it::threads_json, hooks_it::threads_bson, hooks_it::loop_json, hooks_it::loop_bson

TEMPLATE_TEST_CASE("hooks: over a socket, each side's hooks see its calls and replies in order",
                   "[hooks][integration]", HOOKS_IT_SETUPS) {
  auto server_trace = std::make_shared<hooks_it::trace>();
  auto client_trace = std::make_shared<hooks_it::trace>();
  hooks_it::pair<TestType> p({hooks_it::tracer{"S1", server_trace}, hooks_it::tracer{"S2", server_trace}},
                             {hooks_it::tracer{"C1", client_trace}, hooks_it::tracer{"C2", client_trace}});
  CHECK(p.client->template call<int>("add", 1, 2) == 3);
  CHECK(server_trace->take() == std::vector<std::string>{"S1 in request add", "S2 in request add",
                                                         "S2 out response add",
                                                         "S1 out response add"});
  // The client's own call passes its hooks outwards, last to first, and the response inwards.
  CHECK(client_trace->take() == std::vector<std::string>{"C2 out request add", "C1 out request add",
                                                         "C1 in response ", "C2 in response "});
  p.client->notify("log", "line");
  CHECK(p.server_services.wait_lines(1) == std::vector<std::string>{"line"});
  CHECK(client_trace->take() ==
        std::vector<std::string>{"C2 out notification log", "C1 out notification log"});
  CHECK(server_trace->take() ==
        std::vector<std::string>{"S1 in notification log", "S2 in notification log"});
}

TEMPLATE_TEST_CASE("hooks: over a socket, a server hook rewrites params and a client hook rewrites results",
                   "[hooks][integration]", HOOKS_IT_SETUPS) {
  using V = typename TestType::value_type;
  using traits = typename TestType::traits;
  auto double_first = [](bsonrpc::hook_message<V>& m) {
    if (!m.is_incoming() || m.method() != "add") return;
    V params = traits::make_array();
    traits::push_back(params, traits::make_integer(2 * traits::as_integer(traits::at(*m.params(), 0))));
    traits::push_back(params, traits::at(*m.params(), 1));
    m.value() = hooks_it::with_member<V>(m.value(), "params", std::move(params));
  };
  auto shout = [](bsonrpc::hook_message<V>& m) {
    if (m.is_incoming() && m.kind() == bsonrpc::hook_kind::response && traits::is_string(*m.result()))
      m.answer(traits::make_string(std::string(traits::as_string(*m.result())) + "!"));
  };
  hooks_it::pair<TestType> p({double_first}, {shout});
  CHECK(p.client->template call<int>("add", 5, 1) == 11);
  CHECK(p.client->template call<std::string>("echo", "hey") == "hey!");
}

TEMPLATE_TEST_CASE("hooks: over a socket, a hook answers a request before dispatch and the handler never runs",
                   "[hooks][integration]", HOOKS_IT_SETUPS) {
  using V = typename TestType::value_type;
  auto trace = std::make_shared<hooks_it::trace>();
  auto gate = [](bsonrpc::hook_message<V>& m) {
    if (!m.is_incoming() || m.kind() != bsonrpc::hook_kind::request) return;
    if (m.method() == "add") m.reject(-32001, "Unauthorized", bsonrpc::value("log in first"));
    if (m.method() == "echo") m.answer(bsonrpc::to_value<V>("from the hook"));
  };
  hooks_it::pair<TestType> p({hooks_it::tracer{"outer", trace}, gate, hooks_it::tracer{"inner", trace}},
                             {});
  try {
    p.client->template call<int>("add", 1, 2);
    FAIL("no exception");
  } catch (const bsonrpc::rpc_error& e) {
    CHECK(e.code_value() == -32001);
    CHECK(e.message() == "Unauthorized");
    CHECK(e.data() == bsonrpc::value("log in first"));
  }
  CHECK(p.client->template call<std::string>("echo", "x") == "from the hook");
  CHECK(p.server_services.add_count() == 0);
  CHECK(trace->take() == std::vector<std::string>{"outer in request add", "outer out error add",
                                                  "outer in request echo",
                                                  "outer out response echo"});
}

TEMPLATE_TEST_CASE("hooks: over a socket, a dropped notification never reaches its handler",
                   "[hooks][integration]", HOOKS_IT_SETUPS) {
  using V = typename TestType::value_type;
  using traits = typename TestType::traits;
  auto filter = [](bsonrpc::hook_message<V>& m) {
    if (m.kind() == bsonrpc::hook_kind::notification &&
        traits::as_string(traits::at(*m.params(), 0)) == "drop me")
      m.drop();
  };
  // Dropped by the server as it arrives, and by the client before it is sent.
  hooks_it::pair<TestType> p({filter}, {});
  p.client->notify("log", "drop me");
  p.client->notify("log", "keep me");
  CHECK(p.server_services.wait_lines(1) == std::vector<std::string>{"keep me"});
  hooks_it::pair<TestType> q({}, {filter});
  q.client->notify("log", "drop me");
  q.client->notify("log", "keep me too");
  CHECK(q.server_services.wait_lines(1) == std::vector<std::string>{"keep me too"});
}

TEMPLATE_TEST_CASE("hooks: over a socket, a hook that throws costs one request -32603 and the connection serves on",
                   "[hooks][integration]", HOOKS_IT_SETUPS) {
  using V = typename TestType::value_type;
  auto faulty = [](bsonrpc::hook_message<V>& m) {
    if (m.method() == "add") throw std::runtime_error("hook bug");
  };
  hooks_it::pair<TestType> p({faulty}, {});
  CHECK_THROWS_AS(p.client->template call<int>("add", 1, 2), bsonrpc::internal_error);
  CHECK(p.server_services.add_count() == 0);
  CHECK(p.client->template call<std::string>("echo", "still here") == "still here");
  CHECK_FALSE(p.client->is_closed());

  // On the calling side, the call fails the same way and is never sent; a notification whose
  // hook throws is not sent, and notify() does not throw.
  hooks_it::pair<TestType> q({}, {faulty});
  CHECK_THROWS_AS(q.client->template call<int>("add", 1, 2), bsonrpc::internal_error);
  using traits = typename TestType::traits;
  auto noisy = [](bsonrpc::hook_message<V>& m) {
    if (m.method() == "log" && traits::as_string(traits::at(*m.params(), 0)) == "lost")
      throw std::runtime_error("hook bug");
  };
  hooks_it::pair<TestType> r({}, {noisy});
  CHECK_NOTHROW(r.client->notify("log", "lost"));
  r.client->notify("log", "kept");
  CHECK(r.server_services.wait_lines(1) == std::vector<std::string>{"kept"});
  CHECK(q.server_services.add_count() == 0);
}

TEMPLATE_TEST_CASE("hooks: over a socket, a tracing hook stamps outgoing calls and the peer's hook reads the stamp",
                   "[hooks][integration]", HOOKS_IT_SETUPS) {
  using V = typename TestType::value_type;
  using traits = typename TestType::traits;
  auto stamped = std::make_shared<hooks_it::trace>();
  auto stamp = [n = std::make_shared<std::atomic<int>>(0)](bsonrpc::hook_message<V>& m) {
    if (m.is_incoming() || m.kind() != bsonrpc::hook_kind::request) return;
    CHECK(m.id());
    CHECK(m.received_at() == std::chrono::steady_clock::time_point{});
    m.value() = hooks_it::with_member<V>(m.value(), "trace",
                                         traits::make_string("t-" + std::to_string(++*n)));
  };
  auto read_stamp = [stamped](bsonrpc::hook_message<V>& m) {
    if (!m.is_incoming() || m.kind() != bsonrpc::hook_kind::request) return;
    const V* t = hooks_it::member<V>(m.value(), "trace");
    std::lock_guard lock(stamped->mutex);
    stamped->lines.push_back(std::string(m.method()) + " " +
                             (t ? std::string(traits::as_string(*t)) : "unstamped"));
  };
  hooks_it::pair<TestType> p({read_stamp}, {stamp});
  CHECK(p.client->template call<int>("add", 1, 1) == 2);
  CHECK(p.client->peer()["echo"]("via peer") == bsonrpc::value("via peer"));
  std::promise<int> async_result;
  p.client->template async_call<int>("add", 2, 2, [&](std::error_code ec, int r) {
    async_result.set_value(ec ? -1 : r);
  });
  auto f = async_result.get_future();
  REQUIRE(f.wait_for(10s) == std::future_status::ready);
  CHECK(f.get() == 4);
  CHECK(stamped->take() == std::vector<std::string>{"add t-1", "echo t-2", "add t-3"});
}

TEMPLATE_TEST_CASE("hooks: over a socket, a hook answers an outgoing call locally and it is never sent",
                   "[hooks][integration]", HOOKS_IT_SETUPS) {
  using V = typename TestType::value_type;
  bsonrpc::hooks::metrics server_metrics;
  auto cache = [](bsonrpc::hook_message<V>& m) {
    if (m.is_incoming() || m.kind() != bsonrpc::hook_kind::request) return;
    if (m.method() == "echo") m.answer(bsonrpc::to_value<V>("cached"));
    if (m.method() == "add") m.reject(-32050, "not from here");
  };
  hooks_it::pair<TestType> p({server_metrics}, {cache});
  CHECK(p.client->template call<std::string>("echo", "x") == "cached");
  CHECK_THROWS_WITH(p.client->template call<int>("add", 1, 2), "not from here");
  std::promise<std::error_code> async_error;
  p.client->template async_call<int>("add", 1, 2, [&](std::error_code ec, int) {
    async_error.set_value(ec);
  });
  auto f = async_error.get_future();
  REQUIRE(f.wait_for(10s) == std::future_status::ready);
  CHECK(f.get().value() == -32050);
  CHECK(server_metrics.snapshot().empty());
}

TEMPLATE_TEST_CASE("hooks: over a socket, a call a hook gives another id fails at once instead of waiting forever",
                   "[hooks][integration]", HOOKS_IT_SETUPS) {
  using V = typename TestType::value_type;
  using traits = bsonrpc::value_traits<V>;
  auto renumber = [](bsonrpc::hook_message<V>& m) {
    if (m.is_incoming() || m.kind() != bsonrpc::hook_kind::request || m.method() != "add") return;
    m.value() = hooks_it::with_member(m.value(), "id", traits::make_integer(1000000));
  };
  hooks_it::pair<TestType> p({}, {renumber});
  // Not a timeout after the pair's 10 s default_timeout: the call fails as it is made.
  CHECK_THROWS_AS(p.client->template call<int>("add", 1, 2), bsonrpc::internal_error);
  CHECK(p.client->template call<std::string>("echo", "still here") == "still here");
}

TEMPLATE_TEST_CASE("hooks: over a socket, metrics counts each method's calls, errors and notifications",
                   "[hooks][integration][metrics]", HOOKS_IT_SETUPS) {
  bsonrpc::hooks::metrics metrics;
  hooks_it::pair<TestType> p({metrics}, {});
  for (int i = 0; i < 5; ++i) CHECK(p.client->template call<int>("add", i, 1) == i + 1);
  CHECK_THROWS_AS(p.client->template call<int>("add", "x", 1), bsonrpc::invalid_params);
  CHECK_THROWS_AS(p.client->template call<int>("missing"), bsonrpc::method_not_found);
  p.client->notify("log", "a");
  p.client->notify("log", "b");
  p.server_services.wait_lines(2);
  const auto snapshot = metrics.snapshot();
  REQUIRE(snapshot.count("add") == 1);
  CHECK(snapshot.at("add").calls == 6);
  CHECK(snapshot.at("add").errors == 1);
  CHECK(snapshot.at("add").latency.samples() == 6);
  CHECK(snapshot.at("add").max_latency > 0ns);
  CHECK(snapshot.at("add").max_latency < 10s);
  CHECK(snapshot.at("missing").errors == 1);
  CHECK(snapshot.at("log").notifications == 2);
}

TEMPLATE_TEST_CASE("hooks: over a socket, allow_methods lets listed methods through and refuses the rest",
                   "[hooks][integration][allow_methods]", HOOKS_IT_SETUPS) {
  hooks_it::pair<TestType> p({bsonrpc::hooks::allow_methods({"echo", "log"})}, {});
  CHECK(p.client->template call<std::string>("echo", "ok") == "ok");
  CHECK_THROWS_AS(p.client->template call<int>("add", 1, 2), bsonrpc::method_not_found);
  CHECK(p.server_services.add_count() == 0);
  p.client->notify("log", "allowed");
  CHECK(p.server_services.wait_lines(1) == std::vector<std::string>{"allowed"});

  hooks_it::pair<TestType> q(
      {bsonrpc::hooks::allow_methods({"echo", "note"}, -32001, "Unauthorized")}, {});
  try {
    q.client->template call<int>("add", 1, 2);
    FAIL("no exception");
  } catch (const bsonrpc::rpc_error& e) {
    CHECK(e.code_value() == -32001);
    CHECK(e.message() == "Unauthorized");
  }
  q.client->notify("log", "refused");
  q.client->notify("note", "after");
  CHECK(q.server_services.wait_lines(1) == std::vector<std::string>{"note: after"});
}

TEMPLATE_TEST_CASE("hooks: over a socket, batches are checked entry by entry in both directions",
                   "[hooks][integration][batch]", hooks_it::threads_json, hooks_it::loop_json) {
  using json = nlohmann::json;
  bsonrpc::hooks::metrics metrics;
  auto trace = std::make_shared<hooks_it::trace>();
  // The client answers "echo" locally and drops "log" notifications that say "drop".
  auto client_hook = [](bsonrpc::hook_message<json>& m) {
    if (m.is_incoming()) return;
    CHECK(m.in_batch());
    if (m.method() == "echo") m.answer("local");
    if (m.method() == "log" && m.params()->at(0) == "drop") m.drop();
  };
  hooks_it::pair<TestType> p(
      {metrics, bsonrpc::hooks::allow_methods({"add", "log"}), hooks_it::tracer{"S", trace}},
      {client_hook});
  bsonrpc::Batch batch;
  batch.request("add", 1, 2)
      .request("echo", "x")
      .notify("log", "drop")
      .request("secret")
      .notify("log", "keep")
      .request("add", 3, 4);
  const auto results = p.client->batch_call(batch);
  REQUIRE(results.size() == 4);
  CHECK(results[0].template get<int>() == 3);
  CHECK(results[1].template get<std::string>() == "local");
  CHECK_FALSE(results[2].ok());
  CHECK(results[2].error().code_value() == -32601);
  CHECK(results[3].template get<int>() == 7);
  CHECK(p.server_services.wait_lines(1) == std::vector<std::string>{"keep"});
  // The server's inner hook saw only what the access check let through.
  CHECK(trace->take() == std::vector<std::string>{"S in request add", "S in notification log",
                                                  "S in request add", "S out response add",
                                                  "S out response add"});
  const auto counted = metrics.snapshot();
  CHECK(counted.at("add").calls == 2);
  CHECK(counted.at("secret").errors == 1);
  CHECK(counted.count("echo") == 0);
}

// Without sockets, but with threads: here so that CI runs it under ThreadSanitizer.
TEST_CASE("hooks: metrics is safe to feed from several threads while it is read",
          "[hooks][metrics]") {
  bsonrpc::hooks::metrics metrics;
  bsonrpc::Options options;
  options.hooks = {metrics};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      hooks_it::Services services;
      bsonrpc::dispatcher<bsonrpc::JsonCodec> engine(options);
      engine.add_service(services);
      for (int i = 0; i < 500; ++i) {
        const nlohmann::json request = {{"jsonrpc", "2.0"}, {"method", "add"}, {"params", {i, 1}},
                                        {"id", i}};
        std::string out;
        engine.handle(request.dump(), out);
      }
    });
  std::uint64_t last = 0;
  for (int i = 0; i < 50; ++i) {
    const auto s = metrics.snapshot();
    const auto it = s.find("add");
    const std::uint64_t now = it == s.end() ? 0 : it->second.calls;
    CHECK(now >= last);
    last = now;
  }
  for (auto& t : threads) t.join();
  CHECK(metrics.snapshot().at("add").calls == 2000);
}
