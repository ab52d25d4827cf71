// bsonrpc/reconnecting_client.hpp: reconnecting_client<Rpc>, a client that keeps one
// connection to a server open: it connects with a function you give, reconnects whenever the
// connection closes (the peer went away, idle_timeout or a failed keepalive, a reset), waits
// between attempts with exponential backoff, jitter and a cap (bsonrpc/backoff.hpp), and runs
// an on_connected function after every connection, to register, log in or resubscribe.
//
//   bsonrpc::reconnecting_client<bsonrpc::JsonRpc<>> client(
//       [&] {
//         asio::ip::tcp::socket socket(io);
//         socket.connect(endpoint);
//         return std::make_unique<bsonrpc::JsonRpc<>>(std::move(socket), services, options);
//       },
//       [](bsonrpc::JsonRpc<>& rpc) { rpc.call<void>("subscribe", "news"); });
//   client.wait_connected(std::chrono::seconds(5));
//   int sum = client.call<int>("add", 1, 2);  // throws bsonrpc::not_connected while disconnected
//
// Calls fail fast while there is no connection, with not_connected (errc::not_connected): the
// call was not sent, so a retry cannot run the method twice. Calls in flight when the
// connection drops fail once, with connection_closed, as on a plain Rpc.
//
// One thread of the client's own (the supervisor) connects, runs on_connected, waits for the
// connection to finish and sleeps between attempts; reconnect_slot holds what callers share
// with it. The connections themselves run on their executor as any Rpc does.
#pragma once

#include <bsonrpc/backoff.hpp>
#include <bsonrpc/batch.hpp>
#include <bsonrpc/detail/async_call.hpp>
#include <bsonrpc/detail/reconnect_slot.hpp>
#include <bsonrpc/errors.hpp>

#include <asio.hpp>

#include <atomic>
#include <chrono>
#include <exception>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace bsonrpc {

/// What a reconnecting_client does between connections.
struct reconnect_options {
  /// The delays between attempts (defaults: 100 ms doubling up to 30 s, half of each random).
  backoff_options backoff;
  /// Called on the supervising thread after each failed attempt (the connect function or
  /// on_connected threw, or returned no connection), with why and the delay before the next
  /// attempt. It must not throw. Empty: failures are silent.
  std::function<void(std::exception_ptr, std::chrono::milliseconds)> on_connect_failed;
};

/// A client that keeps one connection open: `connect` makes an Rpc on a connected stream,
/// whenever there is none (at construction, and each time the connection closes), retrying
/// with backoff; `on_connected` runs after each connection is made and before callers see it.
/// Calls made while there is no connection fail at once with not_connected. Thread-safe.
template <class Rpc>
class reconnecting_client {
 public:
  using rpc_type = Rpc;                                   ///< the connection type
  using value_type = typename Rpc::value_type;            ///< the codec's value type
  using duration = typename Rpc::duration;                ///< timeouts
  /// Makes a new connection: connects a stream (TCP, TLS after its handshake, Unix) and
  /// returns the Rpc on it, or throws. It should bound its own waits (a connect timeout).
  using connect_function = std::function<std::unique_ptr<Rpc>()>;
  /// Runs with each new connection before calls go through it; throwing counts as a failed
  /// attempt (the connection is closed, the next attempt follows the backoff).
  using connected_function = std::function<void(Rpc&)>;

  /// Starts connecting at once, on the client's own thread; wait_connected() waits for it.
  explicit reconnecting_client(connect_function connect, connected_function on_connected = {},
                               reconnect_options options = {})
      : connect_(std::move(connect)),
        on_connected_(std::move(on_connected)),
        options_(std::move(options)),
        delays_(options_.backoff),
        supervisor_([this] {
          supervisor_id_ = std::this_thread::get_id();
          supervise();
        }) {}

  reconnecting_client(const reconnecting_client&) = delete;
  reconnecting_client& operator=(const reconnecting_client&) = delete;

  /// Closes (see close()).
  ~reconnecting_client() { close(); }

  /// Stops reconnecting and closes the connection, and one on_connected is setting up (calls
  /// in flight fail with connection_closed), then waits for the client's thread: for a connect
  /// function running at that moment to return, and for the connection's handlers to finish.
  /// From on_connected or the connect function it does not wait (the thread ends after them).
  /// Not from a handler or completion of the client's connection, which it would wait for.
  void close() {
    slot_.stop();
    if (std::this_thread::get_id() == supervisor_id_) return;  // from on_connected: cannot join
    std::lock_guard lock(close_mutex_);
    if (supervisor_.joinable()) supervisor_.join();
  }

