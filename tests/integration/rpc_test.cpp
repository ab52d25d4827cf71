// Rpc over real sockets: every scenario runs for each codec and framing over loopback TCP,
// and for both codecs over Unix domain sockets and TLS.
#include <bsonrpc/bsonrpc.hpp>

#include "../support/rpc_pair.hpp"
#include "../support/socket_pairs.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <optional>
#include <type_traits>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;

namespace it {

struct Services {
  std::string swapper(const std::string& txt) const { return {txt.rbegin(), txt.rend()}; }
  std::string echo_times(const std::string& txt, int n) const {
    std::string out;
    for (int i = 0; i < n; ++i) out += txt;
    return out;
  }
  void report_progress(const std::string& txt) {
    std::lock_guard lock(mutex);
    progress.push_back(txt);
    changed.notify_all();
  }
  int long_process(bsonrpc::Context& rpc, int a, int b, int c) {
    rpc.notify("report_progress", "Stage 1");
    rpc.peer().n["report_progress"]("Stage 2");
    swapped = rpc.call<std::string>("swapper", "TestinG");
    return a * b * c;
  }
  // Sends the caller `n` slow notifications, then returns n.
  int progress_then(bsonrpc::Context& rpc, int n) {
    for (int i = 1; i <= n; ++i) rpc.notify("slow_progress", "step " + std::to_string(i));
    return n;
  }
  void slow_progress(const std::string& txt) {
    std::this_thread::sleep_for(50ms);
    report_progress(txt);
  }
  // A notification handler that calls the peer back and waits for the answer.
  void ask(bsonrpc::Context& rpc, const std::string& txt) {
    report_progress(rpc.call<std::string>("swapper", txt));
  }
  // A notification handler that waits for open_gate() (at most 10 s).
  void held() {
    std::unique_lock lock(mutex);
    const bool opened = changed.wait_for(lock, 10s, [&] { return gate_open; });
    progress.push_back(opened ? "released" : "timed out");
    changed.notify_all();
  }
  void open_gate() {
    std::lock_guard lock(mutex);
    gate_open = true;
    changed.notify_all();
  }
  int hold_then(bsonrpc::Context& rpc) {
    rpc.notify("held");
    return 1;
  }
  int ask_then(bsonrpc::Context& rpc, const std::string& txt) {
    rpc.notify("ask", txt);
    return 1;
  }
  std::string bye(bsonrpc::Context& rpc) {
    rpc.close_after_response();
    return "bye";
  }
  int drop(bsonrpc::Context& rpc) {
    rpc.abort();
    return 0;
  }
  int sleep_ms(int ms) {
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
    slept = true;
    return ms;
  }
  // Returns once `n` calls are inside at the same time (true), or after 10 s (false).
  bool rendezvous(int n) {
    std::unique_lock lock(mutex);
    ++inside;
    changed.notify_all();
    return changed.wait_for(lock, 10s, [&] { return inside >= n; });
  }
  void fail(int code) const { throw bsonrpc::rpc_error(code, "failed on purpose", "details"); }
  void boom() const { throw std::runtime_error("boom"); }
  bsonrpc::any_value echo(const bsonrpc::any_value& v) const { return v; }

  // Waits until `count` progress messages arrived.
  std::vector<std::string> wait_progress(std::size_t count) {
    std::unique_lock lock(mutex);
    changed.wait_for(lock, 10s, [&] { return progress.size() >= count; });
    return progress;
  }

