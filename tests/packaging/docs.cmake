# cmake -P script: runs Doxygen on the API reference's Doxyfile (cmake/Doxyfile.in, which makes
# any warning an error) and fails, listing the warnings, if it reports any. Registered by
# tests/packaging.cmake.
#
#   -DDOXYGEN=<doxygen, or empty when not found>  -DDOXYFILE=<configured Doxyfile>
#   -DWARNINGS_LOG=<the Doxyfile's WARN_LOGFILE>
#
# Without Doxygen it prints "bsonrpc-skip: ..." (the test is then reported as skipped), unless
# the environment sets BSONRPC_DOCS_REQUIRED=1, as CI does.

cmake_minimum_required(VERSION 3.18...3.25)

if(NOT DOXYGEN)
  if("$ENV{BSONRPC_DOCS_REQUIRED}" STREQUAL "1")
    message(FATAL_ERROR "BSONRPC_DOCS_REQUIRED=1, but Doxygen was not found when the build "
                        "tree was configured (Debian: apt-get install doxygen, then re-run cmake)")
  endif()
  message("bsonrpc-skip: Doxygen not found (Debian: apt-get install doxygen)")
  return()
endif()

get_filename_component(work_dir "${DOXYFILE}" DIRECTORY)
file(REMOVE "${WARNINGS_LOG}")
execute_process(COMMAND "${DOXYGEN}" "${DOXYFILE}" WORKING_DIRECTORY "${work_dir}"
                RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE out)
set(warnings "")
if(EXISTS "${WARNINGS_LOG}")
  file(READ "${WARNINGS_LOG}" warnings)
  string(STRIP "${warnings}" warnings)
endif()
if(NOT status EQUAL 0 OR NOT warnings STREQUAL "")
  string(REGEX MATCHALL "\n" lines "\n${warnings}")
  list(LENGTH lines count)
  message(FATAL_ERROR "Doxygen failed (exit status ${status}) with ${count} warning lines; "
                      "document each public name with a /// comment:\n${warnings}\n${out}")
endif()
message(STATUS "API reference built without warnings: ${work_dir}/html/index.html")
