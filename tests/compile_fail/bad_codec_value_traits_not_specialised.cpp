// Must not compile: a Codec whose value type has no value_traits specialisation, so the library
// could neither read nor build its messages.
// Expected first error: "Codec: value_traits<value_type> is not specialised ...".
#include <bsonrpc/codec/codec.hpp>

#include <string>
#include <string_view>

namespace demo {

struct Text {
  std::string bytes;
};

struct TextCodec {
  using value_type = Text;
  static constexpr std::string_view protocol_key = "jsonrpc";
  static constexpr bool supports_batches = false;
  static Text decode(std::string_view bytes, const bsonrpc::decode_limits&) {
    return Text{std::string(bytes)};
  }
  static void encode(const Text& message, std::string& out) { out += message.bytes; }
};

}  // namespace demo

static_assert(sizeof(bsonrpc::codec_static_asserts<demo::TextCodec>));

int main() {}