  std::mutex mutex;
  std::condition_variable changed;
  std::vector<std::string> progress;
  std::string swapped;
  int inside = 0;
  bool gate_open = false;
  std::atomic<bool> slept{false};
};

BSONRPC_SERVICE(Services,
  BSONRPC_REQUEST(swapper, txt),
  BSONRPC_REQUEST(echo_times, txt, n),
  BSONRPC_NOTIFICATION(report_progress, txt),
  BSONRPC_RPC_REQUEST(long_process, a, b, c),
  BSONRPC_RPC_REQUEST(progress_then, n),
  BSONRPC_NOTIFICATION(slow_progress, txt),
  BSONRPC_RPC_NOTIFICATION(ask, txt),
  BSONRPC_RPC_REQUEST(ask_then, txt),
  BSONRPC_NOTIFICATION(held),
  BSONRPC_RPC_REQUEST(hold_then),
  BSONRPC_RPC_REQUEST(bye),
  BSONRPC_RPC_REQUEST(drop),
  BSONRPC_REQUEST(sleep_ms, ms),
  BSONRPC_REQUEST(rendezvous, n),
  BSONRPC_REQUEST(fail, code),
  BSONRPC_REQUEST(boom),
  BSONRPC_REQUEST(echo, value))

template <class Codec, class Framing, class Transport, class Executor = bsonrpc::Threads>
struct setup {
  using rpc = bsonrpc::Rpc<Codec, Framing, Executor>;
  using transport = Transport;
  static constexpr bool event_loop = std::is_same_v<Executor, bsonrpc::EventLoop>;
  static constexpr bool batches = Codec::supports_batches;
};

using json_rfc7464_tcp = setup<bsonrpc::JsonCodec, bsonrpc::Rfc7464, bsonrpc::test::tcp_transport>;
using json_netstring_tcp = setup<bsonrpc::JsonCodec, bsonrpc::Netstring, bsonrpc::test::tcp_transport>;
using json_frameless_tcp = setup<bsonrpc::JsonCodec, bsonrpc::Frameless, bsonrpc::test::tcp_transport>;
using bson_tcp = setup<bsonrpc::BsonCodec, bsonrpc::BsonFraming, bsonrpc::test::tcp_transport>;
using json_unix = setup<bsonrpc::JsonCodec, bsonrpc::Rfc7464, bsonrpc::test::unix_transport>;
using bson_unix = setup<bsonrpc::BsonCodec, bsonrpc::BsonFraming, bsonrpc::test::unix_transport>;
using json_tls = setup<bsonrpc::JsonCodec, bsonrpc::Rfc7464, bsonrpc::test::tls_transport>;
using bson_tls = setup<bsonrpc::BsonCodec, bsonrpc::BsonFraming, bsonrpc::test::tls_transport>;

// The same over the EventLoop executor: one thread runs the io_context, and handlers that
// block (they sleep, or call the peer and wait) are posted to a thread pool.
using loop = bsonrpc::EventLoop;
using loop_json_rfc7464_tcp = setup<bsonrpc::JsonCodec, bsonrpc::Rfc7464, bsonrpc::test::tcp_transport, loop>;
using loop_json_netstring_tcp = setup<bsonrpc::JsonCodec, bsonrpc::Netstring, bsonrpc::test::tcp_transport, loop>;
using loop_json_frameless_tcp = setup<bsonrpc::JsonCodec, bsonrpc::Frameless, bsonrpc::test::tcp_transport, loop>;
using loop_bson_tcp = setup<bsonrpc::BsonCodec, bsonrpc::BsonFraming, bsonrpc::test::tcp_transport, loop>;
using loop_json_unix = setup<bsonrpc::JsonCodec, bsonrpc::Rfc7464, bsonrpc::test::unix_transport, loop>;
using loop_bson_unix = setup<bsonrpc::BsonCodec, bsonrpc::BsonFraming, bsonrpc::test::unix_transport, loop>;
using loop_json_tls = setup<bsonrpc::JsonCodec, bsonrpc::Rfc7464, bsonrpc::test::tls_transport, loop>;
using loop_bson_tls = setup<bsonrpc::BsonCodec, bsonrpc::BsonFraming, bsonrpc::test::tls_transport, loop>;

// Two connected endpoints, each with its own services.
template <class Setup>
using pair = bsonrpc::test::rpc_pair<Setup, Services>;

}  // namespace it

