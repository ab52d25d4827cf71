// bsonrpc/extended_json.hpp: bsonrpc::value to and from MongoDB Extended JSON v2.
//
// to_extended_json writes relaxed Extended JSON by default: int32, int64 and finite doubles as
// plain JSON numbers, dates of years 1970-9999 as ISO-8601 strings; canonical mode wraps every
// number and date so that the BSON type survives. from_extended_json reads both forms (and the
// legacy {"$binary": ..., "$type": ...}, {"$regex": ..., "$options": ...} and $uuid forms;
// regular expression flags are sorted, as canonical BSON wants them);
// plain JSON numbers become int32 when they fit, else int64, and an integer beyond int64 is a
// conversion_error (never a silently rounded double); other numbers become doubles.
//
// Both work with any nlohmann::basic_json: nlohmann::json sorts object keys (so documents come
// out sorted), nlohmann::ordered_json keeps BSON's order. A document's duplicate keys keep the
// first occurrence, as value::find does.
//
// Why not libbson's Extended JSON: it converts text to and from a whole document, where this
// converts tree to tree for any basic_json, scalars included, with no BSON bytes or text between.
#pragma once

#include <bsonrpc/codec/codec.hpp>
#include <bsonrpc/detail/decimal128.hpp>
#include <bsonrpc/detail/extended_json_text.hpp>
#include <bsonrpc/value.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <string>
#include <string_view>
#include <variant>

namespace bsonrpc {

/// Which form of Extended JSON to_extended_json writes.
enum class extended_json_mode {
  relaxed,   ///< numbers and recent dates as plain JSON: readable, the BSON type may be lost
  canonical  ///< every number and date wrapped ({"$numberInt": "1"}): the BSON type survives
};

namespace detail::extjson {

template <class Json>
Json wrap(std::string key, Json inner) {
  Json out = Json::object();
  out.emplace(std::move(key), std::move(inner));
  return out;
}

template <class Json>
class writer {
 public:
  explicit writer(extended_json_mode mode) : relaxed_(mode == extended_json_mode::relaxed) {}

  Json write(const value& v) const {
    return std::visit([this](const auto& alternative) { return this->convert(alternative); },
                      v.variant());
  }

 private:
  Json convert(std::nullptr_t) const { return nullptr; }
  Json convert(bool b) const { return b; }
  Json convert(std::int32_t i) const {
    return relaxed_ ? Json(i) : wrap<Json>("$numberInt", std::to_string(i));
  }
  Json convert(std::int64_t i) const {
    return relaxed_ ? Json(i) : wrap<Json>("$numberLong", std::to_string(i));
  }
  Json convert(double d) const {
    if (std::isnan(d)) return wrap<Json>("$numberDouble", "NaN");
    if (std::isinf(d)) return wrap<Json>("$numberDouble", d > 0 ? "Infinity" : "-Infinity");
    // nlohmann prints the shortest text that reads back to the same double, always with a
    // '.' or an exponent ("1.0", "-0.0", "1e+300").
    return relaxed_ ? Json(d) : wrap<Json>("$numberDouble", Json(d).dump());
  }
  Json convert(const std::string& s) const { return s; }
  Json convert(const document& d) const {
    Json out = Json::object();
    for (const auto& [key, member] : d) {
      if (out.find(key) == out.end()) out.emplace(key, write(member));
    }
    return out;
  }
  Json convert(const array& a) const {
    Json out = Json::array();
    for (const auto& element : a) out.push_back(write(element));
    return out;
  }
  Json convert(const binary& b) const {
    std::string subtype;
    append_hex(subtype, b.subtype);
    Json inner = Json::object();
    inner.emplace("base64", base64_encode(b.bytes));
    inner.emplace("subType", std::move(subtype));
    return wrap<Json>("$binary", std::move(inner));
  }
  Json convert(datetime d) const {
    constexpr std::int64_t year_10000 = 253402300800000;
    if (relaxed_ && d.milliseconds >= 0 && d.milliseconds < year_10000)
      return wrap<Json>("$date", format_iso8601(d.milliseconds));
    return wrap<Json>("$date", wrap<Json>("$numberLong", std::to_string(d.milliseconds)));
  }
  Json convert(const object_id& id) const {
    return wrap<Json>("$oid", to_hex(id.bytes.data(), id.bytes.size()));
  }
  Json convert(decimal128 d) const { return wrap<Json>("$numberDecimal", decimal::to_string(d)); }
  Json convert(timestamp t) const {
    Json inner = Json::object();
    inner.emplace("t", t.seconds);
    inner.emplace("i", t.increment);
    return wrap<Json>("$timestamp", std::move(inner));
  }
  Json convert(const regex& r) const {
    Json inner = Json::object();
    inner.emplace("pattern", r.pattern);
    inner.emplace("options", r.options);
    return wrap<Json>("$regularExpression", std::move(inner));
  }
  Json convert(min_key) const { return wrap<Json>("$minKey", 1); }
  Json convert(max_key) const { return wrap<Json>("$maxKey", 1); }
  Json convert(undefined) const { return wrap<Json>("$undefined", true); }
  Json convert(const symbol& s) const { return wrap<Json>("$symbol", s.text); }
  Json convert(const javascript& js) const { return wrap<Json>("$code", js.code); }
  Json convert(const javascript_with_scope& js) const {
    Json out = wrap<Json>("$code", js.code);
    out.emplace("$scope", convert(js.scope));
    return out;
  }
  Json convert(const db_pointer& p) const {
    Json inner = Json::object();
    inner.emplace("$ref", p.collection);
    inner.emplace("$id", convert(p.id));
    return wrap<Json>("$dbPointer", std::move(inner));
  }

