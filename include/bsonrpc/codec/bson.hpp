// bsonrpc/codec/bson.hpp: BsonCodec, BSON-RPC messages as BSON documents, read through libbson.
//
// Every BSON type keeps its exact type and bytes: a decoded document re-encodes byte for byte
// (int32 stays int32, binary keeps its subtype, doubles keep their bits, deprecated types
// survive), except that array keys are written "0", "1", ... as BSON requires, whatever the
// input used. Decoding walks the bytes with libbson's iterator and rejects all the BSON corpus
// rejects (lengths, terminators, boolean bytes, unknown types, UTF-8 of keys and of every
// string-like value, checked strictly: no overlong forms or surrogates; a NUL inside a string
// is valid BSON and kept) and counts nesting of documents, arrays and code-with-scope scopes,
// the message itself being depth 1: anything deeper than decode_limits::max_depth is refused
// before it is descended into (decoding recurses once per level, so max_depth also bounds the
// stack used).
// Encoding writes the bytes directly, into an output reserved once for the size it counts
// first (so a large string or binary is copied once); it refuses what BSON cannot hold (a
// top-level value that is not a document, a NUL in a key or regex, invalid UTF-8, more than
// 2 GiB).
// Converters between value and C++ types live in bson_convert.hpp (included here).
#pragma once

#include <bsonrpc/codec/bson_convert.hpp>
#include <bsonrpc/codec/codec.hpp>
#include <bsonrpc/detail/utf8.hpp>
#include <bsonrpc/errors.hpp>
#include <bsonrpc/value.hpp>

#include <bson/bson.h>

#include <algorithm>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <string_view>
#include <variant>

namespace bsonrpc {

namespace detail::bson_wire {

inline constexpr std::int64_t max_document_bytes = std::numeric_limits<std::int32_t>::max();

inline void put_uint32(std::string& out, std::uint32_t u) {
  for (int shift = 0; shift < 32; shift += 8) out.push_back(static_cast<char>(u >> shift));
}
inline void put_uint64(std::string& out, std::uint64_t u) {
  for (int shift = 0; shift < 64; shift += 8) out.push_back(static_cast<char>(u >> shift));
}
inline void put_length(std::string& out, std::size_t n) {
  if (n > static_cast<std::size_t>(max_document_bytes))
    throw encoding_error("BSON element larger than 2 GiB");
  put_uint32(out, static_cast<std::uint32_t>(n));
}

inline void check_utf8(std::string_view s, bool allow_nul, const char* what) {
  if (!is_valid_utf8(s, allow_nul))
    throw encoding_error(std::string(what) + " is not valid UTF-8");
}

// A NUL-terminated name (key, regex part): no NUL inside.
inline void put_cstring(std::string& out, std::string_view s, const char* what) {
  if (s.find('\0') != std::string_view::npos)
    throw encoding_error(std::string(what) + " cannot contain a NUL byte in BSON");
  check_utf8(s, false, what);
  out.append(s);
  out.push_back('\0');
}

// A length-prefixed string (string, symbol, code, DBPointer collection): NUL allowed inside.
inline void put_string(std::string& out, std::string_view s) {
  check_utf8(s, true, "a string");
  put_length(out, s.size() + 1);
  out.append(s);
  out.push_back('\0');
}

// Reserves the int32 length of a document (or code-with-scope) started at out.size().
inline std::size_t begin_sized(std::string& out) {
  out.append(4, '\0');
  return out.size() - 4;
}
inline void end_sized(std::string& out, std::size_t start) {
  const std::size_t n = out.size() - start;
  if (n > static_cast<std::size_t>(max_document_bytes))
    throw encoding_error("BSON document larger than 2 GiB");
  for (int i = 0; i < 4; ++i) out[start + i] = static_cast<char>(n >> (8 * i));
}

inline void put_element(std::string& out, std::string_view key, const value& v);

inline void put_document(std::string& out, const document& d) {
  const std::size_t start = begin_sized(out);
  for (const auto& [key, member] : d) put_element(out, key, member);
  out.push_back('\0');
  end_sized(out, start);
}

inline void put_array(std::string& out, const array& a) {
  const std::size_t start = begin_sized(out);
  char key[24];
  for (std::size_t i = 0; i < a.size(); ++i) {
    const auto end = std::to_chars(key, key + sizeof key, i).ptr;
    put_element(out, std::string_view(key, static_cast<std::size_t>(end - key)), a[i]);
  }
  out.push_back('\0');
  end_sized(out, start);
}

class element_writer {
 public:
  element_writer(std::string& out, std::string_view key) : out_(out), key_(key) {}

