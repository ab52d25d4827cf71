// The fault-injection soak: 20,000 calls (5,000 for each codec and executor) go through a
// reconnecting_client and a proxy that forwards each byte in its own write, pauses at random
// and resets connections at random points (tests/support/fault_proxy.hpp). Every call must
// complete exactly once, with the right result or with connection_closed / not_connected;
// descriptors and live heap bytes must not grow from the first tenth of the run to its end.
// The seed is printed with any failure; BSONRPC_SOAK_SEED=N replays one.
#include <bsonrpc/bsonrpc.hpp>
#include <bsonrpc/reconnecting_client.hpp>

#include "../support/fault_proxy.hpp"
#include "../support/restartable_server.hpp"

#include <catch2/catch.hpp>

#include <asio.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
// From the sanitizers' runtime (sanitizer/allocator_interface.h, which GCC does not install).
extern "C" std::size_t __sanitizer_get_current_allocated_bytes();
#else
#include <malloc.h>
#endif

using namespace std::chrono_literals;

namespace fault_soak {

constexpr int calls_per_configuration = 5000;
constexpr int in_flight_limit = 32;
// Bounds that only a hang reaches: one call, one wait for a connection, the whole drain.
constexpr auto call_timeout = 10s;
constexpr auto drain_limit = 60s;
// What may differ between the two samples without a leak: the connections being replaced at
// that moment (client, proxy's two, server's: 4 descriptors each), and allocations in flux.
constexpr long descriptor_slack = 8;
constexpr long heap_slack_bytes = 256 * 1024;

template <class Codec, class Executor>
struct config {
  using framing = std::conditional_t<std::is_same_v<Codec, bsonrpc::BsonCodec>,
                                     bsonrpc::BsonFraming, bsonrpc::Rfc7464>;
  using client_rpc = bsonrpc::Rpc<Codec, framing, Executor>;
  using server_rpc = bsonrpc::Rpc<Codec, framing, bsonrpc::EventLoop>;
  static constexpr bool event_loop = std::is_same_v<Executor, bsonrpc::EventLoop>;
};
using json_threads = config<bsonrpc::JsonCodec, bsonrpc::Threads>;
using json_loop = config<bsonrpc::JsonCodec, bsonrpc::EventLoop>;
using bson_threads = config<bsonrpc::BsonCodec, bsonrpc::Threads>;
using bson_loop = config<bsonrpc::BsonCodec, bsonrpc::EventLoop>;

inline long open_descriptors() {
  long n = 0;
  for (auto it = std::filesystem::directory_iterator("/proc/self/fd");
       it != std::filesystem::directory_iterator(); ++it)
    ++n;
  return n;
}

// Heap bytes in use (not RSS, which ASan's quarantine and the allocator's caches inflate).
inline long live_heap_bytes() {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  return static_cast<long>(__sanitizer_get_current_allocated_bytes());
#else
  return static_cast<long>(mallinfo2().uordblks);
#endif
}

inline std::uint64_t soak_seed() {
  if (const char* s = std::getenv("BSONRPC_SOAK_SEED")) return std::strtoull(s, nullptr, 10);
  return std::random_device{}();
}

// Outcomes, counted as calls complete; each call's slot counts its completions.
struct tally {
  explicit tally(int calls) : completions(static_cast<std::size_t>(calls)) {}
  std::vector<std::atomic<int>> completions;
  std::atomic<int> results{0}, wrong_results{0}, closed{0}, not_connected{0}, timeouts{0},
      other_errors{0}, in_flight{0};
  std::mutex mutex;
  std::condition_variable changed;

