// conformance/event_loop_server.hpp: bsonrpc-server with --executor asio (bsonrpc::EventLoop):
// one io_context runs the accept loop, the TLS handshakes and every connection's I/O. Request
// handlers run on a thread pool instead, since sleep_ms, long_process and call_back block.
#pragma once

#include "codec_sniff.hpp"
#include "server_common.hpp"
#include "services.hpp"

#include <bsonrpc/bsonrpc.hpp>
#include <bsonrpc/server.hpp>

#include <asio.hpp>
#include <asio/ssl.hpp>

#include <any>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <csignal>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>

namespace conformance {

// Accepts on Protocol (tcp or local::stream_protocol); RpcType uses bsonrpc::EventLoop.
template <class Protocol, class RpcType>
class event_loop_server {
 public:
  using endpoint = typename Protocol::endpoint;
  using socket = typename Protocol::socket;

  event_loop_server(const server_config& config, const endpoint& where,
                    std::optional<asio::ssl::context> tls)
      : tls_(std::move(tls)),
        sniff_codec_(config.framing == framing::auto_detect),
        acceptor_(io_, where),
        signals_(io_, SIGINT, SIGTERM),
        options_(server_options(config)) {
    options_.handler_runner = [this](std::function<void()> task) {
      asio::post(handlers_, std::move(task));
    };
  }

  endpoint local_endpoint() const { return acceptor_.local_endpoint(); }

  // Serves until SIGINT/SIGTERM, then shuts every connection down gracefully: requests in
  // flight are answered (for up to 10 s), later ones refused, then each connection closes.
  void run() {
    signals_.async_wait([this](const std::error_code& ec, int) {
      if (!ec) stop_accepting();
    });
    accept();
    std::thread loop([this] { run_loop(); });
    {
      std::unique_lock lock(state_->mutex);
      state_->changed.wait(lock, [this] { return state_->stop_requested; });
    }
    {
      std::lock_guard lock(connections_mutex_);
      // Both sets (the BSON one holds --framing auto's BSON connections): drained when both are.
      auto drained = [state = state_, sets = std::make_shared<std::atomic<int>>(2)] {
        if (--*sets > 0) return;
        std::lock_guard lock(state->mutex);
        state->drained = true;
        state->changed.notify_all();
      };
      connections_.async_shutdown_all(10s, drained);
      bson_connections_.async_shutdown_all(10s, drained);
    }
    {
      std::unique_lock lock(state_->mutex);
      state_->changed.wait_for(lock, 12s, [&] { return state_->drained || state_->loop_done; });
    }
    // A connection ends (its services go, `open` drops) once it has shut down; the loop
    // returns when every one has, unless a TLS handshake is still pending (for up to 10 s).
    connections_.clear();
    bson_connections_.clear();
    {
      std::unique_lock lock(state_->mutex);
      state_->changed.wait_for(lock, 3s, [&] { return state_->open == 0 || state_->loop_done; });
    }
    io_.stop();
    loop.join();
    handlers_.join();
  }

 private:
  // One thread runs the loop: the accept loop's acceptor is not thread-safe, and with more
  // threads the signal handler could close it while another thread re-arms it.
  void run_loop() {
    for (bool done = false; !done;) {
      try {
        io_.run();
        done = true;
      } catch (const std::exception& e) {
        note(std::string("event loop: ") + e.what());
      }
    }
    std::lock_guard lock(state_->mutex);
    state_->loop_done = true;
    state_->changed.notify_all();
  }

