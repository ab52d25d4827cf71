// bsonrpc/detail/handler_entry.hpp: what a dispatcher's method table holds for one method, and
// how a service member or a function becomes one.
#pragma once

#include <bsonrpc/context.hpp>
#include <bsonrpc/detail/coroutine.hpp>
#include <bsonrpc/detail/invoke.hpp>
#include <bsonrpc/execution.hpp>
#include <bsonrpc/service.hpp>

#include <asio.hpp>

#include <array>
#include <cstddef>
#include <exception>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace bsonrpc::detail {

template <class V>
struct handler_entry {
  // Its last argument: whether the params may be moved from (message_view::params_movable).
  std::function<V(Context&, const V*, bool)> invoke;
  // Set instead of invoke for coroutine members.
  std::function<void(std::shared_ptr<Context>, const V*, const asio::any_io_executor&,
                     std::function<void(std::exception_ptr, V)>)>
      spawn;
  execution policy = execution::standard;  // never set for a coroutine (spawn)
};

// A service member's entry. `spec` is static (dispatcher::add_service's specs): the handlers
// keep a pointer to it and one to the service, which std::function holds without allocating.
template <class V, class Service, class Spec>
handler_entry<V> member_entry(Service& service, const Spec& spec) {
  handler_entry<V> e;
  using member = decltype(spec.member);
  if constexpr (is_coroutine_member_v<member>) {
    e.spawn = [&service, &spec](std::shared_ptr<Context> context, const V* params,
                               const asio::any_io_executor& ex,
                               std::function<void(std::exception_ptr, V)> done) {
      spawn_method<V>(spec, service, std::move(context), params, ex, std::move(done));
    };
  } else {
    e.invoke = [&service, &spec](Context& context, const V* params, bool movable) {
      return invoke_method<V>(spec, service, context, params, movable);
    };
    e.policy = spec.policy;
  }
  return e;
}

// A function's or lambda's entry, its parameters named by `names` (none: by object). Throws
// std::logic_error for a notification function that returns a value.
template <class V, class F, std::size_t N>
handler_entry<V> function_entry(method_kind kind, const std::string& name, F fn,
                                std::array<std::string, N> names, execution where) {
  using traits = callable_traits<F>;
  static_assert(traits::valid, "bsonrpc: add_request/add_notification take a function, or a "
                               "lambda or object with one operator() that is not a template "
                               "(no auto parameters)");
  using param_types = typename traits::args;
  using result = typename traits::result;
  static_assert(binding<param_types, N>::valid,
                "bsonrpc: give one name for each parameter of the function (not counting a "
                "leading bsonrpc::Context&), or none for a function taking the whole params "
                "object as its one parameter");
  static_assert(!awaitable_result<result>::is_awaitable,
                "bsonrpc: a coroutine handler is registered as a service member");
  if (kind == method_kind::notification && !std::is_void_v<result>)
    throw std::logic_error("bsonrpc: a notification handler returns void: " + name);
  handler_entry<V> e;
  e.invoke = [fn = std::move(fn), names = std::move(names)](
                 Context& context, const V* params, bool movable) mutable {
    std::array<std::string_view, N> views;
    for (std::size_t i = 0; i < N; ++i) views[i] = names[i];
    return invoke_bound<V, param_types, result>(fn, views, context, params, movable);
  };
  e.policy = where;
  return e;
}

// Owned copies of the parameter names a registration lists.
template <std::size_t N>
std::array<std::string, N> to_names(const std::string_view (&names)[N]) {
  std::array<std::string, N> out;
  for (std::size_t i = 0; i < N; ++i) out[i] = std::string(names[i]);
  return out;
}

}  // namespace bsonrpc::detail