#if defined(__SANITIZE_THREAD__)
// Under ThreadSanitizer, which looks for races between threads, half the setups: each executor
// with both codecs and every transport, the three JSON framings spread over the two executors.
// The race-prone code (executor, connection, stream) is the same in the other pairings, which
// the AddressSanitizer build runs in full. Halves this file's ThreadSanitizer build and tests.
#define IT_ALL_SETUPS                                                                        \
  it::json_rfc7464_tcp, it::json_netstring_tcp, it::bson_unix, it::json_tls,                \
      it::loop_json_frameless_tcp, it::loop_bson_tcp, it::loop_json_unix, it::loop_bson_tls
#else
#define IT_ALL_SETUPS                                                                        \
  it::json_rfc7464_tcp, it::json_netstring_tcp, it::json_frameless_tcp, it::bson_tcp,       \
      it::json_unix, it::bson_unix, it::json_tls, it::bson_tls, it::loop_json_rfc7464_tcp,   \
      it::loop_json_netstring_tcp, it::loop_json_frameless_tcp, it::loop_bson_tcp,           \
      it::loop_json_unix, it::loop_bson_unix, it::loop_json_tls, it::loop_bson_tls
#endif

TEMPLATE_TEST_CASE("rpc: a request over a real socket returns its result", "[rpc][integration]",
                   IT_ALL_SETUPS) {
  it::pair<TestType> p;
  CHECK(p.client->template call<std::string>("swapper", "Hello World!") == "!dlroW olleH");
  CHECK(p.client->template call<std::string>("echo_times", bsonrpc::named{{"txt", "ab"}, {"n", 2}}) ==
        "abab");
  CHECK(p.client->peer()["swapper"]("abc") == bsonrpc::value("cba"));
  CHECK(p.server->template call<std::string>("swapper", "from server") == "revres morf");
}

TEMPLATE_TEST_CASE("rpc: notifications travel in both directions", "[rpc][integration]",
                   IT_ALL_SETUPS) {
  it::pair<TestType> p;
  p.client->notify("report_progress", "to server");
  p.client->peer().n["report_progress"]("again");
  p.server->notify("report_progress", "to client");
  CHECK(p.server_services.wait_progress(2) == std::vector<std::string>{"to server", "again"});
  CHECK(p.client_services.wait_progress(1) == std::vector<std::string>{"to client"});
}

TEMPLATE_TEST_CASE("rpc: a handler calls and notifies the peer while handling a request",
                   "[rpc][integration]", IT_ALL_SETUPS) {
  bsonrpc::Options options;
  options.max_concurrent_requests = 1;  // no deadlock even with a pool of one
  it::pair<TestType> p(options);
  CHECK(p.client->template call<int>("long_process", 2, 3, 4) == 24);
  CHECK(p.client_services.wait_progress(2) == std::vector<std::string>{"Stage 1", "Stage 2"});
  CHECK(p.server_services.swapped == "GnitseT");
  // And the other way round, nested: the server calls the client, which calls back the server.
  CHECK(p.server->template call<int>("long_process", 1, 2, 3) == 6);
}

TEMPLATE_TEST_CASE("rpc: a blocking call returns after the handlers of the notifications sent before its reply",
                   "[rpc][integration][order]", IT_ALL_SETUPS) {
  it::pair<TestType> p;
  // Each notification handler takes 50 ms; the reply arrives right behind them.
  CHECK(p.client->template call<int>("progress_then", 3) == 3);
  CHECK(p.client_services.progress == std::vector<std::string>{"step 1", "step 2", "step 3"});

  if constexpr (TestType::batches) {
    bsonrpc::Batch batch;
    batch.request("progress_then", 2).request("echo_times", "x", 2);
    REQUIRE(p.client->batch_call(batch).size() == 2);
    CHECK(p.client_services.progress.size() == 5);
  }

  // A notification handler may itself call the peer and wait: its own reply is not held
  // back behind it, and the caller waiting for the handler gets its reply after it.
  CHECK(p.client->template call<int>("ask_then", "olleh") == 1);
  CHECK(p.client_services.progress.back() == "hello");
}

