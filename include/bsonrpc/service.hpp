// bsonrpc/service.hpp: registering a plain class's members as RPC methods.
//
//   struct Calculator {
//     int add(int a, int b) const;
//     void log(const std::string& line);
//     int long_process(bsonrpc::Context& rpc, int a, int b, int c);
//   };
//   BSONRPC_SERVICE(Calculator,
//     BSONRPC_REQUEST(add, a, b),
//     BSONRPC_NOTIFICATION(log, line),
//     BSONRPC_RPC_REQUEST(long_process, a, b, c))
//
// Each entry names a public member and its parameters, so calls by name work. A member taking
// one struct (BSONRPC_DEFINE_TYPE) may list no parameter name: it receives the whole params
// object (by object, as MCP and LSP pass them). An entry may answer to another method name:
//
//     BSONRPC_REQUEST(hover).as("textDocument/hover")       // hover(const hover_params&)
//
// Free functions and lambdas register without a class: dispatcher::add_request and
// Rpc::add_request. The RPC_ forms
// pass the member a bsonrpc::Context& first (the original's @rpc_request/@rpc_notification).
// An entry may say where its handler runs (bsonrpc/execution.hpp), else the Executor decides:
//
//     BSONRPC_REQUEST(add, a, b).runs(bsonrpc::execution::in_place),
//     BSONRPC_RPC_REQUEST(long_process, a, b, c).runs(bsonrpc::execution::concurrent)
//
// Write BSONRPC_SERVICE at namespace scope, in the class's own namespace (it is found by ADL).
#pragma once

/// @file
/// Registering a plain class's members as RPC methods: BSONRPC_SERVICE and its entries.

#include <bsonrpc/context.hpp>
#include <bsonrpc/execution.hpp>

#include <array>
#include <cstddef>
#include <string_view>
#include <tuple>
#include <type_traits>

namespace bsonrpc::detail {

template <class T>
struct service_tag {};

enum class method_kind { request, notification };

template <class MemFn>
struct member_traits;

#define BSONRPC_DETAIL_MEMBER_TRAITS(qualifiers)                \
  template <class R, class C, class... A>                       \
  struct member_traits<R (C::*)(A...) qualifiers> {             \
    using result = R;                                           \
    using owner = C;                                            \
    using args = std::tuple<A...>;                              \
    static constexpr std::size_t arity = sizeof...(A);          \
  };
BSONRPC_DETAIL_MEMBER_TRAITS()
BSONRPC_DETAIL_MEMBER_TRAITS(const)
BSONRPC_DETAIL_MEMBER_TRAITS(noexcept)
BSONRPC_DETAIL_MEMBER_TRAITS(const noexcept)
BSONRPC_DETAIL_MEMBER_TRAITS(&)
BSONRPC_DETAIL_MEMBER_TRAITS(const&)
#undef BSONRPC_DETAIL_MEMBER_TRAITS

// How many parameter names follow the member's name in "name, a, b".
constexpr std::size_t count_param_names(std::string_view spelled) {
  std::size_t commas = 0;
  for (char c : spelled)
    if (c == ',') ++commas;
  return commas;
}

constexpr bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

constexpr std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

// {"add", {"a", "b"}} from "add, a, b".
template <std::size_t N>
struct spelled_method {
  std::string_view name;
  std::array<std::string_view, N> params{};
};

template <std::size_t N>
constexpr spelled_method<N> split_spelling(std::string_view spelled) {
  spelled_method<N> out;
  std::size_t field = 0;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= spelled.size(); ++i) {
    if (i == spelled.size() || spelled[i] == ',') {
      const auto piece = trim(spelled.substr(start, i - start));
      if (field == 0) out.name = piece;
      else out.params[field - 1] = piece;
      ++field;
      start = i + 1;
    }
  }
  return out;
}

template <class Self, class MemFn, std::size_t N>
struct method_spec {
  using self_type = Self;
  using traits = member_traits<MemFn>;
  std::string_view name;
  std::array<std::string_view, N> params;
  MemFn member;
  method_kind kind;
  bool takes_context;
  execution policy = execution::standard;

  // This entry, running its handler where `where` says.
  constexpr method_spec runs(execution where) const {
    method_spec out = *this;
    out.policy = where;
    return out;
  }

  // This entry, under the method name `wire_name` (say "textDocument/hover") rather than the
  // member's. `wire_name` must outlive every dispatcher using it: a string literal.
  constexpr method_spec as(std::string_view wire_name) const {
    method_spec out = *this;
    out.name = wire_name;
    return out;
  }
};

