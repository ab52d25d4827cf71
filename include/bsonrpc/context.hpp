// bsonrpc/context.hpp: calling the peer (`caller`, `peer_proxy`) and the per-request Context
// that `BSONRPC_RPC_REQUEST`/`BSONRPC_RPC_NOTIFICATION` handlers receive.
//
// Arguments and results cross this interface as bsonrpc::value, the one value type able to
// carry every BSON type, so one handler serves JSON-RPC and BSON-RPC connections alike.
#pragma once

#include <bsonrpc/codec/bson_convert.hpp>
#include <bsonrpc/detail/async_call.hpp>
#include <bsonrpc/errors.hpp>
#include <bsonrpc/peer_identity.hpp>
#include <bsonrpc/value.hpp>

#include <asio.hpp>

#include <any>
#include <functional>
#include <tuple>
#include <type_traits>
#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <stdexcept>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace bsonrpc {

/// Parameters by name: `rpc.call<int>("add", bsonrpc::named{{"a", 1}, {"b", 2}})`.
struct named {
  document members;  ///< the params object's members, in order
  /// The members as listed: `named{{"a", 1}, {"b", 2}}`.
  named(std::initializer_list<std::pair<std::string, value>> init) : members(init) {}
  /// The members of `d`.
  explicit named(document d) : members(std::move(d)) {}
};

class peer_proxy;

/// What one asynchronous call may ask for besides its arguments, passed first:
///   bsonrpc::call_options options;
///   options.on_progress = [](const bsonrpc::value& report) { ... };
///   rpc.async_call<R>(options, "method", args..., token);
struct call_options {
  /// Receives the peer's progress reports on this call, in arrival order, until the call
  /// completes. It needs Options::protocol: the call's params carry a fresh progress token (LSP
  /// params.workDoneToken, MCP params._meta.progressToken), so they must be one object (a
  /// bsonrpc::named, a by-object struct) or none. LSP passes the report's `value`, MCP the
  /// notification's params (progressToken, progress, total?, message?). It runs on the thread
  /// that reads the connection: keep it short, and do not block there.
  std::function<void(const value&)> on_progress;
};

namespace detail {
// Call arguments as one params value of type V (the neutral value, or a codec's own): nullopt
// for none, a document for `named`, else an array.
template <class V = value, class... Args>
std::optional<V> pack_params(const Args&... args) {
  if constexpr (sizeof...(Args) == 0) {
    return std::nullopt;
  } else if constexpr (sizeof...(Args) == 1 && (std::is_same_v<Args, named> && ...)) {
    if constexpr (std::is_same_v<V, value>) return value((args.members, ...));
    else return value_traits<V>::from_neutral(value((args.members, ...)));
  } else if constexpr (std::is_same_v<V, value>) {
    // Not array{...}: an initializer_list would copy each converted argument once more.
    array params;
    params.reserve(sizeof...(Args));
    (params.push_back(to_value<value>(args)), ...);
    return value(std::move(params));
  } else {
    V params = value_traits<V>::make_array();
    (value_traits<V>::push_back(params, to_value<V>(args)), ...);
    return params;
  }
}

// A call's result as R; decoding_error names the method when it does not convert.
template <class R, class V>
R convert_result(V&& result, std::string_view method) {
  try {
    return from_value<R>(std::forward<V>(result));
  } catch (const conversion_error& e) {
    throw decoding_error("result of " + std::string(method) + ": " + e.what());
  }
}
}  // namespace detail

/// Anything that can call and notify the peer: a connection, or a handler's Context.
class caller {
 public:
  using timeout_type = std::optional<std::chrono::milliseconds>;  ///< nullopt: wait forever

  /// Calls `method` and waits for its result as R; throws the peer's error as rpc_error (or the
  /// predefined subclass), timeout_error, or connection_closed.
  template <class R = value, class... Args>
  R call(std::string_view method, const Args&... args) {
    return call_for<R>(default_timeout(), method, args...);
  }

  /// As call(), waiting at most `timeout` (nullopt: forever).
  template <class R = value, class... Args>
  R call_for(timeout_type timeout, std::string_view method, const Args&... args) {
    value result = call_value(method, detail::pack_params(args...), timeout);
    if constexpr (!std::is_void_v<R>) return detail::convert_result<R>(std::move(result), method);
  }

  /// Sends a notification: no response, no waiting for one.
  template <class... Args>
  void notify(std::string_view method, const Args&... args) {
    notify_value(method, detail::pack_params(args...));
  }

