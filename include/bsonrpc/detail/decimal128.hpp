// bsonrpc/detail/decimal128.hpp: decimal128 (IEEE 754-2008, binary integer significand) to and
// from text, following the BSON Decimal128 specification's string rules.
//
// Text to decimal128 is exact or refused: a value needing rounding (more than 34 significant
// digits, or an exponent out of range that trailing or added zeros cannot absorb) yields nullopt,
// as the specification's "Inexact rounding" cases require.
//
// Hand-written, not libbson's bson_decimal128_to_string and _from_string_w_len, for two reasons.
// Extended JSON prints decimals for the JSON codec, and codec/json.hpp must parse no libbson
// header (the layering test in tests/packaging.cmake). And libbson 1.23 departs from the
// specification outside the BSON corpus. Its to_string prints a significand above 10^34 - 1
// (which the specification reads as zero) in full, 35 digits that no parser reads back. Its
// from_string, checked with Python's decimal on 2.3M generated strings, differed 1,072 times:
// given leading zeros or a '.', its inexact check reads the wrong character, so it rounded 160
// values silently ("-0020900000830047220606102104040504000050" became
// -2.090000083004722060610210404050400E+37) and refused 818 exact ones
// ("43400007000000000047820053037004590.0"); it reads "1E 5" as 1E+5, "1E4294967296" as 1,
// "1\u00002" as 1 (a NUL ends its input), and "-NaN" without its sign.
#pragma once

#include <bsonrpc/value.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace bsonrpc::detail::decimal {

inline constexpr int exponent_bias = 6176;
inline constexpr int min_exponent = -6176;  // exponent of the significand's last digit
inline constexpr int max_exponent = 6111;
inline constexpr std::size_t max_digits = 34;

inline constexpr std::uint64_t sign_bit = std::uint64_t{1} << 63;
inline constexpr std::uint64_t infinity_bits = std::uint64_t{0x78} << 56;
inline constexpr std::uint64_t nan_bits = std::uint64_t{0x7C} << 56;

// The 113-bit significand (49 bits of `high`, all of `low`) in decimal, "0" for zero.
inline std::string significand_digits(std::uint64_t high, std::uint64_t low) {
  std::uint32_t limbs[4] = {static_cast<std::uint32_t>(high >> 32),
                            static_cast<std::uint32_t>(high), static_cast<std::uint32_t>(low >> 32),
                            static_cast<std::uint32_t>(low)};
  std::string reversed;
  while (limbs[0] | limbs[1] | limbs[2] | limbs[3]) {
    // Divide by 10^9 and emit the remainder's nine digits, least significant first.
    std::uint64_t remainder = 0;
    for (auto& limb : limbs) {
      const std::uint64_t current = (remainder << 32) | limb;
      limb = static_cast<std::uint32_t>(current / 1000000000u);
      remainder = current % 1000000000u;
    }
    for (int i = 0; i < 9; ++i) {
      reversed.push_back(static_cast<char>('0' + remainder % 10));
      remainder /= 10;
    }
  }
  while (!reversed.empty() && reversed.back() == '0') reversed.pop_back();
  if (reversed.empty()) return "0";
  return std::string(reversed.rbegin(), reversed.rend());
}

// The specification's string form: plain notation when the exponent is <= 0 and the adjusted
// exponent >= -6, scientific ("1.23E+5") otherwise; NaN carries no sign.
inline std::string to_string(decimal128 d) {
  std::string out = (d.high & sign_bit) ? "-" : "";
  const unsigned combination = static_cast<unsigned>(d.high >> 58) & 0x1F;
  if (combination == 0x1F) return "NaN";
  if (combination == 0x1E) return out + "Infinity";

  int biased_exponent = 0;
  std::string digits;
  if (((d.high >> 61) & 3) == 3) {
    // The "11" form implies a significand of at least 2^113 > 10^34 - 1: non-canonical, so 0.
    biased_exponent = static_cast<int>((d.high >> 47) & 0x3FFF);
    digits = "0";
  } else {
    biased_exponent = static_cast<int>((d.high >> 49) & 0x3FFF);
    digits = significand_digits(d.high & ((std::uint64_t{1} << 49) - 1), d.low);
    if (digits.size() > max_digits) digits = "0";
  }

  const int exponent = biased_exponent - exponent_bias;
  const int adjusted = exponent + static_cast<int>(digits.size()) - 1;
  if (exponent > 0 || adjusted < -6) {
    out += digits[0];
    if (digits.size() > 1) {
      out += '.';
      out.append(digits, 1, std::string::npos);
    }
    out += adjusted < 0 ? "E-" : "E+";
    out += std::to_string(adjusted < 0 ? -adjusted : adjusted);
  } else if (exponent == 0) {
    out += digits;
  } else {
    const int integer_digits = static_cast<int>(digits.size()) + exponent;
    if (integer_digits > 0) {
      out.append(digits, 0, static_cast<std::size_t>(integer_digits));
      out += '.';
      out.append(digits, static_cast<std::size_t>(integer_digits), std::string::npos);
    } else {
      out += "0.";
      out.append(static_cast<std::size_t>(-integer_digits), '0');
      out += digits;
    }
  }
  return out;
}

