# cmake -P script: every fenced ```cpp block of README.md that holds a program (`int main`)
# compiles against bsonrpc with the flags its users get, plus -Werror: as C++17, or as C++20
# when it uses coroutines (`co_await`, `co_return`). Fails when the README is missing or holds
# no program at all, so it never passes vacuously. The programs are compiled -fsyntax-only:
# every template they use is still instantiated and checked, but no code is generated or
# linked (40 % of the time; what linking would add, an undefined library symbol, the examples
# and test executables, built from the same headers, already catch).
#
#   -DREADME=<README.md>  -DWORK_DIR=<scratch dir, wiped first>  -DFLAGS_FILE=<flags file>
#   [-DPART=<k> -DPARTS=<n>]: build only programs k, k+n, k+2n ... (counting from 0), so that
#   n tests share the work and CTest runs them in parallel.
#   [-DPCH=<header>]: the header precompile_umbrella.cmake wrote, whose precompiled form a C++17
#   program that includes <bsonrpc/bsonrpc.hpp> is compiled with (-include, -Winvalid-pch).
#   Such a program compiles as it would without it: the umbrella header compiles on its own
#   (the header checks), so including it first changes nothing but the time taken.

cmake_minimum_required(VERSION 3.18...3.25)

include("${CMAKE_CURRENT_LIST_DIR}/../packaging/compiler.cmake")

if(NOT DEFINED README OR NOT DEFINED WORK_DIR)
  message(FATAL_ERROR "check_readme.cmake: -DREADME=... and -DWORK_DIR=... are required")
endif()
if(NOT DEFINED PARTS)
  set(PARTS 1)
  set(PART 0)
endif()
if(NOT EXISTS "${README}")
  message(FATAL_ERROR "README.md missing: ${README}")
endif()
get_filename_component(readme_name "${README}" NAME)
file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")

# Strings, not lists, throughout: C++ is full of the semicolons CMake lists split on. A fence
# is "```" at the start of a line; prefixing "\n" lets the first line hold one too.
file(READ "${README}" text)
set(text "\n${text}")
set(offset 0)
set(cpp_blocks 0)
set(programs 0)
set(built 0)
set(failures "")
while(TRUE)
  string(SUBSTRING "${text}" ${offset} -1 rest)
  string(FIND "${rest}" "\n```" open)
  if(open EQUAL -1)
    break()
  endif()
  math(EXPR open "${offset} + ${open}")
  math(EXPR through_open "${open} + 1")
  string(SUBSTRING "${text}" 0 ${through_open} before)
  string(REGEX REPLACE "[^\n]" "" newlines "${before}")
  string(LENGTH "${newlines}" fence_line)  # 1-based, thanks to the prefixed "\n"

  math(EXPR info_start "${open} + 4")
  string(SUBSTRING "${text}" ${info_start} -1 rest)
  string(FIND "${rest}" "\n" info_end)
  if(info_end EQUAL -1)
    message(FATAL_ERROR "${README}:${fence_line}: a code fence opens on the last line")
  endif()
  string(SUBSTRING "${rest}" 0 ${info_end} info)
  string(STRIP "${info}" info)
  math(EXPR body_start "${info_start} + ${info_end}")  # at the "\n" ending the fence line
  string(SUBSTRING "${text}" ${body_start} -1 rest)
  string(FIND "${rest}" "\n```" close)
  if(close EQUAL -1)
    message(FATAL_ERROR "${README}:${fence_line}: this code fence is never closed")
  endif()
  set(body "")
  if(close GREATER 0)
    string(SUBSTRING "${rest}" 1 ${close} body)
  endif()
  math(EXPR offset "${body_start} + ${close} + 1")  # the closing fence; search from its line

  if(NOT info MATCHES "^(cpp|c\\+\\+)([ \t{].*)?$")
    continue()
  endif()
  math(EXPR cpp_blocks "${cpp_blocks} + 1")
  if(NOT body MATCHES "int[ \t]+main[ \t]*\\(")
    continue()
  endif()
  math(EXPR programs "${programs} + 1")
  math(EXPR part_of_program "(${programs} - 1) % ${PARTS}")
  if(NOT part_of_program EQUAL PART)
    continue()
  endif()
  math(EXPR built "${built} + 1")

  set(source "${WORK_DIR}/readme_line_${fence_line}.cpp")
  # Compiler messages then point into README.md itself.
  math(EXPR first_code_line "${fence_line} + 1")
  file(WRITE "${source}" "#line ${first_code_line} \"${README}\"\n${body}")
  set(std 17)
  if(body MATCHES "co_(await|return)")
    set(std 20)
  endif()
  bsonrpc_compile_command(cmd ${std} "${source}")
  list(APPEND cmd -fsyntax-only)
  set(how "")
  if(DEFINED PCH AND std EQUAL 17 AND body MATCHES "#include <bsonrpc/bsonrpc.hpp>")
    if(NOT EXISTS "${PCH}.gch")
      message(FATAL_ERROR "${PCH}.gch is missing: the README's precompile test did not run")
    endif()
    list(APPEND cmd -include "${PCH}" -Winvalid-pch)
    set(how ", <bsonrpc/bsonrpc.hpp> precompiled")
  endif()
  execute_process(COMMAND ${cmd} RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(status EQUAL 0)
    message(STATUS "${readme_name}:${fence_line}: compiles as C++${std}${how}")
  else()
    bsonrpc_command_line(line ${cmd})
    message("${readme_name}:${fence_line}: the program in this block does not build:\n${line}\n\n${out}")
    list(APPEND failures "${readme_name}:${fence_line}")
  endif()
endwhile()

if(programs EQUAL 0)
  message(FATAL_ERROR "no program found in ${README}: no ```cpp block (of ${cpp_blocks}) "
                      "contains `int main`, so nothing was checked")
endif()
math(EXPR skipped "${cpp_blocks} - ${programs}")
if(failures)
  list(LENGTH failures failed)
  list(JOIN failures ", " failures)
  message(FATAL_ERROR "${failed} of ${built} programs in ${README} do not build: ${failures}")
endif()
math(EXPR shown_part "${PART} + 1")
message(STATUS "compiled ${built} of the ${programs} programs in ${README} "
               "(part ${shown_part} of ${PARTS}; ${skipped} ```cpp blocks without `int main` "
               "not compiled)")
