// bsonrpc/tls.hpp: asio::ssl::contexts with safe defaults for bsonrpc servers and clients.
// Every context is TLS 1.2 or later, without compression and without renegotiation. A client
// verifies the server's certificate unless told, by name, to be insecure; a server given a
// client CA requires each client to present a certificate signed by it.
//
//   bsonrpc::tls::server_options server;
//   server.certificate_chain = bsonrpc::tls::pem::file("server.pem");
//   server.private_key = bsonrpc::tls::pem::file("server.key");
//   server.client_ca = bsonrpc::tls::pem::file("ca.pem");  // optional: mutual TLS
//   asio::ssl::context server_tls = bsonrpc::tls::make_server_context(server);
//   bsonrpc::accept_tls_loop(acceptor, server_tls, ...);
//
//   bsonrpc::tls::client_options client;
//   client.ca = bsonrpc::tls::pem::file("ca.pem");  // empty: the system's CAs
//   asio::ssl::context client_tls = bsonrpc::tls::make_client_context(client);
//   asio::ssl::stream<asio::ip::tcp::socket> stream(io, client_tls);
//   bsonrpc::tls::set_server_name(stream, "rpc.example.com");
//   asio::connect(stream.lowest_layer(), resolver.resolve("rpc.example.com", "6000"));
//   stream.handshake(asio::ssl::stream_base::client);
//
// The contexts are ordinary asio::ssl::contexts: adjust them further before first use if
// needed. Cipher choice stays with OpenSSL and the system's policy. Loading errors throw
// std::system_error, as Asio does.
#pragma once

#include <asio.hpp>
#include <asio/ssl.hpp>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <string>
#include <system_error>
#include <utility>

/// TLS for Rpc over asio::ssl::stream: contexts with safe defaults, from PEM material.
namespace bsonrpc::tls {

/// PEM-encoded material (certificates or a private key), named by file or held in memory.
/// A default-constructed pem, like one made from an empty string, means "none".
class pem {
 public:
  /// None.
  pem() = default;

  /// The PEM file at `path`.
  static pem file(std::string path) { return pem(std::move(path), true); }
  /// The PEM text `text` itself.
  static pem data(std::string text) { return pem(std::move(text), false); }

  /// Whether this means "none".
  bool empty() const noexcept { return value_.empty(); }
  /// Whether value() is a file's path rather than PEM text.
  bool is_file() const noexcept { return is_file_; }
  /// The file's path, or the PEM text itself.
  const std::string& value() const noexcept { return value_; }

 private:
  pem(std::string value, bool is_file) : value_(std::move(value)), is_file_(is_file) {}

