// bsonrpc/framing/bson.hpp: BSON documents back to back; each document frames itself.
//
// Format: a BSON document starts with its total length as a little-endian int32, counting the
// 4 length bytes and the trailing 0x00, so the message is the whole document.
// Nothing is recoverable here: a length below 5 (the empty document) leaves no next boundary
// (framing_error), and a length above max_message_bytes throws message_too_large as soon as the
// 4 length bytes are in. A bad document body is the codec's to report: its frame is still sound.
#pragma once

#include <bsonrpc/framing/framing.hpp>

#include <cstdint>

namespace bsonrpc {

/// BSON documents back to back: each document's int32 length prefix frames it.
struct BsonFraming {
  static constexpr std::string_view name = "bson";  ///< a short name for the framing
  static constexpr std::size_t min_document_bytes = 5;  ///< int32 length + trailing 0x00

  /// The first document at the front of `buffer`; stateless, as its header holds its length.
  static std::optional<frame> extract(std::string_view buffer, std::size_t max_message_bytes) {
    if (buffer.size() < 4) return std::nullopt;
    const auto byte = [&](std::size_t i) {
      return static_cast<std::uint32_t>(static_cast<unsigned char>(buffer[i]));
    };
    const std::uint32_t raw = byte(0) | byte(1) << 8 | byte(2) << 16 | byte(3) << 24;
    // The sign bit set means a negative int32 length.
    if (raw < min_document_bytes || raw > 0x7FFFFFFFu)
      throw framing_error("bson: document length is negative or below 5");
    const std::size_t length = raw;
    if (length > max_message_bytes)
      throw message_too_large("bson: document exceeds max_message_bytes");
    if (buffer.size() < length) return std::nullopt;
    return frame{0, length, length};
  }

  /// Appends the document unchanged: it already carries its length.
  static void wrap(std::string_view message, std::string& out) { out.append(message); }
  /// Framing in place: nothing to add before or after a document.
  static void begin_frame(std::string&) {}
  /// Nothing to add: see begin_frame().
  static void end_frame(std::string&, std::size_t) {}

  /// The length the document at the front of `buffer` announces, once its 4 bytes are in.
  static std::size_t frame_size_hint(std::string_view buffer) {
    if (buffer.size() < 4) return 0;
    std::uint32_t length = 0;
    for (int i = 3; i >= 0; --i) length = length << 8 | static_cast<unsigned char>(buffer[i]);
    return length;
  }
};
static_assert(is_framing_v<BsonFraming>);

}  // namespace bsonrpc
