// An in-process server that can be killed and started again on the same port, for the
// reconnecting client's tests: kill() closes the acceptor and every connection (as a server
// process dying would, but without its TCP resets), start() listens again. Its connections
// use EventLoop on the server's own loop thread; handlers run on a small pool, so they may block.
#pragma once

#include <bsonrpc/dispatcher.hpp>
#include <bsonrpc/executor/event_loop.hpp>
#include <bsonrpc/options.hpp>
#include <bsonrpc/server.hpp>

#include <asio.hpp>

#include <functional>
#include <future>
#include <optional>
#include <thread>
#include <utility>

namespace bsonrpc::test {

// ServerRpc: an Rpc with the EventLoop executor; `setup` registers its methods on each
// connection's dispatcher.
template <class ServerRpc>
class restartable_server {
 public:
  using dispatcher_type = bsonrpc::dispatcher<typename ServerRpc::codec_type>;

  explicit restartable_server(std::function<void(dispatcher_type&)> setup,
                              bsonrpc::Options options = {})
      : setup_(std::move(setup)), options_(std::move(options)) {
    options_.handler_runner = [this](std::function<void()> task) {
      asio::post(pool_, std::move(task));
    };
    thread_ = std::thread([this] { io_.run(); });
    start();
  }
  restartable_server(const restartable_server&) = delete;
  restartable_server& operator=(const restartable_server&) = delete;

  ~restartable_server() {
    kill();
    work_.reset();
    thread_.join();
    pool_.join();
  }

  // Listens (again) on the port of the first start.
  void start() {
    on_loop([this] {
      acceptor_.emplace(io_);
      const asio::ip::tcp::endpoint at{asio::ip::make_address("127.0.0.1"), port_};
      acceptor_->open(at.protocol());
      acceptor_->set_option(asio::socket_base::reuse_address(true));
      acceptor_->bind(at);
      acceptor_->listen();
      port_ = acceptor_->local_endpoint().port();
      bsonrpc::accept_loop(*acceptor_, [this](asio::ip::tcp::socket socket) {
        socket.set_option(asio::ip::tcp::no_delay(true));
        connections_.add(std::move(socket),
                         [this](dispatcher_type& methods) { setup_(methods); }, options_);
      });
    });
  }

  // Stops listening and closes every connection.
  void kill() {
    on_loop([this] {
      if (acceptor_) acceptor_->close();
      acceptor_.reset();
      connections_.close_all();
      connections_.clear();
    });
  }

  unsigned short port() const { return port_; }
  asio::ip::tcp::endpoint endpoint() const {
    return {asio::ip::make_address("127.0.0.1"), port_};
  }

 private:
  // Runs `fn` on the loop thread and waits for it.
  template <class F>
  void on_loop(F fn) {
    std::promise<void> done;
    asio::post(io_, [&] {
      try {
        fn();
        done.set_value();
      } catch (...) {
        done.set_exception(std::current_exception());
      }
    });
    done.get_future().get();
  }

  std::function<void(dispatcher_type&)> setup_;
  bsonrpc::Options options_;
  asio::thread_pool pool_{2};
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_{io_.get_executor()};
  std::optional<asio::ip::tcp::acceptor> acceptor_;
  bsonrpc::connection_set<ServerRpc> connections_;
  unsigned short port_ = 0;
  std::thread thread_;
};

}  // namespace bsonrpc::test
