// Must not compile: a Framing whose optional frame_size_hint() is not const. Without the check the
// connection would silently never call it.
// Expected first error: "Framing: `frame_size_hint` is declared but is not `std::size_t
// frame_size_hint(std::string_view buffer) const`".
#include <bsonrpc/framing/framing.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace demo {

// A 4-byte little-endian length, then the message.
struct LengthPrefix {
  std::optional<bsonrpc::frame> extract(std::string_view buffer, std::size_t) {
    if (buffer.size() < 4) return std::nullopt;
    const std::size_t length = hint_of(buffer) - 4;
    if (buffer.size() < 4 + length) return std::nullopt;
    return bsonrpc::frame{4, length, 4 + length};
  }
  static void wrap(std::string_view message, std::string& out) {
    for (int shift = 0; shift < 32; shift += 8)
      out.push_back(static_cast<char>((message.size() >> shift) & 0xFF));
    out.append(message);
  }
  std::size_t frame_size_hint(std::string_view buffer) {  // should be const
    return buffer.size() < 4 ? 0 : hint_of(buffer);
  }

 private:
  static std::size_t hint_of(std::string_view buffer) {
    std::size_t length = 0;
    for (int i = 3; i >= 0; --i) length = length << 8 | static_cast<unsigned char>(buffer[i]);
    return 4 + length;
  }
};

}  // namespace demo

static_assert(sizeof(bsonrpc::framing_static_asserts<demo::LengthPrefix>));

int main() {}
