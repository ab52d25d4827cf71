// bsonrpc/detail/utf8.hpp: strict UTF-8 validation for both codecs, ASCII eight bytes at a time.
//
// Well-formed means RFC 3629, table 3-7 of Unicode: shortest form only, no surrogates, nothing
// above U+10FFFF. That is what nlohmann's lexer accepts in JSON strings, so the JSON and BSON
// codecs agree on which text is valid.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace bsonrpc::detail {

inline constexpr std::uint64_t every_byte = 0x0101010101010101ULL;
inline constexpr std::uint64_t high_bits = 0x8080808080808080ULL;

inline std::uint64_t load_word(const char* p) noexcept {
  std::uint64_t word;
  std::memcpy(&word, p, sizeof word);
  return word;
}

// The high bit of each byte of `word` that is zero (others may be set above a zero byte: use
// only to ask whether there is any).
constexpr std::uint64_t zero_byte_bits(std::uint64_t word) noexcept {
  return (word - every_byte) & ~word & high_bits;
}

// Whether `byte` lies in [low, high] (a UTF-8 continuation byte by default).
constexpr bool in_range(unsigned char byte, unsigned char low = 0x80, unsigned char high = 0xBF) {
  return byte >= low && byte <= high;
}

// The length of the well-formed multi-byte sequence at p (whose first byte is 0x80 or above)
// before `end`, or 0 if it is malformed or cut short.
inline std::size_t utf8_sequence_length(const unsigned char* p, const unsigned char* end) noexcept {
  const auto left = static_cast<std::size_t>(end - p);
  const unsigned char lead = p[0];
  auto continues = [&](std::size_t i, unsigned char low = 0x80, unsigned char high = 0xBF) {
    return i < left && in_range(p[i], low, high);
  };
  if (in_range(lead, 0xC2, 0xDF)) return continues(1) ? 2 : 0;
  if (lead == 0xE0) return continues(1, 0xA0) && continues(2) ? 3 : 0;  // no overlong
  if (lead == 0xED) return continues(1, 0x80, 0x9F) && continues(2) ? 3 : 0;  // no surrogate
  if (in_range(lead, 0xE1, 0xEF)) return continues(1) && continues(2) ? 3 : 0;
  if (lead == 0xF0) return continues(1, 0x90) && continues(2) && continues(3) ? 4 : 0;
  if (lead == 0xF4) return continues(1, 0x80, 0x8F) && continues(2) && continues(3) ? 4 : 0;
  if (in_range(lead, 0xF1, 0xF3)) return continues(1) && continues(2) && continues(3) ? 4 : 0;
  return 0;
}

// Whether `text` is well-formed UTF-8 and, unless `allow_nul`, holds no NUL byte.
inline bool is_valid_utf8(std::string_view text, bool allow_nul) noexcept {
  const char* p = text.data();
  const char* const end = p + text.size();
  while (p != end) {
    while (end - p >= 8) {
      const std::uint64_t word = load_word(p);
      if ((word & high_bits) != 0 || (!allow_nul && zero_byte_bits(word) != 0)) break;
      p += 8;
    }
    if (p == end) break;
    const auto byte = static_cast<unsigned char>(*p);
    if (byte < 0x80) {
      if (byte == 0 && !allow_nul) return false;
      ++p;
      continue;
    }
    const std::size_t length = utf8_sequence_length(reinterpret_cast<const unsigned char*>(p),
                                                    reinterpret_cast<const unsigned char*>(end));
    if (length == 0) return false;
    p += length;
  }
  return true;
}

// Appends `code` (a Unicode scalar value) to `out` in UTF-8.
inline void append_utf8(std::string& out, std::uint32_t code) {
  if (code < 0x80) {
    out += static_cast<char>(code);
  } else if (code < 0x800) {
    out += static_cast<char>(0xC0 | code >> 6);
    out += static_cast<char>(0x80 | (code & 0x3F));
  } else if (code < 0x10000) {
    out += static_cast<char>(0xE0 | code >> 12);
    out += static_cast<char>(0x80 | (code >> 6 & 0x3F));
    out += static_cast<char>(0x80 | (code & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | code >> 18);
    out += static_cast<char>(0x80 | (code >> 12 & 0x3F));
    out += static_cast<char>(0x80 | (code >> 6 & 0x3F));
    out += static_cast<char>(0x80 | (code & 0x3F));
  }
}

}  // namespace bsonrpc::detail
