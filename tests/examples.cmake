# End-to-end tests of the example programs over real sockets (scripts in tests/examples/).
# Every server listens on port 0 and is found through its `listening on` line. The scripts
# run with /usr/bin/python3 (Debian's, which has the `bson` module); without it they skip.
if(NOT BSONRPC_BUILD_EXAMPLES)
  return()
endif()

set(example_scripts ${CMAKE_CURRENT_SOURCE_DIR}/examples)
set(example_work ${CMAKE_CURRENT_BINARY_DIR}/examples-work)
set(example_python /usr/bin/python3)
set(server $<TARGET_FILE:bsonrpc-server>)
set(client $<TARGET_FILE:bsonrpc-client>)

# add_example_test(NAME name [FIXTURES fixture] [TIMEOUT s] COMMAND script args...)
function(add_example_test)
  cmake_parse_arguments(arg "" "NAME;FIXTURES;TIMEOUT" "COMMAND" ${ARGN})
  if(NOT arg_TIMEOUT)
    set(arg_TIMEOUT 30)
  endif()
  if(EXISTS ${example_python})
    add_test(NAME ${arg_NAME} COMMAND ${example_python} ${arg_COMMAND})
  else()  # reported as skipped, not failed
    add_test(NAME ${arg_NAME} COMMAND sh -c "echo 'SKIP: ${example_python} not found'; exit 77")
  endif()
  set_tests_properties(${arg_NAME} PROPERTIES TIMEOUT ${arg_TIMEOUT} SKIP_RETURN_CODE 77
                                               LABELS examples)
  if(BSONRPC_SANITIZE)  # the harness multiplies its time bounds by this
    set_tests_properties(${arg_NAME} PROPERTIES ENVIRONMENT BSONRPC_TEST_SLOW=4)
  endif()
  if(arg_FIXTURES)
    set_tests_properties(${arg_NAME} PROPERTIES FIXTURES_REQUIRED ${arg_FIXTURES})
  endif()
endfunction()

add_example_test(NAME "examples: the quickstart client gets the swapped string from the quickstart server"
  COMMAND ${example_scripts}/pair.py quickstart
          $<TARGET_FILE:quickstart-server> $<TARGET_FILE:quickstart-client>)
add_example_test(NAME "examples: the features client gets the batch, Stage 1 and 2 and 24 from the features server"
  COMMAND ${example_scripts}/pair.py features
          $<TARGET_FILE:features-server> $<TARGET_FILE:features-client>)

# lsp-stdio-server is the child of an editor: the script writes to its stdin, reads its stdout.
foreach(scenario IN ITEMS
    "session|lsp-stdio-server answers initialize, hover and shutdown over its stdin and stdout, then exits 0 on exit"
    "exit-without-shutdown|lsp-stdio-server exits 1 on exit without shutdown"
    "editor-gone|lsp-stdio-server exits 1 when its stdin ends"
    "malformed-header|lsp-stdio-server exits 1 without a reply on a malformed Content-Length header")
  string(REPLACE "|" ";" scenario "${scenario}")
  list(GET scenario 0 mode)
  list(GET scenario 1 sentence)
  add_example_test(NAME "examples: ${sentence}"
    COMMAND ${example_scripts}/lsp_stdio.py ${mode} $<TARGET_FILE:lsp-stdio-server>)
endforeach()

add_example_test(NAME "examples: generate a throwaway CA, server and client certificate with openssl"
  COMMAND ${example_scripts}/make_certs.py ${example_work}/certs)
set_tests_properties("examples: generate a throwaway CA, server and client certificate with openssl"
  PROPERTIES FIXTURES_SETUP example_certs)

# Sanitizers multiply memory and time: the hostile tests' RSS ceiling follows (their time
# bounds scale with BSONRPC_TEST_SLOW, set by add_example_test).
if(BSONRPC_SANITIZE)
  set(hostile_flags --rss-ceiling-mib 2048)  # ASan: about 1 GiB in the request storm
  set(hostile_timeout 300)  # the request storm: about 60 s under ASan on 2 cores
else()
  set(hostile_flags --rss-ceiling-mib 200)
  set(hostile_timeout 120)
endif()

