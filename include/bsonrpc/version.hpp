// bsonrpc/version.hpp: the library's version, for the preprocessor and for programs.
//
// This file is the one place the version is written. CMakeLists.txt reads the three numbers
// below into `project(bsonrpc VERSION ...)`, from which the CMake package version, the
// pkg-config file and the Debian package take theirs; the "version:" packaging test checks that
// they agree. Bump a release here (and in CHANGELOG.md), nowhere else.
#pragma once

/// @file
/// The version of bsonrpc, as macros (Semantic Versioning).

/// Major version: incompatible API changes.
#define BSONRPC_VERSION_MAJOR 0
/// Minor version: functionality added compatibly.
#define BSONRPC_VERSION_MINOR 1
/// Patch version: compatible bug fixes.
#define BSONRPC_VERSION_PATCH 0

/// The version as one number, MAJOR * 10000 + MINOR * 100 + PATCH, for `#if` comparisons.
#define BSONRPC_VERSION \
  (BSONRPC_VERSION_MAJOR * 10000 + BSONRPC_VERSION_MINOR * 100 + BSONRPC_VERSION_PATCH)

#define BSONRPC_DETAIL_VERSION_TEXT(x) #x
#define BSONRPC_DETAIL_VERSION_STRING(major, minor, patch) \
  BSONRPC_DETAIL_VERSION_TEXT(major) "." BSONRPC_DETAIL_VERSION_TEXT(minor) "." \
  BSONRPC_DETAIL_VERSION_TEXT(patch)

/// The version as a string literal, "MAJOR.MINOR.PATCH", built from the three numbers above.
#define BSONRPC_VERSION_STRING \
  BSONRPC_DETAIL_VERSION_STRING(BSONRPC_VERSION_MAJOR, BSONRPC_VERSION_MINOR, \
                                BSONRPC_VERSION_PATCH)
