// bsonrpc/interface.hpp: one declaration of a protocol, used by both ends.
//
//   BSONRPC_INTERFACE(ServerApi,
//     BSONRPC_CALL(swapper, std::string(const std::string& txt)),
//     BSONRPC_CALL(add, int(int a, int b)),
//     BSONRPC_NOTIFY(report_progress, void(const std::string& txt)))
//
// The caller binds a typed stub to a connection (an Rpc, or a handler's Context):
//
//   ServerApi::client server(rpc);
//   std::string s = server.swapper("Hello");               // blocking call, checked types
//   server.async_add(1, 2, [](std::error_code ec, int sum) { ... });   // any completion token
//   server.report_progress("half way");                    // notification
//
// The callee registers a plain class through the same declaration; each member's signature is
// checked against it where BSONRPC_IMPLEMENTS is written (the result and parameter types must
// match after dropping const and &; a leading bsonrpc::Context& and, in C++20, an
// asio::awaitable<result> are allowed):
//
//   struct Server {
//     std::string swapper(const std::string& txt) const;
//     int add(bsonrpc::Context& rpc, int a, int b);
//     void report_progress(std::string txt);
//   };
//   BSONRPC_IMPLEMENTS(Server, ServerApi)
//
// Stubs send parameters by position, as the original library's peer proxies do: positional
// params are what every JSON-RPC server accepts, and they keep working when the two ends name
// a parameter differently. The names still register with the service, so peers may also call
// it by name. A type with a comma outside parentheses in a parameter (std::map<K, V>) is fine;
// write the declarations at namespace scope.
#pragma once

/// @file
/// Interfaces declared once for both sides: BSONRPC_INTERFACE, BSONRPC_CALL, BSONRPC_NOTIFY,
/// BSONRPC_IMPLEMENTS.

#include <bsonrpc/context.hpp>
#include <bsonrpc/detail/async_call.hpp>
#include <bsonrpc/detail/coroutine.hpp>
#include <bsonrpc/detail/for_each.hpp>
#include <bsonrpc/errors.hpp>
#include <bsonrpc/service.hpp>

#include <asio.hpp>

#include <array>
#include <chrono>
#include <cstddef>
#include <exception>
#include <optional>
#include <string_view>
#include <system_error>
#include <tuple>
#include <type_traits>
#include <utility>