# Everything bsonrpc-server and bsonrpc-client do runs with both executors: the test names
# end in "(threads executor)" or "(asio executor)".
foreach(executor IN ITEMS threads asio)
  set(with "--executor;${executor}")
  set(on "${executor} executor")

  foreach(variant IN ITEMS "json;rfc7464" "json;netstring" "json;frameless" "json;content-length"
                           "json;ndjson" "bson;rfc7464")
    list(GET variant 0 codec)
    list(GET variant 1 framing)
    if(codec STREQUAL "bson")
      set(label "bson")
    else()
      set(label "json ${framing}")
    endif()
    add_example_test(NAME "examples: bsonrpc-client runs every action against bsonrpc-server over TCP (${label}, ${on})"
      COMMAND ${example_scripts}/pair.py conformance ${server} ${client} ${example_work}
              --codec ${codec} --framing ${framing} --transport tcp ${with})
    add_example_test(NAME "conformance: bsonrpc-server answers every service over raw frames (${label}, ${on})"
      COMMAND ${example_scripts}/conformance.py ${server} --codec ${codec} --framing ${framing}
              ${with})
  endforeach()

  add_example_test(NAME "examples: bsonrpc-client and bsonrpc-server talk over TLS with a verified server certificate (json, ${on})"
    FIXTURES example_certs
    COMMAND ${example_scripts}/pair.py conformance ${server} ${client} ${example_work}
            --transport tls --certs ${example_work}/certs ${with})
  add_example_test(NAME "examples: bsonrpc-client and bsonrpc-server talk over TLS with a verified server certificate (bson, ${on})"
    FIXTURES example_certs
    COMMAND ${example_scripts}/pair.py conformance ${server} ${client} ${example_work}
            --codec bson --transport tls --certs ${example_work}/certs ${with})
  add_example_test(NAME "examples: mutual TLS accepts a client certificate signed by the CA and refuses a client without one (${on})"
    FIXTURES example_certs
    COMMAND ${example_scripts}/pair.py conformance ${server} ${client} ${example_work}
            --transport mtls --certs ${example_work}/certs ${with})
  add_example_test(NAME "examples: bsonrpc-client and bsonrpc-server talk over a Unix socket (${on})"
    COMMAND ${example_scripts}/pair.py conformance ${server} ${client} ${example_work}
            --framing netstring --transport unix ${with})
  add_example_test(NAME "examples: bsonrpc-server listens on [::1] and prints the IPv6 address (${on})"
    COMMAND ${example_scripts}/pair.py conformance ${server} ${client} ${example_work}
            --codec bson --transport ipv6 ${with})

  add_example_test(NAME "conformance: bsonrpc-server --framing auto answers clients of every JSON framing in their framing and closes a BSON or garbage client with a log line (${on})"
    COMMAND ${example_scripts}/auto_framing.py ${server} ${with})
  add_example_test(NAME "conformance: bsonrpc-client --discover prints the OpenRPC document bsonrpc-server answers to rpc.discover, alone on stdout, over both codecs (${on})"
    COMMAND ${example_scripts}/discover.py ${server} ${client} ${with})
  add_example_test(NAME "conformance: bsonrpc-server exits 0 on SIGTERM and SIGINT after answering in-flight requests (${on})"
    COMMAND ${example_scripts}/lifecycle.py signals ${server} ${with})
  add_example_test(NAME "conformance: on SIGTERM and SIGINT bsonrpc-server answers the requests it read, refuses later ones with -32000, then exits 0 (${on})"
    COMMAND ${example_scripts}/lifecycle.py graceful-shutdown ${server} ${with})
  add_example_test(NAME "conformance: a TLS client that never handshakes stalls nobody (${on})"
    FIXTURES example_certs
    COMMAND ${example_scripts}/lifecycle.py stalled-handshake ${server} ${example_work}/certs
            ${with})
  add_example_test(NAME "conformance: bsonrpc-client fails in one line with exit 1 on an unreachable peer or a timeout (${on})"
    COMMAND ${example_scripts}/lifecycle.py client-failures ${server} ${client} ${with})
  add_example_test(NAME "conformance: --max-message-bytes refuses a larger message and keeps serving others (${on})"
    COMMAND ${example_scripts}/lifecycle.py max-message-bytes ${server} ${with})
  add_example_test(NAME "conformance: bsonrpc-server releases the threads and descriptors of closed connections (${on})"
    COMMAND ${example_scripts}/lifecycle.py reaping ${server} ${with})
  # Not in sanitizer builds: their runtimes need descriptors of their own (UBSan's vptr check
  # probes memory through a pipe, and reports a false error when it cannot open one), so
  # starving the process of descriptors would test the sanitizer, not the server.
  if(NOT BSONRPC_SANITIZE)
    add_example_test(NAME "conformance: out of descriptors, bsonrpc-server neither spins nor exits, and serves again (${on})"
      COMMAND ${example_scripts}/lifecycle.py out-of-descriptors ${server} ${with})
  endif()

  # Hostile peers (tests/examples/hostile.py): after each, the server still runs, its peak RSS
  # stays under a ceiling and a fresh connection gets an echo promptly.
  foreach(scenario IN ITEMS
      "netstring-length|closes a connection announcing a 20-digit netstring length and keeps serving"
      "bson-huge-length|closes a connection announcing a 2^31-1 byte BSON document at once and keeps serving"
      "bson-short-length|closes a connection sending a BSON length below 5 and keeps serving"
      "endless-frames|cuts off 40 MiB frames that never end (rfc7464, frameless, netstring) with bounded memory"
      "deep-nesting|answers 100,000 nested JSON arrays and deeply nested BSON with -32700 and keeps serving"
      "invalid-utf8|answers invalid UTF-8 inside a JSON string with -32700 and keeps serving"
      "request-storm|holds back 100,000 pipelined unread requests with bounded memory, then answers them all"
      "dropped-connections|survives 500 connections dropped mid-message and releases their threads"
      "slow-drip|closes a slow-drip connection after --partial-message-timeout-ms and keeps serving steady ones"
      "close-after-request|survives peers that close right after sending a request")
    string(REPLACE "|" ";" scenario "${scenario}")
    list(GET scenario 0 mode)
    list(GET scenario 1 sentence)
    add_example_test(NAME "hostile: bsonrpc-server ${sentence} (${on})" TIMEOUT ${hostile_timeout}
      COMMAND ${example_scripts}/hostile.py ${mode} ${server} ${with} ${hostile_flags})
    if(mode STREQUAL "request-storm")
      # The longest tests of the suite (about 40 s under ASan): CTest starts the costliest
      # first, so that none of them is left running alone at the end of a parallel run.
      set_tests_properties("hostile: bsonrpc-server ${sentence} (${on})" PROPERTIES COST 80)
    endif()
  endforeach()
endforeach()

add_example_test(NAME "conformance: bsonrpc-server and bsonrpc-client reject bad command lines with exit code 2"
  COMMAND ${example_scripts}/lifecycle.py bad-flags ${server} ${client} ${example_work})
