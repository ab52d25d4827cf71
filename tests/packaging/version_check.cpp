// Compiled by the "version:" packaging test with the CMake project version passed as
// BSONRPC_EXPECTED_{MAJOR,MINOR,PATCH} and BSONRPC_EXPECTED_VERSION ("x.y.z").
#include <bsonrpc/version.hpp>

#include <string_view>

static_assert(BSONRPC_VERSION_MAJOR == BSONRPC_EXPECTED_MAJOR,
              "BSONRPC_VERSION_MAJOR differs from the CMake project version");
static_assert(BSONRPC_VERSION_MINOR == BSONRPC_EXPECTED_MINOR,
              "BSONRPC_VERSION_MINOR differs from the CMake project version");
static_assert(BSONRPC_VERSION_PATCH == BSONRPC_EXPECTED_PATCH,
              "BSONRPC_VERSION_PATCH differs from the CMake project version");
static_assert(std::string_view(BSONRPC_VERSION_STRING) == BSONRPC_EXPECTED_VERSION,
              "BSONRPC_VERSION_STRING differs from the CMake project version");
static_assert(BSONRPC_VERSION == BSONRPC_EXPECTED_MAJOR * 10000 + BSONRPC_EXPECTED_MINOR * 100 +
                                     BSONRPC_EXPECTED_PATCH,
              "BSONRPC_VERSION is not MAJOR * 10000 + MINOR * 100 + PATCH");
