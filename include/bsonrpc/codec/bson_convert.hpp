// bsonrpc/codec/bson_convert.hpp: value_traits and converters for bsonrpc::value, the BSON
// codec's value type. Pure C++ (no libbson), so any code holding a bsonrpc::value can use them.
//
// Conversions keep BSON types exact:
//   bool                  <-> bool (never an integer)
//   signed integers       ->  int32 up to 32 bits wide, int64 when 64 bits wide
//   unsigned integers     ->  the smaller of int32/int64 that holds the value (beyond int64:
//                             encoding_error)
//   integers              <-  int32 or int64, range-checked (a double is not an integer)
//   float, double         <-> double (int32 and int64 are accepted when reading)
//   std::string           <-> string (std::string_view and const char* write only)
//   std::vector<uint8_t>  <-> binary (subtype 0 written, any subtype read)
//   system_clock::time_point <-> datetime (millisecond precision, rounded down)
//   std::nullptr_t        <-> null;  every alternative of value (binary, object_id, ...) as is
//   nlohmann::json        <-> value through Extended JSON (see extended_json.hpp)
//   any other type with nlohmann to_json/from_json (found by ADL) goes through nlohmann::json
//   and Extended JSON, so a to_json that writes {"$oid": "..."} produces an ObjectId.
// The containers of codec.hpp (vector, map, optional, tuple, pair) work on top of these.
#pragma once

#include <bsonrpc/codec/codec.hpp>
#include <bsonrpc/errors.hpp>
#include <bsonrpc/extended_json.hpp>
#include <bsonrpc/value.hpp>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <limits>
#include <map>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

namespace bsonrpc {

namespace detail {
template <class T, class Variant>
struct bson_alternative_index;
template <class T, class... Ts>
struct bson_alternative_index<T, std::variant<Ts...>> {
  static constexpr std::size_t value = [] {
    std::size_t index = 0;
    bool found = false;
    ((found = found || std::is_same_v<T, Ts>, index += found ? 0 : 1), ...);
    return index;
  }();
};

// True for the types value holds directly (std::string, document, binary, ...).
template <class T>
inline constexpr bool is_bson_alternative_v =
    bson_alternative_index<T, value::storage>::value < std::variant_size_v<value::storage>;

inline constexpr const char* bson_type_names[] = {
    "null",     "bool",       "int32",     "int64",      "double",
    "string",   "document",   "array",     "binary",     "datetime",
    "objectId", "decimal128", "timestamp", "regex",      "minKey",
    "maxKey",   "undefined",  "symbol",    "javascript", "javascriptWithScope",
    "dbPointer"};
static_assert(std::size(bson_type_names) == std::variant_size_v<value::storage>);

[[noreturn]] inline void throw_bson_type_mismatch(const char* expected, const value& got) {
  throw conversion_error(std::string("expected ") + expected + ", got " +
                         bson_type_names[got.variant().index()]);
}

template <class T>
const T& bson_get(const value& v) {
  if (const T* p = v.get_if<T>()) return *p;
  throw_bson_type_mismatch(bson_type_names[bson_alternative_index<T, value::storage>::value], v);
}

// Reads a value held exactly as T (one of value's alternatives); from an rvalue, moves it out.
template <class T>
struct bson_alternative_converter {
  static value to_value(const T& t) { return value(t); }
  static value to_value(T&& t) { return value(std::move(t)); }
  static T from_value(const value& v) { return bson_get<T>(v); }
  static T from_value(value&& v) {
    if (auto* p = std::get_if<T>(&v.variant())) return std::move(*p);
    return bson_get<T>(v);
  }
};
}  // namespace detail

/// Value access for bsonrpc::value, the BSON codec's value type.
template <>
struct value_traits<value> {
  /// @name The members the Codec concept requires (see codec/codec.hpp)
  /// @{

