# cmake -P script: puts bsonrpc into a scratch prefix, then configures, builds and runs the
# separate project in this directory against that prefix only.
#
#   -DFROM=install  `cmake --install` of the build tree into the prefix; then main.cpp is also
#                   built with the compiler alone, with the flags `pkg-config --cflags --libs
#                   bsonrpc` gives (PKG_CONFIG_PATH=<prefix>/<datadir>/pkgconfig), and run.
#   -DFROM=deb      `cpack -G DEB` in the build tree, the package's control fields checked, and
#                   the .deb unpacked with `dpkg-deb -x` into an empty root whose usr/ is the
#                   prefix; bsonrpc.pc must resolve there too (the compile with its flags is the
#                   install test's: the files are the same). Prints "bsonrpc-skip: ..." and
#                   stops when cpack or dpkg-deb is missing.
#   -DBUILD_DIR=<bsonrpc build tree>   -DCONFIG=<config, may be empty>
#   -DCONSUMER_SOURCE_DIR=<this dir>   -DWORK_DIR=<scratch dir, wiped first>
#   -DSOURCE_INCLUDE_DIR=<bsonrpc's include/>  -DINSTALL_INCLUDEDIR=<CMAKE_INSTALL_INCLUDEDIR>
#   -DINSTALL_DATADIR=<CMAKE_INSTALL_DATADIR>
#   -DGENERATOR=<CMAKE_GENERATOR>  -DMAKE_PROGRAM=<CMAKE_MAKE_PROGRAM>  -DCXX_COMPILER=<compiler>

cmake_minimum_required(VERSION 3.18...3.25)

foreach(var IN ITEMS FROM BUILD_DIR CONSUMER_SOURCE_DIR WORK_DIR SOURCE_INCLUDE_DIR
                     INSTALL_INCLUDEDIR INSTALL_DATADIR GENERATOR CXX_COMPILER)
  if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
    message(FATAL_ERROR "run.cmake: -D${var}=... is required")
  endif()
endforeach()

set(prefix "${WORK_DIR}/prefix")
set(consumer_build "${WORK_DIR}/build")
file(REMOVE_RECURSE "${WORK_DIR}")
set(config_args "")
set(cpack_config_args "")
if(NOT "${CONFIG}" STREQUAL "")
  set(config_args --config "${CONFIG}")
  set(cpack_config_args -C "${CONFIG}")
endif()

function(run_step title)
  message(STATUS "${title}")
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT status EQUAL 0)
    string(REPLACE ";" " " line "${ARGN}")
    message(FATAL_ERROR "${title} failed (${status}):\n${line}\n\n${out}")
  endif()
  set(step_output "${out}" PARENT_SCOPE)
endfunction()

if(FROM STREQUAL "install")
  run_step("installing ${BUILD_DIR} into ${prefix}"
    "${CMAKE_COMMAND}" --install "${BUILD_DIR}" --prefix "${prefix}" ${config_args})
elseif(FROM STREQUAL "deb")
  get_filename_component(cmake_bin_dir "${CMAKE_COMMAND}" DIRECTORY)
  find_program(CPACK_COMMAND cpack HINTS "${cmake_bin_dir}" NO_CACHE)
  find_program(DPKG_DEB dpkg-deb NO_CACHE)
  if(NOT CPACK_COMMAND OR NOT DPKG_DEB)
    message("bsonrpc-skip: the Debian package test needs cpack and dpkg-deb")
    return()
  endif()
  run_step("building the Debian package with cpack"
    "${CPACK_COMMAND}" -G DEB --config "${BUILD_DIR}/CPackConfig.cmake" -B "${WORK_DIR}/cpack"
    ${cpack_config_args})
  file(GLOB debs "${WORK_DIR}/cpack/*.deb")
  list(LENGTH debs deb_count)
  if(NOT deb_count EQUAL 1)
    message(FATAL_ERROR "cpack made ${deb_count} .deb files, not one:\n${step_output}")
  endif()
  message(STATUS "package: ${debs}")
  run_step("reading the package's control fields"
    "${DPKG_DEB}" --field "${debs}" Package Version Architecture Depends)
  message(STATUS "${step_output}")
  set(expected_fields "Package: bsonrpc" "Architecture: all")
  foreach(dependency IN ITEMS nlohmann-json3-dev libbson-dev libasio-dev libssl-dev)
    list(APPEND expected_fields "Depends: .*${dependency}")
  endforeach()
  foreach(field IN LISTS expected_fields)
    if(NOT step_output MATCHES "(^|\n)${field}")
      message(FATAL_ERROR "the package's control fields lack '${field}':\n${step_output}")
    endif()
  endforeach()
  set(root "${WORK_DIR}/root")
  run_step("unpacking the package into ${root}" "${DPKG_DEB}" -x "${debs}" "${root}")
  set(prefix "${root}/usr")
  if(NOT IS_DIRECTORY "${prefix}")
    message(FATAL_ERROR "the package installs nothing under /usr")
  endif()
else()
  message(FATAL_ERROR "run.cmake: FROM must be install or deb, not '${FROM}'")
endif()

# Every public header is installed, under the include directory the package advertises.
file(GLOB_RECURSE headers RELATIVE "${SOURCE_INCLUDE_DIR}" "${SOURCE_INCLUDE_DIR}/bsonrpc/*.hpp")
if(NOT headers)
  message(FATAL_ERROR "no headers found under ${SOURCE_INCLUDE_DIR}/bsonrpc")
endif()
set(installed_include_dir "${prefix}/${INSTALL_INCLUDEDIR}")
if(IS_ABSOLUTE "${INSTALL_INCLUDEDIR}")
  set(installed_include_dir "${INSTALL_INCLUDEDIR}")
