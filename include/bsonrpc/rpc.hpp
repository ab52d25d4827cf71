// bsonrpc/rpc.hpp: Rpc<Codec, Framing, Executor>, one RPC endpoint over a connected stream,
// and the JsonRpc / BsonRpc aliases.
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
#pragma once

#include <bsonrpc/batch.hpp>
#include <bsonrpc/codec/bson.hpp>
#include <bsonrpc/codec/json.hpp>
#include <bsonrpc/context.hpp>
#include <bsonrpc/detail/async_call.hpp>
#include <bsonrpc/detail/connection.hpp>
#include <bsonrpc/errors.hpp>
#include <bsonrpc/executor/event_loop.hpp>
#include <bsonrpc/executor/threads.hpp>
#include <bsonrpc/framing/bson.hpp>
#include <bsonrpc/framing/rfc7464.hpp>
#include <bsonrpc/options.hpp>
#include <bsonrpc/service.hpp>
#include <bsonrpc/stream/any_stream.hpp>

#include <any>
#include <atomic>
#include <system_error>
#include <tuple>
#include <chrono>
#include <condition_variable>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace bsonrpc {

template <class Codec, class Framing, class Executor = Threads>
class Rpc final : public caller {
  static_assert(is_framing_v<Framing>, "Rpc: Framing does not model the Framing concept");
  using connection_type = detail::connection<Codec, Framing, Executor>;

 public:
  using codec_type = Codec;
  using framing_type = Framing;
  using executor_type = Executor;
  using value_type = typename Codec::value_type;
  using duration = std::chrono::milliseconds;

  // An endpoint without services of its own: it can call the peer, and answers
  // Method not found to the peer's requests.
  template <class Stream>
  explicit Rpc(Stream stream, Options options = {}, std::any client_info = {})
      : Rpc(std::move(stream), std::move(options), std::move(client_info), [](auto&) {}) {}

  // An endpoint exposing `services` (registered with BSONRPC_SERVICE), which must outlive it.
  template <class Stream, class Service, class = std::enable_if_t<is_service_v<Service>>>
  Rpc(Stream stream, Service& services, Options options = {}, std::any client_info = {})
      : Rpc(std::move(stream), std::move(options), std::move(client_info),
            [&](auto& engine) { engine.add_service(services); }) {}

  // As above, sharing ownership of the services object.
  template <class Stream, class Service, class = std::enable_if_t<is_service_v<Service>>>
  Rpc(Stream stream, std::shared_ptr<Service> services, Options options = {},
      std::any client_info = {})
      : Rpc(std::move(stream), std::move(options), std::move(client_info),
            [&](auto& engine) { engine.add_service(std::move(services)); }) {}

  Rpc(const Rpc&) = delete;
  Rpc& operator=(const Rpc&) = delete;

  // Closes the connection and waits for its handlers. Do not destroy an Rpc from one of its
  // own handlers (close() it instead): its threads cannot join themselves.
  ~Rpc() override {
    if (!connection_) return;
    connection_->close();
    if constexpr (Executor::runtime::owns_threads) {
      if (connection_->runtime().on_handler_thread() || connection_->runtime().on_io_thread())
        return;
      connection_->wait_finished(std::chrono::seconds(10));
      connection_->join_threads();
    }
  }

  // Calls `method` with positional arguments (or one bsonrpc::named) and waits for the
  // result as R. Throws the peer's error (rpc_error or its predefined subclass),
  // timeout_error after Options::default_timeout, or connection_closed.
  template <class R = value_type, class... Args>
  R call(std::string_view method, const Args&... args) {
    return call_for<R>(connection_->options().default_timeout, method, args...);
  }

  // As call(), waiting at most `timeout` (nullopt: forever).
  template <class R = value_type, class... Args>
  R call_for(std::optional<duration> timeout, std::string_view method, const Args&... args) {
    value_type result = connection_->call_blocking(method, pack(args...), timeout);
    if constexpr (!std::is_void_v<R>) return convert_result<R>(std::move(result), method);
  }

  // Sends a notification.
  template <class... Args>
  void notify(std::string_view method, const Args&... args) {
    connection_->send_notification(method, pack(args...));
  }

  // Calls without waiting. With a completion token as the last argument (a callback
  // void(std::error_code, R), asio::use_future, asio::use_awaitable, ...) the call completes
  // through it, errors as std::error_code; without one, it returns a std::future<R>.
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