  /// As the Codec concept describes them; to_neutral and from_neutral are the identity.
  using V = value;
  static bool is_null(const V& v) { return v.is_null(); }
  static bool is_bool(const V& v) { return v.is<bool>(); }
  static bool is_string(const V& v) { return v.is_string(); }
  static bool is_integer(const V& v) { return v.is_integer(); }
  static bool is_number(const V& v) { return v.is_integer() || v.is<double>(); }
  static bool is_array(const V& v) { return v.is_array(); }
  static bool is_object(const V& v) { return v.is_document(); }
  static std::string_view as_string(const V& v) { return v.get<std::string>(); }
  static std::int64_t as_integer(const V& v) {
    if (const auto* i = v.get_if<std::int32_t>()) return *i;
    return v.get<std::int64_t>();
  }
  static const V* find(const V& object, std::string_view key) { return object.find(key); }
  static std::size_t size(const V& v) {
    if (const auto* a = v.get_if<array>()) return a->size();
    if (const auto* d = v.get_if<document>()) return d->size();
    return 0;
  }
  static const V& at(const V& a, std::size_t i) { return a.get<array>()[i]; }
  template <class F>
  static void for_each_member(const V& object, F&& f) {
    for (const auto& [key, member] : object.get<document>()) f(std::string_view(key), member);
  }
  static V make_null() { return V(); }
  static V make_array() { return V(array{}); }
  static V make_object() { return V(document{}); }
  static V make_string(std::string_view s) { return V(std::string(s)); }
  static V make_integer(std::int64_t i) {
    if (i >= std::numeric_limits<std::int32_t>::min() &&
        i <= std::numeric_limits<std::int32_t>::max())
      return V(static_cast<std::int32_t>(i));
    return V(i);
  }
  static void push_back(V& a, V element) { a.get<array>().push_back(std::move(element)); }
  static void add_member(V& object, std::string_view key, V member) {
    object.get<document>().emplace_back(std::string(key), std::move(member));
  }
  static value to_neutral(const V& v) { return v; }
  static V from_neutral(const value& v) { return v; }
  /// @}
};

/// bool <-> BSON boolean.
template <>
struct converter<value, bool> {
  /// `b` as a BSON boolean.
  static value to_value(bool b) { return value(b); }
  /// A BSON boolean; throws conversion_error, naming the type found, for anything else.
  static bool from_value(const value& v) { return detail::bson_get<bool>(v); }
};

/// Every integer width <-> BSON int32 or int64, range-checked both ways.
template <class T>
struct converter<value, T, std::enable_if_t<std::is_integral_v<T> && !std::is_same_v<T, bool>>> {
  /// `i` as an int32 (signed types of 32 bits or less, unsigned values up to INT32_MAX), else
  /// an int64; throws encoding_error for an unsigned value above INT64_MAX.
  static value to_value(T i) {
    if constexpr (std::is_signed_v<T>) {
      if constexpr (sizeof(T) <= sizeof(std::int32_t))
        return value(static_cast<std::int32_t>(i));
      else
        return value(static_cast<std::int64_t>(i));
    } else {
      const auto u = static_cast<std::uint64_t>(i);
      if (u <= static_cast<std::uint64_t>(std::numeric_limits<std::int32_t>::max()))
        return value(static_cast<std::int32_t>(u));
      if (u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
        throw encoding_error("integer " + std::to_string(u) + " does not fit a BSON int64");
      return value(static_cast<std::int64_t>(u));
    }
  }
  /// An int32 or int64 that fits T; throws conversion_error otherwise.
  static T from_value(const value& v) {
    if (const auto* i = v.get_if<std::int32_t>()) return detail::checked_integer<T>(*i);
    if (const auto* i = v.get_if<std::int64_t>()) return detail::checked_integer<T>(*i);
    detail::throw_bson_type_mismatch("an integer", v);
  }
};

/// float, double, long double <-> BSON double.
template <class T>
struct converter<value, T, std::enable_if_t<std::is_floating_point_v<T>>> {
  /// `d` as a BSON double; throws encoding_error for a finite value a double cannot hold.
  static value to_value(T d) {
    const auto out = static_cast<double>(d);
    if (std::isfinite(d) && !std::isfinite(out))
      throw encoding_error("floating-point value out of the range of a BSON double");
    return value(out);
  }
  /// A double, int32 or int64 within T's range; throws conversion_error otherwise.
  static T from_value(const value& v) {
    double d = 0;
    if (const auto* x = v.get_if<double>())
      d = *x;
    else if (const auto* i = v.get_if<std::int32_t>())
      d = static_cast<double>(*i);
    else if (const auto* l = v.get_if<std::int64_t>())
      d = static_cast<double>(*l);
    else
      detail::throw_bson_type_mismatch("a number", v);
    if (std::isfinite(d) && std::abs(d) > static_cast<double>(std::numeric_limits<T>::max()))
      throw conversion_error("number " + std::to_string(d) + " is out of range");
    return static_cast<T>(d);
  }
};

/// std::string <-> BSON string.
template <>
struct converter<value, std::string> {
  /// `s` as a BSON string.
  static value to_value(const std::string& s) { return value(s); }
  /// `s` moved into a BSON string.
  static value to_value(std::string&& s) { return value(std::move(s)); }
  /// A BSON string; throws conversion_error, naming the type found, for anything else.
  static std::string from_value(const value& v) { return detail::bson_get<std::string>(v); }
  /// A BSON string, moved out; throws conversion_error for anything else.
  static std::string from_value(value&& v) {
    if (v.is_string()) return std::move(v.get<std::string>());
    return from_value(std::as_const(v));
  }
};

/// std::string_view -> BSON string (arguments only: a view cannot be decoded into).
template <>
struct converter<value, std::string_view> {
  /// `s` copied into a BSON string.
  static value to_value(std::string_view s) { return value(std::string(s)); }
};

/// const char* -> BSON string (arguments only).
template <>
struct converter<value, const char*> {
  /// `s` copied into a BSON string.
  static value to_value(const char* s) { return value(std::string(s)); }
};

/// std::nullptr_t <-> BSON null.
template <>
struct converter<value, std::nullptr_t> {
  /// BSON null.
  static value to_value(std::nullptr_t) { return value(); }
  /// nullptr for BSON null; throws conversion_error for anything else.
  static std::nullptr_t from_value(const value& v) {
    detail::bson_get<std::nullptr_t>(v);
    return nullptr;
  }
};

/// Bytes are BSON binary (subtype 0), not an array of integers. Rvalues move.
template <>
struct converter<value, std::vector<std::uint8_t>> {
  /// `bytes` as BSON binary, subtype 0.
  static value to_value(const std::vector<std::uint8_t>& bytes) { return value(binary{0, bytes}); }
  /// `bytes` moved into BSON binary, subtype 0.
  static value to_value(std::vector<std::uint8_t>&& bytes) {
    return value(binary{0, std::move(bytes)});
  }
  /// The bytes of BSON binary of any subtype; throws conversion_error for anything else.
  static std::vector<std::uint8_t> from_value(const value& v) {
    return detail::bson_get<binary>(v).bytes;
  }
  /// As above, moving the bytes out.
  static std::vector<std::uint8_t> from_value(value&& v) {
    if (auto* b = std::get_if<binary>(&v.variant())) return std::move(b->bytes);
    return from_value(std::as_const(v));
  }
};

/// std::chrono::system_clock::time_point <-> BSON datetime (millisecond precision).
template <>
struct converter<value, std::chrono::system_clock::time_point> {
  using time_point = std::chrono::system_clock::time_point;  ///< the C++ type converted
  /// `t` as a BSON datetime, rounded down to the millisecond.
  static value to_value(time_point t) {
    const auto ms = std::chrono::floor<std::chrono::milliseconds>(t.time_since_epoch());
    return value(datetime{static_cast<std::int64_t>(ms.count())});
  }
  /// A BSON datetime; throws conversion_error for another type or one out of time_point's range.
  static time_point from_value(const value& v) {
    using std::chrono::milliseconds;
    const std::int64_t ms = detail::bson_get<datetime>(v).milliseconds;
    constexpr auto max_ms =
        std::chrono::duration_cast<milliseconds>(time_point::duration::max()).count();
    constexpr auto min_ms =
        std::chrono::duration_cast<milliseconds>(time_point::duration::min()).count();
    if (ms > max_ms || ms < min_ms)
      throw conversion_error("datetime " + std::to_string(ms) +
                             " ms is out of the range of system_clock::time_point");
    return time_point(std::chrono::duration_cast<time_point::duration>(milliseconds(ms)));
  }
};

template <>
struct converter<value, document> : detail::bson_alternative_converter<document> {};
template <>
struct converter<value, array> : detail::bson_alternative_converter<array> {};
template <>
struct converter<value, binary> : detail::bson_alternative_converter<binary> {};
template <>
struct converter<value, datetime> : detail::bson_alternative_converter<datetime> {};
template <>
struct converter<value, object_id> : detail::bson_alternative_converter<object_id> {};
template <>
struct converter<value, decimal128> : detail::bson_alternative_converter<decimal128> {};
template <>
struct converter<value, timestamp> : detail::bson_alternative_converter<timestamp> {};
template <>
struct converter<value, regex> : detail::bson_alternative_converter<regex> {};
template <>
struct converter<value, min_key> : detail::bson_alternative_converter<min_key> {};
template <>
struct converter<value, max_key> : detail::bson_alternative_converter<max_key> {};
template <>
struct converter<value, undefined> : detail::bson_alternative_converter<undefined> {};
template <>
struct converter<value, symbol> : detail::bson_alternative_converter<symbol> {};
template <>
struct converter<value, javascript> : detail::bson_alternative_converter<javascript> {};
template <>
struct converter<value, javascript_with_scope>
    : detail::bson_alternative_converter<javascript_with_scope> {};
template <>
struct converter<value, db_pointer> : detail::bson_alternative_converter<db_pointer> {};

/// nlohmann::json <-> bsonrpc::value through Extended JSON, so a BSON codec program can take
/// and return JSON.
template <>
struct converter<value, nlohmann::json> {
  /// The value that `j`, read as Extended JSON, describes; throws encoding_error if it
  /// describes none (see from_extended_json).
  static value to_value(const nlohmann::json& j) {
    try {
      return from_extended_json(j);
    } catch (const conversion_error& e) {
      throw encoding_error(e.what());
    }
  }
  /// `v` as relaxed Extended JSON.
  static nlohmann::json from_value(const value& v) { return to_extended_json(v); }
};

namespace detail {
template <class T>
struct bson_is_std_vector : std::false_type {};
template <class T, class A>
struct bson_is_std_vector<std::vector<T, A>> : std::true_type {};
template <class T>
struct bson_is_string_map : std::false_type {};
template <class T, class C, class A>
struct bson_is_string_map<std::map<std::string, T, C, A>> : std::true_type {};
template <class T, class H, class E, class A>
struct bson_is_string_map<std::unordered_map<std::string, T, H, E, A>> : std::true_type {};

// Types with a converter of their own above or in codec.hpp: never sent through nlohmann.
template <class T>
inline constexpr bool bson_has_builtin_converter_v =
    std::is_arithmetic_v<T> || is_bson_alternative_v<T> || std::is_same_v<T, value> ||
    std::is_same_v<T, std::string_view> || std::is_same_v<T, const char*> ||
    std::is_same_v<T, nlohmann::json> || std::is_same_v<T, std::chrono::system_clock::time_point> ||
    bson_is_std_vector<T>::value || bson_is_string_map<T>::value || is_optional_v<T> ||
    is_tuple_like<T>::value;

template <class T, class = void>
struct bson_has_to_json : std::false_type {};
template <class T>
struct bson_has_to_json<
    T, std::void_t<decltype(std::declval<nlohmann::json&>() = std::declval<const T&>())>>
    : std::true_type {};

template <class T, class = void>
struct bson_has_from_json : std::false_type {};
template <class T>
struct bson_has_from_json<
    T, std::void_t<decltype(std::declval<const nlohmann::json&>().template get<T>())>>
    : std::true_type {};

template <class T>
inline constexpr bool bson_uses_nlohmann_v =
    !bson_has_builtin_converter_v<T> &&
    (bson_has_to_json<T>::value || bson_has_from_json<T>::value);
}  // namespace detail

// User types with nlohmann to_json/from_json, through nlohmann::json and Extended JSON.
template <class T>
struct converter<value, T, std::enable_if_t<detail::bson_uses_nlohmann_v<T>>> {
  static value to_value(const T& t) {
    nlohmann::json j;
    try {
      j = t;
    } catch (const nlohmann::json::exception& e) {
      throw encoding_error(e.what());
    }
    return converter<value, nlohmann::json>::to_value(j);
  }
  static T from_value(const value& v) {
    const nlohmann::json j = to_extended_json(v);
    try {
      return j.get<T>();
    } catch (const nlohmann::json::exception& e) {
      throw conversion_error(e.what());
    }
  }
};

}  // namespace bsonrpc
