// bsonrpc/tls.hpp over loopback TCP, with certificates made by the openssl command at test
// time: the contexts refuse TLS 1.1 and compression, a client verifies the server's
// certificate and host name unless told to be insecure, and a server with a client CA serves
// only clients holding a certificate that CA signed.
#include <bsonrpc/bsonrpc.hpp>

#include "../support/pki.hpp"

#include <catch2/catch.hpp>

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <iterator>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>

using namespace std::chrono_literals;

namespace tls_test {

namespace tls = bsonrpc::tls;
using stream = asio::ssl::stream<asio::ip::tcp::socket>;

// A throwaway PKI, made once per test run (tests/support/pki.hpp) and removed at exit:
//   ca, other-ca   two unrelated CAs
//   server         signed by ca, for localhost and 127.0.0.1
//   client         signed by ca; other-client, signed by other-ca
//   self-signed    a server certificate for localhost that no CA signed
class pki : public bsonrpc::test::pki {
 public:
  pki() : bsonrpc::test::pki("tls-test") {
    make_ca("ca");
    make_ca("other-ca");
    make_leaf("server", "ca", "/CN=server",
              "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n");
    make_leaf("client", "ca", "/CN=client", "extendedKeyUsage=clientAuth\n");
    make_leaf("other-client", "other-ca", "/CN=other-client", "extendedKeyUsage=clientAuth\n");
    make_self_signed("self-signed", "localhost", "subjectAltName=DNS:localhost,IP:127.0.0.1");
  }
};

const pki& certificates() {
  static const pki made;
  return made;
}

asio::ssl::context server_context(const std::string& cert, const std::string& client_ca = "") {
  tls::server_options options;
  options.certificate_chain = certificates().cert(cert);
  options.private_key = certificates().key(cert);
  if (!client_ca.empty()) options.client_ca = certificates().cert(client_ca);
  return tls::make_server_context(options);
}

asio::ssl::context client_context(const std::string& ca, const std::string& cert = "") {
  tls::client_options options;
  if (!ca.empty()) options.ca = certificates().cert(ca);
  if (!cert.empty()) {
    options.certificate_chain = certificates().cert(cert);
    options.private_key = certificates().key(cert);
  }
  return tls::make_client_context(options);
}

// A context OpenSSL itself would let speak TLS 1.0 and 1.1: security level 0 (OpenSSL 3
// refuses their SHA-1 handshake signatures at level 1 and above), no version floor.
void allow_tls_1_1(asio::ssl::context& context) {
  ::SSL_CTX_set_security_level(context.native_handle(), 0);
  ::SSL_CTX_set_min_proto_version(context.native_handle(), TLS1_1_VERSION);
}

std::string described(const std::optional<std::error_code>& ec) {
  if (!ec) return "still running after 5 s";
  return *ec ? ec->message() : "ok";
}

// A server and a client stream connected over loopback TCP, handshaking on one io_context.
struct loopback {
  loopback(asio::ssl::context& server_context, asio::ssl::context& client_context)
      : server(io, server_context), client(io, client_context) {
    asio::ip::tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
    client.lowest_layer().connect(acceptor.local_endpoint());
    acceptor.accept(server.lowest_layer());
  }

  // Both handshakes at once. A side that fails closes its socket, so the other finishes too.
  void handshake() {
    server.async_handshake(asio::ssl::stream_base::server, [this](std::error_code ec) {
      server_result = ec;
      if (ec) server.lowest_layer().close(ec);
    });
    client.async_handshake(asio::ssl::stream_base::client, [this](std::error_code ec) {
      client_result = ec;
      if (ec) client.lowest_layer().close(ec);
    });
    io.run_for(5s);
    INFO("server: " << described(server_result) << "; client: " << described(client_result));
    REQUIRE(server_result);
    REQUIRE(client_result);
  }
  bool succeeded() const { return !*server_result && !*client_result; }
  // The reason OpenSSL gives, e.g. SSL_R_UNSUPPORTED_PROTOCOL.
  static int reason(const std::error_code& ec) {
    return ERR_GET_REASON(static_cast<unsigned long>(ec.value()));
  }