  // Sends a notification and completes `token` with void(std::error_code) once it is queued.
  template <class... Args>
  auto async_notify(std::string_view method, Args&&... args) {
    static_assert(sizeof...(Args) > 0, "async_notify: the last argument is the completion token");
    return async_notify_with_token(method, std::forward_as_tuple(std::forward<Args>(args)...),
                                   std::make_index_sequence<sizeof...(Args) - 1>{});
  }

  // As batch_call(), completing `token` with void(std::error_code, std::vector<batch_result>).
  template <class Token>
  auto async_batch_call(const Batch& batch, Token&& token) {
    using results = std::vector<batch_result>;
    auto conn = connection_;
    return asio::async_initiate<Token, void(std::error_code, results)>(
        [this, conn, batch](auto handler) {
          auto ex = asio::get_associated_executor(handler, conn->io_executor());
          auto work = asio::prefer(ex, asio::execution::outstanding_work.tracked);
          auto shared = std::make_shared<decltype(handler)>(std::move(handler));
          auto complete = [shared, work](std::error_code ec, results r) {
            asio::post(work, [h = std::move(*shared), ec, r = std::move(r)]() mutable {
              h(ec, std::move(r));
            });
          };
          try {
            start_batch(batch, complete);
          } catch (const bsonrpc::error& e) {
            complete(e.code(), {});
          }
        },
        token);
  }

  // Sends `batch` as one JSON-RPC batch and waits for every request's outcome, returned in
  // request order. A batch of notifications returns at once; an empty one is refused.
  std::vector<batch_result> batch_call(const Batch& batch) {
    return batch_call(batch, connection_->options().default_timeout);
  }

  std::vector<batch_result> batch_call(const Batch& batch, std::optional<duration> timeout) {
    if (connection_->runtime().on_io_thread())
      throw error(errc::internal_error, "a blocking batch_call on the I/O thread would deadlock");
    auto promise = std::make_shared<std::promise<std::vector<batch_result>>>();
    auto future = promise->get_future();
    const auto ids = start_batch(batch, [promise](std::error_code ec, std::vector<batch_result> r) {
      if (ec == errc::connection_closed) promise->set_exception(detail::make_error_ptr<connection_closed>());
      else promise->set_value(std::move(r));
    });
    [[maybe_unused]] auto blocked = connection_->runtime().blocking_scope();
    if (timeout && future.wait_for(*timeout) == std::future_status::timeout) {
      bool forgot = false;
      for (auto id : ids) forgot = connection_->forget_call(id) || forgot;
      if (forgot) throw timeout_error();
    }
    future.wait();
    connection_->wait_for_earlier_notifications();
    return future.get();
  }

  // Closes the connection: pending calls fail with connection_closed at once; handlers in
  // flight finish, their responses dropped. Safe from any thread, handlers included.
  void close() { connection_->close(); }

  bool is_closed() const { return connection_->is_closed(); }

  // Waits until the connection has closed (by close() or by the peer) and its handlers have
  // finished; false if `timeout` passed first.
  bool join(std::optional<duration> timeout = std::nullopt) {
    if (!connection_->wait_finished(timeout)) return false;
    if (!connection_->runtime().on_handler_thread() && !connection_->runtime().on_io_thread())
      connection_->join_threads();
    return true;
  }

  std::uint64_t connection_id() const noexcept { return connection_->id(); }
  const std::any& client_info() const noexcept { return connection_->client_info(); }
  const Options& options() const noexcept { return connection_->options(); }

  // The caller interface (used through peer() and by code written against caller&).
  value call_value(std::string_view method, std::optional<value> params,
                   timeout_type timeout) override {
    return connection_->call_neutral(method, std::move(params), timeout);
  }
  void notify_value(std::string_view method, std::optional<value> params) override {
    connection_->notify_neutral(method, params);
  }
  timeout_type default_timeout() const override { return connection_->options().default_timeout; }
  std::int64_t start_call_value(std::string_view method, std::optional<value> params,
                                std::function<void(detail::call_outcome<value>)> done) override {
    return connection_->start_call_neutral(method, std::move(params), std::move(done));
  }
  void cancel_call(std::int64_t id) override { connection_->cancel_call(id); }
  asio::any_io_executor get_executor() override { return connection_->io_executor(); }

 private:
  template <class Stream, class Register>
  Rpc(Stream stream, Options options, std::any client_info, Register&& register_services)
      : connection_(std::make_shared<connection_type>(detail::make_any_stream(std::move(stream)),
                                                      std::move(options),
                                                      std::move(client_info))) {
    register_services(connection_->engine());
    connection_->start();
  }

