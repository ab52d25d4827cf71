// bsonrpc/framing/content_length.hpp: HTTP-style headers announcing each message's length, the
// framing of the Language Server and Debug Adapter protocols.
//
// Format: header lines "Name: value" CR LF, one of them Content-Length, then an empty line
// (CR LF), then exactly Content-Length message bytes. wrap() writes only Content-Length.
// Parsing is strict, with HTTP's rules (RFC 9110 section 5, RFC 9112 section 5): names are
// tokens, compared case-insensitively, followed directly by ':'; values hold no control bytes
// but TAB; lines end in CR LF; continuation lines are refused. Content-Length is required, is
// digits only (optional spaces or tabs around them), and may repeat only with the same value.
// Other headers (LSP's Content-Type, say) are checked and ignored.
// Nothing is recoverable: a malformed header block, or one longer than max_header_bytes,
// leaves no reliable next boundary (framing_error). A length above max_message_bytes throws
// message_too_large on the digit that proves it, before the body is buffered.
#pragma once

#include <bsonrpc/framing/framing.hpp>

#include <algorithm>
#include <charconv>
#include <limits>

namespace bsonrpc {

/// HTTP-style headers announcing each message's length, as the Language Server and Debug
/// Adapter protocols frame messages.
struct ContentLength {
  static constexpr std::string_view name = "content-length";  ///< a short name for the framing
  /// The longest header block accepted, its empty line included: LSP peers send one or two
  /// short headers, so this only bounds what a hostile peer can make us buffer.
  static constexpr std::size_t max_header_bytes = 8 * 1024;

  /// The first message at the front of `buffer`; each header byte is parsed once across calls,
  /// the body not at all.
  std::optional<frame> extract(std::string_view buffer, std::size_t max_message_bytes) {
    if (!has_body_) {
      const std::size_t end = std::min(buffer.size(), max_header_bytes);
      while (!has_body_ && parsed_ < end) parse_header_byte(buffer[parsed_++], max_message_bytes);
      if (!has_body_) {
        if (parsed_ == max_header_bytes)
          fail<framing_error>("content-length: header block longer than max_header_bytes");
        return std::nullopt;
      }
    }
    if (buffer.size() - parsed_ < length_) return std::nullopt;
    const frame f{parsed_, length_, parsed_ + length_};
    *this = ContentLength{};
    return f;
  }

  /// Appends "Content-Length: <size>\r\n\r\n" and the message to `out`.
  static void wrap(std::string_view message, std::string& out) {
    constexpr std::string_view header = "Content-Length: ";
    char digits[24];
    const auto [end, ec] = std::to_chars(digits, digits + sizeof digits, message.size());
    const auto digit_count = static_cast<std::size_t>(end - digits);
    const std::size_t needed = header.size() + digit_count + 4 + message.size();
    if (out.capacity() - out.size() < needed)
      out.reserve(std::max(out.size() + needed, 2 * out.capacity()));
    out.append(header);
    out.append(digits, digit_count);
    out.append("\r\n\r\n");
    out.append(message);
  }

  /// Once the header block is in: the header block and the message.
  std::size_t frame_size_hint(std::string_view) const {
    if (!has_body_) return 0;
    return length_ > std::numeric_limits<std::size_t>::max() - parsed_ ? 0 : parsed_ + length_;
  }

 private:
  enum class state : unsigned char {
    line_start,    // a header name or the CR of the empty line
    name,          // inside a header name
    value,         // after the ':'
    line_end,      // after a header line's CR: LF
    block_end,     // after the empty line's CR: LF
  };
  // Where a Content-Length value is: before its digits, inside them, or after them.
  enum class digits : unsigned char { before, inside, after };

  static constexpr std::string_view length_header = "content-length";

  // RFC 9110 section 5.6.2: the bytes a header name (a token) is made of.
  static bool is_token_byte(char c) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
    return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
  }

  static char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

  void parse_header_byte(char c, std::size_t max_message_bytes) {
    switch (state_) {
      case state::line_start:
        if (c == '\r') {
          state_ = state::block_end;
          return;
        }
        if (!is_token_byte(c)) fail<framing_error>("content-length: header name expected");
        state_ = state::name;
        name_size_ = 0;
        name_is_length_ = true;
        [[fallthrough]];
      case state::name:
        if (c == ':') {
          state_ = state::value;
          name_is_length_ = name_is_length_ && name_size_ == length_header.size();
          digits_ = digits::before;
          value_ = 0;
          return;
        }
        if (!is_token_byte(c)) fail<framing_error>("content-length: invalid byte in header name");
        name_is_length_ = name_is_length_ && name_size_ < length_header.size() &&
                          lower(c) == length_header[name_size_];
        ++name_size_;
        return;
      case state::value:
        if (c == '\r') {
          state_ = state::line_end;
          return;
        }
        // Control bytes (LF and NUL among them) and DEL; TAB is whitespace.
        if ((static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == '\x7F')
          fail<framing_error>("content-length: control byte in header value");
        if (name_is_length_) parse_length_byte(c, max_message_bytes);
        return;
      case state::line_end:
        if (c != '\n') fail<framing_error>("content-length: CR without LF in header");
        if (name_is_length_) end_length_header();
        state_ = state::line_start;
        return;
      case state::block_end:
        if (c != '\n') fail<framing_error>("content-length: CR without LF in header");
        if (!has_length_) fail<framing_error>("content-length: no Content-Length header");
        has_body_ = true;
        return;
    }
  }

  void parse_length_byte(char c, std::size_t max_message_bytes) {
    if (c == ' ' || c == '\t') {
      if (digits_ == digits::inside) digits_ = digits::after;
      return;
    }
    if (c < '0' || c > '9' || digits_ == digits::after)
      fail<framing_error>("content-length: Content-Length must be decimal digits");
    digits_ = digits::inside;
    const auto digit = static_cast<std::size_t>(c - '0');
    // value_ * 10 + digit > max, rearranged so it cannot overflow.
    if (digit > max_message_bytes || value_ > (max_message_bytes - digit) / 10)
      fail<message_too_large>("content-length: length exceeds max_message_bytes");
    value_ = value_ * 10 + digit;
  }

  void end_length_header() {
    if (digits_ == digits::before) fail<framing_error>("content-length: empty Content-Length");
    if (has_length_ && value_ != length_)
      fail<framing_error>("content-length: Content-Length headers disagree");
    length_ = value_;
    has_length_ = true;
  }

  // Resets the parse state so the object is consistent after the throw.
  template <class E>
  [[noreturn]] void fail(const char* what) {
    *this = ContentLength{};
    throw E(what);
  }

  std::size_t parsed_ = 0;        // header bytes consumed so far; the body's offset once has_body_
  std::size_t length_ = 0;        // the Content-Length, once has_length_
  std::size_t value_ = 0;         // the Content-Length digits of the current line so far
  std::size_t name_size_ = 0;     // bytes of the current header name so far
  state state_ = state::line_start;
  digits digits_ = digits::before;
  bool name_is_length_ = false;   // the current header (so far) is Content-Length
  bool has_length_ = false;
  bool has_body_ = false;         // the empty line has been read
};
static_assert(is_framing_v<ContentLength>);

}  // namespace bsonrpc
