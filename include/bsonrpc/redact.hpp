// bsonrpc/redact.hpp: a ready-made log_filter masking the values of named members.
//
//   bsonrpc::Options options;
//   options.log = bsonrpc::stderr_log_sink();
//   options.log_filter = bsonrpc::redact_params({"password", "token"});
//   // ... {"user":"ann","password":"hunter2"} is logged as {"user":"ann","password":"***"}
//
// A log line is free text that may hold JSON, or Extended JSON for BSON values: whole messages,
// fragments of them in a handler's exception, or a line cut short. So the redactor scans for
// JSON strings followed by a colon instead of parsing the line. Every double quote may open
// such a key, so a stray quote in the prose before the JSON cannot shift it off track. A key
// matches when its decoded text (escapes such as \u0070 resolved) equals a name exactly; its
// value, whatever its type (string, number, object, array, an Extended JSON wrapper), becomes
// "***", and a value the line cuts off is masked to the end of the line. A string value that
// itself holds JSON with escaped quotes (a JSON document logged inside a JSON string) is
// redacted too. The excerpt a JSON parse error quotes ("last read: '...'") is masked whole, as
// it may hold a value without its key. Keys without double quotes (password=..., Python's
// 'password') are not seen.
#pragma once

#include <bsonrpc/detail/utf8.hpp>
#include <bsonrpc/log.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bsonrpc {

namespace detail::redaction {

inline constexpr std::string_view mask = "\"***\"";
// Bounds the work spent on JSON inside JSON strings inside JSON strings ...
inline constexpr int max_string_nesting = 8;

struct string_extent {
  std::size_t end;  // after the closing quote, or the line's end when it has none
  bool closed;
  bool has_escape;
};

// The JSON string whose opening quote is at `open`.
inline string_extent scan_string(std::string_view s, std::size_t open) {
  bool has_escape = false;
  for (std::size_t i = open + 1; i < s.size(); ++i) {
    if (s[i] == '\\') {
      has_escape = true;
      ++i;
    } else if (s[i] == '"') {
      return {i + 1, true, has_escape};
    }
  }
  return {s.size(), false, has_escape};
}

inline bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

inline std::size_t skip_blanks(std::string_view s, std::size_t i) {
  while (i < s.size() && is_blank(s[i])) ++i;
  return i;
}

inline int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The code unit of "\uXXXX" at `i` (pointing at the backslash), or -1.
inline long read_u_escape(std::string_view s, std::size_t i) {
  if (i + 6 > s.size() || s[i] != '\\' || s[i + 1] != 'u') return -1;
  long unit = 0;
  for (std::size_t k = i + 2; k < i + 6; ++k) {
    const int digit = hex_digit(s[k]);
    if (digit < 0) return -1;
    unit = unit * 16 + digit;
  }
  return unit;
}

// The text of a JSON string's contents (between the quotes). Invalid escapes stay as written.
inline std::string decode(std::string_view body) {
  std::string out;
  out.reserve(body.size());
  for (std::size_t i = 0; i < body.size(); ++i) {
    if (body[i] != '\\' || i + 1 == body.size()) {
      out.push_back(body[i]);
      continue;
    }
    const char c = body[i + 1];
    switch (c) {
      case '"': case '\\': case '/': out.push_back(c); ++i; continue;
      case 'b': out.push_back('\b'); ++i; continue;
      case 'f': out.push_back('\f'); ++i; continue;
      case 'n': out.push_back('\n'); ++i; continue;
      case 'r': out.push_back('\r'); ++i; continue;
      case 't': out.push_back('\t'); ++i; continue;
      default: break;
    }
    const long unit = read_u_escape(body, i);
    if (unit < 0) {
      out.push_back('\\');
      continue;
    }
    std::uint32_t code_point = static_cast<std::uint32_t>(unit);
    i += 5;
    if (unit >= 0xD800 && unit < 0xDC00) {
      const long low = read_u_escape(body, i + 1);
      if (low >= 0xDC00 && low < 0xE000) {
        code_point = 0x10000 + ((static_cast<std::uint32_t>(unit) - 0xD800) << 10) +
                     (static_cast<std::uint32_t>(low) - 0xDC00);
        i += 6;
      }
    }
    append_utf8(out, code_point);
  }
  return out;
}

// `text` as the contents of a JSON string.
inline void append_escaped(std::string& out, std::string_view text) {
  static constexpr char hex[] = "0123456789abcdef";
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (byte < 0x20) {
          out += "\\u00";
          out.push_back(hex[byte >> 4]);
          out.push_back(hex[byte & 0xF]);
        } else {
          out.push_back(c);
        }
    }
  }
}

