// fuzz_framing_content_length: ContentLength::extract on a stream arriving in pieces (see
// framing_driver.hpp) throws nothing but framing_error, keeps the Framing contract, and
// returns exactly the body after a header block that ends in an empty line.
#include "framing_driver.hpp"

#include <bsonrpc/framing/content_length.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using bsonrpc_fuzz::check;
  return bsonrpc_fuzz::fuzz_framing<bsonrpc::ContentLength>(
      data, size, [](std::string_view buffer, const bsonrpc::frame& f) {
        const std::string_view header = buffer.substr(0, f.offset);
        check(header.size() >= 4 && header.substr(header.size() - 4) == "\r\n\r\n");
        check(header.find("\r\n\r\n") == header.size() - 4);  // the first empty line ends it
        check(f.consumed == f.offset + f.size);
      });
}
