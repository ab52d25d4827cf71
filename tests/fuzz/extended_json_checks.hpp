// Extended JSON properties shared by fuzz_codec_bson and fuzz_extended_json.
#pragma once

#include "check.hpp"

#include <bsonrpc/extended_json.hpp>
#include <bsonrpc/value.hpp>

namespace bsonrpc_fuzz {

// Whether a document anywhere in `v` has a key starting with '$': Extended JSON cannot always
// express those (a document {"$oid": 1} reads back as a malformed ObjectId wrapper).
inline bool has_dollar_key(const bsonrpc::value& v) {
  if (const auto* d = v.get_if<bsonrpc::document>()) {
    for (const auto& [key, member] : *d)
      if ((!key.empty() && key[0] == '$') || has_dollar_key(member)) return true;
  } else if (const auto* a = v.get_if<bsonrpc::array>()) {
    for (const auto& element : *a)
      if (has_dollar_key(element)) return true;
  } else if (const auto* js = v.get_if<bsonrpc::javascript_with_scope>()) {
    return has_dollar_key(bsonrpc::value(js->scope));
  }
  return false;
}

// `v`'s Extended JSON, in both modes, reads back to a value with the same Extended JSON.
template <class Json>
void check_extended_json_stable(const bsonrpc::value& v) {
  for (const auto mode :
       {bsonrpc::extended_json_mode::canonical, bsonrpc::extended_json_mode::relaxed}) {
    const Json once = bsonrpc::to_extended_json<Json>(v, mode);
    const Json twice = bsonrpc::to_extended_json<Json>(bsonrpc::from_extended_json(once), mode);
    check(once == twice);
  }
}

}  // namespace bsonrpc_fuzz
