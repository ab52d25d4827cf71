// bsonrpc/codec/codec.hpp: the Codec concept, checked; the value access it relies on, and type
// conversion.
//
// A Codec turns message values into bytes and back. It is a class of static members; V stands
// for its value_type:
//   using value_type = V;                            its dynamic value (a message is an object)
//   static constexpr std::string_view protocol_key;  "jsonrpc" or "bsonrpc": the version member
//   static constexpr bool supports_batches;          whether a top-level array is a batch
//   static V decode(std::string_view bytes, const decode_limits& limits);
//       One message (or batch) from exactly `bytes`. Throws decoding_error for bytes that are not
//       a valid encoding (a JSON-RPC Parse error), never anything else.
//   static void encode(const V& message, std::string& out);
//       Appends the encoding of `message` to `out`. Throws encoding_error.
// The library reads and builds values through a specialisation value_traits<V>, whose static
// members are:
//   bool is_null(const V&), is_string(const V&), is_integer(const V&), is_array(const V&),
//        is_object(const V&);
//   std::string_view as_string(const V&);                  precondition: is_string
//   std::int64_t as_integer(const V&);                     precondition: is_integer, fits int64
//   const V* find(const V& object, std::string_view key);  nullptr when absent
//   std::size_t size(const V&);                            elements of an array or object
//   const V& at(const V& array, std::size_t i);            a reference: messages point into it
//   template <class F> void for_each_member(const V& object, F&& f);
//       Calls f(key, member) for each member in order; key converts to std::string_view.
//   V make_null(), make_array(), make_object();
//   V make_string(std::string_view), make_integer(std::int64_t);
//   void push_back(V& array, V element);
//   void add_member(V& object, std::string_view key, V member);  appends, keeps order
//   value to_neutral(const V&);                            into bsonrpc::value, faithfully
//   V from_neutral(const value&);
// (The shipped specialisations also have is_bool and is_number; the library does not call them.)
// C++ types convert to and from V through converter<V, T> (below): a codec specialises it for the
// scalars it supports; the containers and std::optional work for every codec. Only the types a
// program passes or returns need one, so the concept cannot check them.
//
// codec_static_asserts<C> checks every member above with a static_assert of its own, so a codec
// that lacks one is told which; is_codec_v<C> is the same check as a bool. A member that exists
// with another signature is reported as missing: the message shows the signature expected.
#pragma once

#include <bsonrpc/detail/detect.hpp>
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

/// Bounds a codec's decode() enforces on incoming messages.
struct decode_limits {
  std::size_t max_depth = 128;  ///< deepest nesting of arrays and objects accepted
};

/// Read and build access to a codec's value type V; its members are listed with the Codec concept
/// at the top of codec/codec.hpp. Specialised for nlohmann::json and bsonrpc::value.
template <class V>
struct value_traits;

namespace detail::codec_ops {
// One detector for each member of the Codec concept; C is the codec, V its value_type, T is
// value_traits<V>. Each names the member as the library uses it.
template <class C>
using value_type = typename C::value_type;
// A static data member: its address is a plain pointer, not a pointer to member.
template <class C>
using protocol_key = std::enable_if_t<!std::is_member_pointer_v<decltype(&C::protocol_key)>,
                                      decltype((C::protocol_key))>;
// A static bool (checked first, so that a non-static one is not a hard error), and a constant.
template <class C>
using static_bool_supports_batches =
    std::enable_if_t<std::is_same_v<decltype(&C::supports_batches), const bool*>, C>;
template <class C>
using supports_batches = std::bool_constant<static_bool_supports_batches<C>::supports_batches>;
template <class C>
using decode =
    decltype(C::decode(std::declval<std::string_view>(), std::declval<decode_limits>()));
template <class C, class V>
using encode = decltype(C::encode(std::declval<const V&>(), std::declval<std::string&>()));

template <class V>
using traits_specialised = decltype(sizeof(value_traits<V>));
template <class V>
struct member_visitor {
  void operator()(std::string_view key, const V& member) const;
};
template <class T, class V>
using is_null = decltype(T::is_null(std::declval<const V&>()));
template <class T, class V>
using is_string = decltype(T::is_string(std::declval<const V&>()));
template <class T, class V>
using is_integer = decltype(T::is_integer(std::declval<const V&>()));
template <class T, class V>
using is_array = decltype(T::is_array(std::declval<const V&>()));
template <class T, class V>
using is_object = decltype(T::is_object(std::declval<const V&>()));
template <class T, class V>
using as_string = decltype(T::as_string(std::declval<const V&>()));
template <class T, class V>
using as_integer = decltype(T::as_integer(std::declval<const V&>()));
template <class T, class V>
using find = decltype(T::find(std::declval<const V&>(), std::declval<std::string_view>()));
template <class T, class V>
using size = decltype(T::size(std::declval<const V&>()));
template <class T, class V>
using at = decltype(T::at(std::declval<const V&>(), std::size_t{}));
template <class T, class V>
using for_each_member =
    decltype(T::for_each_member(std::declval<const V&>(), std::declval<member_visitor<V>>()));
template <class T, class V>
using make_null = decltype(T::make_null());
template <class T, class V>
using make_array = decltype(T::make_array());
template <class T, class V>
using make_object = decltype(T::make_object());
template <class T, class V>
using make_string = decltype(T::make_string(std::declval<std::string_view>()));
template <class T, class V>
using make_integer = decltype(T::make_integer(std::int64_t{}));
template <class T, class V>
using push_back = decltype(T::push_back(std::declval<V&>(), std::declval<V>()));
template <class T, class V>
using add_member = decltype(T::add_member(std::declval<V&>(), std::declval<std::string_view>(),
                                          std::declval<V>()));
template <class T, class V>
using to_neutral = decltype(T::to_neutral(std::declval<const V&>()));
template <class T, class V>
using from_neutral = decltype(T::from_neutral(std::declval<const value&>()));
}  // namespace detail::codec_ops

