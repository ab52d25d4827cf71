// bsonrpc/framing/auto.hpp: AutoFraming, a framing that detects the peer's framing from the first
// bytes of the connection and then reads and writes in it. For a server whose clients do not all
// frame alike: JsonRpc<AutoFraming> serves RFC 7464, netstring, Content-Length, NDJSON and
// frameless clients on one port.
//
// Detection (detect_framing), from the first bytes of a connection:
//   0x1E (RS)                                  RFC 7464
//   decimal digits, then ':'                   netstring
//   "Content-Length:" or "Content-Type:"       Content-Length (header names in any case)
//   '{', '[', or whitespace                    NDJSON or frameless JSON texts
//   a little-endian int32 length >= 5, then a valid BSON element type byte    a BSON document
// Text never holds a NUL byte and a BSON document under 16 MiB starts with one in its first
// four bytes (its length's high byte), so detection waits for four bytes (two for "{}" or "[]")
// and can then tell BSON from text. Bytes that match none are `unknown`.
//
// Behaviour once detected: as Rfc7464, Netstring or ContentLength exactly, replies included. JSON
// texts: NDJSON and frameless cannot be told apart from a message's first bytes, so AutoFraming
// reads them as Frameless does (whitespace, newlines included, may separate the texts) and ends
// each message it writes with LF, which both an NDJSON and a frameless reader accept.
// Differences from using the framing directly:
//   - a message that does not decode gets its -32700, and then the connection closes, whatever
//     the framing (resynchronises is a property of the type; frameless cannot resynchronise);
//   - nothing can be sent before the peer's first message has been detected: calls and
//     notifications made before then throw encoding_error (AutoFraming is for the side that
//     speaks second, a server);
//   - BSON is detected but not read: a connection's codec is fixed by its Rpc type, and
//     AutoFraming serves JSON codecs. A BSON peer gets no reply; the connection closes with the
//     log line "framing error, closing: auto: the peer sends BSON ..." (a server that serves both
//     codecs on one port detects first, with detect_framing, and picks the Rpc type).
//   - bytes that match no framing: framing_error naming them (logged, connection closed).
#pragma once

#include <bsonrpc/errors.hpp>
#include <bsonrpc/framing/content_length.hpp>
#include <bsonrpc/framing/frameless.hpp>
#include <bsonrpc/framing/framing.hpp>
#include <bsonrpc/framing/netstring.hpp>
#include <bsonrpc/framing/rfc7464.hpp>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>

namespace bsonrpc {

/// What the first bytes of a connection are framed as (see bsonrpc/framing/auto.hpp).
enum class detected_framing {
  undecided,       ///< not enough bytes yet
  rfc7464,         ///< RS-prefixed JSON texts
  netstring,       ///< "<length>:<bytes>,"
  content_length,  ///< "Content-Length: N" header blocks
  json_text,       ///< NDJSON or frameless JSON texts
  bson,            ///< BSON documents
  unknown          ///< none of them
};

/// A short name for `f`, as in log lines: "rfc7464", "json-text", "bson", ...
constexpr std::string_view to_string(detected_framing f) noexcept {
  switch (f) {
    case detected_framing::undecided: return "undecided";
    case detected_framing::rfc7464: return "rfc7464";
    case detected_framing::netstring: return "netstring";
    case detected_framing::content_length: return "content-length";
    case detected_framing::json_text: return "json-text";
    case detected_framing::bson: return "bson";
    case detected_framing::unknown: break;
  }
  return "unknown";
}

namespace detail {

// Whether `bytes` so far agree with `header` ("content-length:"), in any case: nullopt while
// they are a proper prefix of it.
inline std::optional<bool> matches_header(std::string_view bytes, std::string_view header) {
  const std::size_t n = std::min(bytes.size(), header.size());
  for (std::size_t i = 0; i < n; ++i) {
    char c = bytes[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != header[i]) return false;
  }
  if (bytes.size() < header.size()) return std::nullopt;
  return true;
}

inline bool is_bson_element_type(unsigned char t) {
  return (t >= 0x01 && t <= 0x13) || t == 0x7F || t == 0xFF;
}

inline detected_framing detect_text_framing(std::string_view bytes) {
  const char first = bytes[0];
  if (first == '\x1E') return detected_framing::rfc7464;
  if (first == '{' || first == '[' || first == ' ' || first == '\t' || first == '\r' ||
      first == '\n')
    return detected_framing::json_text;
  if (first >= '0' && first <= '9') {
    // Netstring lengths are at most 20 digits (a 64-bit size).
    const std::size_t digits = std::min(bytes.find_first_not_of("0123456789"), bytes.size());
    if (digits > 20) return detected_framing::unknown;
    if (digits == bytes.size()) return detected_framing::undecided;
    return bytes[digits] == ':' ? detected_framing::netstring : detected_framing::unknown;
  }
  const auto length = matches_header(bytes, "content-length:");
  const auto type = matches_header(bytes, "content-type:");
  if ((length && *length) || (type && *type)) return detected_framing::content_length;
  if (!length || !type) return detected_framing::undecided;
  return detected_framing::unknown;
}

}  // namespace detail

/// The framing the first bytes of a connection use; `undecided` while more are needed.
inline detected_framing detect_framing(std::string_view first_bytes) {
  const std::string_view head = first_bytes.substr(0, 4);
  if (head.empty()) return detected_framing::undecided;
  if (head.find('\0') == std::string_view::npos) {
    if (head.size() < 4) {
      // "{}" and "[]" are whole messages: answer them rather than wait for more.
      if (head.size() >= 2 && (head.substr(0, 2) == "{}" || head.substr(0, 2) == "[]"))
        return detected_framing::json_text;
      return detected_framing::undecided;
    }
    return detail::detect_text_framing(first_bytes);
  }
  // A NUL byte: no text framing. A BSON document: int32 length >= 5, then an element type
  // (or the terminating 0x00 of the empty document).
  if (first_bytes.size() < 5) return detected_framing::undecided;
  std::uint32_t length = 0;
  for (int i = 3; i >= 0; --i)
    length = length << 8 | static_cast<unsigned char>(first_bytes[static_cast<std::size_t>(i)]);
  const auto type = static_cast<unsigned char>(first_bytes[4]);
  const bool plausible = length >= 5 && length <= 0x7FFFFFFFu &&
                         (detail::is_bson_element_type(type) || (length == 5 && type == 0));
  return plausible ? detected_framing::bson : detected_framing::unknown;
}

/// Detects the peer's framing from the first bytes of the connection, then reads and writes in
/// it; for JSON codecs. See the top of bsonrpc/framing/auto.hpp for what it detects and how it
/// differs from the framing it detected.
class AutoFraming {
 public:
  static constexpr std::string_view name = "auto";  ///< a short name for the framing
  /// After a message that does not decode, the connection closes: JSON texts are read as
  /// frameless, which cannot resynchronise.
  static constexpr bool resynchronises = false;

