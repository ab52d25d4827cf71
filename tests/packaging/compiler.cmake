# Included by the packaging scripts run with `cmake -P`: builds the compiler command line that
# a TU using bsonrpc::bsonrpc gets, from the flags file packaging.cmake writes at generate time
# (FLAGS_FILE), so these tests compile exactly as a user of the target does.
#
#   bsonrpc_compile_command(<out-var> <std> <source>)
#       <out-var>: the command as a list: compiler, -std, warnings, includes, definitions,
#       options, source. Append -fsyntax-only, or -o and BSONRPC_LINK_LIBRARIES, to it.

if(NOT DEFINED FLAGS_FILE OR NOT EXISTS "${FLAGS_FILE}")
  message(FATAL_ERROR "FLAGS_FILE (the bsonrpc flags file written by packaging.cmake) is missing: "
                      "'${FLAGS_FILE}'; re-run cmake on the build tree")
endif()
include("${FLAGS_FILE}")

function(bsonrpc_compile_command out std source)
  set(cmd "${BSONRPC_CXX_COMPILER}" "-std=c++${std}" -Wall -Wextra -Wpedantic -Werror)
  # bsonrpc's own headers are searched with -I (so their warnings count); the dependencies'
  # with -isystem, as CMake does for imported targets. The compiler's implicit directories are
  # left out: naming /usr/include with -isystem breaks libstdc++'s #include_next.
  list(APPEND cmd "-I${BSONRPC_OWN_INCLUDE_DIR}")
  foreach(dir IN LISTS BSONRPC_INCLUDE_DIRS)
    if(dir STREQUAL "" OR dir STREQUAL BSONRPC_OWN_INCLUDE_DIR)
      continue()
    endif()
    if(dir IN_LIST BSONRPC_IMPLICIT_INCLUDE_DIRS)
      continue()
    endif()
    list(APPEND cmd -isystem "${dir}")
  endforeach()
  foreach(def IN LISTS BSONRPC_DEFINITIONS)
    if(NOT def STREQUAL "")
      list(APPEND cmd "-D${def}")
    endif()
  endforeach()
  foreach(opt IN LISTS BSONRPC_OPTIONS)
    if(NOT opt STREQUAL "")
      list(APPEND cmd "${opt}")
    endif()
  endforeach()
  list(APPEND cmd "${source}")
  set(${out} "${cmd}" PARENT_SCOPE)
endfunction()

# The command as one line a user can paste into a shell.
function(bsonrpc_command_line out)
  set(line "")
  foreach(arg IN LISTS ARGN)
    if(arg MATCHES "[ \"'()<>&|;]")
      string(REPLACE "'" "'\\''" arg "${arg}")
      set(arg "'${arg}'")
    endif()
    string(APPEND line " ${arg}")
  endforeach()
  string(STRIP "${line}" line)
  set(${out} "${line}" PARENT_SCOPE)
endfunction()
