// Who is on the other end, over real sockets: handlers (Context::remote()), hooks
// (hook_message::remote()) and the application (Rpc::remote()) see the remote endpoint over TCP,
// Unix sockets and pipes, and over mutual TLS the client certificate's subject and alternative
// names; a method gated on one client certificate refuses another with -32001.
#include <bsonrpc/bsonrpc.hpp>

#include "../support/pki.hpp"
#include "../support/socket_pairs.hpp"

#include <catch2/catch.hpp>

#include <unistd.h>

#include <chrono>
#include <future>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

using namespace std::chrono_literals;

namespace peer_identity_test {

namespace tls = bsonrpc::tls;
using stream = asio::ssl::stream<asio::ip::tcp::socket>;
using rpc = bsonrpc::JsonRpc<bsonrpc::Rfc7464>;

// ca signs the server and two clients; other-ca is unrelated.
class pki : public bsonrpc::test::pki {
 public:
  pki() : bsonrpc::test::pki("peer-identity-test") {
    make_ca("ca");
    make_leaf("server", "ca", "/CN=server/O=bsonrpc tests",
              "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n");
    make_leaf("alice", "ca", "/O=bsonrpc tests/OU=ops/CN=alice",
              "subjectAltName=DNS:alice.example,DNS:ops.example,IP:10.1.2.3,IP:::1,"
              "URI:spiffe://example.org/alice,email:alice@example.org\n"
              "extendedKeyUsage=clientAuth\n");
    make_leaf("bob", "ca", "/CN=bob", "subjectAltName=DNS:bob.example\nextendedKeyUsage=clientAuth\n");
  }
};

const pki& certificates() {
  static const pki made;
  return made;
}

// The server's context; with `require_client`, clients need a certificate from ca.
asio::ssl::context server_context(bool require_client) {
  tls::server_options options;
  options.certificate_chain = certificates().cert("server");
  options.private_key = certificates().key("server");
  if (require_client) options.client_ca = certificates().cert("ca");
  return tls::make_server_context(options);
}

asio::ssl::context client_context(const std::string& cert) {
  tls::client_options options;
  options.ca = certificates().cert("ca");
  if (!cert.empty()) {
    options.certificate_chain = certificates().cert(cert);
    options.private_key = certificates().key(cert);
  }
  return tls::make_client_context(options);
}

// Two TLS streams over loopback TCP, handshaken.
std::pair<stream, stream> tls_pair(asio::io_context& io, asio::ssl::context& server_tls,
                                   asio::ssl::context& client_tls) {
  auto [server_socket, client_socket] = bsonrpc::test::tcp_transport::connect(io);
  stream server(std::move(server_socket), server_tls);
  stream client(std::move(client_socket), client_tls);
  tls::set_server_name(client, "localhost");
  auto handshake =
      std::async(std::launch::async, [&] { server.handshake(asio::ssl::stream_base::server); });
  client.handshake(asio::ssl::stream_base::client);
  handshake.get();
  return {std::move(server), std::move(client)};
}

// What the server's handlers and hooks saw of the client.
struct seen {
  std::mutex mutex;
  std::optional<bsonrpc::peer_identity> by_hook;