  asio::io_context io;
  stream server;
  stream client;
  std::optional<std::error_code> server_result;
  std::optional<std::error_code> client_result;
};

struct Services {
  int add(int a, int b) const { return a + b; }
};
BSONRPC_SERVICE(Services, BSONRPC_REQUEST(add, a, b))

// bsonrpc::accept_tls_loop serving Services on its own thread; counts the clients it serves.
class rpc_server {
 public:
  explicit rpc_server(asio::ssl::context& server_tls)
      : acceptor_(io_, {asio::ip::make_address("127.0.0.1"), 0}) {
    bsonrpc::accept_tls_loop(
        acceptor_, server_tls,
        [this](stream s) {
          ++served;
          connections_.add(std::move(s), services_);
        },
        2s);
    thread_ = std::thread([this, done = std::move(done_)]() mutable {
      io_.run();
      done.set_value();
    });
  }
  ~rpc_server() {
    asio::post(io_, [this] {
      acceptor_.close();
      connections_.close_all();
    });
    if (finished_.wait_for(5s) != std::future_status::ready) io_.stop();
    thread_.join();
  }
  rpc_server(const rpc_server&) = delete;
  rpc_server& operator=(const rpc_server&) = delete;

  asio::ip::tcp::endpoint endpoint() const { return acceptor_.local_endpoint(); }

  std::atomic<int> served{0};

 private:
  asio::io_context io_;
  asio::ip::tcp::acceptor acceptor_;
  Services services_;
  bsonrpc::connection_set<bsonrpc::JsonRpc<bsonrpc::Rfc7464, bsonrpc::EventLoop>> connections_;
  std::promise<void> done_;
  std::future<void> finished_ = done_.get_future();
  std::thread thread_;
};

// Connects to `server` with `client_tls` and calls add(2, 3): "5", or how it was refused.
std::string call_add(const asio::ip::tcp::endpoint& server, asio::ssl::context& client_tls) {
  asio::io_context io;
  stream s(io, client_tls);
  tls::set_server_name(s, "localhost");
  s.lowest_layer().connect(server);
  std::optional<std::error_code> handshake;
  s.async_handshake(asio::ssl::stream_base::client, [&](std::error_code ec) { handshake = ec; });
  io.run_for(5s);
  if (!handshake) return "handshake still running after 5 s";
  if (*handshake) return "refused in the handshake: " + handshake->message();
  io.restart();
  bsonrpc::JsonRpc<> rpc(std::move(s));
  try {
    return std::to_string(rpc.call_for<int>(5s, "add", 2, 3));
  } catch (const bsonrpc::connection_closed& e) {
    // With TLS 1.3 the client finishes its handshake before the server has checked the
    // client's certificate; the server's refusal arrives as the connection ending.
    return std::string("refused after the handshake: ") + e.what();
  }
}

}  // namespace tls_test

using tls_test::certificates;
using tls_test::loopback;
namespace tls = bsonrpc::tls;

TEST_CASE("tls: the server context refuses a TLS 1.1 client that a permissive server accepts",
          "[tls][integration]") {
  auto old_client = tls_test::client_context("ca");
  tls_test::allow_tls_1_1(old_client);
  ::SSL_CTX_set_max_proto_version(old_client.native_handle(), TLS1_1_VERSION);

  SECTION("a permissive server negotiates TLS 1.1, so the client really offers it") {
    asio::ssl::context permissive(asio::ssl::context::tls_server);
    permissive.use_certificate_chain_file(certificates().cert("server").value());
    permissive.use_private_key_file(certificates().key("server").value(),
                                    asio::ssl::context::pem);
    tls_test::allow_tls_1_1(permissive);
    loopback pair(permissive, old_client);
    pair.handshake();
    REQUIRE(pair.succeeded());
    CHECK(::SSL_version(pair.client.native_handle()) == TLS1_1_VERSION);
  }
  SECTION("the library's server context refuses it, even at security level 0") {
    auto server = tls_test::server_context("server");
    ::SSL_CTX_set_security_level(server.native_handle(), 0);  // only the version floor is left
    CHECK(::SSL_CTX_get_min_proto_version(server.native_handle()) == TLS1_2_VERSION);
    loopback pair(server, old_client);
    pair.handshake();
    CHECK(*pair.server_result);
    CHECK(*pair.client_result);
    CHECK(loopback::reason(*pair.server_result) == SSL_R_UNSUPPORTED_PROTOCOL);
  }
  SECTION("the library's client context refuses a server that only speaks TLS 1.1") {
    asio::ssl::context old_server(asio::ssl::context::tls_server);
    old_server.use_certificate_chain_file(certificates().cert("server").value());
    old_server.use_private_key_file(certificates().key("server").value(),
                                    asio::ssl::context::pem);
    tls_test::allow_tls_1_1(old_server);
    ::SSL_CTX_set_max_proto_version(old_server.native_handle(), TLS1_1_VERSION);
    auto client = tls_test::client_context("ca");
    ::SSL_CTX_set_security_level(client.native_handle(), 0);
    loopback pair(old_server, client);
    pair.handshake();
    CHECK(*pair.server_result);
    CHECK(*pair.client_result);
  }
}

