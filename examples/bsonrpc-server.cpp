// bsonrpc-server: the conformance server of CONFORMANCE.md. It listens on TCP, TCP+TLS or a
// Unix socket, gives every connection its own Rpc and services object, and prints
// `listening on HOST:PORT` once it accepts connections. --executor threads (the default) gives
// every connection its threads (conformance/threads_server.hpp); --executor asio serves them
// all on one event loop, handlers on a thread pool (conformance/event_loop_server.hpp).
//
//   bsonrpc-server --listen 127.0.0.1:0 [--codec json|bson]
//                  [--framing rfc7464|netstring|frameless|content-length|ndjson|auto]
//                  [--executor threads|asio] [--tls-cert PEM --tls-key PEM [--tls-client-ca PEM]]
//                  [--max-message-bytes N] [--partial-message-timeout-ms N] [--verbose]
//
// SIGINT/SIGTERM: it stops accepting and shuts every connection down with Rpc::async_shutdown
// (requests read are answered, for up to 10 s; later ones refused with -32000), then exits.
// Exit codes: 0 after SIGINT/SIGTERM, 1 when it cannot listen, 2 for bad command-line input.
#include "conformance/command_line.hpp"
#include "conformance/event_loop_server.hpp"
#include "conformance/server_common.hpp"
#include "conformance/threads_server.hpp"
#include "conformance/tls.hpp"

#include <bsonrpc/bsonrpc.hpp>

#include <asio.hpp>
#include <asio/ssl.hpp>

#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdint>
#include <iostream>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

