// bsonrpc/detail/extended_json_text.hpp: the text encodings Extended JSON wraps values in:
// hexadecimal, base64 (RFC 4648, padded) and ISO-8601 UTC dates with milliseconds.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bsonrpc::detail::extjson {

inline int hex_digit_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

inline void append_hex(std::string& out, std::uint8_t byte) {
  constexpr char digits[] = "0123456789abcdef";
  out += digits[byte >> 4];
  out += digits[byte & 0xF];
}

// Lowercase hex of `size` bytes.
inline std::string to_hex(const std::uint8_t* bytes, std::size_t size) {
  std::string out;
  out.reserve(size * 2);
  for (std::size_t i = 0; i < size; ++i) append_hex(out, bytes[i]);
  return out;
}

// Exactly `size` bytes of hex (either case) into `out`; false on any other input.
inline bool from_hex(std::string_view text, std::uint8_t* out, std::size_t size) {
  if (text.size() != size * 2) return false;
  for (std::size_t i = 0; i < size; ++i) {
    const int high = hex_digit_value(text[2 * i]);
    const int low = hex_digit_value(text[2 * i + 1]);
    if (high < 0 || low < 0) return false;
    out[i] = static_cast<std::uint8_t>(high << 4 | low);
  }
  return true;
}

inline constexpr char base64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

inline std::string base64_encode(const std::vector<std::uint8_t>& bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const std::uint32_t n =
        std::uint32_t{bytes[i]} << 16 | std::uint32_t{bytes[i + 1]} << 8 | bytes[i + 2];
    out += base64_alphabet[n >> 18];
    out += base64_alphabet[(n >> 12) & 63];
    out += base64_alphabet[(n >> 6) & 63];
    out += base64_alphabet[n & 63];
  }
  if (const std::size_t left = bytes.size() - i; left > 0) {
    std::uint32_t n = std::uint32_t{bytes[i]} << 16;
    if (left == 2) n |= std::uint32_t{bytes[i + 1]} << 8;
    out += base64_alphabet[n >> 18];
    out += base64_alphabet[(n >> 12) & 63];
    out += left == 2 ? base64_alphabet[(n >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

inline int base64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

// Padded base64 only; nullopt for a wrong length, a stray character or misplaced padding.
inline std::optional<std::vector<std::uint8_t>> base64_decode(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  std::vector<std::uint8_t> out;
  out.reserve(text.size() / 4 * 3);
  for (std::size_t i = 0; i < text.size(); i += 4) {
    const bool last = i + 4 == text.size();
    const std::size_t padding = !last ? 0 : text[i + 3] != '=' ? 0 : text[i + 2] != '=' ? 1 : 2;
    std::uint32_t n = 0;
    for (std::size_t k = 0; k < 4; ++k) {
      const int v = k < 4 - padding ? base64_value(text[i + k]) : 0;
      if (v < 0) return std::nullopt;
      n = n << 6 | static_cast<std::uint32_t>(v);
    }
    out.push_back(static_cast<std::uint8_t>(n >> 16));
    if (padding < 2) out.push_back(static_cast<std::uint8_t>(n >> 8));
    if (padding < 1) out.push_back(static_cast<std::uint8_t>(n));
  }
  return out;
}

inline constexpr std::int64_t milliseconds_per_day = 86400000;

inline bool is_leap_year(std::int64_t year) {
  return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

inline int days_in_month(std::int64_t year, int month) {
  constexpr int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && is_leap_year(year) ? 29 : days[month - 1];
}

// Days from 1970-01-01 to January 1st of `year` (year >= 1).
inline std::int64_t days_before_year(std::int64_t year) {
  const auto leap_days_before = [](std::int64_t y) {
    return (y - 1) / 4 - (y - 1) / 100 + (y - 1) / 400;
  };
  return 365 * (year - 1970) + leap_days_before(year) - leap_days_before(1970);
}

// "YYYY-MM-DDTHH:MM:SS[.mmm]Z", milliseconds written only when non-zero (as the BSON corpus
// expects). Precondition: 0 <= ms < 253402300800000 (years 1970 to 9999).
inline std::string format_iso8601(std::int64_t ms) {
  std::int64_t days = ms / milliseconds_per_day;
  std::int64_t rest = ms % milliseconds_per_day;
  std::int64_t year = 1970 + days / 366;  // an underestimate, corrected below
  while (days_before_year(year + 1) <= days) ++year;
  days -= days_before_year(year);
  int month = 1;
  while (days >= days_in_month(year, month)) days -= days_in_month(year, month++);

  const auto two = [](std::int64_t n) {
    return std::string{static_cast<char>('0' + n / 10), static_cast<char>('0' + n % 10)};
  };
  std::string out = std::to_string(year);
  out.insert(0, 4 - out.size(), '0');
  out += '-' + two(month) + '-' + two(days + 1) + 'T';
  out += two(rest / 3600000) + ':' + two(rest / 60000 % 60) + ':' + two(rest / 1000 % 60);
  if (const std::int64_t millis = rest % 1000; millis != 0)
    out += '.' + two(millis / 10) + static_cast<char>('0' + millis % 10);
  out += 'Z';
  return out;
}

// Parses "YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM|+HHMM|-HHMM)", years 0001 to 9999,
// into milliseconds since the epoch (digits past milliseconds are truncated).
inline std::optional<std::int64_t> parse_iso8601(std::string_view text) {
  std::size_t i = 0;
  const auto number = [&](std::size_t width, std::int64_t& out) {
    if (i + width > text.size()) return false;
    out = 0;
    for (std::size_t k = 0; k < width; ++k, ++i) {
      if (text[i] < '0' || text[i] > '9') return false;
      out = out * 10 + (text[i] - '0');
    }
    return true;
  };
  const auto literal = [&](char c) {
    return i < text.size() && text[i] == c ? (++i, true) : false;
  };

  std::int64_t year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!number(4, year) || !literal('-') || !number(2, month) || !literal('-') || !number(2, day) ||
      !literal('T') || !number(2, hour) || !literal(':') || !number(2, minute) || !literal(':') ||
      !number(2, second))
    return std::nullopt;
  if (year < 1 || month < 1 || month > 12 || day < 1 ||
      day > days_in_month(year, static_cast<int>(month)) || hour > 23 || minute > 59 || second > 59)
    return std::nullopt;

  std::int64_t millis = 0;
  if (literal('.')) {
    std::size_t fraction_digits = 0;
    for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i, ++fraction_digits)
      if (fraction_digits < 3) millis = millis * 10 + (text[i] - '0');
    if (fraction_digits == 0) return std::nullopt;
    for (; fraction_digits < 3; ++fraction_digits) millis *= 10;
  }

  std::int64_t offset_minutes = 0;
  if (!literal('Z')) {
    if (i >= text.size() || (text[i] != '+' && text[i] != '-')) return std::nullopt;
    const bool negative = text[i++] == '-';
    std::int64_t offset_hours = 0;
    if (!number(2, offset_hours)) return std::nullopt;
    literal(':');
    if (!number(2, offset_minutes) || offset_hours > 23 || offset_minutes > 59) return std::nullopt;
    offset_minutes += offset_hours * 60;
    if (negative) offset_minutes = -offset_minutes;
  }
  if (i != text.size()) return std::nullopt;

  std::int64_t days = days_before_year(year) + day - 1;
  for (int m = 1; m < month; ++m) days += days_in_month(year, m);
  return days * milliseconds_per_day +
         ((hour * 60 + minute - offset_minutes) * 60 + second) * 1000 + millis;
}

}  // namespace bsonrpc::detail::extjson
