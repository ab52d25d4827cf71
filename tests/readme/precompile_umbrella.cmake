# cmake -P script: precompiles <bsonrpc/bsonrpc.hpp> as C++17, with the flags a user of
# bsonrpc::bsonrpc gets, for check_readme.cmake. Most README programs start with that one
# include; parsing it (and the templates it instantiates) is more than half of what compiling
# such a program costs, so the README tests parse it once, here, instead of once per program.
#
#   -DFLAGS_FILE=<flags file>  -DOUTPUT=<header to write; its .gch is written beside it>

cmake_minimum_required(VERSION 3.18...3.25)

include("${CMAKE_CURRENT_LIST_DIR}/../packaging/compiler.cmake")

if(NOT DEFINED OUTPUT)
  message(FATAL_ERROR "precompile_umbrella.cmake: -DOUTPUT=... is required")
endif()
file(REMOVE "${OUTPUT}" "${OUTPUT}.gch")
file(WRITE "${OUTPUT}" "#include <bsonrpc/bsonrpc.hpp>\n")
bsonrpc_compile_command(cmd 17 "${OUTPUT}")
list(INSERT cmd 1 -x c++-header)
list(APPEND cmd -o "${OUTPUT}.gch")
execute_process(COMMAND ${cmd} RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE out)
if(NOT status EQUAL 0)
  bsonrpc_command_line(line ${cmd})
  message(FATAL_ERROR "<bsonrpc/bsonrpc.hpp> does not precompile:\n${line}\n\n${out}")
endif()
message(STATUS "precompiled <bsonrpc/bsonrpc.hpp> into ${OUTPUT}.gch")