  /// Waits until a connection is open (at most `timeout`; nullopt: no limit); false if the
  /// time passed first or the client is closed.
  bool wait_connected(std::optional<duration> timeout = std::nullopt) {
    return slot_.wait_connected(timeout);
  }

  /// Whether a connection is open at this moment.
  bool is_connected() const { return slot_.current() != nullptr; }

  /// How many connections have been made so far (each ran on_connected); a reconnection
  /// shows as this number growing.
  std::uint64_t connections() const { return slot_.connections(); }

  /// Runs `fn(rpc)` with the current connection (for what the forwarding members below do not
  /// cover: peer(), typed interface stubs, add_request ...) and returns its result; throws
  /// not_connected if there is none. The connection stays alive while `fn` runs, and the next
  /// one is not made before `fn` returns: keep it short.
  template <class F>
  decltype(auto) with_connection(F&& fn) {
    auto rpc = connected();
    return std::forward<F>(fn)(*rpc);
  }

  /// Rpc::call through the current connection; throws not_connected if there is none.
  template <class R = value_type, class... Args>
  R call(std::string_view method, const Args&... args) {
    auto rpc = connected();
    return rpc->template call<R>(method, args...);
  }

  /// Rpc::call_for through the current connection; throws not_connected if there is none.
  template <class R = value_type, class... Args>
  R call_for(std::optional<duration> timeout, std::string_view method, const Args&... args) {
    auto rpc = connected();
    return rpc->template call_for<R>(timeout, method, args...);
  }

  /// Rpc::notify through the current connection; throws not_connected if there is none.
  template <class... Args>
  void notify(std::string_view method, const Args&... args) {
    auto rpc = connected();
    rpc->notify(method, args...);
  }

  /// Rpc::batch_call through the current connection; throws not_connected if there is none.
  std::vector<batch_result> batch_call(const Batch& batch) {
    auto rpc = connected();
    return rpc->batch_call(batch);
  }

  /// Rpc::async_call through the current connection, with a completion token last or without
  /// (a std::future<R>). Without a connection it fails with not_connected the way the token
  /// reports failures (the exception, or errc::not_connected): before async_call returns, on
  /// the calling thread, unless the token has an executor of its own (use_awaitable,
  /// bind_executor), which then runs the completion.
  template <class R = value_type, class... Args>
  auto async_call(std::string_view method, Args&&... args) {
    if constexpr (sizeof...(Args) > 0) {
      using last = std::tuple_element_t<sizeof...(Args) - 1, std::tuple<Args...>>;
      if constexpr (detail::is_call_token_v<last, R>) {
        return async_call_with_token<R>(method,
                                         std::forward_as_tuple(std::forward<Args>(args)...),
                                         std::make_index_sequence<sizeof...(Args) - 1>{});
      } else {
        return future_call<R>(method, args...);
      }
    } else {
      return future_call<R>(method);
    }
  }

  /// The options the client was made with.
  const reconnect_options& options() const noexcept { return options_; }

 private:
  std::shared_ptr<Rpc> connected() const {
    auto rpc = slot_.current();
    if (!rpc) throw not_connected("not connected (reconnecting)");
    return rpc;
  }

  template <class R, class... Args>
  std::future<R> future_call(std::string_view method, const Args&... args) {
    if (auto rpc = slot_.current()) return rpc->template async_call<R>(method, args...);
    std::promise<R> failed;
    failed.set_exception(detail::make_error_ptr<not_connected>("not connected (reconnecting)"));
    return failed.get_future();
  }

  template <class R, class Tuple, std::size_t... I>
  auto async_call_with_token(std::string_view method, Tuple&& all, std::index_sequence<I...>) {
    auto&& token = std::get<sizeof...(I)>(std::forward<Tuple>(all));
    using token_type = decltype(token);
    // One initiation for both outcomes, so that every token (deferred included) sees one type.
    return asio::async_initiate<token_type, detail::call_signature_for<token_type, R>>(
        [this, name = std::string(method),
         params = std::make_tuple(std::decay_t<decltype(std::get<I>(all))>(
             std::get<I>(all))...)](auto handler) mutable {
          if (auto rpc = slot_.current()) {
            std::apply([&](auto&... p) { rpc->template async_call<R>(name, p..., std::move(handler)); },
                       params);
            return;
          }
          fail_not_connected<token_type, R>(std::move(handler));
        },
        token);
  }

