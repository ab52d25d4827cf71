// bsonrpc/detail/json_text.hpp: a fast reader and writer of JSON text for nlohmann::json values.
//
// Both take the common path of JSON-RPC traffic (objects, arrays, ASCII or UTF-8 strings,
// integers, decimals) directly: string bytes are scanned eight at a time and copied once, and
// nesting is counted while parsing, with no pre-scan. Whatever they do not handle themselves (any
// malformed text, a byte order mark, a number nlohmann would turn into a double or reject, a
// binary value) they decline by returning false, and JsonCodec then lets nlohmann's own parser or
// serializer decide. So what is accepted, what is written and every error message stay exactly
// nlohmann's; tests/fuzz/fuzz_codec_json.cpp checks the two agree on every input it finds.
// Why not nlohmann alone: a sequential JSON echo over Asio took 57.4k instead of 93.7k
// instructions per call (callgrind, commit 989129d).
#pragma once

#include <bsonrpc/detail/utf8.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>

namespace bsonrpc::detail {

// A byte a JSON string can hold as it is: not '"', '\\', a control character, nor non-ASCII.
constexpr bool is_plain_string_byte(unsigned char byte) noexcept {
  return byte >= 0x20 && byte < 0x80 && byte != '"' && byte != '\\';
}

// Whether all eight bytes of `word` are plain string bytes.
constexpr bool is_plain_string_word(std::uint64_t word) noexcept {
  const std::uint64_t quotes = word ^ (every_byte * '"');
  const std::uint64_t backslashes = word ^ (every_byte * '\\');
  const std::uint64_t controls = (word - every_byte * 0x20) & ~word;  // bytes below 0x20
  return ((zero_byte_bits(quotes) | zero_byte_bits(backslashes) | controls | word) & high_bits) == 0;
}

// The first byte at or after p that is not a plain string byte, or end.
inline const char* skip_plain_string_bytes(const char* p, const char* end) noexcept {
  while (end - p >= 8 && is_plain_string_word(load_word(p))) p += 8;
  while (p != end && is_plain_string_byte(static_cast<unsigned char>(*p))) ++p;
  return p;
}

class json_reader {
 public:
  using json = nlohmann::json;

  // Deeper documents go to nlohmann's parser, which does not recurse: this reader does, once per
  // level, so the cap bounds its stack whatever max_depth the user sets.
  static constexpr std::size_t max_recursion = 512;

  json_reader(std::string_view text, std::size_t max_depth) noexcept
      : p_(text.data()), end_(text.data() + text.size()),
        depth_left_(std::min(max_depth, max_recursion)) {}

  // Parses the whole text into `out`; false to leave it to nlohmann (see the top of the file).
  bool read(json& out) {
    skip_space();
    if (!read_value(out)) return false;
    skip_space();
    return p_ == end_;
  }

 private:
  void skip_space() noexcept {
    while (p_ != end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) ++p_;
  }

  bool consume(char c) noexcept {
    if (p_ == end_ || *p_ != c) return false;
    ++p_;
    return true;
  }

  bool read_value(json& out) {
    if (p_ == end_) return false;
    switch (*p_) {
      case '{': return read_object(out);
      case '[': return read_array(out);
      case '"':
        out = json::value_t::string;
        return read_string(*out.get_ptr<std::string*>());
      case 't': return read_literal("true", out, true);
      case 'f': return read_literal("false", out, false);
      case 'n': return read_literal("null", out, nullptr);
      default: return read_number(out);
    }
  }

  template <class T>
  bool read_literal(std::string_view word, json& out, T value) {
    if (static_cast<std::size_t>(end_ - p_) < word.size() ||
        std::string_view(p_, word.size()) != word)
      return false;
    p_ += word.size();
    out = value;
    return true;
  }

  bool read_object(json& out) {
    if (depth_left_ == 0) return false;
    --depth_left_;
    ++p_;
    out = json::value_t::object;
    auto& members = *out.get_ptr<json::object_t*>();
    skip_space();
    if (!consume('}')) {
      do {
        skip_space();
        std::string key;
        if (p_ == end_ || *p_ != '"' || !read_string(key)) return false;
        skip_space();
        if (!consume(':')) return false;
        skip_space();
        // A repeated key keeps its last value, as nlohmann's parser does.
        if (!read_value(members[std::move(key)])) return false;
        skip_space();
      } while (consume(','));
      if (!consume('}')) return false;
    }
    ++depth_left_;
    return true;
  }

