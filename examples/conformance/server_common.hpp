// conformance/server_common.hpp: what bsonrpc-server's two accept loops share: the
// configuration, the Rpc options, peer names for the log, and diagnostics on stderr.
#pragma once

#include "command_line.hpp"
#include "tls.hpp"

#include <bsonrpc/bsonrpc.hpp>

#include <asio.hpp>

#include <chrono>
#include <cstddef>
#include <iostream>
#include <optional>
#include <string>
#include <system_error>
#include <type_traits>

namespace conformance {

using namespace std::chrono_literals;

struct server_config {
  address listen;
  conformance::codec codec = codec::json;
  conformance::framing framing = framing::rfc7464;
  conformance::executor executor = executor::threads;
  tls_files tls;
  std::size_t max_message_bytes = 16 * 1024 * 1024;
  // nullopt: no limit (--partial-message-timeout-ms 0).
  std::optional<std::chrono::milliseconds> partial_message_timeout = 30s;
  bool verbose = false;
};

inline void note(const std::string& line) { std::cerr << "bsonrpc-server: " << line << std::endl; }

// The options of every connection's Rpc.
inline bsonrpc::Options server_options(const server_config& config) {
  bsonrpc::Options options;
  options.max_message_bytes = config.max_message_bytes;
  options.partial_message_timeout = config.partial_message_timeout;
  options.max_concurrent_requests = 64;  // Threads: 16 concurrent sleep_ms(50) must take ~50 ms
  options.default_timeout = 30s;         // for the server's own calls to the client
  options.log = bsonrpc::stderr_log_sink(config.verbose ? bsonrpc::log_level::debug
                                                        : bsonrpc::log_level::warning);
  // rpc.discover answers an OpenRPC document of the services (bsonrpc/discover.hpp).
  options.discover = bsonrpc::discover_info{
      "bsonrpc-server", BSONRPC_VERSION_STRING,
      "The services of bsonrpc's conformance server (CONFORMANCE.md)."};
  return options;
}

// `HOST:PORT`, `[V6]:PORT` or `unix:/path` of the peer of a socket, for the log.
template <class Socket>
std::string peer_name(const Socket& s) {
  std::error_code ec;
  const auto remote = s.remote_endpoint(ec);
  if (ec) return "?";
  if constexpr (std::is_same_v<typename Socket::protocol_type, asio::ip::tcp>) {
    const auto host = remote.address().to_string();
    return (remote.address().is_v6() ? "[" + host + "]" : host) + ":" +
           std::to_string(remote.port());
  } else {
    return "unix:" + remote.path();
  }
}

}  // namespace conformance
