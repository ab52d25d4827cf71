// conformance/threads_server.hpp: bsonrpc-server with --executor threads (bsonrpc::Threads):
// every connection has its own io_context, driven by the connection's own I/O thread, and its
// own handler pool. The accept loop, signals and timers run on the main thread.
#pragma once

#include "codec_sniff.hpp"
#include "server_common.hpp"
#include "services.hpp"
#include "tls.hpp"

#include <bsonrpc/bsonrpc.hpp>

#include <asio.hpp>
#include <asio/ssl.hpp>

#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstddef>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>

namespace conformance {

// One accepted connection: its own io_context (driven by the Rpc's I/O thread), its own
// services (so `record` and `stats` are per connection) and its Rpc.
class session {
 public:
  virtual ~session() = default;
  // Closed, with every handler finished: safe to destroy without waiting.
  virtual bool is_finished() = 0;
  // Rpc::async_shutdown: `done` runs once the connection has finished or passed the bound.
  virtual void shutdown(std::chrono::milliseconds bound, std::function<void()> done) = 0;
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
  void shutdown(std::chrono::milliseconds bound, std::function<void()> done) override {
    rpc_.async_shutdown(bound, [done = std::move(done)](std::error_code) { done(); });
  }

 private:
  std::unique_ptr<asio::io_context> io_;  // outlives the Rpc that runs it
  services services_;
  RpcType rpc_;  // destroyed first: closes the connection and joins its threads
};

// Accepts on Protocol (tcp or local::stream_protocol); runs on the main thread.
template <class Protocol>
class threads_server {
 public:
  using endpoint = typename Protocol::endpoint;
  using socket = typename Protocol::socket;

  threads_server(const server_config& config, const endpoint& where,
                 std::optional<asio::ssl::context> tls)
      : config_(config),
        acceptor_(control_, where),
        signals_(control_, SIGINT, SIGTERM),
        tls_(std::move(tls)),
        options_(server_options(config)) {}

  const endpoint local_endpoint() const { return acceptor_.local_endpoint(); }

  // Serves until SIGINT/SIGTERM, then shuts every connection down gracefully: requests in
  // flight are answered (for up to 10 s), later ones refused, then each connection closes.
  void run() {
    signals_.async_wait([this](const std::error_code& ec, int) {
      if (!ec) stop();
    });
    accept_next();
    schedule_reaping();
    control_.run();
    for (auto& h : handshakes_) h.thread.join();
    std::lock_guard lock(sessions_mutex_);
    struct countdown {
      std::mutex mutex;
      std::condition_variable changed;
      std::size_t left = 0;
    };
    auto drained = std::make_shared<countdown>();
    drained->left = sessions_.size();
    for (auto& s : sessions_)
      s->shutdown(10s, [drained] {
        std::lock_guard lock(drained->mutex);
        --drained->left;
        drained->changed.notify_all();
      });
    {
      std::unique_lock wait(drained->mutex);
      drained->changed.wait_for(wait, 12s, [&] { return drained->left == 0; });
    }
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
    std::shared_ptr<accepted> next;
    try {
      next = std::make_shared<accepted>();  // an io_context takes descriptors too
    } catch (const std::system_error& e) {
      retry_accept(e.code());
      return;
    }
    acceptor_.async_accept(next->peer, [this, next](const std::error_code& ec) {
      if (stopping_ || ec == asio::error::operation_aborted) return;
      if (ec) {
        retry_accept(ec);
        return;
      }
      const std::string peer = peer_name(next->peer);
      try {
        if (tls_) start_handshake(std::move(*next), peer);
        else if (config_.framing == framing::auto_detect) start_sniffing(std::move(*next), peer);
        else add_session(std::move(next->io), std::move(next->peer), peer);
      } catch (const std::system_error& e) {  // out of threads or descriptors: drop this one
        note("cannot serve " + peer + ": " + e.code().message());
      }
      accept_next();
    });
  }

  // E.g. out of file descriptors: retry soon rather than spin.
  void retry_accept(const std::error_code& ec) {
    note("accept failed: " + ec.message());
    retry_.expires_after(100ms);
    retry_.async_wait([this](const std::error_code& e) {
      if (!e) accept_next();
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

  // --framing auto: the first bytes pick the codec (codec_sniff.hpp), on a short-lived thread
  // with a deadline as the TLS handshake has, on the connection's own io_context.
  void start_sniffing(accepted a, std::string peer) {
    auto state = std::make_shared<handshake_state>();
    state->io = a.io.get();
    std::thread thread([this, a = std::move(a), peer = std::move(peer), state]() mutable {
      std::optional<socket> sniffed;
      auto codec = sniffed_codec::json;
      codec_sniffer<socket>::start(std::move(a.peer), 10s, [&](socket s, sniffed_codec c) {
        sniffed.emplace(std::move(s));
        codec = c;
      });
      a.io->run();
      {
        std::lock_guard lock(state->mutex);
        state->finished = true;
      }
      if (!sniffed) return;  // the peer left first, or the server is stopping
      a.io->restart();
      add_session(std::move(a.io), std::move(*sniffed), peer,
                  codec == sniffed_codec::bson ? codec::bson : config_.codec);
    });
    handshakes_.push_back({std::move(thread), std::move(state)});
  }

  template <class Stream>
  void add_session(std::unique_ptr<asio::io_context> io, Stream stream, std::string peer) {
    add_session(std::move(io), std::move(stream), std::move(peer), config_.codec);
  }

  template <class Stream>
  void add_session(std::unique_ptr<asio::io_context> io, Stream stream, std::string peer,
                   conformance::codec codec) {
    std::lock_guard lock(sessions_mutex_);
    if (stopping_) return;
    sessions_.push_back(with_rpc_type<bsonrpc::Threads>(
        codec, config_.framing, [&](auto tag) -> std::unique_ptr<session> {
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

}  // namespace conformance