TEST_CASE("tls: sessions are TLS 1.2 or later, without compression or renegotiation",
          "[tls][integration]") {
  auto server = tls_test::server_context("server");
  auto client = tls_test::client_context("ca");
  for (auto* context : {&server, &client}) {
    const auto options = ::SSL_CTX_get_options(context->native_handle());
    CHECK((options & SSL_OP_NO_COMPRESSION) != 0);
#ifdef SSL_OP_NO_RENEGOTIATION
    CHECK((options & SSL_OP_NO_RENEGOTIATION) != 0);
#endif
    CHECK(::SSL_CTX_get_min_proto_version(context->native_handle()) == TLS1_2_VERSION);
  }
  loopback pair(server, client);
  tls::set_server_name(pair.client, "localhost");
  pair.handshake();
  REQUIRE(pair.succeeded());
  for (auto* s : {&pair.server, &pair.client}) {
    CHECK(::SSL_get_current_compression(s->native_handle()) == nullptr);
    CHECK(::SSL_version(s->native_handle()) >= TLS1_2_VERSION);
  }
}

TEST_CASE("tls: a client context verifies the server certificate unless told to be insecure",
          "[tls][integration]") {
  auto self_signed = tls_test::server_context("self-signed");

  SECTION("a server whose certificate no trusted CA signed is refused") {
    auto client = tls_test::client_context("ca");
    loopback pair(self_signed, client);
    tls::set_server_name(pair.client, "localhost");
    pair.handshake();
    CHECK(*pair.server_result);
    REQUIRE(*pair.client_result);
    CHECK(loopback::reason(*pair.client_result) == SSL_R_CERTIFICATE_VERIFY_FAILED);
    CHECK(::SSL_get_verify_result(pair.client.native_handle()) ==
          X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT);
  }
  SECTION("a default client context trusts the system's CAs, not the test CA") {
    auto server = tls_test::server_context("server");
    auto client = tls::make_client_context({});
    loopback pair(server, client);
    tls::set_server_name(pair.client, "localhost");
    pair.handshake();
    REQUIRE(*pair.client_result);
    CHECK(loopback::reason(*pair.client_result) == SSL_R_CERTIFICATE_VERIFY_FAILED);
  }
  SECTION("with insecure_skip_verify, the same server is accepted, whatever its name") {
    tls::client_options options;
    options.ca = certificates().cert("ca");  // ignored
    options.insecure_skip_verify = true;
    auto client = tls::make_client_context(options);
    for (const char* host : {"localhost", "wrong.example"}) {
      INFO(host);
      loopback pair(self_signed, client);
      tls::set_server_name(pair.client, host);
      pair.handshake();
      CHECK(pair.succeeded());
    }
  }
}