  /// Detects the framing from the first bytes, then extracts as it does.
  std::optional<frame> extract(std::string_view buffer, std::size_t max_message_bytes) {
    if (std::holds_alternative<std::monostate>(inner_)) {
      const detected_framing found = detect_framing(buffer);
      switch (found) {
        case detected_framing::undecided:
          // Only a netstring length (20 digits) or a header name get this far undecided.
          return std::nullopt;
        case detected_framing::rfc7464: inner_.emplace<Rfc7464>(); break;
        case detected_framing::netstring: inner_.emplace<Netstring>(); break;
        case detected_framing::content_length: inner_.emplace<ContentLength>(); break;
        case detected_framing::json_text: inner_.emplace<Frameless>(); break;
        case detected_framing::bson:
          throw framing_error(
              "auto: the peer sends BSON (a little-endian length and an element type), but "
              "this connection's codec reads JSON: serve BSON with BsonRpc");
        case detected_framing::unknown:
          throw framing_error("auto: the first bytes match no framing (RFC 7464, netstring, "
                              "Content-Length, NDJSON/frameless JSON, BSON): " +
                              describe(buffer.substr(0, 16)));
      }
      kind_.store(found, std::memory_order_release);
    }
    return std::visit(
        [&](auto& f) -> std::optional<frame> {
          if constexpr (std::is_same_v<std::decay_t<decltype(f)>, std::monostate>) return {};
          else return f.extract(buffer, max_message_bytes);
        },
        inner_);
  }

  /// Appends `message` framed as the peer frames its messages (JSON texts: followed by LF).
  /// Throws encoding_error, appending nothing, before the peer's framing is known.
  void wrap(std::string_view message, std::string& out) const {
    switch (detected()) {
      case detected_framing::rfc7464: Rfc7464::wrap(message, out); return;
      case detected_framing::netstring: Netstring::wrap(message, out); return;
      case detected_framing::content_length: ContentLength::wrap(message, out); return;
      case detected_framing::json_text:
        out.append(message);
        out.push_back('\n');
        return;
      default:
        throw encoding_error(
            "auto: nothing can be sent before the peer's first bytes show its framing");
    }
  }

  /// What the first bytes were detected as (any thread): `undecided` until then.
  detected_framing detected() const noexcept { return kind_.load(std::memory_order_acquire); }

  /// As the detected framing's: the frame's size once its header says it; else 0.
  std::size_t frame_size_hint(std::string_view buffer) const {
    if (const auto* f = std::get_if<Netstring>(&inner_)) return f->frame_size_hint(buffer);
    if (const auto* f = std::get_if<ContentLength>(&inner_)) return f->frame_size_hint(buffer);
    return 0;
  }

  /// Only what separates JSON texts is buffered (not before detection: any byte counts).
  bool between_messages() const {
    if (const auto* f = std::get_if<Frameless>(&inner_)) return f->between_messages();
    return false;
  }

 private:
  // Up to 16 bytes as hex, for the log line.
  static std::string describe(std::string_view bytes) {
    static constexpr char hex[] = "0123456789abcdef";
    std::string text;
    for (const char c : bytes) {
      const auto b = static_cast<unsigned char>(c);
      if (!text.empty()) text.push_back(' ');
      text.push_back(hex[b >> 4]);
      text.push_back(hex[b & 0xF]);
    }
    return "first bytes " + text;
  }

  std::variant<std::monostate, Rfc7464, Netstring, ContentLength, Frameless> inner_;
  // Set once, by extract() on the reading strand; read by wrap() on any thread.
  std::atomic<detected_framing> kind_{detected_framing::undecided};
};
static_assert(is_framing_v<AutoFraming>);

}  // namespace bsonrpc
