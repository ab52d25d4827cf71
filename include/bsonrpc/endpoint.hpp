// bsonrpc/endpoint.hpp: Rpc<Codec, Framing, Executor>, one RPC endpoint over a connected
// stream, for any codec. Most programs include <bsonrpc/json_rpc.hpp> (JsonRpc) or
// <bsonrpc/bson_rpc.hpp> (BsonRpc), or <bsonrpc/rpc.hpp> for both.
//
// The library never listens or connects: give it a connected asio::ip::tcp::socket,
// asio::local::stream_protocol::socket or asio::ssl::stream<tcp::socket> (after the TLS
// handshake), moved in. Either side may call the other at any time.
//
//   asio::io_context io;
//   asio::ip::tcp::socket socket(io);
//   socket.connect({asio::ip::make_address("127.0.0.1"), 6000});
//   bsonrpc::JsonRpc<> rpc(std::move(socket));
//   std::string swapped = rpc.call<std::string>("swapper", "Hello World!");
//
// Rpc is a thin face: the connection (detail/connection/core.hpp) does the work, and its
// `outgoing` part (detail/connection/outgoing.hpp) every call, batch and timeout.
#pragma once

#include <bsonrpc/batch.hpp>
#include <bsonrpc/codec/codec.hpp>
#include <bsonrpc/context.hpp>
#include <bsonrpc/execution.hpp>
#include <bsonrpc/detail/async_call.hpp>
#include <bsonrpc/detail/connection/core.hpp>
#include <bsonrpc/errors.hpp>
#include <bsonrpc/executor/event_loop.hpp>
#include <bsonrpc/executor/executor.hpp>
#include <bsonrpc/executor/threads.hpp>
#include <bsonrpc/framing/framing.hpp>
#include <bsonrpc/options.hpp>
#include <bsonrpc/service.hpp>
#include <bsonrpc/stream/any_stream.hpp>

#include <any>
#include <chrono>
#include <cstdint>
#include <exception>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace bsonrpc {

/// One JSON-RPC or BSON-RPC connection over a stream: it calls and notifies the peer, and
/// answers the peer's calls with the services and functions registered on it. Codec, Framing
/// and Executor are policies (codec/, framing/, executor/); JsonRpc and BsonRpc name the usual
/// choices.
template <class Codec, class Framing, class Executor = Threads>
class Rpc final : public caller {
  // Each policy's concept, member by member: a missing one fails with one message naming it.
  static_assert(sizeof(codec_static_asserts<Codec>));
  static_assert(sizeof(framing_static_asserts<Framing>));
  static_assert(sizeof(executor_static_asserts<Executor>));
  using connection_type = detail::connection<Codec, Framing, Executor>;

 public:
  using codec_type = Codec;                                ///< the Codec policy
  using framing_type = Framing;                            ///< the Framing policy
  using executor_policy = Executor;                        ///< the Executor policy
  /// Deprecated name of executor_policy.
  using executor_type [[deprecated("the Executor policy is executor_policy")]] = Executor;
  using value_type = typename Codec::value_type;           ///< the codec's value type
  using duration = std::chrono::milliseconds;              ///< timeouts

  /// An endpoint without services of its own: it can call the peer, and answers
  /// Method not found to the peer's requests.
  template <class Stream>
  explicit Rpc(Stream stream, Options options = {}, std::any client_info = {})
      : Rpc(std::move(stream), std::move(options), std::move(client_info), [](auto&) {}) {}

  /// An endpoint exposing `services` (registered with BSONRPC_SERVICE), which must outlive it.
  template <class Stream, class Service, class = std::enable_if_t<is_service_v<Service>>>
  Rpc(Stream stream, Service& services, Options options = {}, std::any client_info = {})
      : Rpc(std::move(stream), std::move(options), std::move(client_info),
            [&](auto& methods) { methods.add_service(services); }) {}

  /// As above, sharing ownership of the services object.
  template <class Stream, class Service, class = std::enable_if_t<is_service_v<Service>>>
  Rpc(Stream stream, std::shared_ptr<Service> services, Options options = {},
      std::any client_info = {})
      : Rpc(std::move(stream), std::move(options), std::move(client_info),
            [&](auto& methods) { methods.add_service(std::move(services)); }) {}

