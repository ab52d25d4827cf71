#!/usr/bin/env bash
# The demo: installs what is missing (Debian 12, as root or with sudo), builds the examples,
# then runs bsonrpc-server and bsonrpc-client against each other over TCP and over TLS
# (with a throwaway self-signed certificate made by the openssl command).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

packages=(nlohmann-json3-dev libbson-dev libasio-dev libssl-dev cmake g++ make openssl)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "== installing: ${missing[*]}"
  $sudo apt-get update
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
fi

echo "== building the examples"
cmake -S . -B build-demo -DCMAKE_BUILD_TYPE=Release -DBSONRPC_BUILD_TESTS=OFF > /dev/null
cmake --build build-demo -j2 --target bsonrpc-server bsonrpc-client > /dev/null
bin=build-demo/examples
work=$(mktemp -d)
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# Starts bsonrpc-server with the given flags and sets $address from its `listening on` line.
start_server() {
  "$bin/bsonrpc-server" --listen 127.0.0.1:0 "$@" > "$work/server.out" &
  server_pid=$!
  for _ in $(seq 100); do
    address=$(sed -n 's/^listening on //p' "$work/server.out")
    [ -n "$address" ] && return 0
    sleep 0.05
  done
  echo "the server did not start" >&2
  exit 1
}

stop_server() {
  kill "$server_pid"
  wait "$server_pid" || true
  server_pid=""
}

echo "== JSON-RPC over TCP"
start_server
echo "+ bsonrpc-client --connect $address --call swapper '[\"Hello World!\"]'"
"$bin/bsonrpc-client" --connect "$address" --call swapper '["Hello World!"]'
echo "+ bsonrpc-client --connect $address   (the original README's \"more features\" scenario)"
"$bin/bsonrpc-client" --connect "$address"
stop_server

echo "== BSON-RPC over TLS"
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost \
  -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
  -keyout "$work/key.pem" -out "$work/cert.pem" 2> /dev/null
start_server --codec bson --tls-cert "$work/cert.pem" --tls-key "$work/key.pem"
echo "+ bsonrpc-client --connect $address --codec bson --tls-ca cert.pem --call echo_times '[\"ab\", 3]'"
"$bin/bsonrpc-client" --connect "$address" --codec bson --tls-ca "$work/cert.pem" \
  --call echo_times '["ab", 3]'
echo "+ bsonrpc-client --connect $address --codec bson --tls-ca cert.pem"
"$bin/bsonrpc-client" --connect "$address" --codec bson --tls-ca "$work/cert.pem"
stop_server
echo "== done"
