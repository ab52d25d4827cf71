// fuzz_framing_netstring: Netstring::extract on a stream arriving in pieces (see
// framing_driver.hpp) throws nothing but framing_error, keeps the Framing contract, and
// consumes exactly "<length>:<message>," with a canonical decimal length.
#include "framing_driver.hpp"

#include <bsonrpc/framing/netstring.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using bsonrpc_fuzz::check;
  return bsonrpc_fuzz::fuzz_framing<bsonrpc::Netstring>(data, size, [](std::string_view buffer,
                                                                       const bsonrpc::frame& f) {
    const std::string expected =
        std::to_string(f.size) + ":" + std::string(f.message(buffer)) + ",";
    check(buffer.substr(0, f.consumed) == expected);
  });
}
