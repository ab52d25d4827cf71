// fuzz_framing_ndjson: Ndjson::extract on a stream arriving in pieces (see framing_driver.hpp)
// throws nothing but framing_error, keeps the Framing contract, and returns lines holding no
// line feed, each ended by one.
#include "framing_driver.hpp"

#include <bsonrpc/framing/ndjson.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using bsonrpc_fuzz::check;
  return bsonrpc_fuzz::fuzz_framing<bsonrpc::Ndjson>(
      data, size, [](std::string_view buffer, const bsonrpc::frame& f) {
        check(f.message(buffer).find('\n') == std::string_view::npos);
        check(buffer[f.consumed - 1] == '\n');
        check(buffer.substr(f.offset + f.size, f.consumed - f.offset - f.size).find_first_not_of(
                  "\r\n") == std::string_view::npos);
      });
}
