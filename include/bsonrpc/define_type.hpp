// bsonrpc/define_type.hpp: BSONRPC_DEFINE_TYPE, checked to_json/from_json for user structs.
#pragma once

/// @file
/// BSONRPC_DEFINE_TYPE: checked to_json/from_json for user structs.

#include <bsonrpc/codec/json.hpp>
#include <bsonrpc/detail/for_each.hpp>
#include <bsonrpc/errors.hpp>

#include <nlohmann/json.hpp>

#include <string>

namespace bsonrpc {

namespace detail {
// Names a BSONRPC_DEFINE_TYPE type to the functions the macro defines (found by ADL).
template <class T>
struct type_tag {
  using type = T;
};

// One member of a BSONRPC_DEFINE_TYPE type, read through bsonrpc's checked converters. A missing
// member is an error unless it is a std::optional.
template <class Member>
void read_json_member(const nlohmann::json& object, const char* name, Member& out) {
  const auto& members = object.get_ref<const nlohmann::json::object_t&>();
  const auto it = members.find(name);
  if (it == members.end()) {
    if constexpr (is_optional_v<Member>) {
      out.reset();
      return;
    } else {
      throw conversion_error(std::string("missing member \"") + name + '"');
    }
  }
  try {
    out = bsonrpc::from_value<Member>(it->second);
  } catch (const conversion_error& e) {
    throw conversion_error(std::string("member \"") + name + "\": " + e.what());
  }
}
}  // namespace detail

}  // namespace bsonrpc

#define BSONRPC_DETAIL_TYPE_TO_JSON(Type, member) \
  j[#member] = ::bsonrpc::to_value<::nlohmann::json>(t.member);
#define BSONRPC_DETAIL_TYPE_FROM_JSON(Type, member) \
  ::bsonrpc::detail::read_json_member(j, #member, t.member);
#define BSONRPC_DETAIL_TYPE_MEMBER(Type, member) visit(#member, &Type::member);

/// BSONRPC_DEFINE_TYPE(Type, member...): to_json/from_json for a struct, member by member, through
/// bsonrpc's own converters, for both codecs. Unlike NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE (whose
/// get_to casts 1e300 into an int, which is undefined behaviour), a number out of a member's
/// range, a wrong type or a missing member throws conversion_error naming the member: -32602
/// when the struct is a parameter. std::optional members may be missing; unknown members are
/// ignored. Write it at namespace scope, in the struct's namespace. It also names the struct and
/// its members to bsonrpc/json_schema.hpp, for the JSON Schema that rpc.discover publishes.
#define BSONRPC_DEFINE_TYPE(Type, ...)                                                  \
  [[maybe_unused]] inline void to_json(::nlohmann::json& j, const Type& t) {           \
    j = ::nlohmann::json::object();                                                   \
    BSONRPC_DETAIL_FOR_EACH(BSONRPC_DETAIL_TYPE_TO_JSON, Type, __VA_ARGS__)             \
  }                                                                                   \
  [[maybe_unused]] inline void from_json(const ::nlohmann::json& j, Type& t) {         \
    if (!j.is_object()) throw ::bsonrpc::conversion_error("expected an object");      \
    BSONRPC_DETAIL_FOR_EACH(BSONRPC_DETAIL_TYPE_FROM_JSON, Type, __VA_ARGS__)           \
  }                                                                                   \
  [[maybe_unused]] constexpr const char* bsonrpc_type_name(::bsonrpc::detail::type_tag<Type>) { \
    return #Type;                                                                     \
  }                                                                                   \
  template <class Visit>                                                              \
  void bsonrpc_type_members(::bsonrpc::detail::type_tag<Type>, Visit&& visit) {      \
    BSONRPC_DETAIL_FOR_EACH(BSONRPC_DETAIL_TYPE_MEMBER, Type, __VA_ARGS__)              \
  }
