# bsonrpc_test_engines: the connection engines that the unit and socket tests, and the
# conformance server and client of sanitizer builds, share (tests/support/engines.hpp),
# compiled once for all of them instead of once per test batch and once per program. Two files,
# which compile in parallel: one per executor. (One file per engine, so that a program would
# link only the engines it uses, took 437 CPU-s under ASan+UBSan instead of about 150: most of
# an engine's code is shared with the others, and each file compiled it again.) Built only when
# something links it.
set(BSONRPC_TEST_ENGINES_HEADER ${CMAKE_CURRENT_LIST_DIR}/engines.hpp)
add_library(bsonrpc_test_engines STATIC EXCLUDE_FROM_ALL
            ${CMAKE_CURRENT_LIST_DIR}/engines_threads.cpp
            ${CMAKE_CURRENT_LIST_DIR}/engines_event_loop.cpp)
target_link_libraries(bsonrpc_test_engines PUBLIC bsonrpc::bsonrpc)
target_compile_options(bsonrpc_test_engines PRIVATE -Wall -Wextra -Wpedantic -Werror)
# Linked into the examples (position-independent executables) and the tests (not).
set_target_properties(bsonrpc_test_engines PROPERTIES POSITION_INDEPENDENT_CODE ON)
# Each function in a section of its own, so that a program's link keeps only the ones it calls.
target_compile_options(bsonrpc_test_engines PRIVATE -ffunction-sections -fdata-sections)

# Declares the engines to `target` through its precompiled header, which every translation unit
# includes first, and links their definitions; the link keeps only the functions the program
# calls. With PCH_FROM, `target` reuses that target's precompiled header, which must declare
# them. A target built without it (the tests with BSONRPC_PCH_TESTS=OFF, the examples outside
# sanitizer builds) instantiates what it uses.
function(bsonrpc_use_test_engines target)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "PCH_FROM" "")
  if(arg_PCH_FROM)
    target_precompile_headers(${target} REUSE_FROM ${arg_PCH_FROM})
  else()
    target_precompile_headers(${target} PRIVATE ${BSONRPC_TEST_ENGINES_HEADER})
  endif()
  target_link_libraries(${target} PRIVATE bsonrpc_test_engines)
  target_link_options(${target} PRIVATE -Wl,--gc-sections)
endfunction()