namespace detail {
// Each member of value_traits<V>, checked only once value_traits<V> is specialised, so that an
// unspecialised one is reported once.
template <class V>
struct value_traits_check {
  using T = value_traits<V>;
  template <template <class...> class Op, class R>
  static constexpr bool returns = is_detected_convertible_v<R, Op, T, V>;

  static constexpr bool is_specialised = is_detected_v<codec_ops::traits_specialised, V>;
  static constexpr bool has_is_null = !is_specialised || returns<codec_ops::is_null, bool>;
  static constexpr bool has_is_string = !is_specialised || returns<codec_ops::is_string, bool>;
  static constexpr bool has_is_integer = !is_specialised || returns<codec_ops::is_integer, bool>;
  static constexpr bool has_is_array = !is_specialised || returns<codec_ops::is_array, bool>;
  static constexpr bool has_is_object = !is_specialised || returns<codec_ops::is_object, bool>;
  static constexpr bool has_as_string =
      !is_specialised || returns<codec_ops::as_string, std::string_view>;
  static constexpr bool has_as_integer =
      !is_specialised || returns<codec_ops::as_integer, std::int64_t>;
  static constexpr bool has_find = !is_specialised || returns<codec_ops::find, const V*>;
  static constexpr bool has_size = !is_specialised || returns<codec_ops::size, std::size_t>;
  // A reference into the array, not a copy: classify() keeps pointers into what it is given.
  using at_result = detected_t<codec_ops::at, T, V>;
  static constexpr bool has_at =
      !is_specialised || (std::is_lvalue_reference_v<at_result> &&
                          std::is_same_v<std::remove_cv_t<std::remove_reference_t<at_result>>, V>);
  static constexpr bool has_for_each_member =
      !is_specialised || is_detected_v<codec_ops::for_each_member, T, V>;
  static constexpr bool has_make_null = !is_specialised || returns<codec_ops::make_null, V>;
  static constexpr bool has_make_array = !is_specialised || returns<codec_ops::make_array, V>;
  static constexpr bool has_make_object = !is_specialised || returns<codec_ops::make_object, V>;
  static constexpr bool has_make_string = !is_specialised || returns<codec_ops::make_string, V>;
  static constexpr bool has_make_integer = !is_specialised || returns<codec_ops::make_integer, V>;
  static constexpr bool has_push_back =
      !is_specialised || is_detected_v<codec_ops::push_back, T, V>;
  static constexpr bool has_add_member =
      !is_specialised || is_detected_v<codec_ops::add_member, T, V>;
  static constexpr bool has_to_neutral = !is_specialised || returns<codec_ops::to_neutral, value>;
  static constexpr bool has_from_neutral = !is_specialised || returns<codec_ops::from_neutral, V>;

