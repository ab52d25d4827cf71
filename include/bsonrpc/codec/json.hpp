// bsonrpc/codec/json.hpp: JsonCodec, JSON-RPC 2.0 messages as JSON text through nlohmann_json.
//
// Output is compact; input keys may come in any order; strings must be valid UTF-8 (anything
// else is a parse error). Nesting deeper than decode_limits::max_depth is refused. The fast
// reader and writer of detail/json_text.hpp handle the common case; nlohmann's parser and
// serializer decide everything else, so the accepted language and the error messages are
// nlohmann's.
#pragma once

#include <bsonrpc/codec/codec.hpp>
#include <bsonrpc/detail/json_text.hpp>
#include <bsonrpc/errors.hpp>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <type_traits>

namespace bsonrpc {

namespace detail {
// Deepest array/object nesting in a JSON text, counted outside strings; stops early past `limit`.
inline std::size_t json_nesting_depth(std::string_view text, std::size_t limit) {
  std::size_t depth = 0;
  std::size_t deepest = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
      continue;
    }
    switch (c) {
      case '"': in_string = true; break;
      case '[':
      case '{':
        if (++depth > deepest) {
          deepest = depth;
          if (deepest > limit) return deepest;
        }
        break;
      case ']':
      case '}':
        if (depth > 0) --depth;
        break;
      default: break;
    }
  }
  return deepest;
}
}  // namespace detail

/// The JSON-RPC 2.0 codec: messages as compact JSON text, through nlohmann_json. Input must be
/// valid UTF-8, nested no deeper than decode_limits::max_depth.
struct JsonCodec {
  using value_type = nlohmann::json;                          ///< messages are nlohmann::json
  static constexpr std::string_view protocol_key = "jsonrpc";  ///< the version member's name
  static constexpr bool supports_batches = true;              ///< a top-level array is a batch

  /// The message (or batch) in exactly `bytes`. Throws decoding_error for text that is not one
  /// JSON value, is not UTF-8, or nests deeper than `limits.max_depth` (a Parse error).
  static value_type decode(std::string_view bytes, const decode_limits& limits = {}) {
    value_type decoded;
    if (detail::json_reader(bytes, limits.max_depth).read(decoded)) return decoded;
    // Declined: nlohmann's parser, which does not recurse, after a linear depth check.
    if (detail::json_nesting_depth(bytes, limits.max_depth) > limits.max_depth)
      throw decoding_error("JSON nesting deeper than " + std::to_string(limits.max_depth));
    try {
      return value_type::parse(bytes.begin(), bytes.end());
    } catch (const nlohmann::json::exception& e) {
      throw decoding_error(e.what());
    }
  }

  /// Appends `message` as compact JSON to `out`. Throws encoding_error (e.g. for a string that is
  /// not valid UTF-8), leaving `out` as it was.
  static void encode(const value_type& message, std::string& out) {
    const std::size_t start = out.size();
    if (detail::json_writer::write(message, out)) return;
    out.resize(start);
    // Declined (invalid UTF-8, a binary or discarded value): nlohmann's public dump, compact,
    // whose strict handler throws type_error 316 on invalid UTF-8; `out` keeps what it held.
    try {
      out += message.dump(-1, ' ', false, nlohmann::json::error_handler_t::strict);
    } catch (const nlohmann::json::exception& e) {
      throw encoding_error(e.what());
    }
  }
};

/// Value access for nlohmann::json, the JSON codec's value type.
template <>
struct value_traits<nlohmann::json> {
  /// @name The members the Codec concept requires (see codec/codec.hpp)
  /// @{

  /// As the Codec concept describes them; to_neutral and from_neutral go through extended JSON.
  using V = nlohmann::json;
  static bool is_null(const V& v) { return v.is_null(); }
  static bool is_bool(const V& v) { return v.is_boolean(); }
  static bool is_string(const V& v) { return v.is_string(); }
  static bool is_integer(const V& v) { return v.is_number_integer(); }
  static bool is_number(const V& v) { return v.is_number(); }
  static bool is_array(const V& v) { return v.is_array(); }
  static bool is_object(const V& v) { return v.is_object(); }
  static std::string_view as_string(const V& v) { return v.get_ref<const std::string&>(); }
  static std::int64_t as_integer(const V& v) { return v.get<std::int64_t>(); }
  static const V* find(const V& object, std::string_view key) {
    const auto& members = object.get_ref<const V::object_t&>();
    auto it = members.find(key);
    return it == members.end() ? nullptr : &it->second;
  }
  static std::size_t size(const V& v) { return v.size(); }
  static const V& at(const V& array, std::size_t i) { return array[i]; }
  template <class F>
  static void for_each_member(const V& object, F&& f) {
    for (const auto& [key, member] : object.get_ref<const V::object_t&>()) f(key, member);
  }
  static V make_null() { return V(); }
  static V make_array() { return V::array(); }
  static V make_object() { return V::object(); }
  static V make_string(std::string_view s) { return V(s); }
  static V make_integer(std::int64_t i) { return V(i); }
  static void push_back(V& array, V element) { array.push_back(std::move(element)); }
  static void add_member(V& object, std::string_view key, V member) {
    object.emplace(key, std::move(member));
  }
  static value to_neutral(const V& v);
  static V from_neutral(const value& v);
  /// @}
};

/// bool <-> JSON true and false.
template <>
struct converter<nlohmann::json, bool> {
  /// `b` as JSON.
  static nlohmann::json to_value(bool b) { return b; }
  /// A JSON boolean; throws conversion_error for anything else.
  static bool from_value(const nlohmann::json& v) {
    if (!v.is_boolean()) throw conversion_error("expected a boolean");
    return v.get<bool>();
  }
};