TEMPLATE_TEST_CASE("rpc: on an event loop, a handler's blocking call does not wait for notifications queued behind it on its runner",
                   "[rpc][integration][order]", it::loop_json_rfc7464_tcp, it::loop_bson_tcp) {
  // The server's runner has one thread. The request handler holds it while it calls the
  // client back; the notification sent right after the request waits for that thread. Were
  // the handler's call to wait for that notification, neither would ever run.
  it::Services server_services, client_services;
  asio::thread_pool server_runner{1}, client_runner{2};
  asio::io_context io;
  auto [s, c] = TestType::transport::connect(io);
  auto work = asio::make_work_guard(io);
  std::thread loop([&] { io.run(); });
  bsonrpc::Options server_options, client_options;
  server_options.handler_runner = [&](std::function<void()> task) {
    asio::post(server_runner, std::move(task));
  };
  client_options.handler_runner = [&](std::function<void()> task) {
    asio::post(client_runner, std::move(task));
  };
  {
    typename TestType::rpc server(std::move(s), server_services, server_options);
    typename TestType::rpc client(std::move(c), client_services, client_options);
    auto result = client.template async_call<int>("long_process", 2, 3, 4);  // sent now
    client.notify("report_progress", "queued");
    REQUIRE(result.wait_for(10s) == std::future_status::ready);
    CHECK(result.get() == 24);
    CHECK(server_services.wait_progress(1) == std::vector<std::string>{"queued"});
  }
  work.reset();
  loop.join();
  server_runner.join();
  client_runner.join();
}

TEMPLATE_TEST_CASE("rpc: with concurrent notification handling, a reply does not wait for notification handlers",
                   "[rpc][integration][order]", it::json_rfc7464_tcp, it::loop_json_rfc7464_tcp) {
  bsonrpc::Options options;
  options.concurrent_notification_handling = true;
  it::pair<TestType> p(options);
  // The client's handler for "held" waits until the test opens the gate (at most 10 s).
  CHECK(p.client->template call<int>("hold_then") == 1);
  p.client_services.open_gate();
  CHECK(p.client_services.wait_progress(1) == std::vector<std::string>{"released"});
}

TEMPLATE_TEST_CASE("rpc: close_after_response closes the connection once the response is sent",
                   "[rpc][integration][lifecycle]", IT_ALL_SETUPS) {
  it::pair<TestType> p;
  CHECK(p.client->template call<std::string>("bye") == "bye");
  CHECK(p.client->join(10s));
  CHECK(p.client->is_closed());
  CHECK(p.server->join(10s));
  CHECK_THROWS_AS(p.client->template call<std::string>("swapper", "x"), bsonrpc::connection_closed);
}

TEMPLATE_TEST_CASE("rpc: abort drops the response and closes the connection",
                   "[rpc][integration][lifecycle]", IT_ALL_SETUPS) {
  it::pair<TestType> p;
  CHECK_THROWS_AS(p.client->template call<int>("drop"), bsonrpc::connection_closed);
  CHECK(p.server->join(10s));
}

TEMPLATE_TEST_CASE("rpc: handler failures reach the caller as typed exceptions",
                   "[rpc][integration][errors]", IT_ALL_SETUPS) {
  it::pair<TestType> p;
  try {
    p.client->template call<void>("fail", -32099);
    FAIL("no exception");
  } catch (const bsonrpc::rpc_error& e) {
    CHECK(e.code_value() == -32099);
    CHECK(e.message() == "failed on purpose");
    CHECK(e.data() == bsonrpc::value("details"));
  }
  try {
    p.client->template call<void>("boom");
    FAIL("no exception");
  } catch (const bsonrpc::server_error& e) {
    CHECK(e.code() == bsonrpc::errc::server_error);
    CHECK(e.data() == bsonrpc::value("boom"));
  }
  CHECK_THROWS_AS(p.client->template call<void>("no_such_method"), bsonrpc::method_not_found);
  CHECK_THROWS_AS(p.client->template call<int>("sleep_ms", "ten"), bsonrpc::invalid_params);
  CHECK_THROWS_AS(p.client->template call<int>("swapper", "abc"), bsonrpc::decoding_error);
}