  void operator()(std::nullptr_t) const { head(BSON_TYPE_NULL); }
  void operator()(bool b) const {
    head(BSON_TYPE_BOOL);
    out_.push_back(b ? 1 : 0);
  }
  void operator()(std::int32_t i) const {
    head(BSON_TYPE_INT32);
    put_uint32(out_, static_cast<std::uint32_t>(i));
  }
  void operator()(std::int64_t i) const {
    head(BSON_TYPE_INT64);
    put_uint64(out_, static_cast<std::uint64_t>(i));
  }
  void operator()(double d) const {
    head(BSON_TYPE_DOUBLE);
    std::uint64_t bits = 0;
    std::memcpy(&bits, &d, sizeof bits);
    put_uint64(out_, bits);
  }
  void operator()(const std::string& s) const {
    head(BSON_TYPE_UTF8);
    put_string(out_, s);
  }
  void operator()(const document& d) const {
    head(BSON_TYPE_DOCUMENT);
    put_document(out_, d);
  }
  void operator()(const array& a) const {
    head(BSON_TYPE_ARRAY);
    put_array(out_, a);
  }
  void operator()(const binary& b) const {
    head(BSON_TYPE_BINARY);
    // The old binary subtype 2 repeats the length inside the payload.
    const bool old_binary = b.subtype == BSON_SUBTYPE_BINARY_DEPRECATED;
    put_length(out_, b.bytes.size() + (old_binary ? 4 : 0));
    out_.push_back(static_cast<char>(b.subtype));
    if (old_binary) put_length(out_, b.bytes.size());
    // As chars: append(first, last) over bytes builds a temporary string of them first.
    out_.append(reinterpret_cast<const char*>(b.bytes.data()), b.bytes.size());
  }
  void operator()(datetime d) const {
    head(BSON_TYPE_DATE_TIME);
    put_uint64(out_, static_cast<std::uint64_t>(d.milliseconds));
  }
  void operator()(const object_id& id) const {
    head(BSON_TYPE_OID);
    out_.append(id.bytes.begin(), id.bytes.end());
  }
  void operator()(decimal128 d) const {
    head(BSON_TYPE_DECIMAL128);
    put_uint64(out_, d.low);
    put_uint64(out_, d.high);
  }
  void operator()(timestamp t) const {
    head(BSON_TYPE_TIMESTAMP);
    put_uint32(out_, t.increment);
    put_uint32(out_, t.seconds);
  }
  void operator()(const regex& r) const {
    head(BSON_TYPE_REGEX);
    put_cstring(out_, r.pattern, "a regex pattern");
    put_cstring(out_, r.options, "regex options");
  }
  void operator()(min_key) const { head(BSON_TYPE_MINKEY); }
  void operator()(max_key) const { head(BSON_TYPE_MAXKEY); }
  void operator()(undefined) const { head(BSON_TYPE_UNDEFINED); }
  void operator()(const symbol& s) const {
    head(BSON_TYPE_SYMBOL);
    put_string(out_, s.text);
  }
  void operator()(const javascript& js) const {
    head(BSON_TYPE_CODE);
    put_string(out_, js.code);
  }
  void operator()(const javascript_with_scope& js) const {
    head(BSON_TYPE_CODEWSCOPE);
    const std::size_t start = begin_sized(out_);
    put_string(out_, js.code);
    put_document(out_, js.scope);
    end_sized(out_, start);
  }
  void operator()(const db_pointer& p) const {
    head(BSON_TYPE_DBPOINTER);
    put_string(out_, p.collection);
    out_.append(p.id.bytes.begin(), p.id.bytes.end());
  }

 private:
  void head(bson_type_t type) const {
    out_.push_back(static_cast<char>(type));
    put_cstring(out_, key_, "a key");
  }

  std::string& out_;
  std::string_view key_;
};

inline void put_element(std::string& out, std::string_view key, const value& v) {
  std::visit(element_writer(out, key), v.variant());
}

// The bytes put_document() will write for a document, counted without touching any string's
// bytes, so that encoding reserves its output once: a large string or binary is then copied
// once, never again by a growing buffer. Only a hint: the writer still checks everything.
inline std::size_t document_size(const document& d);
inline std::size_t array_size(const array& a);

inline std::size_t decimal_digits(std::size_t i) {
  std::size_t n = 1;
  for (; i >= 10; i /= 10) ++n;
  return n;
}

struct payload_size {
  static std::size_t string(const std::string& s) { return 4 + s.size() + 1; }

