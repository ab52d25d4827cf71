// Must not compile: a Codec without `using value_type`. Only that is reported: the members whose
// signatures name value_type are not checked without it.
// Expected first error: "Codec: missing `using value_type = ...;`".
#include <bsonrpc/codec/codec.hpp>
#include <bsonrpc/codec/json.hpp>

#include <string>
#include <string_view>

namespace demo {

struct NoValueTypeCodec {
  static constexpr std::string_view protocol_key = "jsonrpc";
  static constexpr bool supports_batches = true;
  static nlohmann::json decode(std::string_view bytes, const bsonrpc::decode_limits&) {
    return nlohmann::json::parse(bytes);
  }
  static void encode(const nlohmann::json& message, std::string& out) { out += message.dump(); }
};

}  // namespace demo

static_assert(sizeof(bsonrpc::codec_static_asserts<demo::NoValueTypeCodec>));

int main() {}