  /// An endpoint whose methods `setup` registers on its dispatcher<Codec>& (add_service,
  /// add_request, add_notification) before the connection reads its first message: the way to
  /// register functions and lambdas on a server whose peer may speak first.
  ///   JsonRpc<Ndjson> rpc(std::move(stream), [&](auto& methods) {
  ///     methods.add_request("tools/list", [] { return tools(); });
  ///   });
  template <class Stream, class Setup,
            class = std::enable_if_t<!is_service_v<std::decay_t<Setup>> &&
                                     std::is_invocable_v<Setup&, dispatcher<Codec>&>>>
  Rpc(Stream stream, Setup&& setup, Options options = {}, std::any client_info = {})
      : Rpc(std::move(stream), std::move(options), std::move(client_info), setup) {}

  Rpc(const Rpc&) = delete;
  Rpc& operator=(const Rpc&) = delete;

  // Closes the connection and waits for its handlers (Threads: at most 10 s, then joins its
  // threads). Do not destroy an Rpc from one of its own handlers (close() it instead).
  ~Rpc() override {
    if (!connection_) return;
    connection_->close();
    connection_->runtime().release(
        [this](std::chrono::milliseconds limit) { return connection_->wait_finished(limit); });
  }

  /// Calls `method` with positional arguments (or one bsonrpc::named) and waits for the
  /// result as R. Throws the peer's error (rpc_error or its predefined subclass),
  /// timeout_error after Options::default_timeout, or connection_closed.
  template <class R = value_type, class... Args>
  R call(std::string_view method, const Args&... args) {
    return call_for<R>(connection_->options().default_timeout, method, args...);
  }

  /// As call(), waiting at most `timeout` (nullopt: forever).
  template <class R = value_type, class... Args>
  R call_for(std::optional<duration> timeout, std::string_view method, const Args&... args) {
    value_type result = outgoing().call(method, pack(args...), timeout);
    if constexpr (!std::is_void_v<R>) return detail::convert_result<R>(std::move(result), method);
  }

  /// Sends a notification.
  template <class... Args>
  void notify(std::string_view method, const Args&... args) {
    outgoing().notify(method, pack(args...));
  }

  /// Calls without waiting. With a completion token as the last argument the call completes
  /// through it (detail/async_call.hpp): asio::use_future, asio::use_awaitable and a callback
  /// void(std::exception_ptr, R) get the exception call() would throw (the peer's rpc_error
  /// with message and data, timeout_error, connection_closed); a callback
  /// void(std::error_code, R), asio::experimental::deferred and the rest get its code. Without
  /// a token it returns a std::future<R> that throws the same. Either way it fails with
  /// timeout_error (errc::timeout) after Options::default_timeout. For R = reply<T> the peer's
  /// error is not a failure: the reply holds it.
  template <class R = value_type, class... Args>
  auto async_call(std::string_view method, Args&&... args) {
    if constexpr (sizeof...(Args) > 0) {
      using last = std::tuple_element_t<sizeof...(Args) - 1, std::tuple<Args...>>;
      if constexpr (detail::is_call_token_v<last, R>) {
        return async_call_with_token<R>(method,
                                         std::forward_as_tuple(std::forward<Args>(args)...),
                                         std::make_index_sequence<sizeof...(Args) - 1>{});
      } else {
        return future_call<R>({}, method, args...);
      }
    } else {
      return future_call<R>({}, method);
    }
  }

  /// As above, with `options`: a progress callback (see call_options; it needs
  /// Options::protocol). Cancelling the call (its token's cancellation slot, or cancel_call)
  /// tells the peer when a profile is set.
  ///   bsonrpc::call_options options;
  ///   options.on_progress = [](const bsonrpc::value& report) { ... };
  ///   rpc.async_call<std::string>(options, "tools/call", bsonrpc::named{...}, token);
  template <class R = value_type, class... Args>
  auto async_call(call_options options, std::string_view method, Args&&... args) {
    if constexpr (sizeof...(Args) > 0) {
      using last = std::tuple_element_t<sizeof...(Args) - 1, std::tuple<Args...>>;
      if constexpr (detail::is_call_token_v<last, R>) {
        return async_call_with_token<R>(method,
                                         std::forward_as_tuple(std::forward<Args>(args)...),
                                         std::make_index_sequence<sizeof...(Args) - 1>{},
                                         std::move(options.on_progress));
      } else {
        return future_call<R>(std::move(options.on_progress), method, args...);
      }
    } else {
      return future_call<R>(std::move(options.on_progress), method);
    }
  }

