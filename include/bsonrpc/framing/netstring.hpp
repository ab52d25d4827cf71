// bsonrpc/framing/netstring.hpp: netstrings, each message framed as "<length>:<bytes>,".
//
// Format: the message length in decimal ASCII (no sign, no leading zeros, "0" for an empty
// message), ':', the message bytes, ','.
// Nothing is recoverable: after a bad length or a missing ',' the stream has no reliable next
// boundary. Errors: framing_error for a malformed header or terminator; message_too_large as
// soon as the length digits read so far exceed max_message_bytes, before the body is buffered.
#pragma once

#include <bsonrpc/framing/framing.hpp>

#include <algorithm>
#include <charconv>

namespace bsonrpc {

/// Netstrings: each message framed as "<length>:<bytes>,".
struct Netstring {
  static constexpr std::string_view name = "netstring";  ///< a short name for the framing

  /// The first netstring at the front of `buffer`; the length digits are parsed once across calls.
  std::optional<frame> extract(std::string_view buffer, std::size_t max_message_bytes) {
    while (!has_length_ && parsed_ < buffer.size()) parse_length_byte(buffer, max_message_bytes);
    if (!has_length_) return std::nullopt;
    const std::size_t body = parsed_;
    // Written so that a length near SIZE_MAX cannot overflow: we need length_ + 1 more bytes.
    if (buffer.size() - body <= length_) return std::nullopt;
    if (buffer[body + length_] != ',') fail<framing_error>("netstring: missing ',' terminator");
    const frame f{body, length_, body + length_ + 1};
    *this = Netstring{};
    return f;
  }

  /// Appends "<length>:message," to `out`.
  static void wrap(std::string_view message, std::string& out) {
    char digits[24];
    const auto [end, ec] = std::to_chars(digits, digits + sizeof digits, message.size());
    const auto digit_count = static_cast<std::size_t>(end - digits);
    const std::size_t needed = digit_count + message.size() + 2;
    if (out.capacity() - out.size() < needed)
      out.reserve(std::max(out.size() + needed, 2 * out.capacity()));
    out.append(digits, digit_count);
    out.push_back(':');
    out.append(message);
    out.push_back(',');
  }

  /// Once the "<length>:" header is in: the header, the message and the ','.
  std::size_t frame_size_hint(std::string_view) const {
    return has_length_ ? parsed_ + length_ + 1 : 0;
  }

 private:
  void parse_length_byte(std::string_view buffer, std::size_t max_message_bytes) {
    const char c = buffer[parsed_];
    const bool is_digit = c >= '0' && c <= '9';
    if (parsed_ == 0 && !is_digit) fail<framing_error>("netstring: length expected");
    if (!is_digit) {
      if (c != ':') fail<framing_error>("netstring: non-digit in length");
      has_length_ = true;
    } else {
      // "0" alone is the empty message; any digit after a leading zero is a leading zero.
      if (parsed_ == 1 && buffer[0] == '0') fail<framing_error>("netstring: leading zero");
      const auto digit = static_cast<std::size_t>(c - '0');
      // length_ * 10 + digit > max, rearranged so it cannot overflow.
      if (digit > max_message_bytes || length_ > (max_message_bytes - digit) / 10)
        fail<message_too_large>("netstring: length exceeds max_message_bytes");
      length_ = length_ * 10 + digit;
    }
    ++parsed_;
  }

  // Resets the parse state so the object is consistent after the throw.
  template <class E>
  [[noreturn]] void fail(const char* what) {
    *this = Netstring{};
    throw E(what);
  }

  std::size_t parsed_ = 0;   // bytes of the "<length>:" header consumed so far
  std::size_t length_ = 0;   // value of the digits parsed so far
  bool has_length_ = false;  // the ':' has been seen, so parsed_ is where the message starts
};
static_assert(is_framing_v<Netstring>);

}  // namespace bsonrpc