  void record(const bsonrpc::peer_identity& who) {
    std::lock_guard lock(mutex);
    if (!by_hook) by_hook = who;
  }
  bsonrpc::peer_identity hooked() {
    std::lock_guard lock(mutex);
    REQUIRE(by_hook);
    return *by_hook;
  }
};

// The gate of the README's mTLS example: only the client whose certificate names this SPIFFE ID.
constexpr const char* admin_id = "spiffe://example.org/alice";
constexpr int forbidden = -32001;

// Registers whoami (the caller's identity as an object) and admin.reset (gated).
void register_methods(bsonrpc::dispatcher<bsonrpc::JsonCodec>& methods) {
  methods.add_request("whoami", [](bsonrpc::Context& ctx) {
    const bsonrpc::peer_identity& who = ctx.remote();
    return nlohmann::json{{"endpoint", who.endpoint},   {"verified", who.verified},
                          {"subject", who.subject},     {"dns", who.dns_names},
                          {"ip", who.ip_addresses},     {"uri", who.uris},
                          {"email", who.emails}};
  });
  methods.add_request("admin.reset", [](bsonrpc::Context& ctx) {
    const bsonrpc::peer_identity& who = ctx.remote();
    if (!who.verified || !who.has_uri(admin_id))
      throw bsonrpc::rpc_error(forbidden, "Forbidden: admin.reset needs the client certificate " +
                                              std::string(admin_id));
    return std::string("reset");
  });
}

bsonrpc::Options hooked_options(seen& record) {
  bsonrpc::Options options;
  options.hooks = {[&record](bsonrpc::hook_message<nlohmann::json>& m) {
    if (m.is_incoming()) record.record(m.remote());
  }};
  return options;
}

// The local endpoint of `socket` as the peer sees it: "127.0.0.1:port".
std::string text(const asio::ip::tcp::endpoint& e) {
  return e.address().to_string() + ":" + std::to_string(e.port());
}

}  // namespace peer_identity_test

using namespace peer_identity_test;

TEST_CASE("peer identity: over TCP a handler, a hook and the client see the remote ip:port",
          "[peer_identity][integration]") {
  asio::io_context io;
  auto [s, c] = bsonrpc::test::tcp_transport::connect(io);
  const std::string client_address = text(c.local_endpoint());
  const std::string server_address = text(c.remote_endpoint());
  seen record;
  rpc server(std::move(s), register_methods, hooked_options(record));
  rpc client(std::move(c));

  const auto who = client.call_for<nlohmann::json>(5s, "whoami");
  CHECK(who["endpoint"] == client_address);
  CHECK(who["verified"] == false);
  CHECK(who["subject"] == "");
  CHECK(who["dns"].empty());
  CHECK(record.hooked().endpoint == client_address);
  CHECK(server.remote().endpoint == client_address);
  CHECK(client.remote().endpoint == server_address);
  CHECK_FALSE(client.remote().has_certificate());
}

TEST_CASE("peer identity: a Unix socket peer without a bound path is \"unix\", pipes are \"pipe\"",
          "[peer_identity][integration]") {
  SECTION("unix socket: the client sees the server's path, the server sees \"unix\"") {
    asio::io_context io;
    const std::string path = (std::filesystem::temp_directory_path() /
                              ("bsonrpc-peer-" + std::to_string(::getpid()) + ".sock"))
                                 .string();
    std::filesystem::remove(path);
    asio::local::stream_protocol::acceptor acceptor(io, path);
    asio::local::stream_protocol::socket c(io);
    c.connect(path);
    auto s = acceptor.accept();
    rpc server(std::move(s), register_methods);
    rpc client(std::move(c));
    CHECK(client.call_for<nlohmann::json>(5s, "whoami")["endpoint"] == "unix");
    CHECK(client.remote().endpoint == path);
    std::filesystem::remove(path);
  }
  SECTION("pipes (descriptor_pair)") {
    int to_server[2];
    int to_client[2];
    REQUIRE(::pipe(to_server) == 0);
    REQUIRE(::pipe(to_client) == 0);
    asio::io_context io;
    rpc server(bsonrpc::descriptor_pair(io, to_server[0], to_client[1]), register_methods);
    rpc client(bsonrpc::descriptor_pair(io, to_client[0], to_server[1]));
    CHECK(client.call_for<nlohmann::json>(5s, "whoami")["endpoint"] == "pipe");
    CHECK(client.remote().endpoint == "pipe");
  }
}