  /// Sends a notification and completes `token` once it is queued: void(std::error_code), or
  /// void(std::exception_ptr) for the tokens async_call gives exceptions to.
  template <class... Args>
  auto async_notify(std::string_view method, Args&&... args) {
    static_assert(sizeof...(Args) > 0, "async_notify: the last argument is the completion token");
    return async_notify_with_token(method, std::forward_as_tuple(std::forward<Args>(args)...),
                                   std::make_index_sequence<sizeof...(Args) - 1>{});
  }

  /// As batch_call(), completing `token` with void(std::error_code, std::vector<batch_result>),
  /// or void(std::exception_ptr, ...) for the tokens async_call gives exceptions to (then
  /// timeout_error, connection_closed); errc::timeout after Options::default_timeout. Each
  /// request's own error reply is in its batch_result.
  template <class Token>
  auto async_batch_call(const Batch& batch, Token&& token) {
    using results = std::vector<batch_result>;
    auto conn = connection_;
    return asio::async_initiate<Token, detail::call_signature_for<Token, results>>(
        [conn, batch](auto handler) {
          auto ex = asio::get_associated_executor(handler, conn->io_executor());
          auto work = asio::prefer(ex, asio::execution::outstanding_work.tracked);
          auto shared = std::make_shared<decltype(handler)>(std::move(handler));
          auto complete = [shared, work](auto failure, results r) {
            constexpr bool by_exception = detail::completes_by_exception_v<Token, results>;
            asio::post(work, [h = std::move(*shared),
                              f = detail::as_failure<by_exception>(std::move(failure)),
                              r = std::move(r)]() mutable { h(std::move(f), std::move(r)); });
          };
          try {
            conn->outgoing().start_batch(
                batch, [complete](std::error_code ec, results r) { complete(ec, std::move(r)); },
                conn->options().default_timeout);
          } catch (const bsonrpc::error&) {
            complete(std::current_exception(), {});
          }
        },
        token);
  }

  /// Sends `batch` as one JSON-RPC batch and waits for every request's outcome, returned in
  /// request order. A batch of notifications returns at once; an empty one is refused.
  std::vector<batch_result> batch_call(const Batch& batch) {
    return batch_call(batch, connection_->options().default_timeout);
  }

  /// As above, waiting at most `timeout` (nullopt: forever).
  std::vector<batch_result> batch_call(const Batch& batch, std::optional<duration> timeout) {
    return outgoing().batch_call(batch, timeout);
  }

  /// Exposes a function or lambda as the request `name`, without a service class (see
  /// dispatcher::add_request for how its parameters bind):
  ///   rpc.add_request("tools/list", [] { return tools(); });
  ///   rpc.add_request("add", [](int a, int b) { return a + b; }, {"a", "b"});
  ///   rpc.add_request("tools/call", [](bsonrpc::Context& ctx, const call_params& p) { ... });
  /// The connection already reads: a request that arrives before the registration gets
  /// Method not found. A server whose peer speaks first registers in the constructor instead
  /// (a service, or a `setup` function).
  template <class F, class... Rest>
  void add_request(std::string name, F fn, Rest&&... rest) {
    connection_->dispatcher().add_request(std::move(name), std::move(fn),
                                          std::forward<Rest>(rest)...);
  }
  /// As above, naming the parameters: `{"a", "b"}`.
  template <class F, std::size_t N>
  void add_request(std::string name, F fn, const std::string_view (&names)[N],
                   execution where = execution::standard) {
    connection_->dispatcher().add_request(std::move(name), std::move(fn), names, where);
  }
  /// As add_request, for the notification `name` (`fn` returns void).
  template <class F, class... Rest>
  void add_notification(std::string name, F fn, Rest&&... rest) {
    connection_->dispatcher().add_notification(std::move(name), std::move(fn),
                                               std::forward<Rest>(rest)...);
  }
  /// As above, naming the parameters: `{"a", "b"}`.
  template <class F, std::size_t N>
  void add_notification(std::string name, F fn, const std::string_view (&names)[N],
                        execution where = execution::standard) {
    connection_->dispatcher().add_notification(std::move(name), std::move(fn), names, where);
  }

  /// Closes the connection: pending calls fail with connection_closed at once; handlers in
  /// flight finish, their responses dropped. Safe from any thread, handlers included.
  void close() { connection_->close(); }

  /// Whether the connection has closed (by close(), by the peer, or on an error).
  bool is_closed() const { return connection_->is_closed(); }

  /// How long shutdown() and async_shutdown() wait at most by default.
  static constexpr duration default_shutdown_timeout = std::chrono::seconds(5);

