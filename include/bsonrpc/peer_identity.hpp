// bsonrpc/peer_identity.hpp: who is on the other end of a connection, captured once when the
// Rpc is constructed (for TLS, after the handshake the application performed) and readable by
// handlers (Context::remote()), hooks (hook_message::remote()) and the application
// (Rpc::remote()).
//
//   rpc.add_request("admin.reset", [](bsonrpc::Context& ctx) {
//     const bsonrpc::peer_identity& who = ctx.remote();
//     if (!who.verified || !who.has_dns_name("ops.example.com"))
//       throw bsonrpc::rpc_error(-32001, "Forbidden");
//     ...
//   });
//
// Endpoint text: TCP "ip:port" (IPv6 "[addr]:port"), a Unix socket the peer's bound path or
// "unix" when it has none (an accepted client usually has none), a descriptor_pair (pipes,
// stdio) "pipe"; any other stream, or a socket already disconnected at capture time, "".
//
// Certificate (asio::ssl::stream only): the peer's certificate subject in RFC 2253 form, as
// `openssl x509 -nameopt RFC2253` prints it ("CN=client-a,O=Example", most specific first,
// non-ASCII escaped), and its subject alternative names by kind. `verified` is true only when
// the peer presented a certificate and OpenSSL's verification of it succeeded
// (SSL_get_verify_result() == X509_V_OK): a server with a client CA (tls::server_options),
// or a client that verifies the server. Without TLS, or without a peer certificate, subject
// and names are empty and `verified` is false. A client that skips verification
// (insecure_skip_verify) still sees the server's subject and names, with `verified` false.
#pragma once

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

namespace bsonrpc {

/// Who is on the other end of one connection. See the top of bsonrpc/peer_identity.hpp.
struct peer_identity {
  /// The remote endpoint as text: "127.0.0.1:40512", "[::1]:40512", a Unix socket path,
  /// "unix", "pipe", or "" when unknown.
  std::string endpoint;
  /// Whether the peer presented a TLS certificate that OpenSSL verified.
  bool verified = false;
  /// The peer certificate's subject, RFC 2253 ("CN=client-a,O=Example"); "" without one.
  std::string subject;
  std::vector<std::string> dns_names;     ///< subjectAltName DNS entries
  std::vector<std::string> ip_addresses;  ///< subjectAltName IP entries, as text ("10.0.0.1", "::1")
  std::vector<std::string> uris;          ///< subjectAltName URI entries (e.g. SPIFFE IDs)
  std::vector<std::string> emails;        ///< subjectAltName email (rfc822Name) entries

  /// Whether the peer presented a certificate (verified or not).
  bool has_certificate() const noexcept { return !subject.empty() || has_alt_names(); }
  /// Whether the certificate names the DNS name `name` exactly (no wildcard matching).
  bool has_dns_name(std::string_view name) const { return contains(dns_names, name); }
  /// Whether the certificate names the URI `uri` exactly.
  bool has_uri(std::string_view uri) const { return contains(uris, uri); }
  /// Whether the certificate names the email address `email` exactly.
  bool has_email(std::string_view email) const { return contains(emails, email); }
  /// Whether the certificate names the IP address `address` (as text, e.g. "10.0.0.1").
  bool has_ip_address(std::string_view address) const { return contains(ip_addresses, address); }

 private:
  bool has_alt_names() const noexcept {
    return !dns_names.empty() || !ip_addresses.empty() || !uris.empty() || !emails.empty();
  }
  static bool contains(const std::vector<std::string>& names, std::string_view name) {
    return std::find(names.begin(), names.end(), name) != names.end();
  }
};

namespace detail {
// The identity of a peer nobody identified: a dispatcher used without a connection.
inline const peer_identity& unknown_peer() noexcept {
  static const peer_identity unknown;
  return unknown;
}
}  // namespace detail

}  // namespace bsonrpc