  bool read_array(json& out) {
    if (depth_left_ == 0) return false;
    --depth_left_;
    ++p_;
    out = json::value_t::array;
    auto& elements = *out.get_ptr<json::array_t*>();
    skip_space();
    if (!consume(']')) {
      do {
        skip_space();
        if (!read_value(elements.emplace_back())) return false;
        skip_space();
      } while (consume(','));
      if (!consume(']')) return false;
    }
    ++depth_left_;
    return true;
  }

  // At the opening quote; appends the decoded string to `s`.
  bool read_string(std::string& s) {
    ++p_;
    for (;;) {
      // Plain bytes and well-formed UTF-8 sequences are copied as one run.
      const char* run = p_;
      for (;;) {
        p_ = skip_plain_string_bytes(p_, end_);
        if (p_ == end_ || static_cast<unsigned char>(*p_) < 0x80) break;
        const std::size_t length =
            utf8_sequence_length(reinterpret_cast<const unsigned char*>(p_),
                                 reinterpret_cast<const unsigned char*>(end_));
        if (length == 0) return false;
        p_ += length;
      }
      s.append(run, p_);
      if (p_ == end_) return false;
      if (*p_ == '"') {
        ++p_;
        return true;
      }
      if (*p_ != '\\' || !read_escape(s)) return false;  // a raw control character, or a bad escape
    }
  }

  // At a backslash; appends the escaped character.
  bool read_escape(std::string& s) {
    ++p_;
    if (p_ == end_) return false;
    switch (*p_++) {
      case '"': s += '"'; return true;
      case '\\': s += '\\'; return true;
      case '/': s += '/'; return true;
      case 'b': s += '\b'; return true;
      case 'f': s += '\f'; return true;
      case 'n': s += '\n'; return true;
      case 'r': s += '\r'; return true;
      case 't': s += '\t'; return true;
      case 'u': break;
      default: return false;
    }
    std::uint32_t code = 0;
    if (!read_hex4(code)) return false;
    if (code >= 0xDC00 && code <= 0xDFFF) return false;  // a low surrogate on its own
    if (code >= 0xD800 && code <= 0xDBFF) {              // must pair with a low surrogate
      std::uint32_t low = 0;
      if (!consume('\\') || !consume('u') || !read_hex4(low) || low < 0xDC00 || low > 0xDFFF)
        return false;
      code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
    }
    append_utf8(s, code);
    return true;
  }

  bool read_hex4(std::uint32_t& code) noexcept {
    if (end_ - p_ < 4) return false;
    for (int i = 0; i < 4; ++i) {
      const char c = *p_++;
      std::uint32_t digit = 0;
      if (c >= '0' && c <= '9') digit = static_cast<std::uint32_t>(c - '0');
      else if (c >= 'a' && c <= 'f') digit = static_cast<std::uint32_t>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F') digit = static_cast<std::uint32_t>(c - 'A' + 10);
      else return false;
      code = code << 4 | digit;
    }
    return true;
  }

  bool digit_here() const noexcept { return p_ != end_ && *p_ >= '0' && *p_ <= '9'; }
  void skip_digits() noexcept {
    while (digit_here()) ++p_;
  }

  // -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? as nlohmann stores it: an integer without
  // a sign as unsigned, with one as signed, anything else as a double.
  bool read_number(json& out) {
    const char* const start = p_;
    const bool negative = consume('-');
    if (!digit_here()) return false;
    if (*p_ == '0') ++p_;
    else skip_digits();
    bool integral = true;
    if (consume('.')) {
      integral = false;
      if (!digit_here()) return false;
      skip_digits();
    }
    if (p_ != end_ && (*p_ == 'e' || *p_ == 'E')) {
      integral = false;
      ++p_;
      if (!consume('+')) consume('-');
      if (!digit_here()) return false;
      skip_digits();
    }
    if (integral) {
      // Out of range, nlohmann makes it a double: from_chars fails and we go on to that case.
      if (negative) {
        std::int64_t i = 0;
        if (std::from_chars(start, p_, i).ec == std::errc()) {
          out = i;
          return true;
        }
      } else {
        std::uint64_t u = 0;
        if (std::from_chars(start, p_, u).ec == std::errc()) {
          out = u;
          return true;
        }
      }
    }
    // Overflow is an error for nlohmann and underflow is not; both are left to it.
    double d = 0;
    const auto parsed = std::from_chars(start, p_, d);
    if (parsed.ec != std::errc() || parsed.ptr != p_ || !std::isfinite(d)) return false;
    out = d;
    return true;
  }

