// tests/bench/rpc_endpoints.hpp: bsonrpc's side of the benchmark, a server exposing
// echo_service and a client driving it, for either executor, with default Options.
//   Threads    each connection on its own io_context, driven by its Rpc's I/O thread; the
//              client calls blocking call() from one thread per connection when it keeps one
//              call in flight, and chains async_call() callbacks when it keeps more.
//   EventLoop  every connection of a process on one io_context run by one thread; the client
//              chains async_call() callbacks.
#pragma once

#include "echo.hpp"
#include "workloads.hpp"

#include <bsonrpc/bsonrpc.hpp>

#include <asio.hpp>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

namespace bench {

using tcp = asio::ip::tcp;

template <class Rpc>
inline constexpr bool uses_event_loop =
    std::is_same_v<typename Rpc::executor_policy, bsonrpc::EventLoop>;

// Serves echo_service on every connection accepted; run() runs the accept loop (and, with
// EventLoop, every connection) on the calling thread until stop().
template <class Rpc>
class echo_server {
 public:
  explicit echo_server(const tcp::endpoint& where) : acceptor_(io_, where) { accept_next(); }

  tcp::endpoint local_endpoint() const { return acceptor_.local_endpoint(); }

  void run() {
    io_.run();
    sessions_.clear();
  }

  // Stops accepting and closes every connection. Any thread.
  void stop() {
    asio::post(io_, [this] {
      acceptor_.close();
      for (auto& s : sessions_) s->rpc.close();
    });
  }

 private:
  struct session {
    session(std::unique_ptr<asio::io_context> own_io, tcp::socket socket, echo_service& echo)
        : io(std::move(own_io)), rpc(std::move(socket), echo) {}
    std::unique_ptr<asio::io_context> io;  // Threads: the connection's own; outlives its Rpc
    Rpc rpc;
  };

  void accept_next() {
    std::unique_ptr<asio::io_context> own_io;
    if constexpr (!uses_event_loop<Rpc>) own_io = std::make_unique<asio::io_context>();
    asio::io_context& io = own_io ? *own_io : io_;
    acceptor_.async_accept(io, [this, own_io = std::move(own_io)](std::error_code ec,
                                                                   tcp::socket socket) mutable {
      if (ec) return;
      sessions_.remove_if([](const auto& s) { return s->rpc.is_closed(); });
      sessions_.push_back(std::make_unique<session>(std::move(own_io), std::move(socket), echo_));
      accept_next();
    });
  }

  echo_service echo_;
  asio::io_context io_;
  tcp::acceptor acceptor_;
  std::list<std::unique_ptr<session>> sessions_;  // on io_'s thread only
};

// Opens `connections` connections to an echo server; run() drives them.
template <class Rpc>
class rpc_client {
 public:
  rpc_client(const tcp::endpoint& server, std::size_t connections) {
    for (std::size_t i = 0; i < connections; ++i) {
      auto own_io = uses_event_loop<Rpc> ? nullptr : std::make_unique<asio::io_context>();
      tcp::socket socket(own_io ? *own_io : io_);
      socket.connect(server);
      links_.push_back(std::make_unique<link>(std::move(own_io), std::move(socket)));
    }
    if constexpr (uses_event_loop<Rpc>) loop_ = std::thread([this] { io_.run(); });
  }

  rpc_client(const rpc_client&) = delete;
  rpc_client& operator=(const rpc_client&) = delete;

  ~rpc_client() {
    for (auto& l : links_) l->rpc.close();
    work_.reset();
    if (loop_.joinable()) loop_.join();
    links_.clear();
  }

  // Keeps `inflight` echo(payload) calls outstanding per connection until `stop`; returns the
  // number of calls completed.
  std::uint64_t run(const std::string& payload, std::size_t inflight, stop_rule& stop) {
    progress p;
    if (!uses_event_loop<Rpc> && inflight == 1) {
      std::vector<std::thread> callers;
      for (auto& l : links_) {
        callers.emplace_back([&, &rpc = l->rpc] {
          try {
            while (stop.may_issue()) {
              const auto echoed = rpc.template call<std::string>("echo", payload);
              if (echoed.size() != payload.size()) throw std::runtime_error("wrong echo");
              ++p.completed;
            }
          } catch (const std::exception& e) {
            p.fail(e.what());
          }
        });
      }
      for (auto& t : callers) t.join();
    } else {
      p.chains = links_.size() * inflight;
      for (auto& l : links_)
        for (std::size_t i = 0; i < inflight; ++i) chain(l->rpc, payload, stop, p);
      p.wait();
    }
    if (p.failed) throw std::runtime_error(p.failure);
    return p.completed;
  }

 private:
  struct link {
    link(std::unique_ptr<asio::io_context> own_io, tcp::socket socket)
        : io(std::move(own_io)), rpc(std::move(socket)) {}
    std::unique_ptr<asio::io_context> io;  // Threads: the connection's own; outlives its Rpc
    Rpc rpc;
  };

  // Completed calls, and the call chains still running (run() returns when none is).
  struct progress {
    std::atomic<std::uint64_t> completed{0};
    std::atomic<bool> failed{false};
    std::mutex mutex;
    std::condition_variable ended;
    std::size_t chains = 0;  // under mutex
    std::string failure;     // under mutex

    void fail(const std::string& why) {
      std::lock_guard lock(mutex);
      failure = why;
      failed = true;
    }
    void end_chain() {
      std::lock_guard lock(mutex);
      if (--chains == 0) ended.notify_all();
    }
    void wait() {
      std::unique_lock lock(mutex);
      ended.wait(lock, [this] { return chains == 0; });
    }
  };

  // Starts one call; its completion starts the next, until `stop` or a failure.
  static void chain(Rpc& rpc, const std::string& payload, stop_rule& stop, progress& p) {
    if (p.failed || !stop.may_issue()) {
      p.end_chain();
      return;
    }
    rpc.template async_call<std::string>(
        "echo", payload, [&rpc, &payload, &stop, &p](std::error_code ec, std::string echoed) {
          if (ec) p.fail(ec.message());
          else if (echoed.size() != payload.size()) p.fail("wrong echo");
          else ++p.completed;
          chain(rpc, payload, stop, p);
        });
  }

  asio::io_context io_;  // EventLoop: every connection's; outlives them
  asio::executor_work_guard<asio::io_context::executor_type> work_ = asio::make_work_guard(io_);
  std::vector<std::unique_ptr<link>> links_;
  std::thread loop_;
};

}  // namespace bench
