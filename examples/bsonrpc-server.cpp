// bsonrpc-server: the conformance server of CONFORMANCE.md. It listens on TCP, TCP+TLS or a
// Unix socket, gives every connection its own Rpc and services object, and prints
// `listening on HOST:PORT` once it accepts connections.
//
//   bsonrpc-server --listen 127.0.0.1:0 [--codec json|bson] [--framing rfc7464|netstring|frameless]
//                  [--executor threads|asio] [--tls-cert PEM --tls-key PEM [--tls-client-ca PEM]]
//                  [--max-message-bytes N] [--verbose]
//
// Exit codes: 0 after SIGINT/SIGTERM, 1 when it cannot listen, 2 for bad command-line input.
#include "conformance/command_line.hpp"
#include "conformance/services.hpp"
#include "conformance/tls.hpp"

#include <bsonrpc/bsonrpc.hpp>

#include <asio.hpp>
#include <asio/ssl.hpp>

#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <iostream>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

namespace {

using namespace conformance;
using namespace std::chrono_literals;

constexpr const char* usage =
    "usage: bsonrpc-server --listen 127.0.0.1:PORT|[::1]:PORT|unix:/path [--codec json|bson]\n"
    "                      [--framing rfc7464|netstring|frameless] [--executor threads|asio]\n"
    "                      [--tls-cert PEM --tls-key PEM [--tls-client-ca PEM]]\n"
    "                      [--max-message-bytes N] [--verbose]\n";

struct server_config {
  address listen;
  conformance::codec codec = codec::json;
  conformance::framing framing = framing::rfc7464;
  std::string executor = "threads";
  tls_files tls;
  std::size_t max_message_bytes = 16 * 1024 * 1024;
  bool verbose = false;
};

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
      config.framing = parse_framing(args.value_for(flag));
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

void note(const std::string& line) { std::cerr << "bsonrpc-server: " << line << std::endl; }

// One accepted connection: its own io_context (driven by the Rpc's I/O thread), its own
// services (so `record` and `stats` are per connection) and its Rpc.
class session {
 public:
  virtual ~session() = default;
  // Closed, with every handler finished: safe to destroy without waiting.
  virtual bool is_finished() = 0;
};

template <class RpcType>
class session_of final : public session {
 public:
  template <class Stream>
  session_of(std::unique_ptr<asio::io_context> io, Stream stream, in_flight_counter& in_flight,
             const bsonrpc::Options& options, std::string peer)
      : io_(std::move(io)),
        services_(in_flight, options.log),
        rpc_(std::move(stream), services_, options, std::any(std::move(peer))) {}

  bool is_finished() override { return rpc_.is_closed() && rpc_.join(0ms); }

 private:
  std::unique_ptr<asio::io_context> io_;  // outlives the Rpc that runs it
  services services_;
  RpcType rpc_;  // destroyed first: closes the connection and joins its threads
};

// Accepts on Protocol (tcp or local::stream_protocol); runs on the main thread.
template <class Protocol>
class server {
 public:
  using endpoint = typename Protocol::endpoint;
  using socket = typename Protocol::socket;

  server(const server_config& config, const endpoint& where,
         std::optional<asio::ssl::context> tls)
      : config_(config),
        acceptor_(control_, where),
        signals_(control_, SIGINT, SIGTERM),
        tls_(std::move(tls)) {
    options_.max_message_bytes = config.max_message_bytes;
    options_.max_concurrent_requests = 64;  // 16 concurrent sleep_ms(50) must take ~50 ms
    options_.default_timeout = 30s;         // for the server's own calls to the client
    options_.log = bsonrpc::stderr_log_sink(config.verbose ? bsonrpc::log_level::debug
                                                           : bsonrpc::log_level::warning);
  }

  const endpoint local_endpoint() const { return acceptor_.local_endpoint(); }

  // Serves until SIGINT/SIGTERM, then lets handlers finish and closes every connection.
  void run() {
    signals_.async_wait([this](const std::error_code& ec, int) {
      if (!ec) stop();
    });
    accept_next();
    schedule_reaping();
    control_.run();
    for (auto& h : handshakes_) h.thread.join();
    // Rpc::close() drops responses not yet written, so let running handlers finish and their
    // responses leave (they are queued as the handler returns) before closing.
    for (auto deadline = std::chrono::steady_clock::now() + 10s;
         in_flight_.running() > 0 && std::chrono::steady_clock::now() < deadline;)
      std::this_thread::sleep_for(5ms);
    std::this_thread::sleep_for(50ms);
    std::lock_guard lock(sessions_mutex_);
    sessions_.clear();
  }

 private:
  // A socket on its own io_context, which the connection's Rpc drives once it exists.
  struct accepted {
    accepted() : io(std::make_unique<asio::io_context>()), peer(*io) {}
    std::unique_ptr<asio::io_context> io;
    socket peer;
  };

  struct handshake_state {
    std::mutex mutex;
    asio::io_context* io = nullptr;
    bool finished = false;
  };
  struct handshake {
    std::thread thread;
    std::shared_ptr<handshake_state> state;
  };

