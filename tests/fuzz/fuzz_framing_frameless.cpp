// fuzz_framing_frameless: Frameless::extract on a stream arriving in pieces (see
// framing_driver.hpp) throws nothing but framing_error, keeps the Framing contract, and returns
// only values that start with '{' or '[' and end with '}' or ']', after whitespace only.
#include "framing_driver.hpp"

#include <bsonrpc/framing/frameless.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using bsonrpc_fuzz::check;
  return bsonrpc_fuzz::fuzz_framing<bsonrpc::Frameless>(data, size, [](std::string_view buffer,
                                                                       const bsonrpc::frame& f) {
    check(buffer.substr(0, f.offset).find_first_not_of(" \t\r\n") == std::string_view::npos);
    const std::string_view value = f.message(buffer);
    check(value.size() >= 2);
    check(value.front() == '{' ? value.back() == '}' : value.front() == '[' && value.back() == ']');
    check(f.consumed == f.offset + f.size);
  });
}
