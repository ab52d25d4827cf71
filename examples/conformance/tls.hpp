// conformance/tls.hpp: the TLS contexts of both programs (bsonrpc/tls.hpp's hardened ones, from
// the command line's files), and a handshake with a deadline.
#pragma once

#include <bsonrpc/tls.hpp>

#include <asio.hpp>
#include <asio/ssl.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <system_error>

namespace conformance {

struct tls_files {
  std::string cert;       // PEM certificate chain of this side
  std::string key;        // PEM private key of this side
  std::string peer_ca;    // PEM CA that must have signed the peer's certificate
};

// The server's context; with a client CA, a client certificate signed by it is required.
inline asio::ssl::context make_server_tls(const tls_files& files) {
  bsonrpc::tls::server_options options;
  options.certificate_chain = bsonrpc::tls::pem::file(files.cert);
  options.private_key = bsonrpc::tls::pem::file(files.key);
  options.client_ca = bsonrpc::tls::pem::file(files.peer_ca);
  return bsonrpc::tls::make_server_context(options);
}

// The client's context: verifies the server against `peer_ca` (or the system's CAs) unless
// `insecure`; presents a certificate when one is given.
inline asio::ssl::context make_client_tls(const tls_files& files, bool insecure) {
  bsonrpc::tls::client_options options;
  options.ca = bsonrpc::tls::pem::file(files.peer_ca);
  options.certificate_chain = bsonrpc::tls::pem::file(files.cert);
  options.private_key = bsonrpc::tls::pem::file(files.key);
  options.insecure_skip_verify = insecure;
  return bsonrpc::tls::make_client_context(options);
}

// Runs `start(done)` (an asynchronous operation on `io`) until it completes or `timeout`
// passes, then leaves `io` ready for its next user. Returns the operation's error, or
// timed_out after closing `socket` to abort it.
template <class Socket, class Start>
std::error_code run_with_deadline(asio::io_context& io, Socket& socket,
                                  std::chrono::milliseconds timeout, Start&& start) {
  std::optional<std::error_code> result;
  bool expired = false;
  asio::steady_timer timer(io, timeout);
  start([&](const std::error_code& ec) {
    result = ec;
    timer.cancel();
  });
  timer.async_wait([&](const std::error_code& ec) {
    if (ec) return;  // cancelled: the operation finished
    expired = true;
    std::error_code ignored;
    socket.close(ignored);
  });
  io.run();
  io.restart();
  if (expired) return asio::error::timed_out;
  if (!result) return asio::error::operation_aborted;  // io.stop() from elsewhere
  return *result;
}

}  // namespace conformance
