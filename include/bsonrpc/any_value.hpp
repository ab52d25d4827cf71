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

class any_value {
 public:
  any_value() = default;
  explicit any_value(nlohmann::json j) : data_(std::move(j)) {}
  explicit any_value(value v) : data_(std::move(v)) {}

  // The value as it arrived from a JSON-RPC peer, or nullptr.
  const nlohmann::json* if_json() const noexcept { return std::get_if<nlohmann::json>(&data_); }
  // The value as it arrived from a BSON-RPC peer, or nullptr.
  const value* if_bson() const noexcept { return std::get_if<value>(&data_); }

  // As a bsonrpc::value (JSON input goes through extended JSON).
  value to_value() const {
    if (const auto* v = if_bson()) return *v;
    return from_extended_json(std::get<nlohmann::json>(data_));
  }
  // As JSON (BSON input as relaxed extended JSON).
  nlohmann::json to_json() const {
    if (const auto* j = if_json()) return *j;
    return to_extended_json(std::get<value>(data_));
  }

 private:
  std::variant<value, nlohmann::json> data_;
};

template <>
struct converter<nlohmann::json, any_value> {
  static nlohmann::json to_value(const any_value& a) { return a.to_json(); }
  static any_value from_value(const nlohmann::json& j) { return any_value(j); }
};

template <>
struct converter<value, any_value> {
  static value to_value(const any_value& a) { return a.to_value(); }
  static any_value from_value(const value& v) { return any_value(v); }
};

}  // namespace bsonrpc
