// Two connected Rpc endpoints for integration tests, each with its own Services object.
// Setup names `rpc` (the Rpc type), `transport` (a socket_pairs.hpp transport) and
// `event_loop`; with EventLoop one thread runs the io_context and handlers, which may block,
// run on a pool, so the test thread may make blocking calls.
#pragma once

#include "socket_pairs.hpp"

#include <bsonrpc/executor/event_loop.hpp>
#include <bsonrpc/options.hpp>
#include <bsonrpc/rpc.hpp>

#include <asio.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <thread>
#include <type_traits>
#include <utility>

namespace bsonrpc::test {

// The Setup of an Rpc over TCP: with EventLoop, rpc_pair runs the loop and a handler pool.
template <class Rpc>
struct tcp_setup {
  using rpc = Rpc;
  using transport = tcp_transport;
  static constexpr bool event_loop =
      std::is_same_v<typename Rpc::executor_policy, bsonrpc::EventLoop>;
};

// The four Setups over TCP that most socket tests run: each codec with each executor. A test
// file brings them into its own namespace with a using-directive, so that its test names read
// `ns::json_threads` and so on.
namespace tcp_setups {
using json_threads = tcp_setup<bsonrpc::JsonRpc<bsonrpc::Rfc7464, bsonrpc::Threads>>;
using json_loop = tcp_setup<bsonrpc::JsonRpc<bsonrpc::Rfc7464, bsonrpc::EventLoop>>;
using bson_threads = tcp_setup<bsonrpc::BsonRpc<bsonrpc::Threads>>;
using bson_loop = tcp_setup<bsonrpc::BsonRpc<bsonrpc::EventLoop>>;
}  // namespace tcp_setups

template <class Setup, class Services>
struct rpc_pair {
  Services server_services;
  Services client_services;
  asio::thread_pool handler_pool{8};
  asio::io_context io;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::thread loop_thread;
  std::unique_ptr<typename Setup::rpc> server;
  std::unique_ptr<typename Setup::rpc> client;

  explicit rpc_pair(bsonrpc::Options options = {}) {
    auto [s, c] = Setup::transport::connect(io);
    if constexpr (Setup::event_loop) {
      options.handler_runner = [this](std::function<void()> task) {
        asio::post(handler_pool, std::move(task));
      };
      work.emplace(io.get_executor());
      loop_thread = std::thread([this] { io.run(); });
    }
    server = std::make_unique<typename Setup::rpc>(std::move(s), server_services, options);
    client = std::make_unique<typename Setup::rpc>(std::move(c), client_services, options);
  }

  ~rpc_pair() {
    client.reset();
    server.reset();
    work.reset();
    if (loop_thread.joinable()) loop_thread.join();
    handler_pool.join();
  }
};

}  // namespace bsonrpc::test