TEST_CASE("tls: the server certificate must name the host the client asked for",
          "[tls][integration]") {
  auto server = tls_test::server_context("server");
  auto client = tls_test::client_context("ca");

  SECTION("a host name in the certificate is accepted and sent by SNI") {
    loopback pair(server, client);
    tls::set_server_name(pair.client, "localhost");
    pair.handshake();
    REQUIRE(pair.succeeded());
    const char* sni = ::SSL_get_servername(pair.server.native_handle(), TLSEXT_NAMETYPE_host_name);
    REQUIRE(sni != nullptr);
    CHECK(std::string(sni) == "localhost");
  }
  SECTION("an IP address in the certificate is accepted, and not sent by SNI") {
    loopback pair(server, client);
    tls::set_server_name(pair.client, "127.0.0.1");
    pair.handshake();
    REQUIRE(pair.succeeded());
    CHECK(::SSL_get_servername(pair.server.native_handle(), TLSEXT_NAMETYPE_host_name) ==
          nullptr);
  }
  SECTION("another host name or address is refused") {
    for (const char* host : {"wrong.example", "127.0.0.2"}) {
      INFO(host);
      loopback pair(server, client);
      tls::set_server_name(pair.client, host);
      pair.handshake();
      CHECK(*pair.server_result);
      REQUIRE(*pair.client_result);
      CHECK(loopback::reason(*pair.client_result) == SSL_R_CERTIFICATE_VERIFY_FAILED);
    }
  }
}

TEST_CASE("tls: mutual TLS serves clients with a certificate from its CA and refuses others",
          "[tls][integration]") {
  auto server_tls = tls_test::server_context("server", "ca");
  auto with_cert = tls_test::client_context("ca", "client");
  auto without_cert = tls_test::client_context("ca");
  auto with_other_cert = tls_test::client_context("ca", "other-client");
  using Catch::Matchers::StartsWith;

  tls_test::rpc_server server(server_tls);
  CHECK(tls_test::call_add(server.endpoint(), with_cert) == "5");
  CHECK_THAT(tls_test::call_add(server.endpoint(), without_cert), StartsWith("refused"));
  CHECK_THAT(tls_test::call_add(server.endpoint(), with_other_cert), StartsWith("refused"));
  CHECK(tls_test::call_add(server.endpoint(), with_cert) == "5");
  CHECK(server.served.load() == 2);
}

TEST_CASE("tls: a mutual TLS server names its client CA in the certificate request",
          "[tls][integration]") {
  auto server = tls_test::server_context("server", "ca");
  auto client = tls_test::client_context("ca", "client");
  loopback pair(server, client);
  pair.handshake();
  REQUIRE(pair.succeeded());
  const auto* names = ::SSL_get0_peer_CA_list(pair.client.native_handle());
  REQUIRE(names != nullptr);
  REQUIRE(sk_X509_NAME_num(names) == 1);
  char name[256];
  ::X509_NAME_oneline(sk_X509_NAME_value(names, 0), name, sizeof name);
  CHECK(std::string(name) == "/CN=ca");
}

TEST_CASE("tls: certificates, keys and CAs load from memory as well as from files",
          "[tls][integration]") {
  tls::server_options server_options;
  // One PEM holding the chain and the key: private_key left empty.
  server_options.certificate_chain =
      tls::pem::data(certificates().read("server.pem") + certificates().read("server.key"));
  server_options.client_ca = tls::pem::data(certificates().read("ca.pem"));
  auto server = tls::make_server_context(server_options);

  tls::client_options client_options;
  client_options.ca = tls::pem::data(certificates().read("ca.pem"));
  client_options.certificate_chain = tls::pem::data(certificates().read("client.pem"));
  client_options.private_key = tls::pem::data(certificates().read("client.key"));
  auto client = tls::make_client_context(client_options);

  loopback pair(server, client);
  tls::set_server_name(pair.client, "localhost");
  pair.handshake();
  CHECK(pair.succeeded());
}

TEST_CASE("tls: unreadable certificate material throws std::system_error", "[tls]") {
  tls::server_options missing_file;
  missing_file.certificate_chain = tls::pem::file("/nonexistent/server.pem");
  CHECK_THROWS_AS(tls::make_server_context(missing_file), std::system_error);

  tls::client_options not_pem;
  not_pem.ca = tls::pem::data("not a certificate");
  CHECK_THROWS_AS(tls::make_client_context(not_pem), std::system_error);

  tls::client_options no_key;
  no_key.certificate_chain = tls::pem::data(certificates().read("client.pem"));
  CHECK_THROWS_AS(tls::make_client_context(no_key), std::system_error);
}