inline bool equals_ignoring_case(std::string_view text, std::string_view lower) {
  if (text.size() != lower.size()) return false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != lower[i]) return false;
  }
  return true;
}

// Parses [+-](digits[.digits]|.digits)[(e|E)[+-]digits], or Inf/Infinity/NaN in any case.
inline std::optional<decimal128> from_string(std::string_view text) {
  std::uint64_t sign = 0;
  std::size_t i = 0;
  if (!text.empty() && (text[0] == '+' || text[0] == '-')) {
    if (text[0] == '-') sign = sign_bit;
    i = 1;
  }
  const std::string_view rest = text.substr(i);
  if (equals_ignoring_case(rest, "inf") || equals_ignoring_case(rest, "infinity"))
    return decimal128{0, sign | infinity_bits};
  if (equals_ignoring_case(rest, "nan")) return decimal128{0, sign | nan_bits};

  std::string digits;  // significant digits: no leading zeros
  bool any_digit = false;
  bool seen_point = false;
  std::int64_t fraction_digits = 0;
  for (; i < text.size(); ++i) {
    const char c = text[i];
    if (c >= '0' && c <= '9') {
      any_digit = true;
      if (!(digits.empty() && c == '0')) digits += c;
      if (seen_point) ++fraction_digits;
    } else if (c == '.' && !seen_point) {
      seen_point = true;
    } else {
      break;
    }
  }
  if (!any_digit) return std::nullopt;

  std::int64_t exponent = 0;
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    bool negative_exponent = false;
    if (i < text.size() && (text[i] == '+' || text[i] == '-')) negative_exponent = text[i++] == '-';
    if (i == text.size()) return std::nullopt;
    constexpr std::int64_t saturation = std::int64_t{1} << 40;  // far past any clamping
    for (; i < text.size(); ++i) {
      if (text[i] < '0' || text[i] > '9') return std::nullopt;
      exponent = exponent * 10 + (text[i] - '0');
      if (exponent > saturation) exponent = saturation;
    }
    if (negative_exponent) exponent = -exponent;
  }
  if (i != text.size()) return std::nullopt;
  exponent -= fraction_digits;

  if (digits.empty()) {  // zero: the exponent clamps freely
    if (exponent < min_exponent) exponent = min_exponent;
    if (exponent > max_exponent) exponent = max_exponent;
  } else {
    // Trailing zeros may be dropped (raising the exponent) without changing the value.
    while (digits.size() > max_digits || exponent < min_exponent) {
      if (digits.back() != '0') return std::nullopt;
      digits.pop_back();
      ++exponent;
    }
    // Zeros may be appended (lowering the exponent) while the significand has room.
    while (exponent > max_exponent && digits.size() < max_digits) {
      digits += '0';
      --exponent;
    }
    if (exponent > max_exponent) return std::nullopt;
  }

  std::uint32_t limbs[4] = {0, 0, 0, 0};  // most significant first
  for (const char c : digits) {
    std::uint64_t carry = static_cast<std::uint64_t>(c - '0');
    for (int k = 3; k >= 0; --k) {
      const std::uint64_t current = std::uint64_t{limbs[k]} * 10 + carry;
      limbs[k] = static_cast<std::uint32_t>(current);
      carry = current >> 32;
    }
  }
  const std::uint64_t significand_high = (std::uint64_t{limbs[0]} << 32) | limbs[1];
  const std::uint64_t significand_low = (std::uint64_t{limbs[2]} << 32) | limbs[3];
  const auto biased = static_cast<std::uint64_t>(exponent + exponent_bias);
  return decimal128{significand_low, sign | (biased << 49) | significand_high};
}

}  // namespace bsonrpc::detail::decimal