endif()
set(missing "")
foreach(header IN LISTS headers)
  if(NOT EXISTS "${installed_include_dir}/${header}")
    list(APPEND missing "${header}")
  endif()
endforeach()
if(missing)
  list(JOIN missing "\n  " missing)
  message(FATAL_ERROR "headers not installed into ${installed_include_dir}:\n  ${missing}")
endif()
list(LENGTH headers header_count)
message(STATUS "all ${header_count} public headers installed")

# The install test builds the consumer in the build tree's configuration; the deb test builds
# it without optimisation (no CMAKE_BUILD_TYPE): it checks the package's files, and so costs
# CI less than half the compile time.
set(consumer_config "${CONFIG}")
set(consumer_config_args ${config_args})
if(FROM STREQUAL "deb")
  set(consumer_config "")
  set(consumer_config_args "")
endif()

set(generator_args -G "${GENERATOR}")
if(DEFINED MAKE_PROGRAM AND NOT "${MAKE_PROGRAM}" STREQUAL "")
  list(APPEND generator_args "-DCMAKE_MAKE_PROGRAM=${MAKE_PROGRAM}")
endif()
# The package registry could point back at a build tree; only the prefix may satisfy
# find_package (the consumer checks where bsonrpc and its include directories came from).
run_step("configuring the consumer project against ${prefix}"
  "${CMAKE_COMMAND}" -S "${CONSUMER_SOURCE_DIR}" -B "${consumer_build}" ${generator_args}
  "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}"
  "-DCMAKE_BUILD_TYPE=${consumer_config}"
  "-DCMAKE_PREFIX_PATH=${prefix}"
  "-DBSONRPC_EXPECTED_PREFIX=${prefix}"
  -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF
  -DCMAKE_EXPORT_COMPILE_COMMANDS=ON)

run_step("building the consumer project"
  "${CMAKE_COMMAND}" --build "${consumer_build}" ${consumer_config_args})

# Belt and braces for generators that record compile commands: no -I into the source tree.
if(EXISTS "${consumer_build}/compile_commands.json")
  file(READ "${consumer_build}/compile_commands.json" commands)
  string(FIND "${commands}" "${SOURCE_INCLUDE_DIR}" at)
  if(NOT at EQUAL -1)
    message(FATAL_ERROR "the consumer was compiled with bsonrpc's source tree on its include "
                        "path (${SOURCE_INCLUDE_DIR}):\n${commands}")
  endif()
endif()

# app-<config>.path; a multi-config generator without --config builds its default config.
file(GLOB path_file "${consumer_build}/app-${consumer_config}*.path")
list(LENGTH path_file path_file_count)
if(NOT path_file_count EQUAL 1)
  message(FATAL_ERROR "the consumer did not record its executable's path in one "
                      "${consumer_build}/app-<config>.path file")
endif()
file(READ "${path_file}" app)
run_step("running ${app}" "${app}")
message(STATUS "${step_output}")

# pkg-config: the flags name the prefix's headers (never the source tree) and, with the
# compiler alone, build a program that runs.
set(pc_dir "${prefix}/${INSTALL_DATADIR}")
if(IS_ABSOLUTE "${INSTALL_DATADIR}")
  set(pc_dir "${INSTALL_DATADIR}")
endif()
set(pc_dir "${pc_dir}/pkgconfig")
if(NOT EXISTS "${pc_dir}/bsonrpc.pc")
  message(FATAL_ERROR "bsonrpc.pc is not installed into ${pc_dir}")
endif()
find_program(PKG_CONFIG pkg-config NO_CACHE)
if(NOT PKG_CONFIG)
  message(FATAL_ERROR "pkg-config is not installed (Debian: apt-get install pkg-config)")
endif()
set(ENV{PKG_CONFIG_PATH} "${pc_dir}")
run_step("pkg-config --cflags --libs bsonrpc, with PKG_CONFIG_PATH=${pc_dir}"
  "${PKG_CONFIG}" --cflags --libs bsonrpc)
string(STRIP "${step_output}" pc_flags)
message(STATUS "${pc_flags}")
separate_arguments(pc_flags UNIX_COMMAND "${pc_flags}")
get_filename_component(real_prefix "${prefix}" REALPATH)
set(found_prefix_include FALSE)
foreach(flag IN LISTS pc_flags)
  if(flag MATCHES "^-I(.*)")
    get_filename_component(dir "${CMAKE_MATCH_1}" REALPATH)
    if(EXISTS "${dir}/bsonrpc/bsonrpc.hpp")
      string(FIND "${dir}/" "${real_prefix}/" at)
      if(NOT at EQUAL 0)
        message(FATAL_ERROR "pkg-config gives bsonrpc's headers from ${dir}, outside ${prefix}")
      endif()
      set(found_prefix_include TRUE)
    endif()
  endif()
endforeach()
if(NOT found_prefix_include)
  message(FATAL_ERROR "pkg-config's flags name no directory holding bsonrpc/bsonrpc.hpp")
endif()
if(FROM STREQUAL "install")
  set(pc_app "${WORK_DIR}/app-pkg-config")
  run_step("building main.cpp with the compiler and pkg-config's flags"
    "${CXX_COMPILER}" -std=c++17 -Wall -Wextra -Wpedantic -Werror
    "${CONSUMER_SOURCE_DIR}/main.cpp" -o "${pc_app}" ${pc_flags})
  run_step("running ${pc_app}" "${pc_app}")
  message(STATUS "${step_output}")
endif()
