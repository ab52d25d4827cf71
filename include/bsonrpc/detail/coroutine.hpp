// bsonrpc/detail/coroutine.hpp: everything that depends on C++20 coroutines, in one place.
//
// Compiled with coroutines (ASIO_HAS_CO_AWAIT), a service member returning asio::awaitable<T>
// is a coroutine handler: the dispatcher spawns it with spawn_method() on the connection's
// executor, and asio::use_awaitable is a completion token for calls (completing with
// void(std::exception_ptr, R), see async_call.hpp). Without them, nothing
// is a coroutine, and the rest of the library compiles the same code with those branches
// never taken.
#pragma once

#include <bsonrpc/codec/codec.hpp>
#include <bsonrpc/context.hpp>
#include <bsonrpc/detail/async_call.hpp>
#include <bsonrpc/detail/invoke.hpp>
#include <bsonrpc/service.hpp>

#include <asio/any_io_executor.hpp>
#include <asio/detail/config.hpp>  // ASIO_HAS_CO_AWAIT, when compiled with coroutines
#if defined(ASIO_HAS_CO_AWAIT)
#include <asio/awaitable.hpp>
#include <asio/co_spawn.hpp>
#include <asio/use_awaitable.hpp>
#endif

#include <cstddef>
#include <exception>
#include <functional>
#include <memory>
#include <tuple>
#include <type_traits>
#include <utility>

namespace bsonrpc::detail {

// What a member returns, seen through a coroutine: T for asio::awaitable<T>, else itself.
template <class T>
struct awaitable_result {
  static constexpr bool is_awaitable = false;
  using type = T;
};

#if defined(ASIO_HAS_CO_AWAIT)
template <class T, class E>
struct awaitable_result<asio::awaitable<T, E>> {
  static constexpr bool is_awaitable = true;
  using type = T;
};

// asio::use_awaitable is a completion token for calls, and gets the failure as the exception
// itself: co_await rethrows the peer's rpc_error with its message and data.
template <class E>
struct is_known_token<asio::use_awaitable_t<E>> : std::true_type {};
template <class E>
struct prefers_exception_ptr<asio::use_awaitable_t<E>> : std::true_type {};

// Starts a coroutine member on `ex`; `done` receives its result (or the exception it threw).
// Parameters are checked and converted before it starts, and live as long as it runs.
template <class V, class Self, class MemFn, std::size_t N>
void spawn_method(const method_spec<Self, MemFn, N>& spec, Self& self,
                  std::shared_ptr<Context> context, const V* params,
                  const asio::any_io_executor& ex,
                  std::function<void(std::exception_ptr, V)> done) {
  using traits = member_traits<MemFn>;
  using result = typename awaitable_result<typename traits::result>::type;
  using params_t = typename traits::args;
  constexpr std::size_t skip = binding<params_t, N>::skip;
  using args_t = typename binding<params_t, N>::args;
  auto args = std::make_shared<args_t>(bind_params<V, params_t>(params, spec.params, false));
  auto coroutine = [&self, spec, context, args]() -> asio::awaitable<V> {
    auto run = [&](auto&... a) {
      if constexpr (skip == 1) return (self.*spec.member)(*context, a...);
      else return (self.*spec.member)(a...);
    };
    if constexpr (std::is_void_v<result>) {
      co_await std::apply(run, *args);
      co_return value_traits<V>::make_null();
    } else {
      co_return to_value<V>(co_await std::apply(run, *args));
    }
  };
  if (!context->cancellable()) {
    asio::co_spawn(ex, std::move(coroutine),
                   [done = std::move(done)](std::exception_ptr e, V v) { done(e, std::move(v)); });
    return;
  }
  // A request the peer may cancel: its cancel emits the coroutine's cancellation slot
  // (terminal), so what it awaits ends with operation_aborted. Never once it has completed: the
  // signal goes with the last of the two. The coroutine runs on a strand of `ex`, where the
  // emit is posted too: with Threads several threads run the io_context, and a cancellation
  // slot must not be emitted while the coroutine, on another thread, checks it.
  struct cancellation {
    asio::cancellation_signal signal;
    bool completed = false;  // on `strand`
  };
  auto state = std::make_shared<cancellation>();
  auto strand = asio::make_strand(ex);
  context->on_cancel([state, strand] {
    asio::post(strand, [state] {
      if (!state->completed) state->signal.emit(asio::cancellation_type::terminal);
    });
  });
  asio::co_spawn(strand, std::move(coroutine),
                 asio::bind_cancellation_slot(
                     state->signal.slot(),
                     [state, strand, done = std::move(done)](std::exception_ptr e, V v) {
                       state->completed = true;
                       done(e, std::move(v));
                       // The coroutine's frame, still unwinding, refers to the slot: the
                       // signal outlives it.
                       asio::post(strand, [state] {});
                     }));
}
#else
// Never called: without coroutines no member is a coroutine.
template <class V, class Self, class MemFn, std::size_t N>
void spawn_method(const method_spec<Self, MemFn, N>& spec, Self& self,
                  std::shared_ptr<Context> context, const V* params,
                  const asio::any_io_executor& ex,
                  std::function<void(std::exception_ptr, V)> done);
#endif

// Whether a member is a coroutine (returns asio::awaitable<T>, C++20).
template <class MemFn>
inline constexpr bool is_coroutine_member_v =
    awaitable_result<typename member_traits<MemFn>::result>::is_awaitable;

}  // namespace bsonrpc::detail