// Where the value starting at `i` ends: after a string or a balanced object/array; a bare
// token (number, literal, ObjectId("...")) ends at the first comma, closing bracket or blank
// outside brackets and strings. The line's end when the value is cut off.
inline std::size_t value_end(std::string_view s, std::size_t i) {
  std::size_t depth = 0;
  while (i < s.size()) {
    const char c = s[i];
    if (c == '"') {
      i = scan_string(s, i).end;
      if (depth == 0) return i;
      continue;
    }
    if (c == '{' || c == '[' || c == '(') {
      ++depth;
    } else if (c == '}' || c == ']' || c == ')') {
      if (depth == 0) return i;
      if (--depth == 0) return i + 1;
    } else if (depth == 0 && (c == ',' || is_blank(c))) {
      return i;
    }
    ++i;
  }
  return s.size();
}

class redactor {
 public:
  explicit redactor(const std::vector<std::string>& names) : names_(names) {}

  std::string run(std::string_view text, int nesting = 0) const {
    std::string out;
    std::size_t copied = 0;  // text[0, copied) is in `out`
    std::size_t quote = text.find('"');
    while (quote != std::string_view::npos) {
      const string_extent str = scan_string(text, quote);
      const std::string_view body =
          text.substr(quote + 1, str.end - quote - 1 - (str.closed ? 1 : 0));
      const std::size_t after = skip_blanks(text, str.end);
      if (str.closed && after < text.size() && text[after] == ':') {
        if (is_secret(body, str.has_escape)) {
          const std::size_t value = skip_blanks(text, after + 1);
          if (value == text.size()) break;  // cut before the value: nothing to hide
          const std::size_t end = value_end(text, value);
          out.append(text.substr(copied, value - copied));
          out.append(mask);
          copied = end;
          quote = text.find('"', end);
          continue;
        }
      } else if (str.has_escape && nesting < max_string_nesting) {
        // A string holding escaped JSON: redact its decoded text, and write it back if changed.
        const std::string inner = decode(body);
        if (inner.find('"') != std::string::npos) {
          std::string redacted = run(inner, nesting + 1);
          if (redacted != inner) {
            out.append(text.substr(copied, quote - copied));
            out.push_back('"');
            append_escaped(out, redacted);
            if (str.closed) out.push_back('"');
            copied = str.end;
            quote = str.closed ? text.find('"', str.end) : std::string_view::npos;
            continue;
          }
        }
      }
      // Its closing quote may open a key (the prose before it may have held a stray quote).
      quote = str.closed ? str.end - 1 : std::string_view::npos;
    }
    if (copied == 0) return std::string(text);
    out.append(text.substr(copied));
    return out;
  }

 private:
  bool is_secret(std::string_view key_body, bool has_escape) const {
    if (!has_escape)
      return std::find(names_.begin(), names_.end(), key_body) != names_.end();
    const std::string key = decode(key_body);
    return std::find(names_.begin(), names_.end(), key) != names_.end();
  }

  const std::vector<std::string>& names_;
};

// nlohmann's parse errors quote the token they stopped in ("last read: '\"s3cret'"): a value
// seen without its key, so the excerpt is masked whole. nullopt when there is none.
inline std::optional<std::string> mask_parse_error_excerpt(std::string_view line) {
  static constexpr std::string_view marker = "last read: '";
  const std::size_t start = line.find(marker);
  if (start == std::string_view::npos) return std::nullopt;
  const std::size_t excerpt = start + marker.size();
  const std::size_t close = line.rfind('\'');
  std::string out(line.substr(0, excerpt));
  out += "***";
  if (close != std::string_view::npos && close >= excerpt) out.append(line.substr(close));
  return out;
}

}  // namespace detail::redaction

/// `text` with the value of every JSON member whose key is one of `names` replaced by "***",
/// at any depth (see the top of this header for what is recognised).
inline std::string redact_members(std::string_view text, const std::vector<std::string>& names) {
  if (names.empty()) return std::string(text);
  const detail::redaction::redactor redactor(names);
  if (auto masked = detail::redaction::mask_parse_error_excerpt(text)) return redactor.run(*masked);
  if (text.find('"') == std::string_view::npos) return std::string(text);
  return redactor.run(text);
}

/// A log_filter applying redact_members(line, names) to every log line.
inline log_filter redact_params(std::vector<std::string> names) {
  return [names = std::move(names)](log_level, std::string_view line) {
    return redact_members(line, names);
  };
}

}  // namespace bsonrpc
