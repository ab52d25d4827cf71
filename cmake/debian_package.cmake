# `cpack -G DEB` in the build tree makes bsonrpc_<version>_all.deb: the headers, the CMake
# package and bsonrpc.pc under /usr, depending on the Debian -dev packages of what
# bsonrpc::bsonrpc links (the versions are the ones find_package requires). Checked by the
# "deb:" packaging test. Included by CMakeLists.txt when bsonrpc is the top-level project.
set(CPACK_PACKAGE_NAME "bsonrpc")
set(CPACK_PACKAGE_VENDOR "bsonrpc")
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "Header-only C++17 JSON-RPC 2.0 and BSON-RPC over stream sockets")
set(CPACK_PACKAGE_CONTACT "bsonrpc maintainers <bsonrpc@localhost>")
set(CPACK_RESOURCE_FILE_LICENSE "${PROJECT_SOURCE_DIR}/LICENSE")
set(CPACK_PACKAGING_INSTALL_PREFIX "/usr")
set(CPACK_GENERATOR "DEB")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_ARCHITECTURE "all")
set(CPACK_DEBIAN_PACKAGE_SECTION "libdevel")
set(CPACK_DEBIAN_PACKAGE_DEPENDS
    "nlohmann-json3-dev (>= 3.10), libbson-dev (>= 1.17), libasio-dev, libssl-dev")
# The control file's Description: the summary above, then this.
set(CPACK_PACKAGE_DESCRIPTION "Rpc<Codec, Framing, Executor> over Asio, with JSON (nlohmann_json) \
and BSON (libbson) codecs. Use it from CMake with find_package(bsonrpc) or from pkg-config as \
bsonrpc.")
# A header-only package installs no binaries: nothing to strip or scan for shared libraries.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS OFF)
# cpack (like `make install`) would first build every test and example: the package holds
# none of them, and a header-only install copies only sources and configure-time files.
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY ON)
include(CPack)
