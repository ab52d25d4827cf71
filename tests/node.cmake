# The example protocol servers driven by their official clients from the npm registry (pinned
# in tests/node/package-lock.json): the MCP TypeScript SDK and vscode-jsonrpc; and
# bsonrpc-server's rpc.discover document checked by the OpenRPC validator. Skipped without
# node or `npm ci --prefix tests/node`, unless BSONRPC_NODE_TESTS_REQUIRED=1 (CI) is set.
if(NOT BSONRPC_BUILD_EXAMPLES)
  return()
endif()

function(add_node_client_test name script)
  add_test(NAME "${name}" COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/node/run.sh ${script} ${ARGN})
  set_tests_properties("${name}" PROPERTIES TIMEOUT 60 SKIP_RETURN_CODE 77 LABELS "examples;node")
endfunction()

add_node_client_test(
  "mcp: the official MCP SDK client lists and calls the tools, 100 at once, gets a sleep's progress and cancels one on mcp-stdio-server"
  mcp_client.mjs $<TARGET_FILE:mcp-stdio-server>)
add_node_client_test(
  "lsp: vscode-jsonrpc drives lsp-stdio-server through initialize, concurrent hovers, a cancelled request, shutdown and exit"
  lsp_client.mjs $<TARGET_FILE:lsp-stdio-server>)
add_node_client_test(
  "openrpc: @open-rpc/schema-utils-js validates the rpc.discover document bsonrpc-client --discover prints, over both codecs, and rejects a broken one"
  openrpc_validate.mjs $<TARGET_FILE:bsonrpc-server> $<TARGET_FILE:bsonrpc-client>)