TEMPLATE_TEST_CASE("rpc: requests on one connection run concurrently", "[rpc][integration]",
                   IT_ALL_SETUPS) {
  bsonrpc::Options options;
  options.max_concurrent_requests = 8;
  it::pair<TestType> p(options);
  std::vector<std::future<bool>> calls;
  for (int i = 0; i < 8; ++i) calls.push_back(p.client->template async_call<bool>("rendezvous", 8));
  for (auto& c : calls) CHECK(c.get());
}

TEMPLATE_TEST_CASE("rpc: a call times out and the connection stays usable",
                   "[rpc][integration][timeout]", IT_ALL_SETUPS) {
  it::pair<TestType> p;
  CHECK_THROWS_AS(p.client->template call_for<int>(50ms, "sleep_ms", 400), bsonrpc::timeout_error);
  CHECK(p.client->template call<std::string>("swapper", "ok") == "ko");
  bsonrpc::Options options;
  options.default_timeout = 50ms;
  it::pair<TestType> q(options);
  CHECK_THROWS_AS(q.client->template call<int>("sleep_ms", 400), bsonrpc::timeout_error);
}

TEMPLATE_TEST_CASE("rpc: pending calls fail at once when the peer hangs up",
                   "[rpc][integration][lifecycle]", IT_ALL_SETUPS) {
  it::pair<TestType> p;
  auto pending = p.client->template async_call<int>("sleep_ms", 1000);
  std::this_thread::sleep_for(50ms);
  p.server->close();  // hangs up while the handler still sleeps
  CHECK_THROWS_AS(pending.get(), bsonrpc::connection_closed);
  CHECK_FALSE(p.server_services.slept);
  CHECK(p.client->join(10s));
  CHECK(p.client->is_closed());
}

TEMPLATE_TEST_CASE("rpc: close() from another thread fails pending calls at once",
                   "[rpc][integration][lifecycle]", IT_ALL_SETUPS) {
  it::pair<TestType> p;
  auto waiter = std::async(std::launch::async, [&] {
    try {
      p.client->template call<int>("sleep_ms", 1000);
      return false;
    } catch (const bsonrpc::connection_closed&) {
      return true;
    }
  });
  std::this_thread::sleep_for(50ms);
  p.client->close();
  CHECK(waiter.get());
  CHECK_FALSE(p.server_services.slept);  // failed at once, not after the handler finished
  CHECK(p.client->is_closed());
  CHECK_THROWS_AS(p.client->notify("report_progress", "late"), bsonrpc::connection_closed);
}

TEMPLATE_TEST_CASE("rpc: many threads calling at once each get their own results",
                   "[rpc][integration]", IT_ALL_SETUPS) {
  it::pair<TestType> p;
  std::vector<std::future<int>> workers;
  for (int t = 0; t < 4; ++t) {
    workers.push_back(std::async(std::launch::async, [&, t] {
      int good = 0;
      for (int i = 0; i < 100; ++i) {
        const std::string text = std::to_string(t) + ":" + std::to_string(i);
        good += p.client->template call<std::string>("swapper", text) == std::string(text.rbegin(), text.rend());
      }
      return good;
    }));
  }
  for (auto& w : workers) CHECK(w.get() == 100);
}