  void complete(int i, std::error_code ec, int result) {
    completions[static_cast<std::size_t>(i)]++;
    if (!ec) {
      ++results;
      if (result != 2 * i + 1) ++wrong_results;
    } else if (ec == bsonrpc::errc::connection_closed) {
      ++closed;
    } else if (ec == bsonrpc::errc::not_connected) {
      ++not_connected;
    } else if (ec == bsonrpc::errc::timeout) {
      ++timeouts;
    } else {
      ++other_errors;
    }
    std::lock_guard lock(mutex);
    --in_flight;
    changed.notify_all();
  }
  bool wait_below(int limit, std::chrono::milliseconds bound) {
    std::unique_lock lock(mutex);
    return changed.wait_for(lock, bound, [&] { return in_flight < limit; });
  }
};

template <class Config>
void soak(std::uint64_t seed) {
  using client_rpc = typename Config::client_rpc;
  INFO("seed " << seed << " (replay: BSONRPC_SOAK_SEED=" << seed << ")");
  bsonrpc::test::restartable_server<typename Config::server_rpc> server([](auto& methods) {
    methods.add_request("add", [](int a, int b) { return a + b; }, {"a", "b"});
  });
  bsonrpc::test::fault_proxy::faults faults;
  faults.seed = seed;
  bsonrpc::test::fault_proxy proxy(server.endpoint(), faults);

  asio::io_context io;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::thread loop;
  if (Config::event_loop) {
    work.emplace(io.get_executor());
    loop = std::thread([&] { io.run(); });
  }
  bsonrpc::Options options;
  options.default_timeout = call_timeout;
  bsonrpc::reconnect_options reconnect;
  reconnect.backoff.initial_delay = 1ms;
  reconnect.backoff.max_delay = 20ms;
  reconnect.backoff.seed = seed;
  const asio::ip::tcp::endpoint via{asio::ip::make_address("127.0.0.1"), proxy.port()};

  tally t(calls_per_configuration);
  long descriptors_at_tenth = 0, heap_at_tenth = 0;
  {
    bsonrpc::reconnecting_client<client_rpc> client(
        [&] {
          asio::ip::tcp::socket socket(io);
          socket.connect(via);
          socket.set_option(asio::ip::tcp::no_delay(true));
          return std::make_unique<client_rpc>(std::move(socket), options);
        },
        {}, reconnect);

    for (int i = 0; i < calls_per_configuration; ++i) {
      if (i == calls_per_configuration / 10) {
        REQUIRE(t.wait_below(1, drain_limit));
        descriptors_at_tenth = open_descriptors();
        heap_at_tenth = live_heap_bytes();
      }
      REQUIRE(t.wait_below(in_flight_limit, drain_limit));
      if (!client.is_connected()) client.wait_connected(call_timeout);
      ++t.in_flight;
      client.template async_call<int>("add", i, i + 1,
                                      [&t, i](std::error_code ec, int r) { t.complete(i, ec, r); });
    }
    REQUIRE(t.wait_below(1, drain_limit));
    const long descriptors_at_end = open_descriptors();
    const long heap_at_end = live_heap_bytes();

    INFO("proxied connections " << proxy.connections() << ", resets " << proxy.resets()
                                << ", bytes " << proxy.bytes() << ", client connections "
                                << client.connections());
    INFO("results " << t.results << ", connection_closed " << t.closed << ", not_connected "
                    << t.not_connected << ", timeouts " << t.timeouts << ", other errors "
                    << t.other_errors);
    INFO("descriptors " << descriptors_at_tenth << " -> " << descriptors_at_end << ", live heap "
                        << heap_at_tenth << " -> " << heap_at_end << " bytes");
    int not_once = 0;
    for (auto& c : t.completions) not_once += c.load() != 1;
    CHECK(not_once == 0);
    CHECK(t.results + t.closed + t.not_connected + t.timeouts + t.other_errors ==
          calls_per_configuration);
    CHECK(t.wrong_results == 0);
    CHECK(t.other_errors == 0);
    CHECK(t.timeouts == 0);
    CHECK(t.results >= calls_per_configuration / 2);  // the faults did not stop everything
    CHECK(proxy.resets() >= 5);                       // nor did they never happen
    CHECK(descriptors_at_end <= descriptors_at_tenth + descriptor_slack);
    CHECK(heap_at_end <= heap_at_tenth + heap_slack_bytes);
    WARN("soak: " << t.results << " results, " << t.closed + t.not_connected << " failed with "
                  << "the connection, over " << client.connections() << " connections ("
                  << proxy.resets() << " resets); descriptors " << descriptors_at_tenth << " -> "
                  << descriptors_at_end << ", live heap " << heap_at_tenth << " -> " << heap_at_end);
  }
  work.reset();
  if (loop.joinable()) loop.join();
}

}  // namespace fault_soak

TEMPLATE_TEST_CASE("fault soak: every call through a proxy that writes byte by byte, pauses and "
                   "resets completes exactly once, and nothing grows",
                   "[soak][reconnecting_client][sockets]", fault_soak::json_threads,
                   fault_soak::json_loop, fault_soak::bson_threads, fault_soak::bson_loop) {
  fault_soak::soak<TestType>(fault_soak::soak_seed());
}
