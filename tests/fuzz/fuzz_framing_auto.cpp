// fuzz_framing_auto: AutoFraming::extract on a stream arriving in pieces (see
// framing_driver.hpp) throws nothing but framing_error, keeps the Framing contract, decides the
// same framing whatever the pieces (but for "{}" or "[]" followed by a NUL, see below), and
// then reads exactly as the framing it detected:
//   - detect_framing() of the stream says what AutoFraming became: RFC 7464, netstring or
//     Content-Length read the same messages and end as that framing read alone; JSON texts as
//     Frameless; BSON and unknown bytes end at once in framing_error, with no message;
//   - AutoFraming::wrap, once detected, frames each message so that the detected framing reads
//     it back unchanged (JSON texts: the text and LF).
#include "framing_driver.hpp"

#include <bsonrpc/framing/auto.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>

// Reading Content-Length, AutoFraming buffers a header block up to ContentLength's bound.
template <>
constexpr std::size_t bsonrpc_fuzz::header_allowance<bsonrpc::AutoFraming>() {
  return bsonrpc::ContentLength::max_header_bytes;
}

namespace {

using bsonrpc_fuzz::check;
using bsonrpc_fuzz::reading;

const auto no_frame_check = [](std::string_view, const bsonrpc::frame&) {};

template <class Inner>
void check_reads_as(const reading& got, std::string_view stream, std::size_t max_bytes) {
  const reading alone =
      bsonrpc_fuzz::read_stream<Inner>(stream, max_bytes, nullptr, no_frame_check);
  check(got.messages == alone.messages);
  check(got.end == alone.end);
  check(got.unconsumed == alone.unconsumed);
}

// `message`, wrapped by an AutoFraming that detected `stream`'s framing, reads back unchanged.
template <class Inner>
void check_rewrap(std::string_view stream, std::string_view message, std::size_t max_bytes) {
  bsonrpc::AutoFraming detected;
  std::string buffer(stream);
  try {
    (void)detected.extract(buffer, buffer.size() + max_bytes);
  } catch (const bsonrpc::message_too_large&) {
  } catch (const bsonrpc::framing_error&) {
  }
  check(detected.detected() == bsonrpc::detect_framing(stream));
  std::string wrapped;
  detected.wrap(message, wrapped);
  Inner inner;
  const auto f = inner.extract(wrapped, max_bytes);
  check(f && f->message(wrapped) == message);
  // Frameless leaves the LF after a text for the next message (whitespace before it).
  const std::string_view rest = std::string_view(wrapped).substr(f->consumed);
  check(rest.empty() || (std::is_same_v<Inner, bsonrpc::Frameless> && rest == "\n"));
}

template <class Inner>
void check_detected(const reading& whole, std::string_view stream, std::size_t max_bytes) {
  check_reads_as<Inner>(whole, stream, max_bytes);
  for (const auto& message : whole.messages) check_rewrap<Inner>(stream, message, max_bytes);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  static constexpr std::size_t limits[] = {16, 64, 256, 4096};
  const std::size_t max_bytes = limits[data[0] >> 6];
  bsonrpc_fuzz::read_sizes sizes(1 + (data[0] & 0x3F), data[1]);
  const std::string_view stream(reinterpret_cast<const char*>(data) + 2, size - 2);

  const reading pieces =
      bsonrpc_fuzz::read_stream<bsonrpc::AutoFraming>(stream, max_bytes, &sizes, no_frame_check);
  const reading whole =
      bsonrpc_fuzz::read_stream<bsonrpc::AutoFraming>(stream, max_bytes, nullptr, no_frame_check);
  // The one case where the pieces may decide: "{}" or "[]" alone is taken for JSON at once
  // (a whole message worth answering), while with the next two bytes in view a NUL among them
  // makes it a BSON length (auto.hpp). Otherwise both reads must agree.
  const bool early_json = stream.size() >= 3 &&
                          (stream.substr(0, 2) == "{}" || stream.substr(0, 2) == "[]") &&
                          stream.substr(2, 2).find('\0') != std::string_view::npos;
  if (!early_json) {
    check(pieces.messages == whole.messages);
    check(pieces.end == whole.end);
    check(pieces.unconsumed == whole.unconsumed);
  }

  switch (bsonrpc::detect_framing(stream)) {
    case bsonrpc::detected_framing::rfc7464:
      check_detected<bsonrpc::Rfc7464>(whole, stream, max_bytes);
      break;
    case bsonrpc::detected_framing::netstring:
      check_detected<bsonrpc::Netstring>(whole, stream, max_bytes);
      break;
    case bsonrpc::detected_framing::content_length:
      check_detected<bsonrpc::ContentLength>(whole, stream, max_bytes);
      break;
    case bsonrpc::detected_framing::json_text:
      check_detected<bsonrpc::Frameless>(whole, stream, max_bytes);
      break;
    case bsonrpc::detected_framing::bson:
    case bsonrpc::detected_framing::unknown:
      check(whole.messages.empty() && whole.end == bsonrpc_fuzz::ending::framing_error);
      break;
    case bsonrpc::detected_framing::undecided:
      check(whole.messages.empty() && whole.end == bsonrpc_fuzz::ending::needs_more);
      break;
  }
  return 0;
}
