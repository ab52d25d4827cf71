// bsonrpc/any_value.hpp: any_value, a parameter or result of any type that passes through
// unchanged in the codec it arrived in: nlohmann::json on a JSON-RPC connection,
// bsonrpc::value on a BSON-RPC one. An echo handler taking and returning any_value returns
// byte-identical values on both.
#pragma once

#include <bsonrpc/codec/bson.hpp>
#include <bsonrpc/codec/json.hpp>
#include <bsonrpc/extended_json.hpp>
#include <bsonrpc/value.hpp>

#include <nlohmann/json.hpp>

#include <utility>
#include <variant>

namespace bsonrpc {

/// A parameter or result of any type, passed through unchanged in the codec it arrived in:
/// nlohmann::json on a JSON-RPC connection, bsonrpc::value on a BSON-RPC one.
class any_value {
 public:
  /// A null bsonrpc::value.
  any_value() = default;
  /// Holds JSON, as a JSON-RPC peer sent it.
  explicit any_value(nlohmann::json j) : data_(std::move(j)) {}
  /// Holds a bsonrpc::value, as a BSON-RPC peer sent it.
  explicit any_value(value v) : data_(std::move(v)) {}

  /// The value as it arrived from a JSON-RPC peer, or nullptr.
  const nlohmann::json* if_json() const noexcept { return std::get_if<nlohmann::json>(&data_); }
  /// The value as it arrived from a BSON-RPC peer, or nullptr.
  const value* if_bson() const noexcept { return std::get_if<value>(&data_); }

  /// As a bsonrpc::value (JSON input goes through extended JSON).
  value to_value() const {
    if (const auto* v = if_bson()) return *v;
    return from_extended_json(std::get<nlohmann::json>(data_));
  }
  /// As JSON (BSON input as relaxed extended JSON).
  nlohmann::json to_json() const {
    if (const auto* j = if_json()) return *j;
    return to_extended_json(std::get<value>(data_));
  }

 private:
  std::variant<value, nlohmann::json> data_;
};

/// any_value in the JSON codec: JSON passes unchanged, a bsonrpc::value as relaxed extended JSON.
template <>
struct converter<nlohmann::json, any_value> {
  /// `a` as JSON (any_value::to_json()).
  static nlohmann::json to_value(const any_value& a) { return a.to_json(); }
  /// Holds `j` unchanged.
  static any_value from_value(const nlohmann::json& j) { return any_value(j); }
};

/// any_value in the BSON codec: a bsonrpc::value passes unchanged, JSON through extended JSON.
template <>
struct converter<value, any_value> {
  /// `a` as a bsonrpc::value (any_value::to_value()).
  static value to_value(const any_value& a) { return a.to_value(); }
  /// Holds `v` unchanged.
  static any_value from_value(const value& v) { return any_value(v); }
};

}  // namespace bsonrpc
