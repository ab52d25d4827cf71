// bsonrpc/detail/async_call.hpp: adapting a pending call to Asio's completion tokens.
//
// A call completes with one of two signatures, chosen from the token:
//   void(std::exception_ptr, R)  asio::use_future, asio::use_awaitable (also inside
//       bind_executor / bind_cancellation_slot), and callbacks taking std::exception_ptr
//       first. The failure is the exception itself, so use_future and use_awaitable rethrow
//       the peer's rpc_error (code, message, data), timeout_error or connection_closed, just
//       as the blocking call throws them.
//   void(std::error_code, R)  everything else: callbacks taking std::error_code,
//       asio::experimental::deferred, redirect_error, detached. The codes are bsonrpc's (the
//       peer's JSON-RPC code, errc::timeout, errc::connection_closed, ...).
// R = void drops the second argument. Either way asio::error::operation_aborted ends a call
// cancelled through the token's cancellation slot, which also forgets the pending call.
//
// reply<T> turns the peer's error into a value: an error reply completes without a failure,
// the reply's error() holding the whole error object; only local failures (timeout, closed
// connection, cancellation, a result that does not convert) are failures.
#pragma once

#include <bsonrpc/codec/codec.hpp>
#include <bsonrpc/errors.hpp>

#include <asio.hpp>
#include <asio/experimental/deferred.hpp>

#include <atomic>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <tuple>
#include <type_traits>
#include <utility>