  bool relaxed_;
};

// Keys that make an object a type wrapper: such an object must be exactly that wrapper.
inline bool is_wrapper_key(std::string_view key) {
  constexpr std::string_view keys[] = {
      "$oid",       "$symbol", "$numberInt", "$numberLong", "$numberDouble", "$numberDecimal",
      "$binary",    "$uuid",   "$code",      "$scope",      "$timestamp",    "$regularExpression",
      "$dbPointer", "$date",   "$minKey",    "$maxKey",     "$undefined"};
  for (const auto k : keys)
    if (k == key) return true;
  return false;
}

[[noreturn]] inline void malformed(std::string_view what) {
  throw conversion_error("malformed Extended JSON " + std::string(what));
}

template <class Json>
void expect_members(const Json& object, std::string_view what,
                    std::initializer_list<const char*> keys) {
  if (!object.is_object() || object.size() != keys.size()) malformed(what);
  for (const char* key : keys)
    if (!object.contains(key)) malformed(what);
}

template <class Json>
const std::string& string_member(const Json& object, const char* key, std::string_view what) {
  const Json& member = object.at(key);
  if (!member.is_string()) malformed(what);
  return member.template get_ref<const std::string&>();
}

template <class Integer>
Integer parse_integer(const std::string& text, std::string_view what) {
  Integer out{};
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, out);
  if (text.empty() || ec != std::errc() || ptr != end) malformed(what);
  return out;
}

template <class Json>
double parse_double(const std::string& text) {
  if (text == "Infinity") return std::numeric_limits<double>::infinity();
  if (text == "-Infinity") return -std::numeric_limits<double>::infinity();
  if (text == "NaN") return std::numeric_limits<double>::quiet_NaN();
  // JSON number syntax only; nlohmann reads it locale-independently and exactly.
  std::size_t i = text.size() > 0 && text[0] == '-' ? 1 : 0;
  const auto digits = [&] {
    const std::size_t start = i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
    return i > start;
  };
  bool integral = true;
  if (!digits()) malformed("$numberDouble");
  if (i < text.size() && text[i] == '.') {
    ++i;
    integral = false;
    if (!digits()) malformed("$numberDouble");
  }
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    integral = false;
    if (i < text.size() && (text[i] == '+' || text[i] == '-')) ++i;
    if (!digits()) malformed("$numberDouble");
  }
  if (i != text.size()) malformed("$numberDouble");
  double d = 0;
  try {
    d = Json::parse(integral ? text + ".0" : text).template get<double>();
  } catch (const nlohmann::json::exception&) {  // e.g. a leading zero
    malformed("$numberDouble");
  }
  if (!std::isfinite(d)) malformed("$numberDouble (out of range)");
  return d;
}

inline bool has_nul(std::string_view s) { return s.find('\0') != std::string_view::npos; }

