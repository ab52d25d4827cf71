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

// A converted argument as the member's parameter of type Param takes it: in place for an
// lvalue reference, else as an rvalue (a by-value parameter moves it in).
template <class Param, class Arg>
decltype(auto) pass_arg(Arg& arg) {
  if constexpr (std::is_lvalue_reference_v<Param>) return (arg);
  else return std::move(arg);
}

template <std::size_t Skip, class Params, class Self, class Member, class Args, std::size_t... I>
decltype(auto) call_member(Self& self, Member member, [[maybe_unused]] Context& context,
                           Args& args, std::index_sequence<I...>) {
  if constexpr (Skip == 1)
    return (self.*member)(context,
                          pass_arg<std::tuple_element_t<I + Skip, Params>>(std::get<I>(args))...);
  else
    return (self.*member)(pass_arg<std::tuple_element_t<I + Skip, Params>>(std::get<I>(args))...);
}

// Runs the member for one message and returns its result as a V (null for void). With
// `movable`, the params are the caller's to give away: arguments are moved out of them.
template <class V, class Self, class MemFn, std::size_t N>
V invoke_method(const method_spec<Self, MemFn, N>& spec, Self& self, Context& context,
                const V* params, bool movable = false) {
  using traits = member_traits<MemFn>;
  constexpr std::size_t skip = traits::arity - N;
  using args_t =
      typename drop_front<typename traits::args, skip, std::make_index_sequence<N>>::type;
  check_params_shape(params, spec.params);
  auto args =
      convert_params<V, args_t>(params, spec.params, std::make_index_sequence<N>{}, movable);
  using params_t = typename traits::args;
  if constexpr (std::is_void_v<typename traits::result>) {
    call_member<skip, params_t>(self, spec.member, context, args, std::make_index_sequence<N>{});
    return value_traits<V>::make_null();
  } else {
    return to_value<V>(
        call_member<skip, params_t>(self, spec.member, context, args, std::make_index_sequence<N>{}));
  }
}

}  // namespace bsonrpc::detail