  const char* p_;
  const char* const end_;
  std::size_t depth_left_;
};

// Appends compact JSON text for `v` to `out`, as nlohmann's dump() would write it (UTF-8 kept
// as it is). False, with `out` partly written, for anything it leaves to nlohmann's serializer:
// a string that is not valid UTF-8 (nlohmann names the bad byte), a binary or discarded value.
class json_writer {
 public:
  using json = nlohmann::json;

  static bool write(const json& v, std::string& out) {
    switch (v.type()) {
      case json::value_t::null: out += "null"; return true;
      case json::value_t::boolean: out += *v.get_ptr<const bool*>() ? "true" : "false"; return true;
      case json::value_t::number_integer:
        return append_number(*v.get_ptr<const json::number_integer_t*>(), out);
      case json::value_t::number_unsigned:
        return append_number(*v.get_ptr<const json::number_unsigned_t*>(), out);
      case json::value_t::number_float: return append_double(*v.get_ptr<const double*>(), out);
      case json::value_t::string: return write_string(*v.get_ptr<const std::string*>(), out);
      case json::value_t::array: {
        out += '[';
        bool first = true;
        for (const json& element : *v.get_ptr<const json::array_t*>()) {
          if (!first) out += ',';
          first = false;
          if (!write(element, out)) return false;
        }
        out += ']';
        return true;
      }
      case json::value_t::object: {
        out += '{';
        bool first = true;
        for (const auto& [key, member] : *v.get_ptr<const json::object_t*>()) {
          if (!first) out += ',';
          first = false;
          if (!write_string(key, out)) return false;
          out += ':';
          if (!write(member, out)) return false;
        }
        out += '}';
        return true;
      }
      case json::value_t::binary:
      case json::value_t::discarded: return false;
    }
    return false;
  }

 private:
  template <class Integer>
  static bool append_number(Integer i, std::string& out) {
    std::array<char, 24> digits;
    const auto end = std::to_chars(digits.data(), digits.data() + digits.size(), i).ptr;
    out.append(digits.data(), end);
    return true;
  }

  // nlohmann's own shortest round-trip formatting, ".0" for integral values, null if not finite.
  static bool append_double(double d, std::string& out) {
    if (!std::isfinite(d)) {
      out += "null";
      return true;
    }
    std::array<char, 64> digits;
    char* end = nlohmann::detail::to_chars(digits.data(), digits.data() + digits.size(), d);
    out.append(digits.data(), end);
    return true;
  }

  static bool write_string(const std::string& s, std::string& out) {
    out += '"';
    const char* p = s.data();
    const char* const end = p + s.size();
    while (p != end) {
      const char* run = p;
      for (;;) {
        p = skip_plain_string_bytes(p, end);
        if (p == end || static_cast<unsigned char>(*p) < 0x80) break;
        const std::size_t length = utf8_sequence_length(reinterpret_cast<const unsigned char*>(p),
                                                        reinterpret_cast<const unsigned char*>(end));
        if (length == 0) return false;
        p += length;
      }
      out.append(run, p);
      if (p == end) break;
      append_escaped(static_cast<unsigned char>(*p++), out);
    }
    out += '"';
    return true;
  }

  static void append_escaped(unsigned char c, std::string& out) {
    switch (c) {
      case '"': out += "\\\""; return;
      case '\\': out += "\\\\"; return;
      case '\b': out += "\\b"; return;
      case '\f': out += "\\f"; return;
      case '\n': out += "\\n"; return;
      case '\r': out += "\\r"; return;
      case '\t': out += "\\t"; return;
      default: {
        constexpr std::string_view hex = "0123456789abcdef";
        const char escape[] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 0xF]};
        out.append(escape, sizeof escape);
      }
    }
  }
};

}  // namespace bsonrpc::detail
