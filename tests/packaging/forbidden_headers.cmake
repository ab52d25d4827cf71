# cmake -P script: compiles a program made of #include lines with bsonrpc::bsonrpc's flags
# (-fsyntax-only -H, which lists every header the compiler opens) and fails if one of those
# headers matches a forbidden pattern, naming the chain of includes that reached it. Registered
# by tests/packaging.cmake (the layering tests).
#
#   -DFLAGS_FILE=<generated flags file>  -DSTD=17|20  -DWORK_DIR=<dir>  -DNAME=<file stem>
#   -DINCLUDES=<header>,<header>,...  (written as #include <header>, in this order)
#   -DFORBIDDEN=<regex>               matched against each opened header's path, with forward
#                                     slashes (e.g. "(^|/)nlohmann/json\.hpp$")

cmake_minimum_required(VERSION 3.18...3.25)

include("${CMAKE_CURRENT_LIST_DIR}/compiler.cmake")

foreach(var IN ITEMS STD WORK_DIR NAME INCLUDES FORBIDDEN)
  if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
    message(FATAL_ERROR "forbidden_headers.cmake: -D${var}=... is required")
  endif()
endforeach()

string(REPLACE "," ";" includes "${INCLUDES}")
set(program "")
foreach(header IN LISTS includes)
  string(APPEND program "#include <${header}>\n")
endforeach()
string(APPEND program "\nint main() {}\n")
set(source "${WORK_DIR}/cxx${STD}/${NAME}.cpp")
file(CONFIGURE OUTPUT "${source}" CONTENT "${program}" @ONLY)

bsonrpc_compile_command(cmd "${STD}" "${source}")
list(APPEND cmd -fsyntax-only -H)
bsonrpc_command_line(line ${cmd})
execute_process(COMMAND ${cmd} RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE out)

# The program must compile, or a harness fault (a renamed header, a broken flag) would pass.
if(NOT status EQUAL 0)
  message(FATAL_ERROR "the program does not compile (exit status ${status}):\n${program}\n"
                      "${line}\n\n${out}")
endif()

# -H writes one line per header opened: as many dots as its include depth, a space, its path.
# A stack of the current chain names how a forbidden header was reached.
string(REPLACE ";" "\\;" out "${out}")
string(REPLACE "\n" ";" lines "${out}")
set(chain "")
set(opened 0)
set(found "")
set(hidden 0)
foreach(entry IN LISTS lines)
  if(NOT entry MATCHES "^(\\.+) (.+)$")
    continue()
  endif()
  string(LENGTH "${CMAKE_MATCH_1}" depth)
  file(TO_CMAKE_PATH "${CMAKE_MATCH_2}" path)
  math(EXPR opened "${opened} + 1")
  list(LENGTH chain length)
  while(length GREATER_EQUAL depth)
    list(POP_BACK chain)
    list(LENGTH chain length)
  endwhile()
  if(path MATCHES "${FORBIDDEN}")
    # Only the first offender on a chain is shown; those it includes are counted.
    set(below_another FALSE)
    foreach(ancestor IN LISTS chain)
      if(ancestor MATCHES "${FORBIDDEN}")
        set(below_another TRUE)
      endif()
    endforeach()
    if(below_another)
      math(EXPR hidden "${hidden} + 1")
    else()
      list(JOIN chain "\n      includes " via)
      string(APPEND found "  ${path}\n    reached by: ${source}\n      includes ${via}\n")
    endif()
  endif()
  list(APPEND chain "${path}")
endforeach()
if(hidden GREATER 0)
  string(APPEND found "  and ${hidden} more, included by those above\n")
endif()

# -H must have listed the program's own includes (at any depth: one an earlier include opened
# is not opened again), or the check below would pass vacuously.
foreach(header IN LISTS includes)
  string(REPLACE "." "\\." escaped "${header}")
  if(NOT out MATCHES "(^|\n)\\.+ [^\n]*/${escaped}(\n|$)")
    message(FATAL_ERROR "the compiler's -H output does not list <${header}>; cannot tell which "
                        "headers the program parses:\n${line}\n\n${out}")
  endif()
endforeach()

if(NOT found STREQUAL "")
  message(FATAL_ERROR "the program\n${program}\nparses headers matching '${FORBIDDEN}':\n"
                      "${found}\n${line}")
endif()
message(STATUS "${opened} headers parsed, none matching '${FORBIDDEN}':\n${program}")
