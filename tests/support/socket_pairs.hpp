// Connected stream pairs over real sockets for integration tests: loopback TCP, Unix domain
// sockets and TLS over loopback TCP (a throwaway certificate made with the openssl command).
#pragma once

#include <bsonrpc/tls.hpp>

#include <asio.hpp>
#include <asio/ssl.hpp>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <stdexcept>
#include <string>
#include <unistd.h>
#include <utility>

namespace bsonrpc::test {

struct tcp_transport {
  using stream = asio::ip::tcp::socket;
  static constexpr const char* name = "tcp";
  static std::pair<stream, stream> connect(asio::io_context& io) {
    asio::ip::tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
    stream client(io);
    client.connect(acceptor.local_endpoint());
    stream server = acceptor.accept();
    server.set_option(asio::ip::tcp::no_delay(true));
    client.set_option(asio::ip::tcp::no_delay(true));
    return {std::move(server), std::move(client)};
  }
};

struct unix_transport {
  using stream = asio::local::stream_protocol::socket;
  static constexpr const char* name = "unix";
  static std::pair<stream, stream> connect(asio::io_context& io) {
    static int counter = 0;
    const auto path = std::filesystem::temp_directory_path() /
                      ("bsonrpc-test-" + std::to_string(::getpid()) + "-" +
                       std::to_string(++counter) + ".sock");
    std::filesystem::remove(path);
    asio::local::stream_protocol::acceptor acceptor(io, path.string());
    stream client(io);
    client.connect(path.string());
    stream server = acceptor.accept();
    std::filesystem::remove(path);
    return {std::move(server), std::move(client)};
  }
};

// A self-signed certificate for "localhost", made once per test process.
inline const std::filesystem::path& test_certificate_dir() {
  static const std::filesystem::path dir = [] {
    auto d = std::filesystem::temp_directory_path() /
             ("bsonrpc-test-certs-" + std::to_string(::getpid()));
    std::filesystem::create_directories(d);
    const std::string command =
        "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost "
        "-addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout '" +
        (d / "key.pem").string() + "' -out '" + (d / "cert.pem").string() + "' 2>/dev/null";
    if (std::system(command.c_str()) != 0) throw std::runtime_error("openssl req failed");
    return d;
  }();
  return dir;
}

struct tls_transport {
  using stream = asio::ssl::stream<asio::ip::tcp::socket>;
  static constexpr const char* name = "tls";

  // bsonrpc/tls.hpp's contexts, so that every TLS test runs with the library's defaults.
  static asio::ssl::context& server_context() {
    static asio::ssl::context context = [] {
      tls::server_options options;
      options.certificate_chain = tls::pem::file((test_certificate_dir() / "cert.pem").string());
      options.private_key = tls::pem::file((test_certificate_dir() / "key.pem").string());
      return tls::make_server_context(options);
    }();
    return context;
  }

  static asio::ssl::context& client_context() {
    static asio::ssl::context context = [] {
      tls::client_options options;
      options.ca = tls::pem::file((test_certificate_dir() / "cert.pem").string());
      return tls::make_client_context(options);
    }();
    return context;
  }

  static std::pair<stream, stream> connect(asio::io_context& io) {
    auto [server_socket, client_socket] = tcp_transport::connect(io);
    stream server(std::move(server_socket), server_context());
    stream client(std::move(client_socket), client_context());
    tls::set_server_name(client, "localhost");
    auto handshake = std::async(std::launch::async,
                                [&] { server.handshake(asio::ssl::stream_base::server); });
    client.handshake(asio::ssl::stream_base::client);
    handshake.get();
    return {std::move(server), std::move(client)};
  }
};

}  // namespace bsonrpc::test
