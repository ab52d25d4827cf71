// bsonrpc/detail/detect.hpp: the detection idiom (std::experimental::is_detected) that the
// policy checks in codec/codec.hpp and framing/framing.hpp are written with.
#pragma once

#include <type_traits>

namespace bsonrpc::detail {

// What detected_t names when the operation is ill-formed: convertible to and from nothing.
struct nonesuch {
  nonesuch() = delete;
  ~nonesuch() = delete;
  nonesuch(const nonesuch&) = delete;
  void operator=(const nonesuch&) = delete;
};

template <class AlwaysVoid, template <class...> class Op, class... Args>
struct detector {
  using value_t = std::false_type;
  using type = nonesuch;
};
template <template <class...> class Op, class... Args>
struct detector<std::void_t<Op<Args...>>, Op, Args...> {
  using value_t = std::true_type;
  using type = Op<Args...>;
};

// Whether Op<Args...> is well-formed. As a type, naming it instantiates nothing, so it can sit
// in std::conjunction behind a check that Op needs (see framing.hpp's static members).
template <template <class...> class Op, class... Args>
struct is_detected : detector<void, Op, Args...>::value_t {};
template <template <class...> class Op, class... Args>
inline constexpr bool is_detected_v = is_detected<Op, Args...>::value;

// Op<Args...>, or nonesuch when it is ill-formed.
template <template <class...> class Op, class... Args>
using detected_t = typename detector<void, Op, Args...>::type;

// Whether Op<Args...> is well-formed and converts to To (a result the caller can use as a To).
template <class To, template <class...> class Op, class... Args>
inline constexpr bool is_detected_convertible_v =
    std::is_convertible_v<detected_t<Op, Args...>, To>;

// Whether Op<Args...> is well-formed and is exactly Exact.
template <class Exact, template <class...> class Op, class... Args>
inline constexpr bool is_detected_exact_v = std::is_same_v<detected_t<Op, Args...>, Exact>;

}  // namespace bsonrpc::detail
