// bsonrpc/framing/rfc7464.hpp: JSON text sequences (RFC 7464), each text framed as RS text LF.
//
// Format: 0x1E (RS), one JSON text, 0x0A (LF). The message is the bytes between the RS and the
// first LF after it; our encoders emit compact JSON, so a text never holds a raw LF.
// Recoverable: a text cut short by another RS before its LF is returned as a frame (the codec
// then reports a parse error) and the next frame starts at that RS (RFC 7464, section 2.1).
// Runs of RS with no text between them are skipped (section 2.1 allows ignoring them).
// Not recoverable: any byte other than RS where a frame must start (framing_error), and a text
// longer than max_message_bytes (message_too_large, thrown before its LF arrives).
#pragma once

#include <bsonrpc/framing/framing.hpp>

#include <algorithm>
#include <cstring>

namespace bsonrpc {

/// JSON text sequences (RFC 7464): each message framed as RS text LF.
struct Rfc7464 {
  static constexpr std::string_view name = "rfc7464";  ///< a short name for the framing
  static constexpr char record_separator = '\x1E';    ///< RS, before each text
  static constexpr char line_feed = '\n';             ///< LF, after each text

  /// The first RS-LF text at the front of `buffer`; each byte is scanned once across calls.
  std::optional<frame> extract(std::string_view buffer, std::size_t max_message_bytes) {
    if (buffer.empty()) return std::nullopt;
    if (text_start_ == 0) {
      if (buffer[0] != record_separator) fail<framing_error>("rfc7464: frame must start with RS");
      text_start_ = scanned_ = 1;
    }
    for (;;) {
      // Skipped RS runs still occupy the buffer, so an endless run must not grow it forever.
      if (text_start_ - 1 > max_message_bytes) fail<message_too_large>("rfc7464: RS run too long");
      const std::size_t available = buffer.size() - text_start_;
      // Look no further than max_message_bytes + 1 text bytes: past that the text is too large.
      const std::size_t window_end =
          text_start_ + (max_message_bytes < available ? max_message_bytes + 1 : available);
      const char* data = buffer.data();
      const std::size_t end = find(data, scanned_, window_end, line_feed);
      const std::size_t rs = find(data, scanned_, end, record_separator);
      if (rs != end) {
        if (rs != text_start_) return take(frame{text_start_, rs - text_start_, rs});  // truncated
        text_start_ = scanned_ = rs + 1;  // RS RS: no text between them
        continue;
      }
      if (end != window_end) return take(frame{text_start_, end - text_start_, end + 1});
      scanned_ = window_end;
      if (window_end - text_start_ > max_message_bytes)
        fail<message_too_large>("rfc7464: text exceeds max_message_bytes");
      return std::nullopt;
    }
  }

  /// Appends RS message LF to `out`.
  static void wrap(std::string_view message, std::string& out) {
    const std::size_t needed = message.size() + 2;
    if (out.capacity() - out.size() < needed)
      out.reserve(std::max(out.size() + needed, 2 * out.capacity()));
    out.push_back(record_separator);
    out.append(message);
    out.push_back(line_feed);
  }
  /// Framing in place: appends the RS.
  static void begin_frame(std::string& out) { out.push_back(record_separator); }
  /// Appends the LF after the message.
  static void end_frame(std::string& out, std::size_t) { out.push_back(line_feed); }

 private:
  // Index of the first `c` in data[from, to), or `to` if there is none.
  static std::size_t find(const char* data, std::size_t from, std::size_t to, char c) {
    if (from >= to) return to;
    const void* hit = std::memchr(data + from, c, to - from);
    return hit ? static_cast<std::size_t>(static_cast<const char*>(hit) - data) : to;
  }

  std::optional<frame> take(frame f) {
    *this = Rfc7464{};
    return f;
  }

  // Resets the scan state so the object is consistent after the throw.
  template <class E>
  [[noreturn]] void fail(const char* what) {
    *this = Rfc7464{};
    throw E(what);
  }

  std::size_t text_start_ = 0;  // index of the text after the last RS seen; 0 before the first
  std::size_t scanned_ = 0;     // bytes before this index hold no LF (and no RS after the text)
};
static_assert(is_framing_v<Rfc7464>);

}  // namespace bsonrpc
