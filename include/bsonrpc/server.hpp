// bsonrpc/server.hpp: an optional, thin helper for the common server: accept connections on
// an acceptor the application owns and hand each one over, TLS included. The core library
// still never listens; this only saves writing the accept loop.
//
//   asio::ip::tcp::acceptor acceptor(io, endpoint);
//   bsonrpc::connection_set<bsonrpc::JsonRpc<bsonrpc::Rfc7464, bsonrpc::EventLoop>> clients;
//   bsonrpc::accept_loop(acceptor, [&](asio::ip::tcp::socket socket) {
//     clients.add(std::move(socket), services);
//   });
//   io.run();
#pragma once

#include <asio.hpp>
#include <asio/ssl.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <system_error>
#include <utility>

namespace bsonrpc {

/// Accepts connections on `acceptor` asynchronously until it is closed, calling
/// `on_connection(socket)` for each. Runs on the acceptor's executor.
template <class Acceptor, class OnConnection>
void accept_loop(Acceptor& acceptor, OnConnection on_connection) {
  auto handler = std::make_shared<OnConnection>(std::move(on_connection));
  struct loop {
    Acceptor& acceptor;
    std::shared_ptr<OnConnection> handler;
    void operator()() {
      acceptor.async_accept([self = *this](std::error_code ec, auto socket) mutable {
        if (ec == asio::error::operation_aborted || !self.acceptor.is_open()) return;
        if (!ec) {
          (*self.handler)(std::move(socket));
          self();
          return;
        }
        // A failed accept (say, out of descriptors) does not end the loop; it retries after a
        // pause, since the pending connection keeps the acceptor ready and it would spin.
        auto pause = std::make_shared<asio::steady_timer>(self.acceptor.get_executor(),
                                                          std::chrono::milliseconds(100));
        pause->async_wait([self, pause](std::error_code) mutable {
          if (self.acceptor.is_open()) self();
        });
      });
    }
  };
  loop{acceptor, std::move(handler)}();
}

/// As accept_loop, with a TLS handshake on each connection first: `on_connection` receives
/// the asio::ssl::stream once its handshake succeeded. A peer that does not complete the
/// handshake within `handshake_timeout` is dropped, without delaying anyone else.
template <class OnConnection>
void accept_tls_loop(asio::ip::tcp::acceptor& acceptor, asio::ssl::context& tls,
                     OnConnection on_connection,
                     std::chrono::milliseconds handshake_timeout = std::chrono::seconds(10)) {
  using stream = asio::ssl::stream<asio::ip::tcp::socket>;
  auto handler = std::make_shared<OnConnection>(std::move(on_connection));
  accept_loop(acceptor, [&tls, handler, handshake_timeout](asio::ip::tcp::socket socket) {
    auto s = std::make_shared<stream>(std::move(socket), tls);
    auto timer = std::make_shared<asio::steady_timer>(s->get_executor(), handshake_timeout);
    timer->async_wait([s](std::error_code ec) {
      if (!ec) {
        std::error_code ignored;
        s->lowest_layer().close(ignored);  // the handshake completes with an error
      }
    });
    s->async_handshake(asio::ssl::stream_base::server,
                       [s, timer, handler](std::error_code ec) {
                         timer->cancel();
                         if (!ec) (*handler)(std::move(*s));
                       });
  });
}

/// Owns the Rpc of each connection and drops those that have closed, so a long-running
/// server does not grow. Safe from any thread.
template <class Rpc>
class connection_set {
 public:
  /// Constructs an Rpc from `args` (as Rpc's constructors take them), keeps it, and returns it;
  /// drops the closed ones first.
  template <class... Args>
  Rpc& add(Args&&... args) {
    auto rpc = std::make_unique<Rpc>(std::forward<Args>(args)...);
    std::lock_guard lock(mutex_);
    reap();
    connections_.push_back(std::move(rpc));
    return *connections_.back();
  }

  /// Closes every connection.
  void close_all() {
    std::lock_guard lock(mutex_);
    for (auto& c : connections_) c->close();
  }

  /// Shuts every connection down gracefully (Rpc::async_shutdown, each bounded by `timeout`)
  /// and calls `done()` once every one has finished or passed its bound, on the thread where
  /// the last one completes (EventLoop: the io_context). Connections added meanwhile are not
  /// included.
  template <class Done>
  void async_shutdown_all(std::chrono::milliseconds timeout, Done done) {
    struct countdown {
      countdown(std::size_t n, Done d) : left(n), done(std::move(d)) {}
      std::atomic<std::size_t> left;
      Done done;
    };
    std::shared_ptr<countdown> state;
    {
      std::lock_guard lock(mutex_);
      /// One more than the connections: done() cannot run before the lock is released.
      state = std::make_shared<countdown>(connections_.size() + 1, std::move(done));
      for (auto& c : connections_)
        c->async_shutdown(timeout, [state](std::error_code) {
          if (--state->left == 0) state->done();
        });
    }
    if (--state->left == 0) state->done();
  }

  /// Open connections (closed ones are dropped first).
  std::size_t size() {
    std::lock_guard lock(mutex_);
    reap();
    return connections_.size();
  }

  /// Destroys every connection (the Threads executor waits for their handlers).
  void clear() {
    std::list<std::unique_ptr<Rpc>> doomed;
    {
      std::lock_guard lock(mutex_);
      doomed.swap(connections_);
    }
  }

 private:
  void reap() {
    connections_.remove_if([](const auto& c) { return c->is_closed(); });
  }

  std::mutex mutex_;
  std::list<std::unique_ptr<Rpc>> connections_;
};

}  // namespace bsonrpc