  /// Ends the connection without losing a reply, waiting at most `timeout`:
  /// - Reading goes on, since the peer's replies to this side's calls share the stream; every
  ///   request read from now on is refused with error -32000 "Shutting down" (each request of
  ///   a batch too), and notifications are dropped.
  /// - Once no handler is in flight and no call of this side is pending (calls made meanwhile,
  ///   say by a handler still running, included), everything queued is written, then the
  ///   sending side is shut: the peer reads every reply, then end of stream. The connection
  ///   closes when the peer closes its side (a bsonrpc peer does at once: its calls not yet
  ///   read fail with connection_closed), or 1 s later.
  /// - True once everything was answered and the connection has finished (as join() sees it);
  ///   false if `timeout` passed first, which closes the connection as close() does (pending
  ///   calls fail with connection_closed; handlers still running finish, their replies
  ///   dropped: join() waits for them), or if it was closed otherwise first.
  /// A second call waits for the same shutdown, bounded by its own `timeout`; close() during a
  /// shutdown closes at once. Any thread, except where a blocking call is refused (EventLoop:
  /// a thread running the io_context; Threads: the thread reading at that moment) and in one
  /// of this connection's handlers, which it would wait for: those throw bsonrpc::error
  /// (errc::internal_error); use async_shutdown() there.
  bool shutdown(duration timeout = default_shutdown_timeout) {
    if (!connection_->may_block() || connection_->in_handler_here())
      throw error(errc::internal_error,
                  "a blocking shutdown() here would wait for itself: use async_shutdown()");
    auto slot = std::make_shared<detail::wait_slot<std::error_code>>();
    connection_->shutdown(timeout, [slot](std::error_code ec) { slot->fill(ec); });
    if (slot->wait(timeout)) return !slot->take();
    connection_->close();  // the loop did not run the deadline (say, an EventLoop not run)
    return false;
  }

  /// As shutdown(), without waiting: completes `token` with void(std::error_code): success
  /// once everything was answered and the connection has finished; errc::timeout when
  /// `timeout` passed first (the connection is then closed); errc::connection_closed if it
  /// closed otherwise first. Safe anywhere, handlers and the event loop included. A handler
  /// without an associated executor runs on the connection's io_context (EventLoop), or on
  /// the thread that completes the shutdown (Threads, whose threads stop with it).
  template <class Token>
  auto async_shutdown(duration timeout, Token&& token) {
    auto conn = connection_;
    return asio::async_initiate<Token, void(std::error_code)>(
        [conn, timeout](auto handler) {
          /// Threads drives the connection's io_context only while it reads, which ends here:
          /// a handler without an executor of its own runs where the shutdown completes.
          asio::any_io_executor fallback = asio::system_executor();
          if constexpr (std::is_same_v<Executor, EventLoop>) fallback = conn->io_executor();
          auto ex = asio::get_associated_executor(handler, fallback);
          auto work = asio::prefer(ex, asio::execution::outstanding_work.tracked);
          auto shared = std::make_shared<decltype(handler)>(std::move(handler));
          conn->shutdown(timeout, [shared, work](std::error_code ec) {
            auto complete = [h = std::move(*shared), ec]() mutable { h(ec); };
            if constexpr (std::is_same_v<Executor, EventLoop>)
              asio::post(work, std::move(complete));
            else
              asio::dispatch(work, std::move(complete));
          });
        },
        token);
  }
  /// As async_shutdown(timeout, token), bounded by default_shutdown_timeout.
  template <class Token>
  auto async_shutdown(Token&& token) {
    return async_shutdown(default_shutdown_timeout, std::forward<Token>(token));
  }

  /// Waits until the connection has closed (by close() or by the peer) and its handlers have
  /// finished; false if `timeout` passed first.
  bool join(std::optional<duration> timeout = std::nullopt) {
    if (!connection_->wait_finished(timeout)) return false;
    connection_->runtime().join();
    return true;
  }

  /// A process-unique number for the connection, as used in log lines.
  std::uint64_t connection_id() const noexcept { return connection_->id(); }
  /// Whatever the application attached at construction (e.g. the peer's endpoint).
  const std::any& client_info() const noexcept { return connection_->client_info(); }
  /// The options given at construction.
  const Options& options() const noexcept { return connection_->options(); }
  /// Who is on the other end (bsonrpc/peer_identity.hpp), as read when the Rpc was constructed.
  const peer_identity& remote() const noexcept { return connection_->remote(); }

