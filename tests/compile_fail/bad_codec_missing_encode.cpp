// Must not compile: a Codec without encode(). codec_static_asserts names the missing member with
// its signature, and no other check fails. (To check another policy, copy this file: a type
// missing one member, then `static_assert(sizeof(bsonrpc::<policy>_static_asserts<T>));`.)
// Expected first error: "Codec: missing `static void encode(const value_type& message, ...)`".
#include <bsonrpc/codec/codec.hpp>
#include <bsonrpc/codec/json.hpp>

#include <string_view>

namespace demo {

struct NoEncodeCodec {
  using value_type = nlohmann::json;
  static constexpr std::string_view protocol_key = "jsonrpc";
  static constexpr bool supports_batches = true;
  static value_type decode(std::string_view bytes, const bsonrpc::decode_limits&) {
    return value_type::parse(bytes);
  }
};

}  // namespace demo

static_assert(sizeof(bsonrpc::codec_static_asserts<demo::NoEncodeCodec>));

int main() {}