namespace bsonrpc::detail {

// How a pending call ended.
template <class V>
struct call_outcome {
  V result;
  std::exception_ptr error;  // set instead of result: the peer's error, or why the call ended
};

// Asio's completion tokens that are not callbacks themselves.
template <class T>
struct is_known_token : std::false_type {};  // asio::use_awaitable: detail/coroutine.hpp
template <class A>
struct is_known_token<asio::use_future_t<A>> : std::true_type {};
template <>
struct is_known_token<asio::detached_t> : std::true_type {};
template <>
struct is_known_token<asio::experimental::deferred_t> : std::true_type {};
template <class T>
struct is_known_token<asio::redirect_error_t<T>> : std::true_type {};
template <class T, class S>
struct is_known_token<asio::cancellation_slot_binder<T, S>> : std::true_type {};
template <class T, class E>
struct is_known_token<asio::executor_binder<T, E>> : std::true_type {};

// Tokens that turn a failure into an exception: they get the exception object itself.
template <class T>
struct prefers_exception_ptr : std::false_type {};  // asio::use_awaitable: detail/coroutine.hpp
template <class A>
struct prefers_exception_ptr<asio::use_future_t<A>> : std::true_type {};
template <class T, class S>
struct prefers_exception_ptr<asio::cancellation_slot_binder<T, S>> : prefers_exception_ptr<T> {};
template <class T, class E>
struct prefers_exception_ptr<asio::executor_binder<T, E>> : prefers_exception_ptr<T> {};

template <class T, class Failure, class R>
constexpr bool is_invocable_with_failure() {
  if constexpr (std::is_void_v<R>) return std::is_invocable_v<T&, Failure>;
  else return std::is_invocable_v<T&, Failure, R>;
}

// Whether a call with token T completes with void(std::exception_ptr, R). A callback that
// accepts std::error_code keeps it, as before; only one that does not is asked for the other.
template <class T, class R>
constexpr bool completes_by_exception() {
  using token = std::decay_t<T>;
  if constexpr (prefers_exception_ptr<token>::value) return true;
  else if constexpr (is_invocable_with_failure<token, std::error_code, R>()) return false;
  else return is_invocable_with_failure<token, std::exception_ptr, R>();
}
template <class T, class R>
inline constexpr bool completes_by_exception_v = completes_by_exception<T, R>();

template <class Failure, class R>
struct call_signature_of {
  using type = void(Failure, R);
};
template <class Failure>
struct call_signature_of<Failure, void> {
  using type = void(Failure);
};
// The completion signature of a call returning R with token T.
template <class T, class R>
using call_signature_for =
    typename call_signature_of<std::conditional_t<completes_by_exception_v<T, R>,
                                                  std::exception_ptr, std::error_code>,
                               R>::type;

template <class T, class R>
constexpr bool is_completion_callback() {
  return is_invocable_with_failure<T, std::error_code, R>() ||
         is_invocable_with_failure<T, std::exception_ptr, R>();
}

// Whether T is a completion token for a call returning R (rather than one more argument).
template <class T, class R>
inline constexpr bool is_call_token_v =
    is_known_token<std::decay_t<T>>::value || is_completion_callback<std::decay_t<T>, R>();

// The error_code for an outcome's exception.
inline std::error_code to_error_code(const std::exception_ptr& e) {
  if (!e) return {};
  try {
    std::rethrow_exception(e);
  } catch (const bsonrpc::error& x) {
    return x.code();
  } catch (const std::system_error& x) {
    return x.code();
  } catch (...) {
    return make_error_code(errc::internal_error);
  }
}

// The exception for a library error_code (timeout_error for errc::timeout, ...), for the
// paths that only have the code; null for no error.
inline std::exception_ptr to_exception(std::error_code ec) {
  if (!ec) return {};
  if (ec == errc::timeout) return make_error_ptr<timeout_error>();
  if (ec == errc::connection_closed) return make_error_ptr<connection_closed>();
  if (ec == errc::not_connected) return make_error_ptr<not_connected>();
  if (ec.category() == rpc_category()) return make_error_ptr<error>(ec, ec.message());
  return make_error_ptr<std::system_error>(ec);
}

// A failure (null: none) as the first argument of a completion that reports failures as
// std::exception_ptr (ByException) or as std::error_code.
template <bool ByException>
auto as_failure(std::exception_ptr e) {
  if constexpr (ByException) return e;
  else return to_error_code(e);
}
template <bool ByException>
auto as_failure(std::error_code ec) {
  if constexpr (ByException) return to_exception(ec);
  else return ec;
}

// The result as T; null, with `failure` set to a decoding_error naming the method, when it
// does not convert.
template <class T, class V>
std::optional<T> convert_call_result(V&& result, const std::string& method,
                                     std::exception_ptr& failure) {
  try {
    return from_value<T>(std::forward<V>(result));
  } catch (const conversion_error& e) {
    failure = make_error_ptr<decoding_error>("result of " + method + ": " + e.what());
    return std::nullopt;
  }
}

// Completes a call with its outcome: the result converted to R, or the failure. For reply<T>
// the peer's error is the result, not a failure.
template <class R, bool ByException, class Complete, class Outcome>
void complete_call(Complete& complete, Outcome outcome, const std::string& method) {
  const auto no_failure = as_failure<ByException>(std::exception_ptr());
  std::exception_ptr failure = std::move(outcome.error);
  if constexpr (is_reply<R>::value) {
    using T = std::decay_t<decltype(std::declval<const R&>().value())>;
    if (failure) {
      try {
        std::rethrow_exception(failure);
      } catch (const rpc_error& e) {
        complete(no_failure, R(e));
        return;
      } catch (...) {
      }
    } else if (auto result = convert_call_result<T>(std::move(outcome.result), method, failure)) {
      complete(no_failure, R(std::move(*result)));
      return;
    }
    complete(as_failure<ByException>(std::move(failure)), R());
  } else if constexpr (std::is_void_v<R>) {
    complete(as_failure<ByException>(std::move(failure)));
  } else {
    if (!failure) {
      if (auto result = convert_call_result<R>(std::move(outcome.result), method, failure)) {
        complete(no_failure, std::move(*result));
        return;
      }
    }
    complete(as_failure<ByException>(std::move(failure)), R{});
  }
}

// Starts one call of `method` through `start(completion)` and completes `token` with its
// result as R. `start` returns the call's id; `cancel(id)` ends it early (the token's
// cancellation slot).
template <class R, class Outcome, class Token, class Start, class Cancel>
auto async_call(Token&& token, std::string method, asio::any_io_executor io, Start start,
                Cancel cancel) {
  return asio::async_initiate<Token, call_signature_for<Token, R>>(
      [method = std::move(method), io, start = std::move(start),
       cancel = std::move(cancel)](auto handler) mutable {
        using handler_type = decltype(handler);
        auto slot = asio::get_associated_cancellation_slot(handler);
        auto ex = asio::get_associated_executor(handler, io);
        auto work = asio::prefer(ex, asio::execution::outstanding_work.tracked);
        // std::function needs a copyable target; Asio handlers may be move-only.
        auto shared = std::make_shared<handler_type>(std::move(handler));
        // A call that fails while it is being started completes through a post, as Asio
        // requires; one that completes later (its response read) through a dispatch, which
        // runs the handler at once when this thread already runs its executor.
        auto initiating = std::make_shared<std::atomic<bool>>(true);
        auto complete = [shared, work, initiating](auto&&... results) mutable {
          auto h = std::move(*shared);
          auto run = [h = std::move(h),
                      results = std::make_tuple(std::move(results)...)]() mutable {
            std::apply(h, std::move(results));
          };
          if (initiating->load()) asio::post(work, std::move(run));
          else asio::dispatch(work, std::move(run));
        };
        auto done = [complete, method](Outcome outcome) mutable {
          complete_call<R, completes_by_exception_v<Token, R>>(complete, std::move(outcome), method);
        };
        std::int64_t id = 0;
        try {
          id = start(std::function<void(Outcome)>(done));
        } catch (...) {
          done(Outcome{{}, std::current_exception()});
          return;
        }
        initiating->store(false);
        if (slot.is_connected())
          slot.assign([cancel, id](asio::cancellation_type) mutable { cancel(id); });
      },
      token);
}

}  // namespace bsonrpc::detail
