// fuzz_framing_bson: BsonFraming::extract on a stream arriving in pieces (see framing_driver.hpp)
// throws nothing but framing_error, keeps the Framing contract, and returns whole documents
// whose little-endian int32 length (at least 5) is exactly the frame's size.
#include "framing_driver.hpp"

#include <bsonrpc/framing/bson.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using bsonrpc_fuzz::check;
  return bsonrpc_fuzz::fuzz_framing<bsonrpc::BsonFraming>(data, size, [](std::string_view buffer,
                                                                         const bsonrpc::frame& f) {
    check(f.offset == 0 && f.consumed == f.size && f.size >= 5);
    std::size_t length = 0;
    for (int i = 3; i >= 0; --i) length = length << 8 | static_cast<unsigned char>(buffer[i]);
    check(length == f.size);
  });
}
