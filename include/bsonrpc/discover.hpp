// bsonrpc/discover.hpp: self-description. A connection whose Options::discover is set answers
// the request rpc.discover with an OpenRPC 1.2.6 document (https://spec.open-rpc.org) generated
// from the methods registered on it, at the time of the call:
//
//   {"openrpc": "1.2.6",
//    "info": {"title": ..., "version": ..., "description": ...},
//    "methods": [
//      {"name": "rpc.discover", ...},                 as the OpenRPC specification words it
//      {"name": "add", "paramStructure": "either",
//       "params": [{"name": "a", "required": true, "schema": {"type": "integer", ...}}, ...],
//       "result": {"name": "result", "schema": {...}}},
//      ...],
//    "components": {"schemas": {"point": {...}}}}       the structs the schemas refer to
//
// - Methods are listed by name; parameter names are those the registration lists
//   (BSONRPC_REQUEST(add, a, b), add_request(..., {"a", "b"})), and their schemas come from
//   the C++ types (bsonrpc/json_schema.hpp).
// - A std::optional parameter is "required": false only when every parameter after it is
//   optional too (OpenRPC puts optional params last; positionally, only trailing ones may be
//   left out); its schema admits null either way.
// - A handler taking one BSONRPC_DEFINE_TYPE struct as the whole params object lists the
//   struct's members as its params, "paramStructure": "by-name". One taking the whole params as
//   another type lists one param, "params", "by-position" (the array holding it alone).
// - Notifications are listed too. OpenRPC 1.2.6 has no notion of them and requires a result,
//   so theirs is {"name": "notification", "schema": {"not": {}}} (no value: none is ever sent)
//   and the method carries the extension "x-notification": true. A name registered both as a
//   request and as a notification is listed once, as the request.
#pragma once

/// @file
/// Self-description: Options::discover and the OpenRPC document rpc.discover answers.

#include <string>
#include <string_view>
#include <utility>

namespace bsonrpc {

/// The request a connection with Options::discover answers with its OpenRPC document.
inline constexpr std::string_view discover_method = "rpc.discover";

/// The OpenRPC version of that document.
inline constexpr std::string_view openrpc_version = "1.2.6";

/// The OpenRPC document's `info`: who describes themselves. Both defaults are placeholders.
/// Constructors rather than an aggregate, so that `discover_info{"name", "1.0.0"}` leaves the
/// description out without a -Wmissing-field-initializers warning.
struct discover_info {
  /// The placeholders: "bsonrpc service", "0.0.0", no description.
  discover_info() = default;
  /// `title`, `version` and `description` as given.
  explicit discover_info(std::string title, std::string version = "0.0.0",
                         std::string description = {})
      : title(std::move(title)), version(std::move(version)), description(std::move(description)) {}

  std::string title = "bsonrpc service";  ///< info.title: the API's name
  std::string version = "0.0.0";          ///< info.version: the API's (not bsonrpc's) version
  std::string description;                ///< info.description; omitted when empty
};

}  // namespace bsonrpc
