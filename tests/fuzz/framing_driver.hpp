// Shared by the fuzz_framing_* targets: reads a byte stream through a Framing the way
// detail::connection does (append what arrived, extract until nullopt, drop what was consumed,
// stop at the first framing_error) and traps when a frame breaks the Framing contract.
//
// Input layout: byte 0 picks max_message_bytes (high 2 bits: 16, 64, 256 or 4096) and the
// largest read (low 6 bits: 1 to 64 bytes); byte 1 seeds the read sizes; the rest is the stream.
// The stream is read twice, in those small pieces and all at once: both reads must return the
// same messages and end the same way, since a framing's scan state must not change its answer.
#pragma once

#include "check.hpp"

#include <bsonrpc/framing/framing.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace bsonrpc_fuzz {

enum class ending { needs_more, framing_error, message_too_large };

template <class F, class = void>
struct has_max_header_bytes : std::false_type {};
template <class F>
struct has_max_header_bytes<F, std::void_t<decltype(F::max_header_bytes)>> : std::true_type {};

struct reading {
  std::vector<std::string> messages;
  ending end = ending::needs_more;
  std::size_t unconsumed = 0;  // bytes still buffered when the stream ended without an error
};

// Read sizes from 1 to `largest`, from a small linear congruential generator.
class read_sizes {
 public:
  read_sizes(std::size_t largest, std::uint8_t seed) : largest_(largest), state_(seed) {}
  std::size_t next() {
    state_ = state_ * 1103515245u + 12345u;
    return 1 + (state_ >> 16) % largest_;
  }

 private:
  std::size_t largest_;
  std::uint32_t state_;
};

// The header bytes a framing may buffer besides the message: its max_header_bytes, if any.
template <class Framing>
constexpr std::size_t header_allowance() {
  if constexpr (has_max_header_bytes<Framing>::value) return Framing::max_header_bytes;
  else return 0;
}

// Reads `stream` in pieces of `sizes` (all at once when `sizes` is null). `check_frame(buffer,
// frame)` checks what is specific to the framing; the shared contract is checked here.
template <class Framing, class CheckFrame>
reading read_stream(std::string_view stream, std::size_t max_bytes, read_sizes* sizes,
                    CheckFrame check_frame) {
  Framing framing;
  std::string buffer;
  reading out;
  try {
    for (std::size_t pos = 0; pos < stream.size();) {
      const std::size_t n = sizes ? std::min(sizes->next(), stream.size() - pos) : stream.size();
      buffer.append(stream.substr(pos, n));
      pos += n;
      while (const auto f = framing.extract(buffer, max_bytes)) {
        check(f->offset <= buffer.size() && f->size <= buffer.size() - f->offset);
        check(f->consumed >= f->offset + f->size && f->consumed <= buffer.size());
        check(f->consumed > 0);
        check(f->size <= max_bytes);
        check_frame(std::string_view(buffer), *f);
        out.messages.emplace_back(f->message(buffer));
        buffer.erase(0, f->consumed);
      }
      // A framing must refuse a message before buffering much more than max_message_bytes
      // (plus the header block a framing such as ContentLength bounds on its own).
      check(buffer.size() <= 2 * max_bytes + 32 + header_allowance<Framing>());
    }
  } catch (const bsonrpc::message_too_large&) {
    out.end = ending::message_too_large;
    return out;
  } catch (const bsonrpc::framing_error&) {
    out.end = ending::framing_error;
    return out;
  }
  out.unconsumed = buffer.size();
  return out;
}

// Every message extracted must come back unchanged from wrap() followed by extract().
template <class Framing>
void check_rewrap(std::string_view message, std::size_t max_bytes) {
  std::string wrapped;
  Framing::wrap(message, wrapped);
  Framing framing;
  const auto f = framing.extract(wrapped, max_bytes);
  check(f && f->message(wrapped) == message && f->consumed == wrapped.size());
}

template <class Framing, class CheckFrame>
int fuzz_framing(const std::uint8_t* data, std::size_t size, CheckFrame check_frame) {
  if (size < 2) return 0;
  static constexpr std::size_t limits[] = {16, 64, 256, 4096};
  const std::size_t max_bytes = limits[data[0] >> 6];
  read_sizes sizes(1 + (data[0] & 0x3F), data[1]);
  const std::string_view stream(reinterpret_cast<const char*>(data) + 2, size - 2);

  const reading pieces = read_stream<Framing>(stream, max_bytes, &sizes, check_frame);
  const reading whole = read_stream<Framing>(stream, max_bytes, nullptr, check_frame);
  check(pieces.messages == whole.messages);
  check(pieces.end == whole.end);
  check(pieces.unconsumed == whole.unconsumed);
  for (const auto& message : whole.messages) check_rewrap<Framing>(message, max_bytes);
  return 0;
}

}  // namespace bsonrpc_fuzz
