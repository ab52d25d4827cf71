// The assertion every fuzz target uses: a broken invariant traps, so the fuzzer reports it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace bsonrpc_fuzz {

inline void check(bool ok) {
  if (!ok) __builtin_trap();
}

inline std::string_view as_bytes(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

}  // namespace bsonrpc_fuzz