  static constexpr bool ok =
      is_specialised && has_is_null && has_is_string && has_is_integer && has_is_array &&
      has_is_object && has_as_string && has_as_integer && has_find && has_size && has_at &&
      has_for_each_member && has_make_null && has_make_array && has_make_object &&
      has_make_string && has_make_integer && has_push_back && has_add_member && has_to_neutral &&
      has_from_neutral;
};

// Each member of the Codec concept. Those whose signature names value_type are checked only
// once value_type is there, so that a missing value_type is reported once.
template <class C>
struct codec_check {
  using V = detected_t<codec_ops::value_type, C>;
  static constexpr bool has_value_type = is_detected_v<codec_ops::value_type, C>;
  static constexpr bool has_protocol_key =
      is_detected_convertible_v<std::string_view, codec_ops::protocol_key, C>;
  static constexpr bool has_supports_batches = is_detected_v<codec_ops::supports_batches, C>;
  static constexpr bool has_decode =
      !has_value_type || is_detected_convertible_v<V, codec_ops::decode, C>;
  static constexpr bool has_encode = !has_value_type || is_detected_v<codec_ops::encode, C, V>;
  using traits = value_traits_check<V>;
  static constexpr bool has_value_traits = !has_value_type || traits::is_specialised;

  static constexpr bool ok = has_value_type && has_protocol_key && has_supports_batches &&
                             has_decode && has_encode && traits::ok;
};
}  // namespace detail

/// Whether C models the Codec concept, value_traits<C::value_type> included. Ask it where
/// value_traits<C::value_type> is already specialised: the answer is fixed at the first question.
template <class C>
struct is_codec : std::bool_constant<detail::codec_check<C>::ok> {};
/// is_codec<C>::value.
template <class C>
inline constexpr bool is_codec_v = is_codec<C>::value;

/// Instantiating codec_static_asserts<C> checks C against the Codec concept, one static_assert per
/// member, each naming the member and its signature:
///   static_assert(sizeof(codec_static_asserts<C>));
/// Each missing member fails exactly one of them, and nothing else fails.
template <class C>
struct codec_static_asserts {
 private:
  using check = detail::codec_check<C>;
  // Its members pass unchecked while it is not specialised (and while value_type is missing).
  using traits = typename check::traits;

  static_assert(check::has_value_type, "Codec: missing `using value_type = ...;`");
  static_assert(check::has_protocol_key,
                "Codec: missing `static constexpr std::string_view protocol_key`");
  static_assert(check::has_supports_batches,
                "Codec: missing `static constexpr bool supports_batches`");
  static_assert(check::has_decode,
                "Codec: missing `static value_type decode(std::string_view bytes, const "
                "decode_limits& limits)`");
  static_assert(check::has_encode,
                "Codec: missing `static void encode(const value_type& message, std::string& out)`");
  static_assert(check::has_value_traits,
                "Codec: value_traits<value_type> is not specialised (declare the specialisation "
                "before the codec is used; its members are listed in bsonrpc/codec/codec.hpp)");
  static_assert(traits::has_is_null,
                "Codec: value_traits<V> is missing `static bool is_null(const V&)`");
  static_assert(traits::has_is_string,
                "Codec: value_traits<V> is missing `static bool is_string(const V&)`");
  static_assert(traits::has_is_integer,
                "Codec: value_traits<V> is missing `static bool is_integer(const V&)`");
  static_assert(traits::has_is_array,
                "Codec: value_traits<V> is missing `static bool is_array(const V&)`");
  static_assert(traits::has_is_object,
                "Codec: value_traits<V> is missing `static bool is_object(const V&)`");
  static_assert(traits::has_as_string,
                "Codec: value_traits<V> is missing `static std::string_view as_string(const V&)`");
  static_assert(traits::has_as_integer,
                "Codec: value_traits<V> is missing `static std::int64_t as_integer(const V&)`");
  static_assert(traits::has_find,
                "Codec: value_traits<V> is missing `static const V* find(const V& object, "
                "std::string_view key)`");
  static_assert(traits::has_size,
                "Codec: value_traits<V> is missing `static std::size_t size(const V&)`");
  static_assert(traits::has_at,
                "Codec: value_traits<V> is missing `static const V& at(const V& array, "
                "std::size_t i)` (returning a reference, not a copy)");
  static_assert(traits::has_for_each_member,
                "Codec: value_traits<V> is missing `template <class F> static void "
                "for_each_member(const V& object, F&& f)` calling f(std::string_view, const V&)");
  static_assert(traits::has_make_null,
                "Codec: value_traits<V> is missing `static V make_null()`");
  static_assert(traits::has_make_array,
                "Codec: value_traits<V> is missing `static V make_array()`");
  static_assert(traits::has_make_object,
                "Codec: value_traits<V> is missing `static V make_object()`");
  static_assert(traits::has_make_string,
                "Codec: value_traits<V> is missing `static V make_string(std::string_view)`");
  static_assert(traits::has_make_integer,
                "Codec: value_traits<V> is missing `static V make_integer(std::int64_t)`");
  static_assert(traits::has_push_back,
                "Codec: value_traits<V> is missing `static void push_back(V& array, V element)`");
  static_assert(traits::has_add_member,
                "Codec: value_traits<V> is missing `static void add_member(V& object, "
                "std::string_view key, V member)`");
  static_assert(traits::has_to_neutral,
                "Codec: value_traits<V> is missing `static bsonrpc::value to_neutral(const V&)`");
  static_assert(traits::has_from_neutral,
                "Codec: value_traits<V> is missing `static V from_neutral(const bsonrpc::value&)`");
};