  /// Calls `method` without blocking; the last argument is a completion token, as for
  /// Rpc::async_call: a callback void(std::error_code, R) or void(std::exception_ptr, R),
  /// asio::use_future, asio::use_awaitable, ... A coroutine handler writes
  /// `co_await rpc.async_call<R>("m", a, asio::use_awaitable)`, which throws the peer's
  /// rpc_error (with its message and data), timeout_error or connection_closed.
  template <class R = value, class... Args>
  auto async_call(std::string_view method, Args&&... args) {
    static_assert(sizeof...(Args) > 0, "async_call: the last argument is the completion token");
    return async_call_impl<R>(call_options{}, method,
                              std::forward_as_tuple(std::forward<Args>(args)...),
                              std::make_index_sequence<sizeof...(Args) - 1>{});
  }

  /// As above, with `options` (a progress callback, see call_options).
  template <class R = value, class... Args>
  auto async_call(call_options options, std::string_view method, Args&&... args) {
    static_assert(sizeof...(Args) > 0, "async_call: the last argument is the completion token");
    return async_call_impl<R>(std::move(options), method,
                              std::forward_as_tuple(std::forward<Args>(args)...),
                              std::make_index_sequence<sizeof...(Args) - 1>{});
  }

  /// The original's get_peer_proxy(): peer()["swapper"]("txt"), peer().n["log"]("line").
  peer_proxy peer();

  virtual ~caller() = default;

  /// The primitive operations: params is an array, a document, or nullopt for no arguments.
  virtual value call_value(std::string_view method, std::optional<value> params,
                           timeout_type timeout) = 0;
  /// Sends the notification `method` with `params` (as call_value takes them).
  virtual void notify_value(std::string_view method, std::optional<value> params) = 0;
  /// How long call() waits (a connection: Options::default_timeout); here, forever.
  virtual timeout_type default_timeout() const { return std::nullopt; }
  /// Starts a call whose outcome goes to `done`; returns its id (for cancel_call).
  virtual std::int64_t start_call_value(std::string_view method, std::optional<value> params,
                                        std::function<void(detail::call_outcome<value>)> done) = 0;
  /// As start_call_value, with `options`. This default serves callers that route no progress:
  /// it refuses an on_progress with std::logic_error.
  virtual std::int64_t start_call_value_with(const call_options& options, std::string_view method,
                                             std::optional<value> params,
                                             std::function<void(detail::call_outcome<value>)> done) {
    if (options.on_progress)
      throw std::logic_error("bsonrpc: this caller does not route progress reports");
    return start_call_value(method, std::move(params), std::move(done));
  }
  /// Ends a pending call with asio::error::operation_aborted; with Options::protocol, also
  /// tells the peer (LSP $/cancelRequest, MCP notifications/cancelled), once.
  virtual void cancel_call(std::int64_t id) = 0;
  /// Where asynchronous completions run by default: the connection's io_context.
  virtual asio::any_io_executor get_executor() = 0;

 private:
  template <class R, class Tuple, std::size_t... I>
  auto async_call_impl(call_options options, std::string_view method, Tuple&& all,
                       std::index_sequence<I...>) {
    auto start = [this, options = std::move(options), name = std::string(method),
                  params = detail::pack_params(std::get<I>(all)...)](
                     std::function<void(detail::call_outcome<value>)> done) mutable {
      if (options.on_progress)
        return start_call_value_with(options, name, std::move(params), std::move(done));
      return start_call_value(name, std::move(params), std::move(done));
    };
    auto cancel = [this](std::int64_t id) { cancel_call(id); };
    auto&& token = std::get<sizeof...(I)>(std::forward<Tuple>(all));
    // Forwarded: a completion handler may be move-only.
    return detail::async_call<R, detail::call_outcome<value>>(
        std::forward<decltype(token)>(token), std::string(method), get_executor(),
        std::move(start), std::move(cancel));
  }
};

/// A named method of the peer, callable like a function.
class peer_method {
 public:
  /// The method `name` of the peer `owner` talks to, called as a request or sent as a
  /// notification.
  peer_method(caller& owner, std::string name, bool notification)
      : owner_(&owner), name_(std::move(name)), notification_(notification) {}

