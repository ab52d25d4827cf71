// conformance/tls.hpp: TLS 1.2+ contexts for both programs, and a handshake with a deadline.
#pragma once

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

inline constexpr auto tls_12_or_later =
    asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
    asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
    asio::ssl::context::no_tlsv1_1 | asio::ssl::context::no_compression;

// The server's context; with a client CA, a client certificate signed by it is required.
inline asio::ssl::context make_server_tls(const tls_files& files) {
  asio::ssl::context tls(asio::ssl::context::tls_server);
  tls.set_options(tls_12_or_later | asio::ssl::context::single_dh_use);
  tls.use_certificate_chain_file(files.cert);
  tls.use_private_key_file(files.key, asio::ssl::context::pem);
  if (!files.peer_ca.empty()) {
    tls.load_verify_file(files.peer_ca);
    tls.set_verify_mode(asio::ssl::verify_peer | asio::ssl::verify_fail_if_no_peer_cert);
  }
  return tls;
}

// The client's context: verifies the server against `peer_ca` (or the system's CAs) unless
// `insecure`; presents a certificate when one is given.
inline asio::ssl::context make_client_tls(const tls_files& files, bool insecure) {
  asio::ssl::context tls(asio::ssl::context::tls_client);
  tls.set_options(tls_12_or_later);
  if (insecure) {
    tls.set_verify_mode(asio::ssl::verify_none);
  } else {
    if (files.peer_ca.empty()) tls.set_default_verify_paths();
    else tls.load_verify_file(files.peer_ca);
    tls.set_verify_mode(asio::ssl::verify_peer);
  }
  if (!files.cert.empty()) {
    tls.use_certificate_chain_file(files.cert);
    tls.use_private_key_file(files.key, asio::ssl::context::pem);
  }
  return tls;
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