  /// The caller interface (used through peer() and by code written against caller&).
  value call_value(std::string_view method, std::optional<value> params,
                   timeout_type timeout) override {
    return outgoing().call_neutral(method, params, timeout);
  }
  void notify_value(std::string_view method, std::optional<value> params) override {
    outgoing().notify_neutral(method, params);
  }
  timeout_type default_timeout() const override { return connection_->options().default_timeout; }
  std::int64_t start_call_value(std::string_view method, std::optional<value> params,
                                std::function<void(detail::call_outcome<value>)> done) override {
    return outgoing().start_call_neutral(method, params, std::move(done));
  }
  std::int64_t start_call_value_with(const call_options& options, std::string_view method,
                                     std::optional<value> params,
                                     std::function<void(detail::call_outcome<value>)> done) override {
    return outgoing().start_call_neutral(method, params, std::move(done), options.on_progress);
  }
  /// Ends a pending call with asio::error::operation_aborted; with Options::protocol, also
  /// tells the peer (LSP $/cancelRequest, MCP notifications/cancelled), once.
  void cancel_call(std::int64_t id) override { outgoing().cancel(id); }
  asio::any_io_executor get_executor() override { return connection_->io_executor(); }

 private:
  using progress_callback = std::function<void(const value&)>;

  using outcome = detail::call_outcome<value_type>;

  template <class Stream, class Register>
  Rpc(Stream stream, Options options, std::any client_info, Register&& register_services)
      : connection_(std::make_shared<connection_type>(detail::make_any_stream(std::move(stream)),
                                                      std::move(options),
                                                      std::move(client_info))) {
    register_services(connection_->dispatcher());
    connection_->dispatcher().start_dispatching();
    connection_->start();
  }

  typename connection_type::outgoing_type& outgoing() const { return connection_->outgoing(); }

  template <class R, class... Args>
  std::future<R> future_call(progress_callback on_progress, std::string_view method,
                             const Args&... args) {
    auto promise = std::make_shared<std::promise<R>>();
    auto future = promise->get_future();
    outgoing().start_call(
        method, pack(args...),
        [promise, name = std::string(method)](outcome o) {
          auto complete = [&](std::exception_ptr failure, auto... result) {
            if (failure) promise->set_exception(std::move(failure));
            else promise->set_value(std::move(result)...);
          };
          detail::complete_call<R, true>(complete, std::move(o), name);
        },
        connection_->options().default_timeout, std::move(on_progress));
    return future;
  }

  template <class R, class Tuple, std::size_t... I>
  auto async_call_with_token(std::string_view method, Tuple&& all, std::index_sequence<I...>,
                             progress_callback on_progress = {}) {
    auto conn = connection_;
    auto start = [conn, name = std::string(method), params = pack(std::get<I>(all)...),
                  on_progress = std::move(on_progress)](std::function<void(outcome)> done) mutable {
      return conn->outgoing().start_call(name, std::move(params), std::move(done),
                                         conn->options().default_timeout, std::move(on_progress));
    };
    auto cancel = [weak = std::weak_ptr<connection_type>(conn)](std::int64_t id) {
      if (auto c = weak.lock()) c->outgoing().cancel(id);
    };
    return detail::async_call<R, outcome>(std::get<sizeof...(I)>(std::forward<Tuple>(all)),
                                          std::string(method), conn->io_executor(),
                                          std::move(start), std::move(cancel));
  }

  template <class Tuple, std::size_t... I>
  auto async_notify_with_token(std::string_view method, Tuple&& all, std::index_sequence<I...>) {
    auto conn = connection_;
    auto&& token = std::get<sizeof...(I)>(std::forward<Tuple>(all));
    using token_type = decltype(token);
    return asio::async_initiate<token_type, detail::call_signature_for<token_type, void>>(
        [conn, name = std::string(method), params = pack(std::get<I>(all)...)](auto handler) mutable {
          std::exception_ptr failure;
          try {
            conn->outgoing().notify(name, std::move(params));
          } catch (const bsonrpc::error&) {
            failure = std::current_exception();
          }
          auto ex = asio::get_associated_executor(handler, conn->io_executor());
          constexpr bool by_exception = detail::completes_by_exception_v<token_type, void>;
          asio::post(ex, [h = std::move(handler),
                          f = detail::as_failure<by_exception>(std::move(failure))]() mutable {
            h(std::move(f));
          });
        },
        token);
  }

  template <class... Args>
  static std::optional<value_type> pack(const Args&... args) {
    return detail::pack_params<value_type>(args...);
  }

  std::shared_ptr<connection_type> connection_;
};

}  // namespace bsonrpc