  template <class R, class... Args>
  std::future<R> future_call(std::string_view method, const Args&... args) {
    auto promise = std::make_shared<std::promise<R>>();
    auto future = promise->get_future();
    const std::string name(method);
    connection_->start_call(method, pack(args...),
                            [promise, name](detail::call_outcome<value_type> outcome) {
                              if (outcome.error) {
                                promise->set_exception(outcome.error);
                                return;
                              }
                              try {
                                if constexpr (std::is_void_v<R>) promise->set_value();
                                else promise->set_value(convert_result<R>(std::move(outcome.result), name));
                              } catch (...) {
                                promise->set_exception(std::current_exception());
                              }
                            });
    return future;
  }

  template <class R, class Tuple, std::size_t... I>
  auto async_call_with_token(std::string_view method, Tuple&& all, std::index_sequence<I...>) {
    using outcome = detail::call_outcome<value_type>;
    auto conn = connection_;
    auto start = [conn, name = std::string(method),
                  params = pack(std::get<I>(all)...)](std::function<void(outcome)> done) mutable {
      const auto timeout = conn->options().default_timeout;
      if (!timeout) return conn->start_call(name, std::move(params), std::move(done));
      auto deadline = std::make_shared<call_deadline>();
      const auto id = conn->start_call(name, std::move(params),
                                       [conn, deadline, done = std::move(done)](outcome o) {
                                         asio::post(conn->strand(), [deadline] {
                                           deadline->completed = true;
                                           if (deadline->timer) deadline->timer->cancel();
                                         });
                                         done(std::move(o));
                                       });
      arm_deadline(conn, deadline, id, *timeout);
      return id;
    };
    auto cancel = [weak = std::weak_ptr<connection_type>(conn)](std::int64_t id) {
      if (auto c = weak.lock()) c->cancel_call(id);
    };
    return detail::async_call<R, outcome>(std::get<sizeof...(I)>(std::forward<Tuple>(all)),
                                          conn->io_executor(), std::move(start), std::move(cancel));
  }

  // An asynchronous call's timer; touched only on the connection's strand.
  struct call_deadline {
    std::unique_ptr<asio::steady_timer> timer;
    bool completed = false;
  };

  // Fails call `id` with timeout_error unless it completes within `timeout`.
  static void arm_deadline(const std::shared_ptr<connection_type>& conn,
                           std::shared_ptr<call_deadline> deadline, std::int64_t id,
                           duration timeout) {
    asio::post(conn->strand(), [weak = std::weak_ptr<connection_type>(conn), conn_ptr = conn.get(),
                                deadline, id, timeout] {
      if (deadline->completed) return;
      deadline->timer = std::make_unique<asio::steady_timer>(conn_ptr->strand(), timeout);
      deadline->timer->async_wait([weak, id](std::error_code ec) {
        if (ec) return;
        if (auto c = weak.lock()) c->fail_call(id, detail::make_error_ptr<timeout_error>());
      });
    });
  }

  template <class Tuple, std::size_t... I>
  auto async_notify_with_token(std::string_view method, Tuple&& all, std::index_sequence<I...>) {
    auto conn = connection_;
    auto&& token = std::get<sizeof...(I)>(std::forward<Tuple>(all));
    return asio::async_initiate<std::decay_t<decltype(token)>, void(std::error_code)>(
        [conn, name = std::string(method), params = pack(std::get<I>(all)...)](auto handler) mutable {
          std::error_code ec;
          try {
            conn->send_notification(name, std::move(params));
          } catch (const bsonrpc::error& e) {
            ec = e.code();
          }
          auto ex = asio::get_associated_executor(handler, conn->io_executor());
          asio::post(ex, [h = std::move(handler), ec]() mutable { h(ec); });
        },
        token);
  }

