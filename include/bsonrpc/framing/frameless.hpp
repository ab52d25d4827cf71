// bsonrpc/framing/frameless.hpp: concatenated JSON texts, found by scanning their brackets.
//
// Format: JSON objects or arrays back to back, optionally separated by whitespace (space, tab,
// CR, LF). Each message must be an object or an array: a bare scalar has no reliable end.
// The scanner tracks only what decides where a value ends: {} and [] nesting outside strings,
// and backslash escapes inside them. Numbers, literals and UTF-8 pass through for the codec.
// Nothing is recoverable: a scalar at the top level or a mismatched closing bracket leaves no
// reliable next boundary (framing_error); a value longer than max_message_bytes throws
// message_too_large as soon as that many bytes have arrived without its end.
#pragma once

#include <bsonrpc/framing/framing.hpp>

#include <algorithm>

namespace bsonrpc {

namespace detail {

// Finds where one JSON object or array ends when fed in pieces; each byte is looked at once.
class json_value_scanner {
 public:
  // Scans `bytes`, which continue the bytes fed before. Returns how many of them belong to the
  // value once its closing bracket is among them, or nullopt if the value goes on after them.
  std::optional<std::size_t> feed(std::string_view bytes) {
    for (std::size_t i = 0; i < bytes.size(); ++i) {
      const char c = bytes[i];
      if (in_string_) {
        if (escaped_) {
          escaped_ = false;
        } else if (c == '\\') {
          escaped_ = true;
        } else if (c == '"') {
          in_string_ = false;
        }
        continue;
      }
      if (open_.empty() && c != '{' && c != '[')
        throw framing_error("frameless: a message must start with '{' or '['");
      switch (c) {
        case '"': in_string_ = true; break;
        case '{':
        case '[': open_.push_back(c); break;
        case '}':
        case ']':
          if (open_.back() != (c == '}' ? '{' : '['))
            throw framing_error("frameless: mismatched closing bracket");
          open_.pop_back();
          if (open_.empty()) return i + 1;
          break;
        default: break;
      }
    }
    return std::nullopt;
  }

 private:
  std::string open_;  // brackets still open, innermost last
  bool in_string_ = false;
  bool escaped_ = false;  // the previous byte in the string was an unescaped backslash
};

}  // namespace detail

/// Concatenated JSON objects or arrays, found by scanning their brackets; whitespace between
/// them is skipped.
struct Frameless {
  static constexpr std::string_view name = "frameless";  ///< a short name for the framing
  /// After a message that does not parse, the connection closes (see framing_resynchronises).
  static constexpr bool resynchronises = false;

  /// The first JSON object or array in `buffer`, after any whitespace, which is consumed with it.
  std::optional<frame> extract(std::string_view buffer, std::size_t max_message_bytes) {
    try {
      return extract_or_throw(buffer, max_message_bytes);
    } catch (const framing_error&) {
      *this = Frameless{};  // consistent state after the throw
      throw;
    }
  }

  /// Appends `message` unchanged: a JSON object or array delimits itself.
  static void wrap(std::string_view message, std::string& out) { out.append(message); }
  /// Framing in place: nothing to add before or after a JSON object or array.
  static void begin_frame(std::string&) {}
  /// Nothing to add: see begin_frame().
  static void end_frame(std::string&, std::size_t) {}

  /// Only whitespace is buffered (say, the newline after the last message).
  bool between_messages() const { return !started_; }

 private:
  std::optional<frame> extract_or_throw(std::string_view buffer, std::size_t max_message_bytes) {
    if (!started_) {
      const std::size_t first = buffer.find_first_not_of(" \t\r\n", scanned_);
      scanned_ = first == std::string_view::npos ? buffer.size() : first;
      // Leading whitespace stays buffered until a frame is returned, so it too is bounded.
      if (scanned_ > max_message_bytes)
        throw message_too_large("frameless: whitespace run exceeds max_message_bytes");
      if (first == std::string_view::npos) return std::nullopt;
      started_ = true;
      start_ = first;
    }
    const std::size_t available = buffer.size() - start_;
    // Feed no more than max_message_bytes of the value: past that it is known to be too large.
    const std::size_t window_end = start_ + std::min(available, max_message_bytes);
    if (const auto used = scanner_.feed(buffer.substr(scanned_, window_end - scanned_))) {
      const std::size_t end = scanned_ + *used;
      const frame f{start_, end - start_, end};
      *this = Frameless{};
      return f;
    }
    scanned_ = window_end;
    if (available > max_message_bytes)
      throw message_too_large("frameless: message exceeds max_message_bytes");
    return std::nullopt;
  }

  detail::json_value_scanner scanner_;
  std::size_t start_ = 0;    // where the value starts, once started_
  std::size_t scanned_ = 0;  // bytes before this index have been scanned
  bool started_ = false;     // the leading whitespace is behind us
};
static_assert(is_framing_v<Frameless>);

}  // namespace bsonrpc
