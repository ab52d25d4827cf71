// bsonrpc/json_schema.hpp: the JSON Schema (draft-07) of a C++ type, as a codec carries it.
// rpc.discover (bsonrpc/discover.hpp) describes every parameter and result with it.
//
//   bool                          {"type": "boolean"}
//   int8_t ... uint64_t, char     {"type": "integer", "minimum": min, "maximum": max}
//   float, double                 {"type": "number"}
//   std::string, string_view      {"type": "string"}
//   void, std::nullptr_t          {"type": "null"}
//   std::optional<T>              {"anyOf": [T, {"type": "null"}]}  (nullopt travels as null)
//   std::vector<T>                {"type": "array", "items": T}
//   std::map<std::string, T>      {"type": "object", "additionalProperties": T}
//   std::tuple, std::pair         {"type": "array", "items": [T1, T2, ...], exactly that long}
//   BSONRPC_DEFINE_TYPE structs   {"$ref": ".../Name"}, defined once in schema_definitions as
//                                 {"type": "object", "properties", "required"}: every member
//                                 but the std::optional ones is required
//   nlohmann::json, bsonrpc::value, bsonrpc::any_value, and types with only their own
//   to_json/from_json             {} (any value)
// For the BSON codec (V = bsonrpc::value), std::vector<std::uint8_t> and bsonrpc::binary are
// BSON binary and std::chrono::system_clock::time_point and bsonrpc::datetime are BSON
// datetimes: their schemas are the Extended JSON v2 shapes {"$binary": {"base64", "subType"}}
// and {"$date": ...}, which is how they read when the BSON is seen as JSON (to_extended_json).
// Structs are referenced rather than inlined so that a recursive struct (a tree node holding a
// std::vector of nodes) has a finite schema, and a struct used by many methods is written once.
#pragma once

/// @file
/// json_schema<T, V>(): the JSON Schema of a C++ type as codec value type V carries it.

#include <bsonrpc/codec/codec.hpp>
#include <bsonrpc/codec/json.hpp>
#include <bsonrpc/define_type.hpp>
#include <bsonrpc/value.hpp>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace bsonrpc {

/// The named schemas that the schemas of one document refer to with "$ref": one per
/// BSONRPC_DEFINE_TYPE struct, named after it.
class schema_definitions {
 public:
  /// `ref_prefix` precedes a definition's name in each "$ref": "#/components/schemas/" in an
  /// OpenRPC document, "#/definitions/" (the default) in a JSON Schema of its own.
  explicit schema_definitions(std::string ref_prefix = "#/definitions/")
      : prefix_(std::move(ref_prefix)) {}

  /// The definitions by name, a JSON object (empty when no struct was met).
  const nlohmann::json& schemas() const noexcept { return schemas_; }

  /// {"$ref": ...} to the definition of T, named after `type_name`, which `build()` makes the
  /// first time T is met. A name already taken by another type gets a suffix ("-2", ...).
  template <class T, class Build>
  nlohmann::json reference(std::string_view type_name, Build&& build) {
    const void* id = &type_id<T>::tag;
    for (const auto& known : names_)
      if (known.first == id) return ref(known.second);
    std::string name = unique(sanitised(type_name));
    names_.emplace_back(id, name);
    // A placeholder first: a member of T's own type, met while building, refers to it.
    schemas_[name] = nlohmann::json::object();
    nlohmann::json schema = build();
    schemas_[name] = std::move(schema);
    return ref(name);
  }

 private:
  template <class T>
  struct type_id {
    static constexpr char tag = 0;
  };

  nlohmann::json ref(const std::string& name) const { return {{"$ref", prefix_ + name}}; }

