// bsonrpc/framing/ndjson.hpp: newline-delimited JSON, one JSON text per line.
//
// Format: a JSON text, then LF. On input, as NDJSON readers commonly do, CRs before the LF are
// dropped and lines holding only spaces, tabs and CRs are skipped; a line is otherwise passed
// to the codec as it is. On output, wrap() refuses with encoding_error (sending nothing,
// appending nothing) what would not read back unchanged: a message holding a raw LF (two
// broken lines), ending in CR, or blank. JsonCodec never writes one: it writes compact JSON,
// and a newline inside a string is always escaped as \n.
// Recoverable: every line stands alone, so a line that does not decode gets -32700 and the
// next line is read. Not recoverable: a line longer than max_message_bytes (message_too_large,
// thrown before its LF arrives), and blank lines adding up to more than max_message_bytes
// before a message (they stay buffered until the message is extracted).
#pragma once

#include <bsonrpc/framing/framing.hpp>

#include <algorithm>
#include <cstring>

namespace bsonrpc {

/// Newline-delimited JSON: one JSON text per line, ended by LF.
struct Ndjson {
  static constexpr std::string_view name = "ndjson";  ///< a short name for the framing

  /// The first non-blank line at the front of `buffer`, with the blank lines before it consumed
  /// along with it; each byte is scanned once across calls.
  std::optional<frame> extract(std::string_view buffer, std::size_t max_message_bytes) {
    const char* data = buffer.data();
    for (;;) {
      const std::size_t available = buffer.size() - line_start_;
      // Look no further than a line can reach: max_message_bytes, a CR and the LF.
      const std::size_t window_end =
          line_start_ +
          (available > 1 && max_message_bytes < available - 1 ? max_message_bytes + 2 : available);
      if (!has_content_) {
        while (scanned_ < window_end && is_blank(data[scanned_])) ++scanned_;
        if (scanned_ < window_end && data[scanned_] == '\n') {
          line_start_ = scanned_ = scanned_ + 1;
          if (line_start_ > max_message_bytes)
            fail<message_too_large>("ndjson: blank lines exceed max_message_bytes");
          continue;
        }
        has_content_ = scanned_ < window_end;
      }
      const std::size_t end = has_content_ ? find_line_feed(data, scanned_, window_end) : window_end;
      if (end != window_end) {
        std::size_t message_end = end;  // CRs before the LF are not part of the message
        while (message_end > line_start_ && data[message_end - 1] == '\r') --message_end;
        if (message_end - line_start_ > max_message_bytes)
          fail<message_too_large>("ndjson: line exceeds max_message_bytes");
        const frame f{line_start_, message_end - line_start_, end + 1};
        *this = Ndjson{};
        return f;
      }
      scanned_ = window_end;
      // Too long already, unless the last byte is a CR that the next LF would drop.
      const std::size_t line = window_end - line_start_;
      if (line > max_message_bytes &&
          (line - max_message_bytes > 1 || data[window_end - 1] != '\r'))
        fail<message_too_large>("ndjson: line exceeds max_message_bytes");
      return std::nullopt;
    }
  }

  /// Appends message LF to `out`; throws encoding_error, appending nothing, if the message
  /// holds a raw LF.
  static void wrap(std::string_view message, std::string& out) {
    check_single_line(message);
    const std::size_t needed = message.size() + 1;
    if (out.capacity() - out.size() < needed)
      out.reserve(std::max(out.size() + needed, 2 * out.capacity()));
    out.append(message);
    out.push_back('\n');
  }
  /// Only blank lines are buffered.
  bool between_messages() const { return !has_content_; }

  /// Framing in place: nothing goes before the message.
  static void begin_frame(std::string&) {}
  /// As wrap(): on a raw LF, `out` is cut back to where the message started, and this throws.
  static void end_frame(std::string& out, std::size_t message_start) {
    try {
      check_single_line(std::string_view(out).substr(message_start));
    } catch (const encoding_error&) {
      out.resize(message_start);
      throw;
    }
    out.push_back('\n');
  }

 private:
  static bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

  // What a reader would not give back unchanged: a raw LF splits the line, a final CR is
  // dropped as part of a CR LF, and a blank line is skipped.
  static void check_single_line(std::string_view message) {
    if (message.find('\n') != std::string_view::npos)
      throw encoding_error("ndjson: a message must not contain a raw newline");
    if (!message.empty() && message.back() == '\r')
      throw encoding_error("ndjson: a message must not end in a raw carriage return");
    if (std::all_of(message.begin(), message.end(), is_blank))
      throw encoding_error("ndjson: a message must not be blank");
  }

  // Index of the first LF in data[from, to), or `to` if there is none.
  static std::size_t find_line_feed(const char* data, std::size_t from, std::size_t to) {
    if (from >= to) return to;
    const void* hit = std::memchr(data + from, '\n', to - from);
    return hit ? static_cast<std::size_t>(static_cast<const char*>(hit) - data) : to;
  }

  // Resets the scan state so the object is consistent after the throw.
  template <class E>
  [[noreturn]] void fail(const char* what) {
    *this = Ndjson{};
    throw E(what);
  }

  std::size_t line_start_ = 0;  // where the current line starts, past the blank lines before it
  std::size_t scanned_ = 0;     // bytes before this index hold no LF of the current line
  bool has_content_ = false;    // the current line holds a byte other than space, tab and CR
};
static_assert(is_framing_v<Ndjson>);

}  // namespace bsonrpc