  std::size_t operator()(std::nullptr_t) const { return 0; }
  std::size_t operator()(bool) const { return 1; }
  std::size_t operator()(std::int32_t) const { return 4; }
  std::size_t operator()(std::int64_t) const { return 8; }
  std::size_t operator()(double) const { return 8; }
  std::size_t operator()(const std::string& s) const { return string(s); }
  std::size_t operator()(const document& d) const { return document_size(d); }
  std::size_t operator()(const array& a) const { return array_size(a); }
  std::size_t operator()(const binary& b) const {
    return 4 + 1 + (b.subtype == BSON_SUBTYPE_BINARY_DEPRECATED ? 4 : 0) + b.bytes.size();
  }
  std::size_t operator()(datetime) const { return 8; }
  std::size_t operator()(const object_id& id) const { return id.bytes.size(); }
  std::size_t operator()(decimal128) const { return 16; }
  std::size_t operator()(timestamp) const { return 8; }
  std::size_t operator()(const regex& r) const {
    return r.pattern.size() + 1 + r.options.size() + 1;
  }
  std::size_t operator()(min_key) const { return 0; }
  std::size_t operator()(max_key) const { return 0; }
  std::size_t operator()(undefined) const { return 0; }
  std::size_t operator()(const symbol& s) const { return string(s.text); }
  std::size_t operator()(const javascript& js) const { return string(js.code); }
  std::size_t operator()(const javascript_with_scope& js) const {
    return 4 + string(js.code) + document_size(js.scope);
  }
  std::size_t operator()(const db_pointer& p) const {
    return string(p.collection) + p.id.bytes.size();
  }
};

// Type byte, key and its NUL, payload.
inline std::size_t element_size(std::size_t key_size, const value& v) {
  return 1 + key_size + 1 + std::visit(payload_size{}, v.variant());
}

inline std::size_t document_size(const document& d) {
  std::size_t n = 4 + 1;
  for (const auto& [key, member] : d) n += element_size(key.size(), member);
  return n;
}

inline std::size_t array_size(const array& a) {
  std::size_t n = 4 + 1;
  for (std::size_t i = 0; i < a.size(); ++i) n += element_size(decimal_digits(i), a[i]);
  return n;
}

class reader {
 public:
  explicit reader(const decode_limits& limits) : max_depth_(limits.max_depth) {}

  // The document of `size` bytes at `data`, nested `depth` deep (the message is depth 1).
  document read_document(const std::uint8_t* data, std::size_t size, std::size_t depth) const {
    document out;
    for_each_element(data, size, [&](std::string_view key, const bson_iter_t& it) {
      out.emplace_back(std::string(key), read_element(it, depth));
    });
    return out;
  }

 private:
  // Calls f(key, iter) for each element; libbson checks each element's framing, this checks
  // that the elements end exactly at the document's terminator and that keys are UTF-8.
  template <class F>
  static void for_each_element(const std::uint8_t* data, std::size_t size, F&& f) {
    bson_iter_t it;
    if (size < 5 || !bson_iter_init_from_data(&it, data, size))
      throw decoding_error("BSON document with a bad length or no trailing 0x00");
    while (bson_iter_next(&it)) {
      const char* key = bson_iter_key(&it);
      const auto key_size = static_cast<std::size_t>(bson_iter_key_len(&it));
      if (!is_valid_utf8(std::string_view(key, key_size), false))
        throw decoding_error("BSON key is not valid UTF-8");
      f(std::string_view(key, key_size), it);
    }
    // bson_iter_next stops with err_off == 0 only at the document's final 0x00.
    if (it.err_off != 0)
      throw decoding_error("corrupt or unknown BSON element at offset " +
                           std::to_string(it.err_off));
  }

  std::size_t nested(std::size_t depth) const {
    if (depth + 1 > max_depth_)
      throw decoding_error("BSON nesting deeper than " + std::to_string(max_depth_));
    return depth + 1;
  }

  static std::string read_string(const char* s, std::uint32_t size, bool allow_nul) {
    if (!is_valid_utf8(std::string_view(s, size), allow_nul))
      throw decoding_error("BSON string is not valid UTF-8");
    return std::string(s, size);
  }

  static object_id read_oid(const bson_oid_t* oid) {
    object_id out;
    std::memcpy(out.bytes.data(), oid->bytes, out.bytes.size());
    return out;
  }

  array read_array(const std::uint8_t* data, std::size_t size, std::size_t depth) const {
    array out;
    for_each_element(data, size, [&](std::string_view, const bson_iter_t& it) {
      out.push_back(read_element(it, depth));
    });
    return out;
  }

