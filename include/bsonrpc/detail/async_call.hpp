// bsonrpc/detail/async_call.hpp: adapting a pending call to Asio's completion tokens.
//
// A call completes with void(std::error_code, R) (void(std::error_code) for R = void): a
// callback, asio::use_future, asio::use_awaitable, asio::deferred, ... The error codes are
// bsonrpc's (the peer's JSON-RPC code, or errc::timeout, errc::connection_closed, ...), and
// asio::error::operation_aborted when the call was cancelled through the token's
// cancellation slot, which also forgets the pending call.
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

template <class R>
struct call_signature_of {
  using type = void(std::error_code, R);
};
template <>
struct call_signature_of<void> {
  using type = void(std::error_code);
};
template <class R>
using call_signature = typename call_signature_of<R>::type;

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

template <class T, class R>
constexpr bool is_completion_callback() {
  if constexpr (std::is_void_v<R>) return std::is_invocable_v<T&, std::error_code>;
  else return std::is_invocable_v<T&, std::error_code, R>;
}

// Whether T is a completion token for a call returning R (rather than one more argument).
template <class T, class R>
inline constexpr bool is_call_token_v =
    is_known_token<std::decay_t<T>>::value || is_completion_callback<std::decay_t<T>, R>();

// The error_code for an outcome's exception.
inline std::error_code to_error_code(const std::exception_ptr& e) {
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

// Completes a call whose caller asked for reply<T>: the peer's error object rides along.
template <class R, class Complete, class Outcome>
void complete_reply(Complete& complete, Outcome outcome) {
  using T = std::decay_t<decltype(std::declval<const R&>().value())>;
  if (outcome.error) {
    const std::error_code ec = to_error_code(outcome.error);
    try {
      std::rethrow_exception(outcome.error);
    } catch (const rpc_error& e) {
      complete(ec, R(e));
      return;
    } catch (...) {
    }
    complete(ec, R());
    return;
  }
  try {
    complete(std::error_code(), R(from_value<T>(std::move(outcome.result))));
  } catch (const conversion_error&) {
    complete(make_error_code(errc::decoding_error), R());
  }
}

// Starts one call through `start(completion)` and completes `token` with its result as R.
// `start` returns the call's id; `cancel(id)` ends it early (the token's cancellation slot).
template <class R, class Outcome, class Token, class Start, class Cancel>
auto async_call(Token&& token, asio::any_io_executor io, Start start, Cancel cancel) {
  return asio::async_initiate<Token, call_signature<R>>(
      [io, start = std::move(start), cancel = std::move(cancel)](auto handler) mutable {
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
        auto done = [complete](Outcome outcome) mutable {
          if constexpr (is_reply<R>::value) {
            complete_reply<R>(complete, std::move(outcome));
          } else if constexpr (std::is_void_v<R>) {
            complete(outcome.error ? to_error_code(outcome.error) : std::error_code());
          } else if (outcome.error) {
            complete(to_error_code(outcome.error), R{});
          } else {
            try {
              R result = from_value<R>(std::move(outcome.result));
              complete(std::error_code(), std::move(result));
            } catch (const conversion_error&) {
              complete(make_error_code(errc::decoding_error), R{});
            }
          }
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