  void accept_next() {
    auto next = std::make_shared<accepted>();
    acceptor_.async_accept(next->peer, [this, next](const std::error_code& ec) {
      if (stopping_ || ec == asio::error::operation_aborted) return;
      if (ec) {  // e.g. out of file descriptors: retry soon rather than spin
        note("accept failed: " + ec.message());
        retry_.expires_after(100ms);
        retry_.async_wait([this](const std::error_code& e) {
          if (!e) accept_next();
        });
        return;
      }
      if constexpr (std::is_same_v<Protocol, asio::ip::tcp>) {
        std::error_code ignored;  // small responses must not wait for the peer's delayed ACK
        next->peer.set_option(asio::ip::tcp::no_delay(true), ignored);
      }
      std::string peer = peer_name(next->peer);
      if (tls_) start_handshake(std::move(*next), std::move(peer));
      else add_session(std::move(next->io), std::move(next->peer), std::move(peer));
      accept_next();
    });
  }

  // The TLS handshake runs on a short-lived thread with a deadline, so a client that never
  // handshakes stalls neither the accept loop nor anyone else.
  void start_handshake(accepted a, std::string peer) {
    auto state = std::make_shared<handshake_state>();
    state->io = a.io.get();
    std::thread thread([this, a = std::move(a), peer = std::move(peer), state]() mutable {
      asio::ssl::stream<socket> stream(std::move(a.peer), *tls_);
      const auto ec = run_with_deadline(*a.io, stream.lowest_layer(), 10s, [&](auto done) {
        stream.async_handshake(asio::ssl::stream_base::server, done);
      });
      {
        std::lock_guard lock(state->mutex);
        state->finished = true;
      }
      if (ec) {
        if (config_.verbose || ec != asio::error::operation_aborted)
          note("TLS handshake with " + peer + " failed: " + ec.message());
        return;
      }
      add_session(std::move(a.io), std::move(stream), peer);
    });
    handshakes_.push_back({std::move(thread), std::move(state)});
  }

  template <class Stream>
  void add_session(std::unique_ptr<asio::io_context> io, Stream stream, std::string peer) {
    std::lock_guard lock(sessions_mutex_);
    if (stopping_) return;
    sessions_.push_back(with_rpc_type(
        config_.codec, config_.framing, [&](auto tag) -> std::unique_ptr<session> {
          using rpc_type = typename decltype(tag)::type;
          return std::make_unique<session_of<rpc_type>>(std::move(io), std::move(stream),
                                                        in_flight_, options_, std::move(peer));
        }));
  }

  // Drops finished connections and handshakes, so a long-running server does not grow.
  void schedule_reaping() {
    reaper_.expires_after(500ms);
    reaper_.async_wait([this](const std::error_code& ec) {
      if (ec) return;
      std::list<std::unique_ptr<session>> finished;
      {
        std::lock_guard lock(sessions_mutex_);
        for (auto it = sessions_.begin(); it != sessions_.end();) {
          auto current = it++;
          if ((*current)->is_finished()) finished.splice(finished.end(), sessions_, current);
        }
      }
      handshakes_.remove_if([](handshake& h) {
        std::lock_guard lock(h.state->mutex);
        if (!h.state->finished) return false;
        h.thread.join();  // it has only add_session left to do
        return true;
      });
      schedule_reaping();
    });
  }

  void stop() {
    {
      std::lock_guard lock(sessions_mutex_);
      stopping_ = true;
    }
    std::error_code ignored;
    acceptor_.close(ignored);
    reaper_.cancel();
    retry_.cancel();
    for (auto& h : handshakes_) {
      std::lock_guard lock(h.state->mutex);
      if (!h.state->finished) h.state->io->stop();
    }
  }

  static std::string peer_name(const socket& s) {
    std::error_code ec;
    const auto remote = s.remote_endpoint(ec);
    if (ec) return "?";
    if constexpr (std::is_same_v<Protocol, asio::ip::tcp>) {
      const auto host = remote.address().to_string();
      return (remote.address().is_v6() ? "[" + host + "]" : host) + ":" +
             std::to_string(remote.port());
    } else {
      return "unix:" + remote.path();
    }
  }

  const server_config& config_;
  asio::io_context control_;  // the accept loop, signals and timers: main thread only
  typename Protocol::acceptor acceptor_;
  asio::signal_set signals_;
  asio::steady_timer reaper_{control_};
  asio::steady_timer retry_{control_};
  std::optional<asio::ssl::context> tls_;  // outlives the sessions using it
  bsonrpc::Options options_;
  in_flight_counter in_flight_;
  std::list<handshake> handshakes_;
  std::mutex sessions_mutex_;
  bool stopping_ = false;  // under sessions_mutex_
  std::list<std::unique_ptr<session>> sessions_;
};

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

template <class Protocol>
int serve(const server_config& config, const typename Protocol::endpoint& where) {
  std::optional<asio::ssl::context> tls;
  try {
    if (!config.tls.cert.empty()) tls.emplace(make_server_tls(config.tls));
  } catch (const std::system_error& e) {
    note("cannot load the TLS files: " + e.code().message() + " (see --help)");
    return 2;
  }
  std::optional<server<Protocol>> s;
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

// Each connection holds its socket and its io_context's few descriptors: allow as many as the
// hard limit lets us.
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
    if (config.executor == "asio") note("the asio executor is not built yet; using threads");
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