  /// Request: returns the result as a dynamic value. Notification: returns null at once.
  template <class... Args>
  value operator()(const Args&... args) const {
    if (notification_) {
      owner_->notify(name_, args...);
      return value();
    }
    return owner_->call<value>(name_, args...);
  }
  /// Calls the method and returns its result as R (a request even for a notification's proxy).
  template <class R, class... Args>
  R call(const Args&... args) const {
    return owner_->call<R>(name_, args...);
  }

 private:
  caller* owner_;
  std::string name_;
  bool notification_;
};

/// The peer's methods by name, as the original's get_peer_proxy(): `peer()["swapper"]("txt")`
/// calls, `peer().n["log"]("line")` notifies.
class peer_proxy {
 public:
  /// The notification side: `n["method"](args...)` sends a notification.
  struct notifications {
    caller* owner;  ///< where notifications go
    /// The peer's notification `name`.
    peer_method operator[](std::string name) const { return {*owner, std::move(name), true}; }
  };

  /// The peer that `owner` talks to.
  explicit peer_proxy(caller& owner) : owner_(&owner), n{&owner} {}
  /// The peer's request `name`.
  peer_method operator[](std::string name) const { return {*owner_, std::move(name), false}; }

 private:
  caller* owner_;

 public:
  notifications n;  ///< the notification side, as the original's `proxy.n.method(...)`
};

inline peer_proxy caller::peer() { return peer_proxy(*this); }

/// Counters of one connection, as seen by its dispatcher.
struct connection_stats {
  std::uint64_t requests = 0;       ///< requests received (batch entries included)
  std::uint64_t notifications = 0;  ///< notifications received
  std::uint64_t errors_sent = 0;    ///< error responses sent
};

/// What a `BSONRPC_RPC_REQUEST`/`BSONRPC_RPC_NOTIFICATION` handler receives: the connection it
/// serves. Valid only during the handler's call.
class Context : public caller {
 public:
  /// Drops this request's response and closes the connection.
  virtual void abort() = 0;
  /// Sends this request's response, then closes the connection.
  virtual void close_after_response() = 0;
  /// Whatever the application attached to the connection (e.g. the peer's endpoint).
  virtual const std::any& client_info() const = 0;
  /// A process-unique number for the connection, as used in log lines.
  virtual std::uint64_t connection_id() const = 0;
  /// The connection's counters so far.
  virtual connection_stats stats() const = 0;
  /// Who is on the other end: the remote endpoint and, over TLS, the peer certificate's
  /// subject and alternative names (bsonrpc/peer_identity.hpp). Not `peer()`, which is the
  /// peer's methods (caller::peer). Without a connection: empty, not verified.
  virtual const peer_identity& remote() const { return detail::unknown_peer(); }

  // Cancellation and progress (Options::protocol; see bsonrpc/protocol.hpp). Without a
  // profile, for notifications, batch entries and a dispatcher used without a connection,
  // nothing is ever cancelled and no request has a progress token.

  /// Whether the peer has cancelled this request. A cancelled request's reply is replaced,
  /// whatever the handler returns or throws: LSP answers -32800 "Request cancelled", MCP not
  /// at all. So a handler may stop early and return anything.
  virtual bool cancelled() const { return false; }
  /// Whether the peer can cancel this request (a profile is set and it is a request).
  virtual bool cancellable() const { return false; }
  /// Runs `fn` once when the peer cancels this request: at once, on this thread, if it already
  /// has; else on the thread that reads the cancel (the connection's I/O thread or strand: keep
  /// it short, never block there). It never runs once the handler has returned: the handler's
  /// completion waits for a callback running at that moment, so `fn` may refer to the
  /// handler's locals. For a request that cannot be cancelled, `fn` never runs. A coroutine
  /// handler needs none: its cancellation slot is emitted (terminal) instead, on its executor.
  virtual void on_cancel(std::function<void()> fn) { (void)fn; }
  /// The progress token this request carries (LSP params.workDoneToken, else
  /// params.partialResultToken; MCP params._meta.progressToken), if any.
  virtual std::optional<value> progress_token() const { return std::nullopt; }
  /// Sends a progress report on this request under its token, before its reply: LSP
  /// $/progress {token, value: report}; MCP notifications/progress {progressToken, then the
  /// members of `report`: progress, total?, message?} (a number alone is the progress).
  /// Without a token it sends nothing and returns false. Throws as notify() does.
  virtual bool report_progress(value report) {
    (void)report;
    return false;
  }
};

}  // namespace bsonrpc
