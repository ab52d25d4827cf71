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

/// A BSON array: its elements in order.
using array = std::vector<value>;

/// An ordered BSON document: keys keep their order (and duplicates survive a round trip).
using document = std::vector<std::pair<std::string, value>>;

/// BSON binary data (type 0x05): a subtype and the bytes.
struct binary {
  std::uint8_t subtype = 0;          ///< 0 for generic binary data
  std::vector<std::uint8_t> bytes;   ///< the data
  /// Equal when subtype and bytes are.
  friend bool operator==(const binary& a, const binary& b) {
    return a.subtype == b.subtype && a.bytes == b.bytes;
  }
};

/// UTC datetime as milliseconds since the Unix epoch (BSON type 0x09).
struct datetime {
  std::int64_t milliseconds = 0;  ///< since 1970-01-01T00:00:00Z; negative before it
  /// Equal when the instants are.
  friend bool operator==(datetime a, datetime b) { return a.milliseconds == b.milliseconds; }
};

/// A BSON ObjectId (type 0x07): 12 bytes.
struct object_id {
  std::array<std::uint8_t, 12> bytes{};  ///< the id, in wire order
  /// Equal when the bytes are.
  friend bool operator==(const object_id& a, const object_id& b) { return a.bytes == b.bytes; }
};

/// IEEE 754-2008 128-bit decimal, kept as its two little-endian 64-bit halves.
struct decimal128 {
  std::uint64_t low = 0;   ///< the low 64 bits of the encoding
  std::uint64_t high = 0;  ///< the high 64 bits (sign, combination field, exponent)
  /// Equal when the encodings are (bit for bit, not numerically).
  friend bool operator==(decimal128 a, decimal128 b) { return a.low == b.low && a.high == b.high; }
};

/// A BSON timestamp (type 0x11), as MongoDB's replication uses it.
struct timestamp {
  std::uint32_t seconds = 0;    ///< seconds since the Unix epoch
  std::uint32_t increment = 0;  ///< ordinal within the second
  /// Equal when both parts are.
  friend bool operator==(timestamp a, timestamp b) {
    return a.seconds == b.seconds && a.increment == b.increment;
  }
};

/// A BSON regular expression (type 0x0B).
struct regex {
  std::string pattern;  ///< the expression, without delimiters
  std::string options;  ///< option letters, e.g. "i", "ms"
  /// Equal when pattern and options are.
  friend bool operator==(const regex& a, const regex& b) {
    return a.pattern == b.pattern && a.options == b.options;
  }
};

/// The BSON MinKey (type 0xFF), lower than every other value.
struct min_key {
  /// Always equal: there is one MinKey.
  friend bool operator==(min_key, min_key) { return true; }
};
/// The BSON MaxKey (type 0x7F), higher than every other value.
struct max_key {
  /// Always equal: there is one MaxKey.
  friend bool operator==(max_key, max_key) { return true; }
};
/// The deprecated BSON undefined (type 0x06), kept so that a document holding it echoes unchanged.
struct undefined {
  /// Always equal: there is one undefined.
  friend bool operator==(undefined, undefined) { return true; }
};

/// The deprecated BSON symbol (type 0x0E), kept so that a document holding one still echoes
/// unchanged.
struct symbol {
  std::string text;  ///< the symbol's name
  /// Equal when the texts are.
  friend bool operator==(const symbol& a, const symbol& b) { return a.text == b.text; }
};
/// BSON JavaScript code (type 0x0D).
struct javascript {
  std::string code;  ///< the source text
  /// Equal when the sources are.
  friend bool operator==(const javascript& a, const javascript& b) { return a.code == b.code; }
};
/// The deprecated BSON JavaScript code with scope (type 0x0F).
struct javascript_with_scope {
  std::string code;  ///< the source text
  document scope;    ///< the variables the code sees
  /// Equal when code and scope are.
  friend bool operator==(const javascript_with_scope& a, const javascript_with_scope& b);
};
/// The deprecated BSON DBPointer (type 0x0C): a collection name and an ObjectId.
struct db_pointer {
  std::string collection;  ///< the namespace, "database.collection"
  object_id id;            ///< the document's id
  /// Equal when collection and id are.
  friend bool operator==(const db_pointer& a, const db_pointer& b) {
    return a.collection == b.collection && a.id == b.id;
  }
};

/// An owning dynamic value holding any BSON type: the BSON codec's value type, and the
/// codec-neutral value of error data and Context calls. Documents keep key order and duplicates.
class value {
 public:
  /// The alternatives, one per BSON type (int32 and int64 apart, as on the wire).
  using storage = std::variant<std::nullptr_t, bool, std::int32_t, std::int64_t, double, std::string,
                               document, array, binary, datetime, object_id, decimal128,
                               timestamp, regex, min_key, max_key, undefined, symbol, javascript,
                               javascript_with_scope, db_pointer>;

  /// @name Construction from each alternative
  /// @{

  /// Holds the argument (a string view or char pointer as a std::string; null by default).
  /// Implicit, so that a document reads `bsonrpc::document{{"a", 1}, {"b", "text"}}`.
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
  /// @}

  /// Whether the value holds the alternative T.
  template <class T>
  bool is() const noexcept {
    return std::holds_alternative<T>(data_);
  }
  /// The alternative T; throws std::bad_variant_access if the value holds another.
  template <class T>
  const T& get() const {
    return std::get<T>(data_);
  }
  /// The alternative T; throws std::bad_variant_access if the value holds another.
  template <class T>
  T& get() {
    return std::get<T>(data_);
  }
  /// The alternative T, or nullptr if the value holds another.
  template <class T>
  const T* get_if() const noexcept {
    return std::get_if<T>(&data_);
  }

  /// Whether the value is null.
  bool is_null() const noexcept { return is<std::nullptr_t>(); }
  /// Whether the value is an int32 or an int64.
  bool is_integer() const noexcept { return is<std::int32_t>() || is<std::int64_t>(); }
  /// Whether the value is a string.
  bool is_string() const noexcept { return is<std::string>(); }
  /// Whether the value is a document.
  bool is_document() const noexcept { return is<document>(); }
  /// Whether the value is an array.
  bool is_array() const noexcept { return is<array>(); }

  /// The member named `key` of a document, or nullptr (first match, as libbson finds it).
  const value* find(std::string_view key) const noexcept {
    if (const auto* d = get_if<document>()) {
      for (const auto& member : *d)
        if (member.first == key) return &member.second;
    }
    return nullptr;
  }

  /// The underlying std::variant, for std::visit.
  const storage& variant() const noexcept { return data_; }
  /// The underlying std::variant, for std::visit.
  storage& variant() noexcept { return data_; }

  /// Equal when both hold the same alternative with equal contents (int32 1 != int64 1).
  friend bool operator==(const value& a, const value& b) { return a.data_ == b.data_; }
  /// Not equal.
  friend bool operator!=(const value& a, const value& b) { return !(a == b); }

 private:
  storage data_;
};

/// Equal when code and scope are.
inline bool operator==(const javascript_with_scope& a, const javascript_with_scope& b) {
  return a.code == b.code && a.scope == b.scope;
}

}  // namespace bsonrpc