  // Sends a batch; `done` receives every request's outcome in request order (or
  // connection_closed). Returns the requests' ids.
  std::vector<std::int64_t> start_batch(
      const Batch& batch, std::function<void(std::error_code, std::vector<batch_result>)> done) {
    static_assert(Codec::supports_batches,
                  "batch_call: this codec has no batches (BSON-RPC has no top-level arrays)");
    if (batch.empty()) throw error(errc::empty_batch, "a batch must hold at least one message");
    using traits = value_traits<value_type>;
    struct collector {
      std::mutex mutex;
      std::vector<std::optional<batch_result>> results;
      std::size_t remaining = 0;
      bool closed = false;
      std::function<void(std::error_code, std::vector<batch_result>)> done;
    };
    auto state = std::make_shared<collector>();
    state->done = std::move(done);
    std::vector<std::int64_t> ids;
    value_type message = traits::make_array();
    const auto& hooks = connection_->engine().hooks();
    // Requests a hook answered: their slot and outcome, completed once the rest is sent.
    std::vector<std::pair<std::size_t, detail::call_outcome<value_type>>> answered;
    for (const auto& e : batch.entries()) {
      std::optional<value_type> params = connection_type::params_from_neutral(e.params);
      std::optional<value_type> id_value;
      if (e.is_request) {
        ids.push_back(connection_->reserve_call_id());
        id_value = traits::make_integer(ids.back());
      }
      value_type request = detail::make_request<Codec>(e.method, params ? &*params : nullptr,
                                                       id_value ? &*id_value : nullptr,
                                                       no_arguments_presentation());
      if (!hooks.empty()) {
        detail::call_outcome<value_type> outcome;
        using fate = typename detail::hook_chain<Codec>::fate;
        const fate f = hooks.screen_outgoing(request, connection_->id(), true,
                                             connection_->log(), outcome);
        if (f == fate::dropped) continue;
        if (f == fate::answered) {
          // Only a request is answered (one a hook made of a notification waits for nothing).
          if (e.is_request) answered.emplace_back(ids.size() - 1, std::move(outcome));
          continue;
        }
      }
      traits::push_back(message, std::move(request));
    }
    state->results.resize(ids.size());
    state->remaining = ids.size();
    auto finish = [](collector& c) {
      std::vector<batch_result> out;
      out.reserve(c.results.size());
      for (auto& r : c.results) out.push_back(std::move(*r));
      if (c.closed) c.done(make_error_code(errc::connection_closed), {});
      else c.done({}, std::move(out));
    };
    for (std::size_t slot = 0; slot < ids.size(); ++slot) {
      connection_->register_call(ids[slot], [state, slot, finish](detail::call_outcome<value_type> o) {
        std::unique_lock lock(state->mutex);
        if (!o.error) {
          try {
            state->results[slot].emplace(traits::to_neutral(o.result));
          } catch (const conversion_error& e) {
            state->results[slot].emplace(rpc_error(errc::decoding_error, e.what()));
          }
        } else {
          try {
            std::rethrow_exception(o.error);
          } catch (const rpc_error& e) {
            state->results[slot].emplace(e);
          } catch (const bsonrpc::error& e) {
            state->results[slot].emplace(rpc_error(e.code().value(), e.what()));
            state->closed = state->closed || e.code() == errc::connection_closed;
          }
        }
        if (--state->remaining == 0) {
          lock.unlock();
          finish(*state);
        }
      });
    }
    // Hooks may have settled every entry: an empty batch is never sent (it is invalid).
    bool sent = traits::size(message) == 0;
    try {
      if (!sent) sent = connection_->send_message(message);
    } catch (...) {
      for (auto id : ids) connection_->forget_call(id);
      throw;
    }
    if (!sent) {
      for (auto id : ids) connection_->forget_call(id);
      throw connection_closed();
    }
    for (auto& [slot, outcome] : answered) connection_->complete_locally(ids[slot], std::move(outcome));
    if (ids.empty()) state->done({}, {});
    return ids;
  }

  no_arguments no_arguments_presentation() const {
    return connection_->options().no_arguments_presentation;
  }

  template <class... Args>
  static std::optional<value_type> pack(const Args&... args) {
    using traits = value_traits<value_type>;
    if constexpr (sizeof...(Args) == 0) {
      return std::nullopt;
    } else if constexpr (sizeof...(Args) == 1 && (std::is_same_v<Args, named> && ...)) {
      return traits::from_neutral(value((args.members, ...)));
    } else {
      value_type params = traits::make_array();
      (traits::push_back(params, to_value<value_type>(args)), ...);
      return params;
    }
  }

  template <class R>
  static R convert_result(value_type&& result, std::string_view method) {
    try {
      return from_value<R>(std::move(result));
    } catch (const conversion_error& e) {
      throw decoding_error("result of " + std::string(method) + ": " + e.what());
    }
  }

  std::shared_ptr<connection_type> connection_;
};

// JSON-RPC 2.0 over a stream; RFC 7464 framing by default, as in the original library.
template <class Framing = Rfc7464, class Executor = Threads>
using JsonRpc = Rpc<JsonCodec, Framing, Executor>;

// BSON-RPC: JSON-RPC 2.0 semantics in BSON documents, which frame themselves.
template <class Executor = Threads>
using BsonRpc = Rpc<BsonCodec, BsonFraming, Executor>;

}  // namespace bsonrpc
