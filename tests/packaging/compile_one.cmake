# cmake -P script: compiles one TU with bsonrpc::bsonrpc's flags (-fsyntax-only) and checks the
# outcome. Registered by tests/packaging.cmake.
#
#   -DFLAGS_FILE=<generated flags file>  -DSTD=17|20
#   -DSOURCE=<.cpp>  or  -DHEADER=bsonrpc/x.hpp -DWORK_DIR=<dir>  (compiles `#include <HEADER>`)
#   -DEXPECT=success | failure
#   -DDEFINITIONS=NAME=VALUE,...   optional: extra -D definitions, separated by commas
#   -DEXPECT_ERROR=<regex>   with failure: the first error the compiler reports must match it,
#                            so the user sees the library's explanation before anything else.

cmake_minimum_required(VERSION 3.18...3.25)

include("${CMAKE_CURRENT_LIST_DIR}/compiler.cmake")

foreach(var IN ITEMS STD EXPECT)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "compile_one.cmake: -D${var}=... is required")
  endif()
endforeach()

if(DEFINED HEADER)
  # One TU per header and standard, so parallel tests never write the same file.
  set(SOURCE "${WORK_DIR}/cxx${STD}/${HEADER}.cpp")
  file(CONFIGURE OUTPUT "${SOURCE}" CONTENT "#include <${HEADER}>\n" @ONLY)
elseif(NOT DEFINED SOURCE)
  message(FATAL_ERROR "compile_one.cmake: -DSOURCE=... or -DHEADER=... is required")
endif()

bsonrpc_compile_command(cmd "${STD}" "${SOURCE}")
list(APPEND cmd -fsyntax-only)
if(DEFINED DEFINITIONS)
  string(REPLACE "," ";" definitions "${DEFINITIONS}")
  foreach(definition IN LISTS definitions)
    list(APPEND cmd "-D${definition}")
  endforeach()
endif()
bsonrpc_command_line(line ${cmd})
execute_process(COMMAND ${cmd} RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE out)
string(STRIP "${out}" out)

if(EXPECT STREQUAL "success")
  if(NOT status EQUAL 0)
    set(what "${SOURCE}")
    if(DEFINED HEADER)
      set(what "<${HEADER}> included alone")
    endif()
    message(FATAL_ERROR "${what} does not compile as C++${STD} (exit status ${status}):\n"
                        "${line}\n\n${out}")
  endif()
  message(STATUS "compiles: ${SOURCE}")
elseif(EXPECT STREQUAL "failure")
  if(NOT DEFINED EXPECT_ERROR)
    message(FATAL_ERROR "compile_one.cmake: EXPECT=failure needs -DEXPECT_ERROR=<regex>")
  endif()
  if(status EQUAL 0)
    message(FATAL_ERROR "expected a compile error matching '${EXPECT_ERROR}', but it compiled:\n"
                        "${line}\n\n${out}")
  endif()
  # GCC and Clang both write "file:line:col: error: ..." (or "fatal error:").
  string(REGEX MATCH "[^\n]*: (fatal )?error: [^\n]*" first_error "${out}")
  if(NOT first_error MATCHES "${EXPECT_ERROR}")
    message(FATAL_ERROR "the compiler rejected ${SOURCE}, but its first error does not match "
                        "'${EXPECT_ERROR}':\n  ${first_error}\n\n${line}\n\n${out}")
  endif()
  message(STATUS "rejected as expected; first error:\n  ${first_error}")
else()
  message(FATAL_ERROR "compile_one.cmake: EXPECT must be success or failure, not '${EXPECT}'")
endif()
