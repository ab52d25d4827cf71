// bsonrpc/detail/identify.hpp: a connected stream's peer_identity (see bsonrpc/peer_identity.hpp),
// read once from its lowest layer (the remote endpoint) and, for a TLS stream (whose
// native_handle() is an SSL*), from the peer's certificate.
#pragma once

#include <bsonrpc/peer_identity.hpp>

#include <asio.hpp>
#include <asio/ssl/error.hpp>  // OpenSSL's SSL type, as Asio includes it
#include <openssl/bio.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <memory>
#include <string>
#include <system_error>
#include <type_traits>
#include <utility>

namespace bsonrpc::detail {

template <class Stream, class = void>
struct has_ssl_handle : std::false_type {};
template <class Stream>
struct has_ssl_handle<Stream, std::void_t<decltype(std::declval<Stream&>().native_handle())>>
    : std::is_same<decltype(std::declval<Stream&>().native_handle()), SSL*> {};

template <class Socket, class = void>
struct has_remote_endpoint : std::false_type {};
template <class Socket>
struct has_remote_endpoint<
    Socket, std::void_t<decltype(std::declval<Socket&>().remote_endpoint(
                std::declval<std::error_code&>()))>> : std::true_type {};

// "ip:port", "[v6]:port", a Unix socket's path or "unix", "pipe" (a lowest layer that is no
// socket, protocol_type void), or "" when unknown.
template <class Lowest>
std::string endpoint_text(Lowest& socket) {
  if constexpr (!has_remote_endpoint<Lowest>::value) {
    if constexpr (std::is_void_v<typename Lowest::protocol_type>) return "pipe";
    else return {};
  } else {
    std::error_code ec;
    const auto remote = socket.remote_endpoint(ec);
    if (ec) return {};
    using protocol = typename Lowest::protocol_type;
    if constexpr (std::is_same_v<protocol, asio::ip::tcp> || std::is_same_v<protocol, asio::ip::udp>) {
      const auto address = remote.address();
      std::string host = address.to_string();
      if (address.is_v6()) host = "[" + host + "]";
      return host + ":" + std::to_string(remote.port());
#if defined(ASIO_HAS_LOCAL_SOCKETS)
    } else if constexpr (std::is_same_v<protocol, asio::local::stream_protocol>) {
      // An abstract-namespace path starts with a NUL byte: shown with '@', as ss(8) does.
      std::string path = remote.path();
      if (!path.empty() && path.front() == '\0') path.front() = '@';
      return path.empty() ? "unix" : path;
#endif
    } else {
      return {};
    }
  }
}

// The name in RFC 2253 form (escaping non-ASCII), as `openssl x509 -nameopt RFC2253` prints.
inline std::string rfc2253(const X509_NAME* name) {
  std::unique_ptr<BIO, decltype(&::BIO_free)> bio(::BIO_new(::BIO_s_mem()), &::BIO_free);
  if (!bio || ::X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253) < 0) return {};
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  return size > 0 ? std::string(data, static_cast<std::size_t>(size)) : std::string();
}

inline std::string asn1_text(const ASN1_STRING* s) {
  return std::string(reinterpret_cast<const char*>(::ASN1_STRING_get0_data(s)),
                     static_cast<std::size_t>(::ASN1_STRING_length(s)));
}

// An iPAddress entry (4 or 16 octets) as text; "" for anything else (say, a name constraint).
inline std::string ip_text(const ASN1_OCTET_STRING* s) {
  const unsigned char* bytes = ::ASN1_STRING_get0_data(s);
  const int length = ::ASN1_STRING_length(s);
  if (length == 4) {
    asio::ip::address_v4::bytes_type b;
    std::copy(bytes, bytes + 4, b.begin());
    return asio::ip::address_v4(b).to_string();
  }
  if (length == 16) {
    asio::ip::address_v6::bytes_type b;
    std::copy(bytes, bytes + 16, b.begin());
    return asio::ip::address_v6(b).to_string();
  }
  return {};
}

// Subject, alternative names and verification of the peer certificate of `ssl`, if any.
inline void read_certificate(SSL* ssl, peer_identity& identity) {
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
  std::unique_ptr<X509, decltype(&::X509_free)> cert(::SSL_get1_peer_certificate(ssl), &::X509_free);
#else
  std::unique_ptr<X509, decltype(&::X509_free)> cert(::SSL_get_peer_certificate(ssl), &::X509_free);
#endif
  if (!cert) return;
  identity.verified = ::SSL_get_verify_result(ssl) == X509_V_OK;
  identity.subject = rfc2253(::X509_get_subject_name(cert.get()));
  auto* names = static_cast<GENERAL_NAMES*>(
      ::X509_get_ext_d2i(cert.get(), NID_subject_alt_name, nullptr, nullptr));
  if (!names) return;
  for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names, i);
    switch (name->type) {
      case GEN_DNS: identity.dns_names.push_back(asn1_text(name->d.dNSName)); break;
      case GEN_URI: identity.uris.push_back(asn1_text(name->d.uniformResourceIdentifier)); break;
      case GEN_EMAIL: identity.emails.push_back(asn1_text(name->d.rfc822Name)); break;
      case GEN_IPADD:
        if (std::string ip = ip_text(name->d.iPAddress); !ip.empty())
          identity.ip_addresses.push_back(std::move(ip));
        break;
      default: break;
    }
  }
  ::GENERAL_NAMES_free(names);
}

// Who is at the other end of `stream`, now.
template <class Stream>
peer_identity identify(Stream& stream) {
  peer_identity identity;
  identity.endpoint = endpoint_text(stream.lowest_layer());
  if constexpr (has_ssl_handle<Stream>::value) {
    if (SSL* ssl = stream.native_handle()) read_certificate(ssl, identity);
  }
  return identity;
}

}  // namespace bsonrpc::detail