TEMPLATE_TEST_CASE("rpc: a batch with requests, notifications and unknown methods",
                   "[rpc][integration][batch]", it::json_rfc7464_tcp, it::json_netstring_tcp,
                   it::json_frameless_tcp, it::json_unix, it::json_tls, it::loop_json_rfc7464_tcp,
                   it::loop_json_frameless_tcp, it::loop_json_tls) {
  it::pair<TestType> p;
  bsonrpc::Batch batch;
  batch.request("echo_times", "-hello-", 2)
      .notify("report_progress", "in batch")
      .request("no_such_method")
      .request("echo_times", bsonrpc::named{{"txt", "-world-"}, {"n", 1}});
  auto results = p.client->batch_call(batch);
  REQUIRE(results.size() == 3);
  CHECK(results[0].template get<std::string>() == "-hello--hello-");
  CHECK_FALSE(results[1].ok());
  CHECK(results[1].error().code_value() == -32601);
  CHECK_THROWS_AS(results[1].result(), bsonrpc::method_not_found);
  CHECK(results[2].template get<std::string>() == "-world-");
  CHECK(p.server_services.wait_progress(1) == std::vector<std::string>{"in batch"});

  bsonrpc::Batch only_notifications;
  only_notifications.notify("report_progress", "n1").notify("report_progress", "n2");
  CHECK(p.client->batch_call(only_notifications).empty());
  CHECK(p.server_services.wait_progress(3).size() == 3);

  CHECK_THROWS_AS(p.client->batch_call(bsonrpc::Batch{}), bsonrpc::error);
}

TEST_CASE("rpc: BSON values of every type come back from an echo unchanged",
          "[rpc][integration][bson]") {
  it::pair<it::bson_tcp> p;
  using namespace bsonrpc;
  const std::vector<value> samples = {
      value(std::int32_t{7}),
      value(std::int64_t{7}),
      value(2.5),
      value(binary{0x80, {1, 2, 3}}),
      value(datetime{1700000000123}),
      value(object_id{{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}}),
      value(decimal128{1, 0x3040000000000000ULL}),
      value(timestamp{5, 6}),
      value(regex{"^a.*", "i"}),
      value(min_key{}),
      value(max_key{}),
      value(document{{"b", std::int64_t{1}}, {"a", array{std::int32_t{1}, "x"}}}),
  };
  for (const auto& sample : samples) CHECK(p.client->call<value>("echo", sample) == sample);
}

TEST_CASE("rpc: JSON values come back from an echo unchanged", "[rpc][integration][json]") {
  it::pair<it::json_rfc7464_tcp> p;
  const nlohmann::json sample = nlohmann::json::parse(
      R"({"big": 18446744073709551615, "neg": -9223372036854775808, "f": 0.1, "s": "h\u00e9 \ud83d\ude00", "n": null, "a": [1, [2, {"x": true}]]})");
  CHECK(p.client->call<nlohmann::json>("echo", sample) == sample);
}

TEMPLATE_TEST_CASE("rpc: what was sent before close() still reaches the peer",
                   "[rpc][integration][lifecycle]", IT_ALL_SETUPS) {
  it::pair<TestType> p;
  for (int i = 0; i < 50; ++i) p.client->notify("report_progress", std::to_string(i));
  p.client->close();
  CHECK(p.server_services.wait_progress(50).size() == 50);
  CHECK(p.server->join(10s));
}

TEMPLATE_TEST_CASE("rpc: a message that never completes closes the connection after the timeout",
                   "[rpc][integration][limits]", it::json_rfc7464_tcp, it::loop_bson_tcp) {
  asio::io_context io;
  auto [server_socket, peer] = TestType::transport::connect(io);
  it::Services services;
  bsonrpc::Options options;
  options.partial_message_timeout = 100ms;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::thread loop;
  if constexpr (TestType::event_loop) {
    work.emplace(io.get_executor());
    loop = std::thread([&] { io.run(); });
  }
  {
    typename TestType::rpc server(std::move(server_socket), services, options);
    // The start of a message (a BSON header announcing 64 bytes, or an RFC 7464 text).
    const std::string start = std::is_same_v<typename TestType::rpc::codec_type, bsonrpc::BsonCodec>
                                  ? std::string("\x40\0\0\0\x02", 5)
                                  : std::string("\x1e{\"jsonrpc\":\"2.0\",\"met");
    asio::write(peer, asio::buffer(start));
    CHECK(server.join(10s));
    CHECK(server.is_closed());
  }
  work.reset();
  if (loop.joinable()) loop.join();
}