  void accept() {
    if (!tls_ && sniff_codec_) {
      bsonrpc::accept_loop(acceptor_, [this](socket s) {
        codec_sniffer<socket>::start(std::move(s), 10s, [this](socket s, sniffed_codec codec) {
          if (codec == sniffed_codec::bson) add(std::move(s), bson_connections_);
          else add(std::move(s), connections_);
        });
      });
    } else if (!tls_) {
      bsonrpc::accept_loop(acceptor_, [this](socket s) { add(std::move(s)); });
    } else if constexpr (std::is_same_v<Protocol, asio::ip::tcp>) {
      bsonrpc::accept_tls_loop(
          acceptor_, *tls_, [this](asio::ssl::stream<socket> s) { add(std::move(s)); }, 10s);
    } else {  // bsonrpc::accept_tls_loop takes TCP acceptors only
      bsonrpc::accept_loop(acceptor_, [this](socket s) { handshake(std::move(s)); });
    }
  }

  // TLS over a Unix socket, as accept_tls_loop does it over TCP: a deadline, nobody waits.
  void handshake(socket s) {
    auto stream = std::make_shared<asio::ssl::stream<socket>>(std::move(s), *tls_);
    auto timer = std::make_shared<asio::steady_timer>(io_, 10s);
    timer->async_wait([stream](const std::error_code& ec) {
      std::error_code ignored;
      if (!ec) stream->lowest_layer().close(ignored);
    });
    stream->async_handshake(asio::ssl::stream_base::server,
                            [this, stream, timer](const std::error_code& ec) {
                              timer->cancel();
                              if (!ec) add(std::move(*stream));
                            });
  }

  // Each connection gets its own services object, shared with its Rpc so that it lives as
  // long as the connection's last handler (an EventLoop Rpc does not wait for them): when
  // it goes, the connection has ended.
  template <class Stream>
  void add(Stream stream) {
    add(std::move(stream), connections_);
  }

  template <class Stream, class Set>
  void add(Stream stream, Set& connections) {
    std::string peer = peer_name(stream.lowest_layer());
    std::lock_guard lock(connections_mutex_);
    if (stopping_) return;  // closed as `stream` goes
    {
      std::lock_guard state(state_->mutex);
      ++state_->open;
    }
    std::shared_ptr<services> per_connection(new services(in_flight_, options_.log),
                                             [state = state_](services* ended) {
                                               delete ended;
                                               std::lock_guard lock(state->mutex);
                                               --state->open;
                                               state->changed.notify_all();
                                             });
    connections.add(std::move(stream), std::move(per_connection), options_,
                    std::any(std::move(peer)));
  }

  void stop_accepting() {
    std::error_code ignored;
    acceptor_.close(ignored);
    {
      std::lock_guard lock(connections_mutex_);
      stopping_ = true;
    }
    std::lock_guard lock(state_->mutex);
    state_->stop_requested = true;
    state_->changed.notify_all();
  }

  std::optional<asio::ssl::context> tls_;  // outlives the handshakes and connections using it
  bool sniff_codec_;  // --framing auto without TLS: BSON or JSON, per connection (codec_sniff.hpp)
  in_flight_counter in_flight_;
  asio::io_context io_;  // after the Rpcs: a connection's state may outlive its Rpc
  typename Protocol::acceptor acceptor_;
  asio::signal_set signals_;
  asio::thread_pool handlers_{64};  // 16 concurrent sleep_ms(50) must take ~50 ms
  bsonrpc::Options options_;
  std::mutex connections_mutex_;  // a connection is added before close_all() or not at all
  bool stopping_ = false;         // under connections_mutex_
  // Shared with every connection's services, which may end as late as io_ does.
  struct lifecycle {
    std::mutex mutex;  // never held while a connection may end
    std::condition_variable changed;
    bool stop_requested = false;
    bool drained = false;  // every connection has shut down
    bool loop_done = false;
    std::size_t open = 0;  // connections not yet ended
  };
  std::shared_ptr<lifecycle> state_ = std::make_shared<lifecycle>();
  bsonrpc::connection_set<RpcType> connections_;  // closed connections go as new ones come
  bsonrpc::connection_set<bsonrpc::BsonRpc<bsonrpc::EventLoop>> bson_connections_;  // as sniffed
};

}  // namespace conformance