/// Thrown when a value does not convert to the requested C++ type (a -32602 when it is a param).
class conversion_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// converter<V, T> converts between a codec's value type V and the C++ type T:
///
///     static V to_value(const T&);        throws encoding_error if T cannot be represented
///     static T from_value(const V&);      throws conversion_error on a wrong type or range
///
/// Codecs specialise it for scalars; the containers below work for every codec. A converter
/// may add to_value(T&&) and from_value(V&&): to_value and from_value pass rvalues on, so a
/// large string result moves into or out of a value instead of being copied.
template <class V, class T, class Enable = void>
struct converter;

/// `t` as the value type V, through converter<V, T>.
template <class V, class T>
V to_value(T&& t) {
  return converter<V, std::decay_t<T>>::to_value(std::forward<T>(t));
}

/// `v` as the C++ type T, through converter<V, T>.
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

/// The value type itself passes unchanged.
template <class V>
struct converter<V, V> {
  /// @name Identity
  /// @{

  /// Returns (copies or moves) its argument.
  static V to_value(const V& v) { return v; }
  static V to_value(V&& v) { return std::move(v); }
  static V from_value(const V& v) { return v; }
  static V from_value(V&& v) { return std::move(v); }
  /// @}
};

/// std::vector<T> <-> array (codecs may specialise particular element types, e.g. BSON bytes).
/// From an rvalue array, the elements are moved out (at() gives const access to an array that
/// is not const).
template <class V, class T, class A>
struct converter<V, std::vector<T, A>, std::enable_if_t<!std::is_same_v<V, std::vector<T, A>>>> {
  using traits = value_traits<V>;  ///< how V is read and built
  /// `items` as an array, each element converted.
  static V to_value(const std::vector<T, A>& items) {
    V out = traits::make_array();
    for (const auto& item : items) traits::push_back(out, bsonrpc::to_value<V>(item));
    return out;
  }
  /// As above, moving each element.
  static V to_value(std::vector<T, A>&& items) {
    V out = traits::make_array();
    for (auto& item : items) traits::push_back(out, bsonrpc::to_value<V>(std::move(item)));
    return out;
  }
  /// An array's elements, each converted; throws conversion_error for anything else.
  static std::vector<T, A> from_value(const V& v) { return read(v, false); }
  /// As above, moving the elements out.
  static std::vector<T, A> from_value(V&& v) { return read(v, true); }

 private:
  static std::vector<T, A> read(const V& v, bool move_elements) {
    if (!traits::is_array(v)) throw conversion_error("expected an array");
    std::vector<T, A> out;
    const std::size_t n = traits::size(v);
    out.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
      if (move_elements)
        out.push_back(bsonrpc::from_value<T>(std::move(const_cast<V&>(traits::at(v, i)))));
      else
        out.push_back(bsonrpc::from_value<T>(traits::at(v, i)));
    }
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

/// std::optional<T>: nullopt <-> null.
template <class V, class T>
struct converter<V, std::optional<T>> {
  using traits = value_traits<V>;  ///< how V is read and built
  /// The contained value converted, or null.
  static V to_value(const std::optional<T>& o) {
    return o ? bsonrpc::to_value<V>(*o) : traits::make_null();
  }
  /// As above, moving the contained value.
  static V to_value(std::optional<T>&& o) {
    return o ? bsonrpc::to_value<V>(std::move(*o)) : traits::make_null();
  }
  /// nullopt for null, else the value converted to T.
  static std::optional<T> from_value(const V& v) {
    if (traits::is_null(v)) return std::nullopt;
    return bsonrpc::from_value<T>(v);
  }
  /// As above, moving the value.
  static std::optional<T> from_value(V&& v) {
    if (traits::is_null(v)) return std::nullopt;
    return bsonrpc::from_value<T>(std::move(v));
  }
};

/// std::tuple and std::pair <-> array of exactly that many elements.
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