/// Every integer width, range-checked both ways: an out-of-range number never wraps silently.
template <class T>
struct converter<nlohmann::json, T,
                 std::enable_if_t<std::is_integral_v<T> && !std::is_same_v<T, bool>>> {
  /// `i` as a JSON integer.
  static nlohmann::json to_value(T i) { return i; }
  /// A JSON integer that fits T; throws conversion_error otherwise.
  static T from_value(const nlohmann::json& v) {
    if (v.is_number_unsigned()) {
      const auto u = v.get<std::uint64_t>();
      if (u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
        if constexpr (std::is_same_v<T, std::uint64_t> || std::is_same_v<T, unsigned long long>)
          return static_cast<T>(u);
        else
          throw conversion_error("integer " + std::to_string(u) + " is out of range");
      }
      return detail::checked_integer<T>(static_cast<std::int64_t>(u));
    }
    if (v.is_number_integer()) return detail::checked_integer<T>(v.get<std::int64_t>());
    throw conversion_error("expected an integer");
  }
};

/// float, double, long double <-> JSON number.
template <class T>
struct converter<nlohmann::json, T, std::enable_if_t<std::is_floating_point_v<T>>> {
  /// `d` as a JSON number.
  static nlohmann::json to_value(T d) { return d; }
  /// Any JSON number, integers included; throws conversion_error for anything else.
  static T from_value(const nlohmann::json& v) {
    if (!v.is_number()) throw conversion_error("expected a number");
    return v.get<T>();
  }
};

/// std::string <-> JSON string.
template <>
struct converter<nlohmann::json, std::string> {
  /// `s` as a JSON string.
  static nlohmann::json to_value(const std::string& s) { return s; }
  /// `s` moved into a JSON string.
  static nlohmann::json to_value(std::string&& s) { return std::move(s); }
  /// A JSON string; throws conversion_error for anything else.
  static std::string from_value(const nlohmann::json& v) {
    if (!v.is_string()) throw conversion_error("expected a string");
    return v.get<std::string>();
  }
  /// A JSON string, moved out; throws conversion_error for anything else.
  static std::string from_value(nlohmann::json&& v) {
    if (!v.is_string()) throw conversion_error("expected a string");
    return std::move(*v.get_ptr<std::string*>());
  }
};

/// std::string_view -> JSON string (arguments only: a view cannot be decoded into).
template <>
struct converter<nlohmann::json, std::string_view> {
  /// `s` copied into a JSON string.
  static nlohmann::json to_value(std::string_view s) { return s; }
};

/// const char* -> JSON string (arguments only).
template <>
struct converter<nlohmann::json, const char*> {
  /// `s` copied into a JSON string.
  static nlohmann::json to_value(const char* s) { return s; }
};

/// std::nullptr_t <-> JSON null.
template <>
struct converter<nlohmann::json, std::nullptr_t> {
  /// JSON null.
  static nlohmann::json to_value(std::nullptr_t) { return nullptr; }
  /// nullptr for JSON null; throws conversion_error for anything else.
  static std::nullptr_t from_value(const nlohmann::json& v) {
    if (!v.is_null()) throw conversion_error("expected null");
    return nullptr;
  }
};

namespace detail {
template <class T, class = void>
struct has_json_adl : std::false_type {};
template <class T>
struct has_json_adl<T, std::void_t<decltype(std::declval<nlohmann::json&>() = std::declval<const T&>()),
                                   decltype(std::declval<const nlohmann::json&>().get<T>())>>
    : std::true_type {};

template <class T>
struct is_vector : std::false_type {};
template <class T, class A>
struct is_vector<std::vector<T, A>> : std::true_type {};
template <class T>
struct is_string_map : std::false_type {};
template <class T, class C, class A>
struct is_string_map<std::map<std::string, T, C, A>> : std::true_type {};
template <class T, class H, class E, class A>
struct is_string_map<std::unordered_map<std::string, T, H, E, A>> : std::true_type {};

// Types converted by a dedicated converter rather than through nlohmann's to_json/from_json.
template <class T>
inline constexpr bool has_builtin_converter_v =
    std::is_arithmetic_v<T> || std::is_same_v<T, std::string> ||
    std::is_same_v<T, std::string_view> || std::is_same_v<T, const char*> ||
    std::is_same_v<T, std::nullptr_t> || std::is_same_v<T, nlohmann::json> ||
    std::is_same_v<T, value> || is_vector<T>::value || is_string_map<T>::value ||
    is_optional_v<T> || is_tuple_like<T>::value;
}  // namespace detail

/// User types with nlohmann's to_json/from_json (found by ADL).
template <class T>
struct converter<nlohmann::json, T,
                 std::enable_if_t<!detail::has_builtin_converter_v<T> && detail::has_json_adl<T>::value>> {
  /// `t` through its to_json.
  static nlohmann::json to_value(const T& t) { return t; }
  /// A T through its from_json; what that throws becomes conversion_error.
  static T from_value(const nlohmann::json& v) {
    try {
      return v.get<T>();
    } catch (const nlohmann::json::exception& e) {
      throw conversion_error(e.what());
    }
  }
};

}  // namespace bsonrpc

#include <bsonrpc/extended_json.hpp>

namespace bsonrpc {
inline value value_traits<nlohmann::json>::to_neutral(const nlohmann::json& v) {
  return from_extended_json(v);
}
inline nlohmann::json value_traits<nlohmann::json>::from_neutral(const value& v) {
  return to_extended_json(v);
}
}  // namespace bsonrpc