namespace bsonrpc {
namespace detail {

template <class T>
inline constexpr bool always_false_v = false;

// "R(T a, U b)" as spelled in BSONRPC_CALL: the parameter names.
constexpr bool is_identifier_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

constexpr bool is_type_keyword(std::string_view word) {
  for (std::string_view keyword : {"bool", "char", "char8_t", "char16_t", "char32_t", "wchar_t",
                                   "short", "int", "long", "signed", "unsigned", "float",
                                   "double", "void", "auto", "const", "volatile"})
    if (word == keyword) return true;
  return false;
}

// The name at the end of one parameter's declaration ("const std::string& txt": "txt"), or
// empty if it has none.
constexpr std::string_view declared_name(std::string_view declaration) {
  declaration = trim(declaration);
  std::size_t start = declaration.size();
  while (start > 0 && is_identifier_char(declaration[start - 1])) --start;
  const std::string_view name = declaration.substr(start);
  const std::string_view type = trim(declaration.substr(0, start));
  if (name.empty() || (name[0] >= '0' && name[0] <= '9') || is_type_keyword(name) ||
      type.empty() || type.back() == ':')
    return {};
  return name;
}

// The text between the parentheses that end a spelled function type.
constexpr std::string_view spelled_parameter_list(std::string_view signature) {
  signature = trim(signature);
  if (signature.empty() || signature.back() != ')') return {};
  std::size_t depth = 0;
  for (std::size_t i = signature.size(); i-- > 0;) {
    if (signature[i] == ')') ++depth;
    else if (signature[i] == '(' && --depth == 0)
      return signature.substr(i + 1, signature.size() - i - 2);
  }
  return {};
}

template <std::size_t N>
struct spelled_parameters {
  std::array<std::string_view, N> names{};
  bool all_named = true;
};

template <std::size_t N>
constexpr spelled_parameters<N> read_parameter_names(std::string_view signature) {
  spelled_parameters<N> out;
  const std::string_view list = trim(spelled_parameter_list(signature));
  if (list.empty() || list == "void") {
    out.all_named = N == 0;
    return out;
  }
  std::size_t count = 0;
  std::size_t start = 0;
  int depth = 0;
  for (std::size_t i = 0; i <= list.size(); ++i) {
    const char c = i < list.size() ? list[i] : ',';
    if (c == '(' || c == '[' || c == '{' || c == '<') {
      ++depth;
    } else if (c == ')' || c == ']' || c == '}' || c == '>') {
      --depth;
    } else if (c == ',' && depth == 0) {
      const std::string_view name = declared_name(list.substr(start, i - start));
      if (name.empty()) out.all_named = false;
      if (count < N) out.names[count] = name;
      ++count;
      start = i + 1;
    }
  }
  if (count != N) out.all_named = false;
  return out;
}

// What BSONRPC_CALL / BSONRPC_NOTIFY declare: the method's kind and C++ signature.
template <method_kind Kind, class Signature>
struct interface_method {
  static_assert(always_false_v<Signature>,
                "BSONRPC_CALL/BSONRPC_NOTIFY: write the method as a function type with named "
                "parameters, e.g. BSONRPC_CALL(add, int(int a, int b))");
};

template <method_kind Kind, class R, class... A>
struct interface_method<Kind, R(A...)> {
  static_assert(Kind == method_kind::request || std::is_void_v<R>,
                "BSONRPC_NOTIFY: a notification has no result; declare it as void(parameters)");
  static_assert(std::is_same_v<R, std::remove_cv_t<std::remove_reference_t<R>>>,
                "BSONRPC_CALL: declare the result as a plain value type, without const or &");
  static_assert(((!std::is_reference_v<A> ||
                  (std::is_lvalue_reference_v<A> && std::is_const_v<std::remove_reference_t<A>>)) &&
                 ...),
                "BSONRPC_CALL/BSONRPC_NOTIFY: declare each parameter by value or by const&");