  // OpenRPC component names match ^[a-zA-Z0-9\.\-_]+$: "ns::point" becomes "ns.point".
  static std::string sanitised(std::string_view name) {
    std::string out;
    for (std::size_t i = 0; i < name.size(); ++i) {
      const char c = name[i];
      const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                         (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';
      if (plain) out += c;
      else if (c == ':' && i + 1 < name.size() && name[i + 1] == ':') out += '.', ++i;
      else if (c != ' ') out += '_';
    }
    return out.empty() ? "type" : out;
  }

  std::string unique(const std::string& name) const {
    std::string candidate = name;
    for (int n = 2; schemas_.contains(candidate); ++n) candidate = name + "-" + std::to_string(n);
    return candidate;
  }

  std::string prefix_;
  nlohmann::json schemas_ = nlohmann::json::object();
  std::vector<std::pair<const void*, std::string>> names_;
};

namespace detail {

template <class T, class = void>
struct has_described_members : std::false_type {};
template <class T>
struct has_described_members<T, std::void_t<decltype(bsonrpc_type_name(type_tag<T>{}))>>
    : std::true_type {};

template <class T>
nlohmann::json integer_schema() {
  nlohmann::json s = {{"type", "integer"}};
  if constexpr (std::is_signed_v<T>) {
    s["minimum"] = static_cast<std::int64_t>(std::numeric_limits<T>::min());
    s["maximum"] = static_cast<std::int64_t>(std::numeric_limits<T>::max());
  } else {
    s["minimum"] = 0;
    s["maximum"] = static_cast<std::uint64_t>(std::numeric_limits<T>::max());
  }
  return s;
}

inline nlohmann::json nullable(nlohmann::json schema) {
  if (schema.empty()) return schema;  // any value includes null already
  return {{"anyOf", nlohmann::json::array({std::move(schema), {{"type", "null"}}})}};
}

inline nlohmann::json bson_binary_schema() {
  return {{"type", "object"},
          {"description", "BSON binary, as Extended JSON v2"},
          {"properties",
           {{"$binary",
             {{"type", "object"},
              {"properties",
               {{"base64", {{"type", "string"}, {"contentEncoding", "base64"}}},
                {"subType", {{"type", "string"}, {"pattern", "^[0-9a-fA-F]{1,2}$"}}}}},
              {"required", {"base64", "subType"}}}}}},
          {"required", {"$binary"}}};
}

inline nlohmann::json bson_datetime_schema() {
  return {{"type", "object"},
          {"description", "BSON datetime, as Extended JSON v2"},
          {"properties", {{"$date", nlohmann::json::object()}}},
          {"required", {"$date"}}};
}

template <class T, class V>
nlohmann::json schema_of(schema_definitions& definitions);

template <class T, class V>
nlohmann::json struct_schema(schema_definitions& definitions) {
  nlohmann::json properties = nlohmann::json::object();
  nlohmann::json required = nlohmann::json::array();
  bsonrpc_type_members(type_tag<T>{}, [&](const char* name, auto member) {
    using M = std::remove_cv_t<std::remove_reference_t<decltype(std::declval<T&>().*member)>>;
    properties[name] = schema_of<M, V>(definitions);
    if (!is_optional_v<M>) required.push_back(name);
  });
  nlohmann::json schema = {{"type", "object"}, {"properties", std::move(properties)}};
  if (!required.empty()) schema["required"] = std::move(required);
  return schema;
}

template <class Tuple, class V, std::size_t... I>
nlohmann::json tuple_schema(schema_definitions& definitions, std::index_sequence<I...>) {
  nlohmann::json items = nlohmann::json::array();
  (items.push_back(schema_of<std::tuple_element_t<I, Tuple>, V>(definitions)), ...);
  return {{"type", "array"},
          {"items", std::move(items)},
          {"minItems", sizeof...(I)},
          {"maxItems", sizeof...(I)}};
}

template <class T, class V>
nlohmann::json schema_of(schema_definitions& definitions) {
  using U = std::remove_cv_t<std::remove_reference_t<T>>;
  constexpr bool bson = std::is_same_v<V, value>;
  if constexpr (std::is_void_v<U> || std::is_same_v<U, std::nullptr_t>) {
    return {{"type", "null"}};
  } else if constexpr (std::is_same_v<U, bool>) {
    return {{"type", "boolean"}};
  } else if constexpr (std::is_integral_v<U>) {
    return integer_schema<U>();
  } else if constexpr (std::is_floating_point_v<U>) {
    return {{"type", "number"}};
  } else if constexpr (std::is_same_v<U, std::string> || std::is_same_v<U, std::string_view> ||
                       std::is_same_v<U, const char*>) {
    return {{"type", "string"}};
  } else if constexpr (is_optional_v<U>) {
    return nullable(schema_of<typename U::value_type, V>(definitions));
  } else if constexpr (bson && (std::is_same_v<U, std::vector<std::uint8_t>> ||
                                std::is_same_v<U, binary>)) {
    return bson_binary_schema();
  } else if constexpr (bson && (std::is_same_v<U, std::chrono::system_clock::time_point> ||
                                std::is_same_v<U, datetime>)) {
    return bson_datetime_schema();
  } else if constexpr (is_vector<U>::value) {
    return {{"type", "array"}, {"items", schema_of<typename U::value_type, V>(definitions)}};
  } else if constexpr (is_string_map<U>::value) {
    return {{"type", "object"},
            {"additionalProperties", schema_of<typename U::mapped_type, V>(definitions)}};
  } else if constexpr (is_tuple_like<U>::value) {
    return tuple_schema<U, V>(definitions, std::make_index_sequence<std::tuple_size_v<U>>{});
  } else if constexpr (has_described_members<U>::value) {
    return definitions.reference<U>(bsonrpc_type_name(type_tag<U>{}),
                                    [&] { return struct_schema<U, V>(definitions); });
  } else {
    return nlohmann::json::object();  // any value: dynamic values, types bsonrpc cannot see into
  }
}

}  // namespace detail

/// The JSON Schema of T as the codec whose value type is V carries it (the table at the top of
/// bsonrpc/json_schema.hpp); BSONRPC_DEFINE_TYPE structs are "$ref"s into `definitions`.
template <class T, class V = nlohmann::json>
nlohmann::json json_schema(schema_definitions& definitions) {
  return detail::schema_of<T, V>(definitions);
}

/// As above, as one standalone schema: the definitions it refers to, if any, in its
/// "definitions" member.
template <class T, class V = nlohmann::json>
nlohmann::json json_schema() {
  schema_definitions definitions;
  nlohmann::json schema = json_schema<T, V>(definitions);
  if (definitions.schemas().empty()) return schema;
  if (schema.contains("$ref")) schema = {{"allOf", nlohmann::json::array({std::move(schema)})}};
  schema["definitions"] = definitions.schemas();
  return schema;
}

}  // namespace bsonrpc
