// fuzz_framing_rfc7464: Rfc7464::extract on a stream arriving in pieces (see framing_driver.hpp)
// throws nothing but framing_error, keeps the Framing contract, and returns only texts that
// hold no RS or LF, preceded by RS bytes only and followed by LF or by the RS that cut them short.
#include "framing_driver.hpp"

#include <bsonrpc/framing/rfc7464.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using bsonrpc::Rfc7464;
  using bsonrpc_fuzz::check;
  return bsonrpc_fuzz::fuzz_framing<Rfc7464>(data, size, [](std::string_view buffer,
                                                            const bsonrpc::frame& f) {
    const std::string_view text = f.message(buffer);
    check(text.find(Rfc7464::record_separator) == std::string_view::npos);
    check(text.find(Rfc7464::line_feed) == std::string_view::npos);
    check(f.offset > 0);
    for (std::size_t i = 0; i < f.offset; ++i) check(buffer[i] == Rfc7464::record_separator);
    const std::size_t end = f.offset + f.size;
    if (f.consumed == end + 1) check(buffer[end] == Rfc7464::line_feed);
    else check(f.consumed == end && buffer[end] == Rfc7464::record_separator);
  });
}
