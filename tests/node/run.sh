#!/bin/sh
# Runs one of the Node.js client scripts here against example programs:
#   tests/node/run.sh SCRIPT.mjs PROGRAM...
# The clients are the npm packages pinned in package-lock.json, installed by
# `npm ci --prefix tests/node` (.ci/run does it). Without node or node_modules the test is
# skipped (exit 77), unless BSONRPC_NODE_TESTS_REQUIRED=1 (CI), where it fails instead.
here=$(dirname "$0")
missing=""
command -v node >/dev/null 2>&1 || missing="node"
[ -d "$here/node_modules" ] || missing="${missing:+$missing, }$here/node_modules (npm ci --prefix tests/node)"
if [ -n "$missing" ]; then
  echo "SKIP: missing $missing"
  [ "${BSONRPC_NODE_TESTS_REQUIRED:-0}" = 1 ] && exit 1
  exit 77
fi
script=$1
shift
exec node "$here/$script" "$@"