TEST_CASE("peer identity: over mutual TLS a handler and a hook see the client certificate's "
          "verified subject and alternative names",
          "[peer_identity][tls][integration]") {
  auto server_tls = server_context(true);
  auto alice_tls = client_context("alice");
  asio::io_context io;
  auto [s, c] = tls_pair(io, server_tls, alice_tls);
  const std::string client_address = text(c.lowest_layer().local_endpoint());
  seen record;
  rpc server(std::move(s), register_methods, hooked_options(record));
  rpc client(std::move(c));

  const auto who = client.call_for<nlohmann::json>(5s, "whoami");
  CHECK(who["endpoint"] == client_address);
  CHECK(who["verified"] == true);
  // RFC 2253: most specific first.
  CHECK(who["subject"] == "CN=alice,OU=ops,O=bsonrpc tests");
  CHECK(who["dns"] == nlohmann::json{"alice.example", "ops.example"});
  CHECK(who["ip"] == nlohmann::json{"10.1.2.3", "::1"});
  CHECK(who["uri"] == nlohmann::json{"spiffe://example.org/alice"});
  CHECK(who["email"] == nlohmann::json{"alice@example.org"});

  const bsonrpc::peer_identity hooked = record.hooked();
  CHECK(hooked.verified);
  CHECK(hooked.subject == "CN=alice,OU=ops,O=bsonrpc tests");
  CHECK(hooked.has_dns_name("ops.example"));
  CHECK(hooked.has_ip_address("10.1.2.3"));
  CHECK(hooked.has_email("alice@example.org"));
  CHECK_FALSE(hooked.has_dns_name("bob.example"));

  SECTION("the client sees the server's certificate, verified") {
    CHECK(client.remote().verified);
    CHECK(client.remote().subject == "O=bsonrpc tests,CN=server");  // given as /CN=server/O=...
    CHECK(client.remote().has_dns_name("localhost"));
    CHECK(client.remote().has_ip_address("127.0.0.1"));
  }
  SECTION("the gated method serves the certificate it names") {
    CHECK(client.call_for<std::string>(5s, "admin.reset") == "reset");
  }
}

TEST_CASE("peer identity: a method gated on one client certificate refuses another with -32001",
          "[peer_identity][tls][integration]") {
  auto server_tls = server_context(true);
  auto bob_tls = client_context("bob");
  asio::io_context io;
  auto [s, c] = tls_pair(io, server_tls, bob_tls);
  rpc server(std::move(s), register_methods);
  rpc client(std::move(c));

  CHECK(client.call_for<nlohmann::json>(5s, "whoami")["subject"] == "CN=bob");
  try {
    client.call_for<std::string>(5s, "admin.reset");
    FAIL("admin.reset served bob");
  } catch (const bsonrpc::rpc_error& e) {
    CHECK(e.code().value() == forbidden);
    CHECK(std::string(e.what()).find("spiffe://example.org/alice") != std::string::npos);
  }
  CHECK_FALSE(client.is_closed());  // refused, not disconnected
}

TEST_CASE("peer identity: TLS without a client certificate leaves subject and names empty and "
          "verified false",
          "[peer_identity][tls][integration]") {
  auto server_tls = server_context(false);
  auto anonymous_tls = client_context("");
  asio::io_context io;
  auto [s, c] = tls_pair(io, server_tls, anonymous_tls);
  rpc server(std::move(s), register_methods);
  rpc client(std::move(c));

  const auto who = client.call_for<nlohmann::json>(5s, "whoami");
  CHECK(who["verified"] == false);
  CHECK(who["subject"] == "");
  CHECK(who["dns"].empty());
  CHECK(who["endpoint"] != "");
  CHECK_FALSE(server.remote().has_certificate());
  try {
    client.call_for<std::string>(5s, "admin.reset");
    FAIL("admin.reset served a client without a certificate");
  } catch (const bsonrpc::rpc_error& e) {
    CHECK(e.code().value() == forbidden);
  }
}

TEST_CASE("peer identity: a dispatcher used without a connection gives handlers an empty identity",
          "[peer_identity]") {
  bsonrpc::dispatcher<bsonrpc::JsonCodec> methods;
  register_methods(methods);
  methods.start_dispatching();
  std::string out;
  REQUIRE(methods.handle(R"({"jsonrpc":"2.0","id":1,"method":"whoami"})", out));
  const auto reply = nlohmann::json::parse(out);
  CHECK(reply["result"]["endpoint"] == "");
  CHECK(reply["result"]["verified"] == false);
}
