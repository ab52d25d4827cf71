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
#include <bsonrpc/detail/connection.hpp>
#include <bsonrpc/errors.hpp>
#include <bsonrpc/executor/threads.hpp>
#include <bsonrpc/framing/bson.hpp>
#include <bsonrpc/framing/rfc7464.hpp>
#include <bsonrpc/options.hpp>
#include <bsonrpc/service.hpp>
#include <bsonrpc/stream/any_stream.hpp>

#include <any>
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
    if (connection_->runtime().on_handler_thread() || connection_->runtime().on_io_thread())
      return;
    connection_->wait_finished(std::chrono::seconds(10));
    connection_->join_threads();
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
    if constexpr (!std::is_void_v<R>) return convert_result<R>(result, method);
  }

  // Sends a notification.
  template <class... Args>
  void notify(std::string_view method, const Args&... args) {
    connection_->send_notification(method, pack(args...));
  }

  // Calls without waiting: the future holds the result as R or the error.
  template <class R = value_type, class... Args>
  std::future<R> async_call(std::string_view method, const Args&... args) {
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
                                else promise->set_value(convert_result<R>(outcome.result, name));
                              } catch (...) {
                                promise->set_exception(std::current_exception());
                              }
                            });
    return future;
  }

  // Sends `batch` as one JSON-RPC batch and waits for every request's outcome, returned in
  // request order. A batch of notifications returns at once; an empty one is refused.
  std::vector<batch_result> batch_call(const Batch& batch) {
    return batch_call(batch, connection_->options().default_timeout);
  }

  std::vector<batch_result> batch_call(const Batch& batch, std::optional<duration> timeout) {
    static_assert(Codec::supports_batches,
                  "batch_call: this codec has no batches (BSON-RPC has no top-level arrays)");
    if (batch.empty()) throw error(errc::empty_batch, "a batch must hold at least one message");
    using traits = value_traits<value_type>;

    struct collector {
      std::mutex mutex;
      std::condition_variable done;
      std::vector<std::optional<batch_result>> results;
      std::size_t remaining = 0;
      bool closed = false;
    };
    auto state = std::make_shared<collector>();
    std::vector<std::int64_t> ids;
    value_type message = traits::make_array();
    for (const auto& e : batch.entries()) {
      std::optional<value_type> params;
      if (e.params) params = traits::from_neutral(*e.params);
      if (!e.is_request) {
        traits::push_back(message, detail::make_request<Codec>(e.method, params ? &*params : nullptr,
                                                               nullptr, no_arguments_presentation()));
        continue;
      }
      const std::int64_t id = connection_->reserve_call_id();
      const value_type id_value = traits::make_integer(id);
      traits::push_back(message, detail::make_request<Codec>(e.method, params ? &*params : nullptr,
                                                             &id_value, no_arguments_presentation()));
      ids.push_back(id);
    }
    state->results.resize(ids.size());
    state->remaining = ids.size();
    for (std::size_t slot = 0; slot < ids.size(); ++slot) {
      connection_->register_call(ids[slot], [state, slot](detail::call_outcome<value_type> o) {
        std::optional<batch_result> r;
        if (!o.error) {
          r.emplace(traits::to_neutral(o.result));
        } else {
          try {
            std::rethrow_exception(o.error);
          } catch (const rpc_error& e) {
            r.emplace(e);
          } catch (...) {
            r.emplace(rpc_error(errc::connection_closed, "connection closed"));
            std::lock_guard lock(state->mutex);
            state->closed = true;
          }
        }
        std::lock_guard lock(state->mutex);
        state->results[slot] = std::move(r);
        if (--state->remaining == 0) state->done.notify_all();
      });
    }
    if (!connection_->send_message(message)) {
      for (auto id : ids) connection_->forget_call(id);
      throw connection_closed();
    }
    std::unique_lock lock(state->mutex);
    auto all_in = [&] { return state->remaining == 0; };
    if (timeout) {
      auto blocked = connection_->runtime().blocking_scope();
      if (!state->done.wait_for(lock, *timeout, all_in)) {
        lock.unlock();
        for (auto id : ids) connection_->forget_call(id);
        throw timeout_error();
      }
    } else {
      auto blocked = connection_->runtime().blocking_scope();
      state->done.wait(lock, all_in);
    }
    if (state->closed) throw connection_closed();
    std::vector<batch_result> out;
    out.reserve(ids.size());
    for (auto& r : state->results) out.push_back(std::move(*r));
    return out;
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
    std::optional<value_type> p;
    if (params) p = value_traits<value_type>::from_neutral(*params);
    connection_->send_notification(method, std::move(p));
  }
  timeout_type default_timeout() const override { return connection_->options().default_timeout; }

 private:
  template <class Stream, class Register>
  Rpc(Stream stream, Options options, std::any client_info, Register&& register_services)
      : connection_(std::make_shared<connection_type>(detail::make_any_stream(std::move(stream)),
                                                      std::move(options),
                                                      std::move(client_info))) {
    register_services(connection_->engine());
    connection_->start();
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
  static R convert_result(const value_type& result, std::string_view method) {
    try {
      return from_value<R>(result);
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