  static constexpr method_kind kind = Kind;
  using signature = R(A...);
  using result_type = R;
  using param_types = std::tuple<std::decay_t<A>...>;
  static constexpr std::size_t arity = sizeof...(A);
};

// An interface's methods, as nested types of the struct BSONRPC_INTERFACE declares.
template <class... Methods>
struct method_list {};
template <class... Methods>
struct method_list<void, Methods...> {
  using type = method_list<Methods...>;
};

struct no_member {};


template <class M, class = void>
struct is_usable_member : std::false_type {};
template <class M>
struct is_usable_member<M, std::void_t<typename member_traits<M>::result>> : std::true_type {};

// Why Service's member does not implement Method (none: it does).
enum class implementation_problem {
  none,
  missing_member,
  not_a_member_function,
  wrong_parameter_count,
  wrong_parameter_types,
  wrong_result_type,
};

template <class Args, std::size_t Skip, class Declared, std::size_t... I>
constexpr bool same_parameter_types(std::index_sequence<I...>) {
  return (std::is_same_v<std::decay_t<std::tuple_element_t<I + Skip, Args>>,
                         std::tuple_element_t<I, Declared>> &&
          ...);
}

template <class Service, class Method>
constexpr implementation_problem implementation_problem_of() {
  using member = decltype(Method::template bsonrpc_member<Service>(0));
  if constexpr (std::is_same_v<member, no_member>) {
    return implementation_problem::missing_member;
  } else if constexpr (!is_usable_member<member>::value) {
    return implementation_problem::not_a_member_function;
  } else {
    using traits = member_traits<member>;
    using args = typename traits::args;
    constexpr std::size_t skip =
        traits::arity == Method::arity + 1 && first_param_is_context<args>() ? 1 : 0;
    if constexpr (traits::arity != Method::arity + skip) {
      return implementation_problem::wrong_parameter_count;
    } else if constexpr (!same_parameter_types<args, skip, typename Method::param_types>(
                             std::make_index_sequence<Method::arity>{})) {
      return implementation_problem::wrong_parameter_types;
    } else if constexpr (!std::is_same_v<
                             std::decay_t<typename awaitable_result<typename traits::result>::type>,
                             typename Method::result_type>) {
      return implementation_problem::wrong_result_type;
    } else {
      return implementation_problem::none;
    }
  }
}

// Service's member for Method as the dispatcher registers it, after checking its signature.
// Instantiated where BSONRPC_IMPLEMENTS is written: the messages below are what users read.
template <class Service, class Method>
auto bind_method() {
  constexpr implementation_problem problem = implementation_problem_of<Service, Method>();
  // The "In instantiation of ... [with Service = ...; Method = Interface::method]" line above
  // a failed assertion names the method.
  static_assert(problem != implementation_problem::missing_member,
                "BSONRPC_IMPLEMENTS: the class has no public member function named as this "
                "interface method (or it is overloaded)");
  static_assert(problem != implementation_problem::not_a_member_function,
                "BSONRPC_IMPLEMENTS: the class's member named as this interface method is not a "
                "non-static member function");
  static_assert(problem != implementation_problem::wrong_parameter_count,
                "BSONRPC_IMPLEMENTS: the member takes a different number of parameters than the "
                "interface declares (not counting a leading bsonrpc::Context&)");
  static_assert(problem != implementation_problem::wrong_parameter_types,
                "BSONRPC_IMPLEMENTS: the member's parameter types differ from the interface's "
                "declaration (compared without const and &)");
  static_assert(problem != implementation_problem::wrong_result_type,
                "BSONRPC_IMPLEMENTS: the member's result type differs from the interface's "
                "declaration (compared without const and &; void for a notification)");
  if constexpr (problem != implementation_problem::none) {
    return std::tuple<>();
  } else {
    constexpr auto member = Method::template bsonrpc_member<Service>(0);
    using member_type = std::remove_const_t<decltype(member)>;
    constexpr bool takes_context = member_traits<member_type>::arity == Method::arity + 1;
    return std::make_tuple(method_spec<Service, member_type, Method::arity>{
        Method::method_name, Method::param_names, member, Method::kind, takes_context});
  }
}

template <class Service, class... Methods>
auto bind_methods(method_list<Methods...>) {
  return std::tuple_cat(bind_method<Service, Methods>()...);
}

template <class T, class = void>
struct is_interface : std::false_type {};
template <class T>
struct is_interface<T, std::void_t<typename T::bsonrpc_methods>> : std::true_type {};

template <class Service, class... Interfaces>
auto bind_interfaces() {
  static_assert((is_interface<Interfaces>::value && ...),
                "BSONRPC_IMPLEMENTS(Class, Interface...): each Interface must be declared with "
                "BSONRPC_INTERFACE");
  if constexpr ((is_interface<Interfaces>::value && ...))
    return std::tuple_cat(bind_methods<Service>(typename Interfaces::bsonrpc_methods{})...);
  else
    return std::tuple<>();
}

template <class Service, class... Methods>
constexpr bool implements_all(method_list<Methods...>) {
  return ((implementation_problem_of<Service, Methods>() == implementation_problem::none) && ...);
}

// The endpoint a stub calls through: an Rpc, a handler's Context, or any other caller.
template <class Endpoint>
class interface_client {
  static_assert(std::is_base_of_v<caller, Endpoint>,
                "Interface::client: bind the stub to a connection: an Rpc (JsonRpc<>, "
                "BsonRpc<>, ...) or a handler's bsonrpc::Context&");

 public:
  explicit interface_client(Endpoint& endpoint) : endpoint_(&endpoint) {}
  Endpoint& endpoint() const noexcept { return *endpoint_; }