  std::string value_;
  bool is_file_ = false;
};

/// What make_server_context() needs: the server's certificate and key, and optionally the CA
/// that clients' certificates must be signed by.
struct server_options {
  pem certificate_chain;  ///< the server's certificate, then any intermediate CAs
  pem private_key;        ///< empty: the key is in certificate_chain's PEM
  pem client_ca;          ///< when set, clients must present a certificate this CA signed
};

/// What make_client_context() needs; all optional.
struct client_options {
  pem ca;                 ///< CAs the server's certificate must chain to; empty: the system's
  pem certificate_chain;  ///< this client's certificate, for mutual TLS; empty: none
  pem private_key;        ///< empty: the key is in certificate_chain's PEM
  /// Accepts any server certificate, so anyone on the path can read and alter the traffic.
  /// For tests against throwaway servers only; `ca` is then ignored.
  bool insecure_skip_verify = false;
};

namespace detail {

[[noreturn]] inline void throw_ssl_error(const char* what) {
  const auto code = static_cast<int>(::ERR_get_error());
  throw std::system_error(std::error_code(code, asio::error::get_ssl_category()), what);
}

// TLS 1.2 or later: older versions lack AEAD ciphers and sign handshakes with MD5/SHA-1.
// Compression leaks secrets through message lengths (CRIME); renegotiation has a history
// of attacks and nothing here needs it.
inline void harden(asio::ssl::context& context) {
  SSL_CTX* ctx = context.native_handle();
  if (::SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1)
    throw_ssl_error("SSL_CTX_set_min_proto_version");
  context.set_options(asio::ssl::context::no_compression);
#ifdef SSL_OP_NO_RENEGOTIATION
  ::SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION);
#endif
}

inline void use_certificate(asio::ssl::context& context, const pem& chain, const pem& key) {
  if (chain.is_file()) context.use_certificate_chain_file(chain.value());
  else context.use_certificate_chain(asio::buffer(chain.value()));
  const pem& k = key.empty() ? chain : key;
  if (k.is_file()) context.use_private_key_file(k.value(), asio::ssl::context::pem);
  else context.use_private_key(asio::buffer(k.value()), asio::ssl::context::pem);
}

inline void trust(asio::ssl::context& context, const pem& ca) {
  if (ca.is_file()) context.load_verify_file(ca.value());
  else context.add_certificate_authority(asio::buffer(ca.value()));
}

// Names the client CAs in the server's certificate request, so that a client holding
// several certificates can pick the right one. `ca` has already been loaded by trust().
inline void advertise_client_cas(asio::ssl::context& context, const pem& ca) {
  BIO* bio = ca.is_file() ? ::BIO_new_file(ca.value().c_str(), "r")
                          : ::BIO_new_mem_buf(ca.value().data(),
                                              static_cast<int>(ca.value().size()));
  if (!bio) throw_ssl_error("BIO_new");
  while (X509* cert = ::PEM_read_bio_X509(bio, nullptr, nullptr, nullptr)) {
    ::SSL_CTX_add_client_CA(context.native_handle(), cert);
    ::X509_free(cert);
  }
  ::ERR_clear_error();  // reading ends with "no start line" after the last certificate
  ::BIO_free(bio);
}

}  // namespace detail

/// A server context presenting `options.certificate_chain`; with `options.client_ca`, a
/// client without a certificate signed by that CA fails the handshake.
inline asio::ssl::context make_server_context(const server_options& options) {
  asio::ssl::context context(asio::ssl::context::tls_server);
  detail::harden(context);
  detail::use_certificate(context, options.certificate_chain, options.private_key);
  // Without a session id context, OpenSSL fails resumed sessions once peers are verified.
  static constexpr unsigned char session_id_context[] = "bsonrpc";
  ::SSL_CTX_set_session_id_context(context.native_handle(), session_id_context,
                                   sizeof session_id_context - 1);
  if (!options.client_ca.empty()) {
    detail::trust(context, options.client_ca);
    detail::advertise_client_cas(context, options.client_ca);
    context.set_verify_mode(asio::ssl::verify_peer | asio::ssl::verify_fail_if_no_peer_cert);
  }
  return context;
}

/// A client context that verifies the server's certificate against `options.ca` (or the
/// system's CAs) unless `options.insecure_skip_verify`, presenting a certificate if given.
/// The host name is checked per stream: see set_server_name.
inline asio::ssl::context make_client_context(const client_options& options) {
  asio::ssl::context context(asio::ssl::context::tls_client);
  detail::harden(context);
  if (options.insecure_skip_verify) {
    context.set_verify_mode(asio::ssl::verify_none);
  } else {
    if (options.ca.empty()) context.set_default_verify_paths();
    else detail::trust(context, options.ca);
    context.set_verify_mode(asio::ssl::verify_peer);
  }
  if (!options.certificate_chain.empty())
    detail::use_certificate(context, options.certificate_chain, options.private_key);
  return context;
}

/// Prepares a client stream, before its handshake, to talk to `host` (a DNS name or an IP
/// address, without brackets): the server's certificate must name it, and a DNS name is sent
/// by SNI (IP addresses are not, RFC 6066 section 3). Replaces the stream's verify callback.
/// With an insecure context nothing is verified, and the name then serves only for SNI.
template <class NextLayer>
void set_server_name(asio::ssl::stream<NextLayer>& stream, const std::string& host) {
  std::error_code not_an_address;
  asio::ip::make_address(host, not_an_address);
  if (not_an_address && ::SSL_set_tlsext_host_name(stream.native_handle(), host.c_str()) != 1)
    detail::throw_ssl_error("SSL_set_tlsext_host_name");
  stream.set_verify_callback(asio::ssl::host_name_verification(host));
}

}  // namespace bsonrpc::tls
