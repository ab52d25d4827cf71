# cmake -P script: installs the bsonrpc build tree into a scratch prefix, then configures,
# builds and runs the separate project in this directory against that prefix only.
#
#   -DBUILD_DIR=<bsonrpc build tree>   -DCONFIG=<config, may be empty>
#   -DCONSUMER_SOURCE_DIR=<this dir>   -DWORK_DIR=<scratch dir, wiped first>
#   -DSOURCE_INCLUDE_DIR=<bsonrpc's include/>  -DINSTALL_INCLUDEDIR=<CMAKE_INSTALL_INCLUDEDIR>
#   -DGENERATOR=<CMAKE_GENERATOR>  -DMAKE_PROGRAM=<CMAKE_MAKE_PROGRAM>  -DCXX_COMPILER=<compiler>

cmake_minimum_required(VERSION 3.18...3.25)

foreach(var IN ITEMS BUILD_DIR CONSUMER_SOURCE_DIR WORK_DIR SOURCE_INCLUDE_DIR INSTALL_INCLUDEDIR
                     GENERATOR CXX_COMPILER)
  if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
    message(FATAL_ERROR "run.cmake: -D${var}=... is required")
  endif()
endforeach()

set(prefix "${WORK_DIR}/prefix")
set(consumer_build "${WORK_DIR}/build")
file(REMOVE_RECURSE "${WORK_DIR}")
set(config_args "")
if(NOT "${CONFIG}" STREQUAL "")
  set(config_args --config "${CONFIG}")
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

run_step("installing ${BUILD_DIR} into ${prefix}"
  "${CMAKE_COMMAND}" --install "${BUILD_DIR}" --prefix "${prefix}" ${config_args})

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

set(generator_args -G "${GENERATOR}")
if(DEFINED MAKE_PROGRAM AND NOT "${MAKE_PROGRAM}" STREQUAL "")
  list(APPEND generator_args "-DCMAKE_MAKE_PROGRAM=${MAKE_PROGRAM}")
endif()
# The package registry could point back at a build tree; only the prefix may satisfy
# find_package (the consumer checks where bsonrpc and its include directories came from).
run_step("configuring the consumer project against ${prefix}"
  "${CMAKE_COMMAND}" -S "${CONSUMER_SOURCE_DIR}" -B "${consumer_build}" ${generator_args}
  "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}"
  "-DCMAKE_BUILD_TYPE=${CONFIG}"
  "-DCMAKE_PREFIX_PATH=${prefix}"
  "-DBSONRPC_EXPECTED_PREFIX=${prefix}"
  -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF
  -DCMAKE_EXPORT_COMPILE_COMMANDS=ON)

run_step("building the consumer project"
  "${CMAKE_COMMAND}" --build "${consumer_build}" ${config_args})

# Belt and braces for generators that record compile commands: no -I into the source tree.
if(EXISTS "${consumer_build}/compile_commands.json")
  file(READ "${consumer_build}/compile_commands.json" commands)
  string(FIND "${commands}" "${SOURCE_INCLUDE_DIR}" at)
  if(NOT at EQUAL -1)
    message(FATAL_ERROR "the consumer was compiled with bsonrpc's source tree on its include "
                        "path (${SOURCE_INCLUDE_DIR}):\n${commands}")
  endif()
endif()

set(path_file "${consumer_build}/app-${CONFIG}.path")
if(NOT EXISTS "${path_file}")
  message(FATAL_ERROR "the consumer did not record its executable's path in ${path_file}")
endif()
file(READ "${path_file}" app)
run_step("running ${app}" "${app}")
message(STATUS "${step_output}")
