// bsonrpc/codec/codec.hpp: the Codec concept, the value access it relies on, and type conversion.
//
// A Codec turns message values into bytes and back.
//   using value_type = ...;                         its dynamic value (a message is an object)
//   static constexpr std::string_view protocol_key; "jsonrpc" or "bsonrpc": the version member
//   static constexpr bool supports_batches;         whether a top-level array is a batch
//   static value_type decode(std::string_view bytes, const decode_limits& limits);
//       One message (or batch) from exactly `bytes`. Throws decoding_error for bytes that are not
//       a valid encoding (a JSON-RPC Parse error), never anything else.
//   static void encode(const value_type& message, std::string& out);
//       Appends the encoding of `message` to `out`. Throws encoding_error.
// The library reads and builds values through value_traits<value_type>, and converts C++
// types to and from them through converter<value_type, T>; a codec specialises both.
#pragma once

#include <bsonrpc/errors.hpp>
#include <bsonrpc/value.hpp>

#include <cstddef>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

namespace bsonrpc {

struct decode_limits {
  std::size_t max_depth = 128;  // deepest nesting of arrays and objects accepted
};

// Generic read/build access to a codec's value type. A specialisation provides:
//   static bool is_null(const V&), is_bool, is_string, is_integer, is_number, is_array, is_object;
//   static std::string_view as_string(const V&);           precondition: is_string
//   static std::int64_t as_integer(const V&);              precondition: is_integer, fits int64
//   static const V* find(const V& object, std::string_view key);  nullptr when absent
//   static std::size_t size(const V&);                    elements of an array or object
//   static const V& at(const V& array, std::size_t i);
//   template <class F> static void for_each_member(const V& object, F&& f);  f(key, value)
//   static V make_null(), make_array(), make_object();
//   static V make_string(std::string_view), make_integer(std::int64_t);
//   static void push_back(V& array, V element);
//   static void add_member(V& object, std::string_view key, V member);  appends, keeps order
//   static value to_neutral(const V&);          into bsonrpc::value, as faithfully as possible
//   static V from_neutral(const value&);
template <class V>
struct value_traits;

// Thrown when a value does not convert to the requested C++ type (a -32602 when it is a param).
class conversion_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// converter<V, T> converts between a codec's value type V and the C++ type T:
//   static V to_value(const T&);        throws encoding_error if T cannot be represented
//   static T from_value(const V&);      throws conversion_error on a wrong type or range
// Codecs specialise it for scalars; the containers below work for every codec. A converter
// may add to_value(T&&) and from_value(V&&): to_value and from_value pass rvalues on, so a
// large string result moves into or out of a value instead of being copied.
template <class V, class T, class Enable = void>
struct converter;

template <class V, class T>
V to_value(T&& t) {
  return converter<V, std::decay_t<T>>::to_value(std::forward<T>(t));
}

template <class T, class V>
T from_value(V&& v) {
  return converter<std::decay_t<V>, T>::from_value(std::forward<V>(v));
}

namespace detail {
template <class T>
struct is_optional : std::false_type {};
template <class T>
struct is_optional<std::optional<T>> : std::true_type {};
template <class T>
inline constexpr bool is_optional_v = is_optional<T>::value;

template <class T>
struct is_tuple_like : std::false_type {};
template <class... T>
struct is_tuple_like<std::tuple<T...>> : std::true_type {};
template <class A, class B>
struct is_tuple_like<std::pair<A, B>> : std::true_type {};

template <class V, class Tuple, std::size_t... I>
Tuple tuple_from_array(const V& v, std::index_sequence<I...>) {
  using traits = value_traits<V>;
  return Tuple{from_value<std::tuple_element_t<I, Tuple>>(traits::at(v, I))...};
}
}  // namespace detail

template <class V>
struct converter<V, V> {
  static V to_value(const V& v) { return v; }
  static V from_value(const V& v) { return v; }
};

// std::vector<T> <-> array (codecs may specialise particular element types, e.g. BSON bytes).
template <class V, class T, class A>
struct converter<V, std::vector<T, A>, std::enable_if_t<!std::is_same_v<V, std::vector<T, A>>>> {
  using traits = value_traits<V>;
  static V to_value(const std::vector<T, A>& items) {
    V out = traits::make_array();
    for (const auto& item : items) traits::push_back(out, bsonrpc::to_value<V>(item));
    return out;
  }
  static std::vector<T, A> from_value(const V& v) {
    if (!traits::is_array(v)) throw conversion_error("expected an array");
    std::vector<T, A> out;
    const std::size_t n = traits::size(v);
    out.reserve(n);
    for (std::size_t i = 0; i < n; ++i) out.push_back(bsonrpc::from_value<T>(traits::at(v, i)));
    return out;
  }
};

namespace detail {
template <class V, class Map>
struct map_converter {
  using traits = value_traits<V>;
  static V to_value(const Map& map) {
    V out = traits::make_object();
    for (const auto& [key, item] : map) traits::add_member(out, key, bsonrpc::to_value<V>(item));
    return out;
  }
  static Map from_value(const V& v) {
    if (!traits::is_object(v)) throw conversion_error("expected an object");
    Map out;
    traits::for_each_member(v, [&](std::string_view key, const V& item) {
      out.insert_or_assign(std::string(key),
                           bsonrpc::from_value<typename Map::mapped_type>(item));
    });
    return out;
  }
};
}  // namespace detail

template <class V, class T, class C, class A>
struct converter<V, std::map<std::string, T, C, A>>
    : detail::map_converter<V, std::map<std::string, T, C, A>> {};

template <class V, class T, class H, class E, class A>
struct converter<V, std::unordered_map<std::string, T, H, E, A>>
    : detail::map_converter<V, std::unordered_map<std::string, T, H, E, A>> {};

// std::optional<T>: nullopt <-> null.
template <class V, class T>
struct converter<V, std::optional<T>> {
  using traits = value_traits<V>;
  static V to_value(const std::optional<T>& o) {
    return o ? bsonrpc::to_value<V>(*o) : traits::make_null();
  }
  static std::optional<T> from_value(const V& v) {
    if (traits::is_null(v)) return std::nullopt;
    return bsonrpc::from_value<T>(v);
  }
};

// std::tuple and std::pair <-> array of exactly that many elements.
template <class V, class T>
struct converter<V, T, std::enable_if_t<detail::is_tuple_like<T>::value>> {
  using traits = value_traits<V>;
  static V to_value(const T& t) {
    V out = traits::make_array();
    std::apply([&](const auto&... e) { (traits::push_back(out, bsonrpc::to_value<V>(e)), ...); },
               t);
    return out;
  }
  static T from_value(const V& v) {
    constexpr std::size_t n = std::tuple_size_v<T>;
    if (!traits::is_array(v) || traits::size(v) != n)
      throw conversion_error("expected an array of " + std::to_string(n) + " elements");
    return detail::tuple_from_array<V, T>(v, std::make_index_sequence<n>{});
  }
};

namespace detail {
// Range-checked integer conversion shared by the codecs' converters.
template <class T>
T checked_integer(std::int64_t i) {
  if constexpr (std::is_same_v<T, bool>) {
    static_assert(!std::is_same_v<T, bool>, "bool is not an integer here");
  } else if constexpr (std::is_signed_v<T>) {
    if (i < static_cast<std::int64_t>(std::numeric_limits<T>::min()) ||
        i > static_cast<std::int64_t>(std::numeric_limits<T>::max()))
      throw conversion_error("integer " + std::to_string(i) + " is out of range");
  } else {
    if (i < 0 || static_cast<std::uint64_t>(i) > std::numeric_limits<T>::max())
      throw conversion_error("integer " + std::to_string(i) + " is out of range");
  }
  return static_cast<T>(i);
}
}  // namespace detail

}  // namespace bsonrpc