template <class Json>
class reader {
 public:
  value read(const Json& j) const {
    switch (j.type()) {
      case nlohmann::json::value_t::null:
        return nullptr;
      case nlohmann::json::value_t::boolean:
        return j.template get<bool>();
      case nlohmann::json::value_t::string:
        return j.template get_ref<const std::string&>();
      case nlohmann::json::value_t::number_integer:
        return integer(j.template get<std::int64_t>());
      case nlohmann::json::value_t::number_unsigned: {
        const auto u = j.template get<std::uint64_t>();
        if (u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
          throw conversion_error("integer " + std::to_string(u) + " does not fit a BSON int64");
        return integer(static_cast<std::int64_t>(u));
      }
      case nlohmann::json::value_t::number_float:
        return j.template get<double>();
      case nlohmann::json::value_t::array: {
        array out;
        out.reserve(j.size());
        for (const auto& element : j) out.push_back(read(element));
        return out;
      }
      case nlohmann::json::value_t::object:
        return read_object(j);
      case nlohmann::json::value_t::binary: {
        const auto& bytes = j.get_binary();
        if (bytes.has_subtype() && bytes.subtype() > 0xFF) malformed("binary subtype");
        return binary{static_cast<std::uint8_t>(bytes.has_subtype() ? bytes.subtype() : 0),
                      std::vector<std::uint8_t>(bytes.begin(), bytes.end())};
      }
      case nlohmann::json::value_t::discarded:
        break;
    }
    throw conversion_error("a discarded JSON value has no BSON form");
  }

 private:
  static value integer(std::int64_t i) {
    if (i >= std::numeric_limits<std::int32_t>::min() &&
        i <= std::numeric_limits<std::int32_t>::max())
      return static_cast<std::int32_t>(i);
    return i;
  }

  value read_object(const Json& j) const {
    for (auto it = j.begin(); it != j.end(); ++it)
      if (is_wrapper_key(it.key())) return read_wrapper(j, it.key());
    if (j.size() == 2 && j.contains("$regex") && j.contains("$options") &&
        j.at("$regex").is_string() && j.at("$options").is_string())
      return read_regex(j.at("$regex"), j.at("$options"));

    document out;
    out.reserve(j.size());
    for (auto it = j.begin(); it != j.end(); ++it) {
      if (has_nul(it.key())) throw conversion_error("a BSON key cannot contain a NUL byte");
      out.emplace_back(it.key(), read(it.value()));
    }
    return out;
  }

  static value read_regex(const Json& pattern, const Json& options) {
    if (!pattern.is_string() || !options.is_string()) malformed("$regularExpression");
    regex out{pattern.template get<std::string>(), options.template get<std::string>()};
    if (has_nul(out.pattern) || has_nul(out.options))
      throw conversion_error("a BSON regular expression cannot contain a NUL byte");
    // Canonical BSON sorts the flags, all ASCII; sorting the bytes of other UTF-8 would break it.
    const auto is_ascii = [](char c) { return static_cast<unsigned char>(c) < 0x80; };
    if (std::all_of(out.options.begin(), out.options.end(), is_ascii))
      std::sort(out.options.begin(), out.options.end());
    return out;
  }

  static std::uint32_t read_uint32(const Json& j, std::string_view what) {
    if (j.is_number_unsigned() && j.template get<std::uint64_t>() <= 0xFFFFFFFFu)
      return static_cast<std::uint32_t>(j.template get<std::uint64_t>());
    if (j.is_number_integer() && j.template get<std::int64_t>() >= 0 &&
        j.template get<std::int64_t>() <= 0xFFFFFFFF)
      return static_cast<std::uint32_t>(j.template get<std::int64_t>());
    malformed(what);
  }

  static std::uint8_t read_subtype(const std::string& hex) {
    if (hex.empty() || hex.size() > 2) malformed("$binary subType");
    int out = 0;
    for (const char c : hex) {
      const int digit = hex_digit_value(c);
      if (digit < 0) malformed("$binary subType");
      out = out * 16 + digit;
    }
    return static_cast<std::uint8_t>(out);
  }

  static binary read_binary(const Json& j) {
    const Json& payload = j.at("$binary");
    binary out;
    const std::string* base64 = nullptr;
    if (payload.is_object()) {
      expect_members(j, "$binary", {"$binary"});
      expect_members(payload, "$binary", {"base64", "subType"});
      base64 = &string_member(payload, "base64", "$binary");
      out.subtype = read_subtype(string_member(payload, "subType", "$binary"));
    } else {  // legacy {"$binary": base64, "$type": hex}
      expect_members(j, "$binary", {"$binary", "$type"});
      base64 = &string_member(j, "$binary", "$binary");
      out.subtype = read_subtype(string_member(j, "$type", "$binary"));
    }
    auto bytes = base64_decode(*base64);
    if (!bytes) malformed("$binary base64");
    out.bytes = std::move(*bytes);
    return out;
  }

  static binary read_uuid(const Json& j) {
    expect_members(j, "$uuid", {"$uuid"});
    const std::string& text = string_member(j, "$uuid", "$uuid");
    if (text.size() != 36 || text[8] != '-' || text[13] != '-' || text[18] != '-' ||
        text[23] != '-')
      malformed("$uuid");
    std::string hex = text.substr(0, 8) + text.substr(9, 4) + text.substr(14, 4) +
                      text.substr(19, 4) + text.substr(24);
    binary out{4, std::vector<std::uint8_t>(16)};
    if (!from_hex(hex, out.bytes.data(), 16)) malformed("$uuid");
    return out;
  }

  static object_id read_oid(const Json& j) {
    expect_members(j, "$oid", {"$oid"});
    object_id out;
    if (!from_hex(string_member(j, "$oid", "$oid"), out.bytes.data(), out.bytes.size()))
      malformed("$oid");
    return out;
  }

  static datetime read_date(const Json& j) {
    expect_members(j, "$date", {"$date"});
    const Json& date = j.at("$date");
    if (date.is_string()) {
      const auto ms = parse_iso8601(date.template get_ref<const std::string&>());
      if (!ms) malformed("$date");
      return datetime{*ms};
    }
    expect_members(date, "$date", {"$numberLong"});
    return datetime{
        parse_integer<std::int64_t>(string_member(date, "$numberLong", "$date"), "$date")};
  }

  value read_wrapper(const Json& j, const std::string& key) const {
    if (key == "$binary") return read_binary(j);
    if (key == "$uuid") return read_uuid(j);
    if (key == "$oid") return read_oid(j);
    if (key == "$date") return read_date(j);
    if (key == "$code" || key == "$scope") {
      if (!j.contains("$scope")) {
        expect_members(j, "$code", {"$code"});
        return javascript{string_member(j, "$code", "$code")};
      }
      expect_members(j, "$code", {"$code", "$scope"});
      javascript_with_scope out{string_member(j, "$code", "$code"), {}};
      const Json& scope = j.at("$scope");
      if (!scope.is_object()) malformed("$scope");
      value scope_value = read(scope);
      if (!scope_value.is_document()) malformed("$scope");
      out.scope = std::move(scope_value.get<document>());
      return out;
    }
    expect_members(j, key, {key.c_str()});
    const Json& inner = j.at(key);
    if (key == "$symbol") return symbol{string_member(j, "$symbol", key)};
    if (key == "$numberInt")
      return parse_integer<std::int32_t>(string_member(j, "$numberInt", key), key);
    if (key == "$numberLong")
      return parse_integer<std::int64_t>(string_member(j, "$numberLong", key), key);
    if (key == "$numberDouble") return parse_double<Json>(string_member(j, "$numberDouble", key));
    if (key == "$numberDecimal") {
      const auto d = decimal::from_string(string_member(j, "$numberDecimal", key));
      if (!d) malformed("$numberDecimal (not an exactly representable decimal128)");
      return *d;
    }
    if (key == "$timestamp") {
      expect_members(inner, key, {"t", "i"});
      return timestamp{read_uint32(inner.at("t"), key), read_uint32(inner.at("i"), key)};
    }
    if (key == "$regularExpression") {
      expect_members(inner, key, {"pattern", "options"});
      return read_regex(inner.at("pattern"), inner.at("options"));
    }
    if (key == "$dbPointer") {
      expect_members(inner, key, {"$ref", "$id"});
      const value id = read(inner.at("$id"));
      if (!id.is<object_id>()) malformed("$dbPointer $id");
      return db_pointer{string_member(inner, "$ref", key), id.get<object_id>()};
    }
    if (key == "$minKey" || key == "$maxKey") {
      if (!inner.is_number_integer() || inner.template get<std::int64_t>() != 1) malformed(key);
      if (key == "$minKey") return min_key{};
      return max_key{};
    }
    if (!inner.is_boolean() || !inner.template get<bool>()) malformed(key);  // $undefined
    return undefined{};
  }
};

}  // namespace detail::extjson

/// `v` as Extended JSON v2 (relaxed unless asked for canonical). Json is any nlohmann::basic_json;
/// use nlohmann::ordered_json to keep document key order.
template <class Json = nlohmann::json>
Json to_extended_json(const value& v, extended_json_mode mode = extended_json_mode::relaxed) {
  return detail::extjson::writer<Json>(mode).write(v);
}

/// The value that Extended JSON (canonical, relaxed or legacy) describes. Throws conversion_error
/// for a malformed type wrapper ({"$oid": 42}), an inexact $numberDecimal, an integer beyond
/// int64 or a NUL byte in a key or regular expression.
template <class Json>
value from_extended_json(const Json& j) {
  return detail::extjson::reader<Json>().read(j);
}

/// Lets the JSON codec take and return bsonrpc::value, as Extended JSON.
template <>
struct converter<nlohmann::json, value> {
  /// `v` as relaxed Extended JSON.
  static nlohmann::json to_value(const value& v) { return to_extended_json(v); }
  /// The value `j`, read as Extended JSON, describes; throws conversion_error as
  /// from_extended_json does.
  static value from_value(const nlohmann::json& j) { return from_extended_json(j); }
};

}  // namespace bsonrpc