namespace {

using namespace conformance;

constexpr const char* usage =
    "usage: bsonrpc-server --listen 127.0.0.1:PORT|[::1]:PORT|unix:/path [--codec json|bson]\n"
    "                      [--framing rfc7464|netstring|frameless|content-length|ndjson|auto]\n"
    "                      [--executor threads|asio]\n"
    "                      [--tls-cert PEM --tls-key PEM [--tls-client-ca PEM]]\n"
    "                      [--max-message-bytes N] [--partial-message-timeout-ms N] [--verbose]\n"
    "--framing auto: each connection's framing is detected from its first bytes (RFC 7464,\n"
    "  netstring, Content-Length, NDJSON/frameless, or a BSON document, which also selects the\n"
    "  BSON codec) and replies use it; bytes of no framing get one log line and the connection\n"
    "  closes. Over TLS, JSON framings only: a BSON client is refused with a log line.\n";

server_config parse_command_line(int argc, char** argv) {
  server_config config;
  bool has_listen = false;
  for (arguments args(argc, argv); !args.done();) {
    const std::string& flag = args.flag();
    if (flag == "--listen") {
      config.listen = parse_address(args.value_for(flag));
      has_listen = true;
    } else if (flag == "--codec") {
      config.codec = parse_codec(args.value_for(flag));
    } else if (flag == "--framing") {
      config.framing = parse_framing(args.value_for(flag), true);
    } else if (flag == "--executor") {
      config.executor = parse_executor(args.value_for(flag));
    } else if (flag == "--tls-cert") {
      config.tls.cert = args.value_for(flag);
    } else if (flag == "--tls-key") {
      config.tls.key = args.value_for(flag);
    } else if (flag == "--tls-client-ca") {
      config.tls.peer_ca = args.value_for(flag);
    } else if (flag == "--max-message-bytes") {
      config.max_message_bytes =
          parse_integer<std::size_t>(args.value_for(flag), "--max-message-bytes", 1);
    } else if (flag == "--partial-message-timeout-ms") {
      const auto ms = parse_integer<std::int64_t>(args.value_for(flag),
                                                  "--partial-message-timeout-ms", 0);
      config.partial_message_timeout.reset();  // 0: no limit
      if (ms > 0) config.partial_message_timeout = std::chrono::milliseconds(ms);
    } else if (flag == "--verbose") {
      config.verbose = true;
    } else {
      throw usage_error("unknown argument '" + flag + "'");
    }
  }
  if (!has_listen) throw usage_error("--listen ADDR is required");
  if (config.tls.cert.empty() != config.tls.key.empty())
    throw usage_error("--tls-cert and --tls-key go together");
  if (!config.tls.peer_ca.empty() && config.tls.cert.empty())
    throw usage_error("--tls-client-ca needs --tls-cert and --tls-key");
  return config;
}

asio::ip::tcp::endpoint resolve_listen_address(const address& a) {
  std::error_code ec;
  const auto ip = asio::ip::make_address(a.host, ec);
  if (!ec) return {ip, a.port};
  asio::io_context io;
  asio::ip::tcp::resolver resolver(io);
  const auto results = resolver.resolve(a.host, std::to_string(a.port), ec);
  if (ec || results.empty())
    throw usage_error("cannot resolve '" + a.host + "': " + (ec ? ec.message() : "no address"));
  return results.begin()->endpoint();
}

// Listens with Server (threads_server or event_loop_server), prints the listening line and
// serves until SIGINT/SIGTERM.
template <class Server, class Protocol>
int serve_with(const server_config& config, const typename Protocol::endpoint& where,
               std::optional<asio::ssl::context> tls) {
  std::optional<Server> s;
  try {
    s.emplace(config, where, std::move(tls));
  } catch (const std::system_error& e) {
    note("cannot listen on " + config.listen.to_string() + ": " + e.code().message());
    return 1;
  }
  address shown = config.listen;
  if constexpr (std::is_same_v<Protocol, asio::ip::tcp>) {
    shown.host = s->local_endpoint().address().to_string();
    shown.port = s->local_endpoint().port();
  }
  std::cout << "listening on " << shown.to_string() << std::endl;
  s->run();
  return 0;
}

template <class Protocol>
int serve(const server_config& config, const typename Protocol::endpoint& where) {
  std::optional<asio::ssl::context> tls;
  try {
    if (!config.tls.cert.empty()) tls.emplace(make_server_tls(config.tls));
  } catch (const std::system_error& e) {
    note("cannot load the TLS files: " + e.code().message() + " (see --help)");
    return 2;
  }
  if (config.executor == executor::threads)
    return serve_with<threads_server<Protocol>, Protocol>(config, where, std::move(tls));
  return with_rpc_type<bsonrpc::EventLoop>(config.codec, config.framing, [&](auto tag) {
    using server = event_loop_server<Protocol, typename decltype(tag)::type>;
    return serve_with<server, Protocol>(config, where, std::move(tls));
  });
}

// A Unix socket file left by an earlier run would make bind() fail; other files stay.
bool remove_stale_socket(const std::string& path) {
  struct stat info {};
  if (::lstat(path.c_str(), &info) != 0) return true;
  if (!S_ISSOCK(info.st_mode)) {
    note("cannot listen on unix:" + path + ": the file exists and is not a socket");
    return false;
  }
  ::unlink(path.c_str());
  return true;
}

// Each connection holds its socket (and with --executor threads, its own io_context's few
// descriptors): allow as many as the hard limit lets us.
void raise_descriptor_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &limit);
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);
  raise_descriptor_limit();
  server_config config;
  try {
    if (argc == 2 && std::string(argv[1]) == "--help") {
      std::cout << usage;
      return 0;
    }
    config = parse_command_line(argc, argv);
    if (config.listen.is_unix) {
      if (!remove_stale_socket(config.listen.path)) return 1;
      const int rc = serve<asio::local::stream_protocol>(config, {config.listen.path});
      ::unlink(config.listen.path.c_str());
      return rc;
    }
    return serve<asio::ip::tcp>(config, resolve_listen_address(config.listen));
  } catch (const usage_error& e) {
    note(std::string(e.what()) + " (see --help)");
    return 2;
  } catch (const std::exception& e) {
    note(e.what());
    return 1;
  }
}
