// bsonrpc/detail/invoke.hpp: calling a registered member with params decoded from a message.
//
// Invalid params (-32602) are detected from the member's signature before it runs: too many
// positional params, an unknown or missing named one, or one that does not convert to the
// parameter's type. Trailing std::optional parameters may be omitted.
//
// When the caller discards the message after the handler (`movable` params), each argument is
// converted from an rvalue: a string or binary moves out of the decoded message instead of
// being copied, and a by-value parameter then takes the converted argument over. So a large
// string reaches the handler with no copy beyond the one decoding made.
#pragma once

#include <bsonrpc/codec/codec.hpp>
#include <bsonrpc/context.hpp>
#include <bsonrpc/errors.hpp>
#include <bsonrpc/service.hpp>

#include <array>
#include <cstddef>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>

namespace bsonrpc::detail {

[[noreturn]] inline void throw_invalid_params(std::string detail) {
  throw invalid_params("Invalid params", value(std::move(detail)));
}

// Rejects params whose shape cannot match `names`, whatever their values.
template <class V, std::size_t N>
void check_params_shape(const V* params, const std::array<std::string_view, N>& names) {
  using traits = value_traits<V>;
  if (!params) return;
  if (traits::is_array(*params)) {
    if (traits::size(*params) > N)
      throw_invalid_params("expected at most " + std::to_string(N) + " params, got " +
                           std::to_string(traits::size(*params)));
    return;
  }
  traits::for_each_member(*params, [&](std::string_view key, const V&) {
    for (auto name : names)
      if (name == key) return;
    throw_invalid_params("unknown parameter '" + std::string(key) + "'");
  });
}

template <class T, class V, std::size_t N>
T convert_param(const V* params, const std::array<std::string_view, N>& names, std::size_t i,
                bool movable) {
  using traits = value_traits<V>;
  const V* arg = nullptr;
  if (params) {
    if (traits::is_array(*params)) {
      if (i < traits::size(*params)) arg = &traits::at(*params, i);
    } else {
      arg = traits::find(*params, names[i]);
    }
  }
  if (!arg) {
    if constexpr (is_optional_v<T>) return std::nullopt;
    throw_invalid_params("missing parameter '" + std::string(names[i]) + "'");
  }
  try {
    // `params` points into a message that is not const (see route()): movable says it is ours.
    if (movable) return from_value<T>(std::move(const_cast<V&>(*arg)));
    return from_value<T>(*arg);
  } catch (const conversion_error& e) {
    throw_invalid_params("parameter '" + std::string(names[i]) + "': " + e.what());
  }
}

template <class Tuple, std::size_t Skip, class Seq>
struct drop_front;
template <class Tuple, std::size_t Skip, std::size_t... I>
struct drop_front<Tuple, Skip, std::index_sequence<I...>> {
  using type = std::tuple<std::decay_t<std::tuple_element_t<I + Skip, Tuple>>...>;
};

template <class V, class Args, std::size_t N, std::size_t... I>
Args convert_params([[maybe_unused]] const V* params,
                    [[maybe_unused]] const std::array<std::string_view, N>& names,
                    std::index_sequence<I...>, [[maybe_unused]] bool movable = false) {
  // Braced initialisation converts left to right, so the first bad parameter is reported.
  return Args{convert_param<std::tuple_element_t<I, Args>>(params, names, I, movable)...};
}

// A converted argument as the handler's parameter of type Param takes it: in place for an
// lvalue reference, else as an rvalue (a by-value parameter moves it in).
template <class Param, class Arg>
decltype(auto) pass_arg(Arg& arg) {
  if constexpr (std::is_lvalue_reference_v<Param>) return (arg);
  else return std::move(arg);
}

// How a handler with parameters `Params` binds a message's params, given N listed names:
// after a leading bsonrpc::Context&, one parameter per name (positional or named params) or,
// when no name is listed and the handler takes one parameter, the whole params (by object:
// an object, or an array holding one).
template <class Params, std::size_t N>
struct binding {
  static constexpr std::size_t skip = first_param_is_context<Params>() ? 1 : 0;
  static constexpr std::size_t declared = std::tuple_size_v<Params> - skip;
  static constexpr bool by_object = N == 0 && declared == 1;
  static constexpr std::size_t count = by_object ? 1 : N;
  static constexpr bool valid = declared == N || by_object;
  using args = typename drop_front<Params, skip, std::make_index_sequence<count>>::type;
};

// The whole params as T, for a by-object handler.
template <class T, class V>
T convert_whole_params(const V* params, bool movable) {
  using traits = value_traits<V>;
  const V* arg = params;
  if (params && traits::is_array(*params)) {
    if (traits::size(*params) != 1)
      throw_invalid_params("expected the params object, or an array holding it alone; got " +
                           std::to_string(traits::size(*params)) + " params");
    arg = &traits::at(*params, 0);
  }
  if (!arg) {
    if constexpr (is_optional_v<T>) return std::nullopt;
    throw_invalid_params("missing params");
  }
  try {
    if (movable) return from_value<T>(std::move(const_cast<V&>(*arg)));
    return from_value<T>(*arg);
  } catch (const conversion_error& e) {
    throw_invalid_params(std::string("params: ") + e.what());
  }
}

// The handler's arguments (after its Context&), converted from `params`.
template <class V, class Params, std::size_t N>
typename binding<Params, N>::args bind_params(const V* params,
                                              const std::array<std::string_view, N>& names,
                                              bool movable) {
  using b = binding<Params, N>;
  static_assert(b::valid, "bsonrpc: list one name for each parameter of the handler (not "
                          "counting a leading bsonrpc::Context&), or none for a handler taking "
                          "the whole params object as its one parameter");
  if constexpr (b::by_object) {
    using arg = std::tuple_element_t<0, typename b::args>;
    return typename b::args{convert_whole_params<arg>(params, movable)};
  } else {
    check_params_shape(params, names);
    return convert_params<V, typename b::args>(params, names, std::make_index_sequence<N>{},
                                               movable);
  }
}

template <class Params, class Fn, class Args, std::size_t... I>
decltype(auto) call_bound(Fn& fn, [[maybe_unused]] Context& context, Args& args,
                          std::index_sequence<I...>) {
  if constexpr (first_param_is_context<Params>())
    return fn(context, pass_arg<std::tuple_element_t<I + 1, Params>>(std::get<I>(args))...);
  else
    return fn(pass_arg<std::tuple_element_t<I, Params>>(std::get<I>(args))...);
}

// Runs `fn` (parameters Params, result Result) for one message and returns its result as a V
// (null for void). With `movable`, the params are the caller's to give away: arguments are
// moved out of them.
template <class V, class Params, class Result, std::size_t N, class Fn>
V invoke_bound(Fn&& fn, const std::array<std::string_view, N>& names, Context& context,
               const V* params, bool movable) {
  constexpr std::size_t count = binding<Params, N>::count;
  auto args = bind_params<V, Params>(params, names, movable);
  if constexpr (std::is_void_v<Result>) {
    call_bound<Params>(fn, context, args, std::make_index_sequence<count>{});
    return value_traits<V>::make_null();
  } else {
    return to_value<V>(call_bound<Params>(fn, context, args, std::make_index_sequence<count>{}));
  }
}

// Runs a service's member for one message (see invoke_bound).
template <class V, class Self, class MemFn, std::size_t N>
V invoke_method(const method_spec<Self, MemFn, N>& spec, Self& self, Context& context,
                const V* params, bool movable = false) {
  using traits = member_traits<MemFn>;
  auto member = [&](auto&&... args) -> decltype(auto) {
    return (self.*spec.member)(std::forward<decltype(args)>(args)...);
  };
  return invoke_bound<V, typename traits::args, typename traits::result>(member, spec.params,
                                                                         context, params, movable);
}

// The parameters and result of a function, function pointer, or lambda or other class with
// one operator() (not a template).
template <class F, class = void>
struct callable_traits {
  static constexpr bool valid = false;
};
template <class F>
struct callable_traits<F, std::void_t<decltype(&F::operator())>>
    : member_traits<decltype(&F::operator())> {
  static constexpr bool valid = true;
};
template <class R, class... A>
struct callable_traits<R (*)(A...), void> {
  static constexpr bool valid = true;
  using result = R;
  using args = std::tuple<A...>;
  static constexpr std::size_t arity = sizeof...(A);
};
template <class R, class... A>
struct callable_traits<R (*)(A...) noexcept, void> : callable_traits<R (*)(A...)> {};

}  // namespace bsonrpc::detail
