// bsonrpc/value.hpp: bsonrpc::value, an owning dynamic value able to hold every BSON type.
//
// It is the BSON codec's value type and the codec-neutral currency of the library (error data,
// calls made through a Context), so it lives apart from libbson: only decoding BSON
// (codec/bson.hpp) needs libbson.
// Documents keep their key order and their duplicate keys, so a decoded document re-encodes
// byte for byte.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace bsonrpc {

class value;

using array = std::vector<value>;

// An ordered BSON document: keys keep their order (and duplicates survive a round trip).
using document = std::vector<std::pair<std::string, value>>;

struct binary {
  std::uint8_t subtype = 0;
  std::vector<std::uint8_t> bytes;
  friend bool operator==(const binary& a, const binary& b) {
    return a.subtype == b.subtype && a.bytes == b.bytes;
  }
};

// UTC datetime as milliseconds since the Unix epoch (BSON type 0x09).
struct datetime {
  std::int64_t milliseconds = 0;
  friend bool operator==(datetime a, datetime b) { return a.milliseconds == b.milliseconds; }
};

struct object_id {
  std::array<std::uint8_t, 12> bytes{};
  friend bool operator==(const object_id& a, const object_id& b) { return a.bytes == b.bytes; }
};

// IEEE 754-2008 128-bit decimal, kept as its two little-endian 64-bit halves.
struct decimal128 {
  std::uint64_t low = 0;
  std::uint64_t high = 0;
  friend bool operator==(decimal128 a, decimal128 b) { return a.low == b.low && a.high == b.high; }
};

struct timestamp {
  std::uint32_t seconds = 0;
  std::uint32_t increment = 0;
  friend bool operator==(timestamp a, timestamp b) {
    return a.seconds == b.seconds && a.increment == b.increment;
  }
};

struct regex {
  std::string pattern;
  std::string options;
  friend bool operator==(const regex& a, const regex& b) {
    return a.pattern == b.pattern && a.options == b.options;
  }
};

struct min_key {
  friend bool operator==(min_key, min_key) { return true; }
};
struct max_key {
  friend bool operator==(max_key, max_key) { return true; }
};
struct undefined {
  friend bool operator==(undefined, undefined) { return true; }
};

// The deprecated BSON types, kept so that a document holding them still echoes unchanged.
struct symbol {
  std::string text;
  friend bool operator==(const symbol& a, const symbol& b) { return a.text == b.text; }
};
struct javascript {
  std::string code;
  friend bool operator==(const javascript& a, const javascript& b) { return a.code == b.code; }
};
struct javascript_with_scope {
  std::string code;
  document scope;
  friend bool operator==(const javascript_with_scope& a, const javascript_with_scope& b);
};
struct db_pointer {
  std::string collection;
  object_id id;
  friend bool operator==(const db_pointer& a, const db_pointer& b) {
    return a.collection == b.collection && a.id == b.id;
  }
};

class value {
 public:
  using storage = std::variant<std::nullptr_t, bool, std::int32_t, std::int64_t, double, std::string,
                               document, array, binary, datetime, object_id, decimal128,
                               timestamp, regex, min_key, max_key, undefined, symbol, javascript,
                               javascript_with_scope, db_pointer>;

  value() noexcept : data_(nullptr) {}
  value(std::nullptr_t) noexcept : data_(nullptr) {}
  value(bool b) noexcept : data_(b) {}
  value(std::int32_t i) noexcept : data_(i) {}
  value(std::int64_t i) noexcept : data_(i) {}
  value(double d) noexcept : data_(d) {}
  value(std::string s) noexcept : data_(std::move(s)) {}
  value(std::string_view s) : data_(std::string(s)) {}
  value(const char* s) : data_(std::string(s)) {}
  value(document d) noexcept : data_(std::move(d)) {}
  value(array a) noexcept : data_(std::move(a)) {}
  template <class T, class = std::enable_if_t<std::is_constructible_v<storage, T&&> &&
                                              !std::is_arithmetic_v<std::decay_t<T>> &&
                                              !std::is_same_v<std::decay_t<T>, value>>>
  value(T&& alternative) : data_(std::forward<T>(alternative)) {}

  template <class T>
  bool is() const noexcept {
    return std::holds_alternative<T>(data_);
  }
  template <class T>
  const T& get() const {
    return std::get<T>(data_);
  }
  template <class T>
  T& get() {
    return std::get<T>(data_);
  }
  template <class T>
  const T* get_if() const noexcept {
    return std::get_if<T>(&data_);
  }

  bool is_null() const noexcept { return is<std::nullptr_t>(); }
  bool is_integer() const noexcept { return is<std::int32_t>() || is<std::int64_t>(); }
  bool is_string() const noexcept { return is<std::string>(); }
  bool is_document() const noexcept { return is<document>(); }
  bool is_array() const noexcept { return is<array>(); }

  // The member named `key` of a document, or nullptr (first match, as libbson finds it).
  const value* find(std::string_view key) const noexcept {
    if (const auto* d = get_if<document>()) {
      for (const auto& member : *d)
        if (member.first == key) return &member.second;
    }
    return nullptr;
  }

  const storage& variant() const noexcept { return data_; }
  storage& variant() noexcept { return data_; }

  friend bool operator==(const value& a, const value& b) { return a.data_ == b.data_; }
  friend bool operator!=(const value& a, const value& b) { return !(a == b); }

 private:
  storage data_;
};

inline bool operator==(const javascript_with_scope& a, const javascript_with_scope& b) {
  return a.code == b.code && a.scope == b.scope;
}

}  // namespace bsonrpc