TEST_CASE("rpc: with frameless JSON, a message that does not parse closes the connection",
          "[rpc][integration][limits]") {
  asio::io_context io;
  auto [server_socket, peer] = bsonrpc::test::tcp_transport::connect(io);
  it::Services services;
  bsonrpc::JsonRpc<bsonrpc::Frameless> server(std::move(server_socket), services);
  asio::write(peer, asio::buffer(std::string(R"({"jsonrpc": "2.0", "method": } {"jsonrpc": "2.0", "method": "swapper", "params": ["ab"], "id": 1})")));
  CHECK(server.join(10s));
  std::string reply(256, '\0');
  std::error_code ec;
  const auto n = peer.read_some(asio::buffer(reply), ec);
  CHECK(nlohmann::json::parse(reply.substr(0, n))["error"]["code"] == -32700);
}

TEST_CASE("rpc: with netstrings, a message that does not parse gets -32700 and the stream goes on",
          "[rpc][integration][limits]") {
  asio::io_context io;
  auto [server_socket, peer] = bsonrpc::test::tcp_transport::connect(io);
  it::Services services;
  bsonrpc::JsonRpc<bsonrpc::Netstring> server(std::move(server_socket), services);
  const std::string good = R"({"jsonrpc":"2.0","method":"swapper","params":["ab"],"id":1})";
  asio::write(peer, asio::buffer("3:{x},"+ std::to_string(good.size()) + ":" + good + ","));
  std::string replies;
  std::error_code ec;
  while (replies.find("\"ba\"") == std::string::npos && !ec) {
    char chunk[512];
    replies.append(chunk, peer.read_some(asio::buffer(chunk), ec));
  }
  CHECK(replies.find("-32700") != std::string::npos);
  CHECK(replies.find("\"ba\"") != std::string::npos);
  CHECK_FALSE(server.is_closed());
}

TEST_CASE("rpc: an error or batch result whose data has no bsonrpc::value form does not crash the caller",
          "[rpc][integration][errors]") {
  asio::io_context io;
  auto [client_socket, peer] = bsonrpc::test::tcp_transport::connect(io);
  bsonrpc::JsonRpc<> client(std::move(client_socket));
  // A raw peer answering request 1 with undecodable error data, and the batch (ids 2 and 3)
  // with a result beyond int64.
  auto answers = std::async(std::launch::async, [&peer = peer] {
    std::string received;
    std::error_code ec;
    while (received.find("\"id\":3") == std::string::npos && !ec) {
      char chunk[1024];
      received.append(chunk, peer.read_some(asio::buffer(chunk), ec));
    }
    const std::string reply =
        "\x1e{\"jsonrpc\":\"2.0\",\"error\":{\"code\":1,\"message\":\"m\",\"data\":{\"$oid\":1}},\"id\":1}\n"
        "\x1e[{\"jsonrpc\":\"2.0\",\"result\":18446744073709551615,\"id\":2},"
        "{\"jsonrpc\":\"2.0\",\"result\":3,\"id\":3}]\n";
    asio::write(peer, asio::buffer(reply), ec);
  });
  auto call = client.async_call<int>("a");
  bsonrpc::Batch batch;
  batch.request("b").request("c");
  auto results = client.batch_call(batch);
  try {
    call.get();
    FAIL("no error");
  } catch (const bsonrpc::rpc_error& e) {
    CHECK(e.code_value() == 1);
    CHECK_FALSE(e.has_data());
  }
  REQUIRE(results.size() == 2);
  CHECK_FALSE(results[0].ok());
  CHECK(results[1].get<int>() == 3);
  answers.get();
}