 private:
  Endpoint* endpoint_;
};

// stub.method(args...): a blocking call returning the declared result, or a notification.
template <class Endpoint, class Method, class Signature = typename Method::signature>
class remote_method;

template <class Endpoint, class Method, class R, class... A>
class remote_method<Endpoint, Method, R(A...)> {
  static constexpr bool is_request = Method::kind == method_kind::request;

 public:
  explicit remote_method(Endpoint& endpoint) : endpoint_(&endpoint) {}

  // A request waits for its result (up to Options::default_timeout) and throws the peer's
  // error as Rpc::call does; a notification returns once it is queued.
  R operator()(A... args) const {
    if constexpr (is_request) return endpoint_->template call<R>(Method::method_name, args...);
    else endpoint_->notify(Method::method_name, args...);
  }

  // As operator(), waiting at most `timeout` (nullopt: forever).
  R call_for(std::optional<std::chrono::milliseconds> timeout, A... args) const {
    static_assert(is_request, "call_for: a notification has no result to wait for");
    return endpoint_->template call_for<R>(timeout, Method::method_name, args...);
  }

 private:
  Endpoint* endpoint_;
};

// stub.async_method(args..., token): completes `token` as Rpc::async_call does, with
// void(std::error_code, R) or void(std::exception_ptr, R) (use_future, use_awaitable), R
// dropped for void results and notifications.
template <class Endpoint, class Method, class Signature = typename Method::signature>
class remote_async_method;

template <class Endpoint, class Method, class R, class... A>
class remote_async_method<Endpoint, Method, R(A...)> {
  static constexpr bool is_request = Method::kind == method_kind::request;

  struct initiation {
    Endpoint* endpoint;

    template <class Handler, class... Params>
    void operator()(Handler&& handler, Params&&... params) const {
      if constexpr (is_request) {
        endpoint->template async_call<R>(Method::method_name, params...,
                                         std::forward<Handler>(handler));
      } else {
        constexpr bool by_exception = completes_by_exception_v<Handler, void>;
        std::exception_ptr failure;
        try {
          endpoint->notify(Method::method_name, params...);
        } catch (const bsonrpc::error&) {
          failure = std::current_exception();
        }
        auto ex = asio::get_associated_executor(handler, endpoint->get_executor());
        asio::post(ex, [h = std::forward<Handler>(handler),
                        f = as_failure<by_exception>(std::move(failure))]() mutable {
          h(std::move(f));
        });
      }
    }
  };

 public:
  explicit remote_async_method(Endpoint& endpoint) : endpoint_(&endpoint) {}

  template <class Token>
  auto operator()(A... args, Token&& token) const {
    return asio::async_initiate<Token, call_signature_for<Token, R>>(initiation{endpoint_}, token,
                                                          std::decay_t<A>(args)...);
  }

 private:
  Endpoint* endpoint_;
};

}  // namespace detail

/// Whether T was declared with BSONRPC_INTERFACE.
template <class T>
inline constexpr bool is_interface_v = detail::is_interface<T>::value;

/// Whether Service's members implement every method of Interface, as BSONRPC_IMPLEMENTS requires.
template <class Service, class Interface>
inline constexpr bool implements_v =
    detail::implements_all<Service>(typename Interface::bsonrpc_methods{});

}  // namespace bsonrpc

// An entry is (kind, name, signature...): the signature may hold commas (std::map<K, V>(...)).
#define BSONRPC_DETAIL_IFACE_METHOD(iface, entry) \
  BSONRPC_DETAIL_APPLY(BSONRPC_DETAIL_IFACE_METHOD_, (iface, BSONRPC_DETAIL_UNPAREN entry))