template <class Args>
constexpr bool first_param_is_context() {
  if constexpr (std::tuple_size_v<Args> == 0) return false;
  else return std::is_same_v<std::tuple_element_t<0, Args>, Context&>;
}

template <class Self, std::size_t N, method_kind Kind, bool TakesContext, class MemFn>
constexpr auto make_method(MemFn member, std::string_view spelled) {
  using traits = member_traits<MemFn>;
  static_assert(std::is_base_of_v<typename traits::owner, Self>,
                "BSONRPC_SERVICE: the member does not belong to this class");
  constexpr std::size_t context_params = TakesContext ? 1 : 0;
  if constexpr (TakesContext) {
    static_assert(first_param_is_context<typename traits::args>(),
                  "BSONRPC_RPC_REQUEST/BSONRPC_RPC_NOTIFICATION: the member's first parameter "
                  "must be bsonrpc::Context&");
  }
  static_assert(traits::arity == N + context_params ||
                    (N == 0 && traits::arity == context_params + 1),
                "BSONRPC_REQUEST/BSONRPC_NOTIFICATION: list one name for each parameter of the "
                "member (not counting a leading bsonrpc::Context&), or none for a member taking "
                "the whole params object as its one parameter");
  if constexpr (!TakesContext) {
    static_assert(!first_param_is_context<typename traits::args>(),
                  "BSONRPC_REQUEST/BSONRPC_NOTIFICATION: a member taking bsonrpc::Context& "
                  "first is registered with BSONRPC_RPC_REQUEST/BSONRPC_RPC_NOTIFICATION");
  }
  if constexpr (Kind == method_kind::notification) {
    static_assert(std::is_void_v<typename traits::result>,
                  "BSONRPC_NOTIFICATION: a notification handler returns void (nobody gets its "
                  "result)");
  }
  const auto split = split_spelling<N>(spelled);
  return method_spec<Self, MemFn, N>{split.name, split.params, member, Kind, TakesContext};
}

}  // namespace bsonrpc::detail

#define BSONRPC_DETAIL_FIRST(...) BSONRPC_DETAIL_FIRST_(__VA_ARGS__, ~)
#define BSONRPC_DETAIL_FIRST_(first, ...) first
#define BSONRPC_DETAIL_METHOD(kind, takes_context, ...)                                     \
  ::bsonrpc::detail::make_method<bsonrpc_self,                                             \
                                 ::bsonrpc::detail::count_param_names(#__VA_ARGS__),       \
                                 ::bsonrpc::detail::method_kind::kind, takes_context>(     \
      &bsonrpc_self::BSONRPC_DETAIL_FIRST(__VA_ARGS__), #__VA_ARGS__)

/// BSONRPC_REQUEST(member, param_name...): a request handler; its return value is the result.
/// `.as("name")` answers to another method name, `.runs(execution)` says where it runs.
#define BSONRPC_REQUEST(...) BSONRPC_DETAIL_METHOD(request, false, __VA_ARGS__)
/// BSONRPC_NOTIFICATION(member, param_name...): a notification handler, returning void.
#define BSONRPC_NOTIFICATION(...) BSONRPC_DETAIL_METHOD(notification, false, __VA_ARGS__)
/// As BSONRPC_REQUEST, for a member whose first parameter is bsonrpc::Context&.
#define BSONRPC_RPC_REQUEST(...) BSONRPC_DETAIL_METHOD(request, true, __VA_ARGS__)
/// As BSONRPC_NOTIFICATION, for a member whose first parameter is bsonrpc::Context&.
#define BSONRPC_RPC_NOTIFICATION(...) BSONRPC_DETAIL_METHOD(notification, true, __VA_ARGS__)

/// BSONRPC_SERVICE(Class, entries...): exposes Class's listed members to peers. Write it at
/// namespace scope, in the class's own namespace (it is found by ADL).
#define BSONRPC_SERVICE(Class, ...)                                                          \
  [[maybe_unused]] inline auto bsonrpc_service_methods(::bsonrpc::detail::service_tag<Class>) { \
    using bsonrpc_self = Class;                                                              \
    return ::std::make_tuple(__VA_ARGS__);                                                   \
  }

namespace bsonrpc {
template <class T, class = void>
struct is_service : std::false_type {};
template <class T>
struct is_service<T, std::void_t<decltype(bsonrpc_service_methods(detail::service_tag<T>{}))>>
    : std::true_type {};
/// Whether BSONRPC_SERVICE registered T.
template <class T>
inline constexpr bool is_service_v = is_service<T>::value;
}  // namespace bsonrpc