  // Completes `handler` with not_connected, as a call with token Token would fail.
  template <class Token, class R, class Handler>
  static void fail_not_connected(Handler handler) {
    constexpr bool by_exception = detail::completes_by_exception_v<Token, R>;
    auto failure = detail::as_failure<by_exception>(
        detail::make_error_ptr<not_connected>("not connected (reconnecting)"));
    auto ex = asio::get_associated_executor(handler);
    auto complete = [h = std::move(handler), failure]() mutable {
      if constexpr (std::is_void_v<R>) h(failure);
      else h(failure, R());
    };
    if constexpr (std::is_same_v<decltype(ex), asio::system_executor>) complete();
    else asio::post(ex, std::move(complete));
  }

  // The supervising thread: connect, run on_connected, publish, wait for the close, retire,
  // and again after a delay, until close().
  void supervise() {
    std::optional<std::chrono::milliseconds> delay;
    for (;;) {
      if (delay ? slot_.sleep_unless_stopped(*delay) : slot_.stopping()) return;
      std::shared_ptr<Rpc> rpc = attempt();
      if (!rpc) {
        delay = delays_.next();
        report_failure(*delay);
        continue;
      }
      delays_.reset();
      const bool published = slot_.publish();
      if (!published) rpc->close();
      finish(std::move(rpc));
      if (!published) return;
      delay = delays_.next();
    }
  }

  // One attempt: a connection on which on_connected has run, or null with the reason stored
  // in failure_.
  std::shared_ptr<Rpc> attempt() {
    std::shared_ptr<Rpc> rpc;
    try {
      rpc = connect_();
      if (!rpc) throw not_connected("the connect function returned no connection");
      if (!slot_.propose(rpc)) throw not_connected("the client is closing");
      if (on_connected_) on_connected_(*rpc);
      if (rpc->is_closed()) throw connection_closed("the connection closed in on_connected");
      failure_ = nullptr;
      return rpc;
    } catch (...) {
      failure_ = std::current_exception();
    }
    slot_.withdraw();
    if (rpc) {
      rpc->close();
      finish(std::move(rpc));
    }
    return nullptr;
  }

  void report_failure(std::chrono::milliseconds delay) {
    if (!options_.on_connect_failed) return;
    try {
      options_.on_connect_failed(failure_, delay);
    } catch (...) {
    }
  }

  // Waits until `rpc` has closed and its handlers have finished (closing it if the client
  // closes meanwhile), retires it, and destroys it once no caller holds it any more.
  void finish(std::shared_ptr<Rpc> rpc) {
    // After close(), an EventLoop whose io_context nobody runs any more never finishes the
    // connection: give up waiting after a while (its destructor does not wait either).
    constexpr auto slice = std::chrono::milliseconds(50);
    int slices_after_stop = 0;
    while (!rpc->join(slice)) {
      if (!slot_.stopping()) continue;
      rpc->close();
      if (++slices_after_stop > 40) break;
    }
    slot_.retire(rpc);
    // A caller's copy lasts one call, which ends quickly once the connection is closed; the
    // last copy must not go in one of the connection's own threads, which cannot join.
    while (rpc.use_count() > 1) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }

  connect_function connect_;
  connected_function on_connected_;
  reconnect_options options_;
  backoff delays_;                   // the supervisor's alone
  std::exception_ptr failure_;       // the supervisor's alone: why the last attempt failed
  detail::reconnect_slot<Rpc> slot_;
  std::mutex close_mutex_;           // one close() joins the supervisor
  std::atomic<std::thread::id> supervisor_id_{};  // the supervisor's, once it runs
  std::thread supervisor_;           // last: starts once everything above is ready
};

/// Deduces the Rpc type from the connect function: reconnecting_client client(connect).
template <class Connect, class... Rest>
reconnecting_client(Connect, Rest...)
    -> reconnecting_client<typename std::invoke_result_t<Connect&>::element_type>;

}  // namespace bsonrpc