#define BSONRPC_DETAIL_IFACE_METHOD_(iface, kind, name, ...)                                    \
  struct name : ::bsonrpc::detail::interface_method<::bsonrpc::detail::method_kind::kind,      \
                                                    __VA_ARGS__> {                              \
    static constexpr ::std::string_view method_name = #name;                                    \
    static_assert(::bsonrpc::detail::read_parameter_names<arity>(#__VA_ARGS__).all_named,       \
                  "BSONRPC_CALL/BSONRPC_NOTIFY: name every parameter, as in "                   \
                  "BSONRPC_CALL(add, int(int a, int b))");                                      \
    static constexpr auto param_names =                                                         \
        ::bsonrpc::detail::read_parameter_names<arity>(#__VA_ARGS__).names;                     \
    template <class S>                                                                          \
    static constexpr auto bsonrpc_member(int) -> decltype(&S::name) {                           \
      return &S::name;                                                                          \
    }                                                                                           \
    template <class S>                                                                          \
    static constexpr ::bsonrpc::detail::no_member bsonrpc_member(long) {                        \
      return {};                                                                                \
    }                                                                                           \
  };
#define BSONRPC_DETAIL_IFACE_LIST(iface, entry) \
  BSONRPC_DETAIL_APPLY(BSONRPC_DETAIL_IFACE_LIST_, (iface, BSONRPC_DETAIL_UNPAREN entry))
#define BSONRPC_DETAIL_IFACE_LIST_(iface, kind, name, ...) , iface::name
#define BSONRPC_DETAIL_IFACE_STUB(iface, entry) \
  BSONRPC_DETAIL_APPLY(BSONRPC_DETAIL_IFACE_STUB_, (iface, BSONRPC_DETAIL_UNPAREN entry))
#define BSONRPC_DETAIL_IFACE_STUB_(iface, kind, name, ...)                                 \
  ::bsonrpc::detail::remote_method<Endpoint, iface::name> name{this->endpoint()};          \
  ::bsonrpc::detail::remote_async_method<Endpoint, iface::name> async_##name{this->endpoint()};

/// BSONRPC_CALL(name, result(parameters)): a request; parameters are named, e.g.
/// BSONRPC_CALL(add, int(int a, int b)).
#define BSONRPC_CALL(name, ...) (request, name, __VA_ARGS__)
/// BSONRPC_NOTIFY(name, void(parameters)): a notification.
#define BSONRPC_NOTIFY(name, ...) (notification, name, __VA_ARGS__)

/// BSONRPC_INTERFACE(Name, methods...): declares struct Name, holding one type per method
/// (`Name::add::result_type`, `param_types`, `param_names`, ...) and the stub
/// Name::client<Endpoint>, constructed from an Rpc or a Context: `Name::client peer(rpc);`.
/// Up to 32 methods.
#define BSONRPC_INTERFACE(Name, ...)                                                           \
  struct Name {                                                                                \
    BSONRPC_DETAIL_FOR_EACH(BSONRPC_DETAIL_IFACE_METHOD, Name, __VA_ARGS__)                    \
    using bsonrpc_methods = typename ::bsonrpc::detail::method_list<                           \
        void BSONRPC_DETAIL_FOR_EACH(BSONRPC_DETAIL_IFACE_LIST, Name, __VA_ARGS__)>::type;     \
    template <class Endpoint>                                                                  \
    class client : public ::bsonrpc::detail::interface_client<Endpoint> {                     \
     public:                                                                                   \
      explicit client(Endpoint& endpoint)                                                      \
          : ::bsonrpc::detail::interface_client<Endpoint>(endpoint) {}                         \
      BSONRPC_DETAIL_FOR_EACH(BSONRPC_DETAIL_IFACE_STUB, Name, __VA_ARGS__)                    \
    };                                                                                         \
  };

/// BSONRPC_IMPLEMENTS(Class, Interface...): registers Class as a service whose members implement
/// every method of the interfaces, checking each member's signature against its declaration.
/// Use it instead of BSONRPC_SERVICE, at namespace scope in the class's namespace.
#define BSONRPC_IMPLEMENTS(Class, ...)                                                           \
  [[maybe_unused]] inline auto bsonrpc_service_methods(::bsonrpc::detail::service_tag<Class>) { \
    return ::bsonrpc::detail::bind_interfaces<Class, __VA_ARGS__>();                            \
  }