  // An element of a container at `depth`.
  value read_element(const bson_iter_t& it, std::size_t depth) const {
    std::uint32_t size = 0;
    const std::uint8_t* data = nullptr;
    switch (bson_iter_type(&it)) {
      case BSON_TYPE_DOUBLE:
        return bson_iter_double(&it);
      case BSON_TYPE_UTF8: {
        const char* s = bson_iter_utf8(&it, &size);
        return read_string(s, size, true);
      }
      case BSON_TYPE_DOCUMENT: {
        const std::size_t inner = nested(depth);
        bson_iter_document(&it, &size, &data);
        return read_document(data, size, inner);
      }
      case BSON_TYPE_ARRAY: {
        const std::size_t inner = nested(depth);
        bson_iter_array(&it, &size, &data);
        return read_array(data, size, inner);
      }
      case BSON_TYPE_BINARY: {
        bson_subtype_t subtype = BSON_SUBTYPE_BINARY;
        bson_iter_binary(&it, &subtype, &size, &data);
        return binary{static_cast<std::uint8_t>(subtype),
                      std::vector<std::uint8_t>(data, data + size)};
      }
      case BSON_TYPE_UNDEFINED:
        return undefined{};
      case BSON_TYPE_OID:
        return read_oid(bson_iter_oid(&it));
      case BSON_TYPE_BOOL:
        return bson_iter_bool(&it);
      case BSON_TYPE_DATE_TIME:
        return datetime{bson_iter_date_time(&it)};
      case BSON_TYPE_NULL:
        return nullptr;
      case BSON_TYPE_REGEX: {
        const char* options = nullptr;
        const char* pattern = bson_iter_regex(&it, &options);
        const auto pattern_size = static_cast<std::uint32_t>(std::strlen(pattern));
        const auto options_size = static_cast<std::uint32_t>(std::strlen(options));
        return regex{read_string(pattern, pattern_size, false),
                     read_string(options, options_size, false)};
      }
      case BSON_TYPE_DBPOINTER: {
        const char* collection = nullptr;
        const bson_oid_t* oid = nullptr;
        bson_iter_dbpointer(&it, &size, &collection, &oid);
        return db_pointer{read_string(collection, size, true), read_oid(oid)};
      }
      case BSON_TYPE_CODE: {
        const char* code = bson_iter_code(&it, &size);
        return javascript{read_string(code, size, true)};
      }
      case BSON_TYPE_SYMBOL: {
        const char* text = bson_iter_symbol(&it, &size);
        return symbol{read_string(text, size, true)};
      }
      case BSON_TYPE_CODEWSCOPE: {
        const std::size_t inner = nested(depth);
        std::uint32_t scope_size = 0;
        const char* code = bson_iter_codewscope(&it, &size, &scope_size, &data);
        if (code[size] != '\0') throw decoding_error("BSON code string is not NUL-terminated");
        javascript_with_scope out{read_string(code, size, true), {}};
        out.scope = read_document(data, scope_size, inner);
        return out;
      }
      case BSON_TYPE_INT32:
        return bson_iter_int32(&it);
      case BSON_TYPE_TIMESTAMP: {
        std::uint32_t seconds = 0;
        std::uint32_t increment = 0;
        bson_iter_timestamp(&it, &seconds, &increment);
        return timestamp{seconds, increment};
      }
      case BSON_TYPE_INT64:
        return static_cast<std::int64_t>(bson_iter_int64(&it));
      case BSON_TYPE_DECIMAL128: {
        bson_decimal128_t d;
        bson_iter_decimal128(&it, &d);
        return decimal128{d.low, d.high};
      }
      case BSON_TYPE_MAXKEY:
        return max_key{};
      case BSON_TYPE_MINKEY:
        return min_key{};
      default:
        break;
    }
    throw decoding_error("unknown BSON element type");
  }

  std::size_t max_depth_;
};

}  // namespace detail::bson_wire

/// The BSON-RPC codec: each message is one BSON document, read into bsonrpc::value through
/// libbson's iterator, which rejects malformed bytes. BSON-RPC has no batches.
struct BsonCodec {
  using value_type = value;                                   ///< messages are bsonrpc::value
  static constexpr std::string_view protocol_key = "bsonrpc";  ///< the version member's name
  static constexpr bool supports_batches = false;             ///< a message is one document

  /// The document in exactly `bytes`. Throws decoding_error for anything that is not one valid
  /// BSON document no deeper than limits.max_depth.
  static value decode(std::string_view bytes, const decode_limits& limits = {}) {
    if (bytes.size() < 5) throw decoding_error("a BSON document is at least 5 bytes long");
    if (limits.max_depth < 1) throw decoding_error("max_depth 0 admits no BSON document");
    return detail::bson_wire::reader(limits).read_document(
        reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size(), 1);
  }

  /// Appends the BSON encoding of `message`, which must be a document; on encoding_error `out`
  /// is left as it was.
  static void encode(const value& message, std::string& out) {
    const auto* d = message.get_if<document>();
    if (!d) throw encoding_error("a BSON message must be a document");
    const std::size_t old_size = out.size();
    try {
      // Geometric growth still, for callers that append many messages to one string.
      const std::size_t needed = old_size + detail::bson_wire::document_size(*d);
      if (needed > out.capacity()) out.reserve(std::max(needed, 2 * out.capacity()));
      detail::bson_wire::put_document(out, *d);
    } catch (...) {
      out.resize(old_size);
      throw;
    }
  }
};

}  // namespace bsonrpc
