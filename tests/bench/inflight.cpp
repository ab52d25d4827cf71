// Benchmark (not a test): calls per second on one loopback TCP connection with K calls in
// flight, client and server in this process, each on its own thread.
//   inflight [--executor asio|threads] [--codec json|bson] [--inflight K] [--calls N]
// The payload is a 100-byte string echoed back.
#include <bsonrpc/bsonrpc.hpp>

#include <atomic>
#include <chrono>
#include <cstring>
#include <functional>
#include <future>
#include <iostream>
#include <string>
#include <thread>

namespace {

struct Echo {
  bsonrpc::any_value echo(const bsonrpc::any_value& v) const { return v; }
};
BSONRPC_SERVICE(Echo, BSONRPC_REQUEST(echo, value))

template <class Rpc>
double run(int inflight, int calls) {
  asio::io_context server_io, client_io;
  asio::ip::tcp::acceptor acceptor(server_io, {asio::ip::make_address("127.0.0.1"), 0});
  asio::ip::tcp::socket client_socket(client_io);
  client_socket.connect(acceptor.local_endpoint());
  auto server_socket = acceptor.accept();
  client_socket.set_option(asio::ip::tcp::no_delay(true));
  server_socket.set_option(asio::ip::tcp::no_delay(true));
  Echo echo;
  bsonrpc::Options options;
  options.max_concurrent_requests = 2;
  Rpc server(std::move(server_socket), echo, options);
  Rpc client(std::move(client_socket), options);
  constexpr bool loop = std::is_same_v<typename Rpc::executor_policy, bsonrpc::EventLoop>;
  auto server_work = asio::make_work_guard(server_io);
  auto client_work = asio::make_work_guard(client_io);
  std::thread server_thread, client_thread;
  if constexpr (loop) {
    server_thread = std::thread([&] { server_io.run(); });
    client_thread = std::thread([&] { client_io.run(); });
  }
  const std::string payload(100, 'x');
  std::atomic<int> issued{0}, done{0};
  std::promise<void> finished;
  std::function<void()> issue = [&] {
    if (issued.fetch_add(1) >= calls) return;
    client.template async_call<std::string>("echo", payload, [&](std::error_code ec, std::string r) {
      if (ec || r.size() != payload.size()) std::cerr << "bad reply: " << ec.message() << "\n";
      if (done.fetch_add(1) + 1 == calls) finished.set_value();
      else issue();
    });
  };
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < inflight; ++i) issue();
  finished.get_future().wait();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  client.close();
  server.close();
  server_work.reset();
  client_work.reset();
  if (server_thread.joinable()) server_thread.join();
  if (client_thread.joinable()) client_thread.join();
  return calls / seconds;
}

}  // namespace

int main(int argc, char** argv) {
  std::string executor = "asio", codec = "json";
  int inflight = 64, calls = 200000;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--executor")) executor = argv[i + 1];
    else if (!std::strcmp(argv[i], "--codec")) codec = argv[i + 1];
    else if (!std::strcmp(argv[i], "--inflight")) inflight = std::stoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--calls")) calls = std::stoi(argv[i + 1]);
  }
  double rate = 0;
  using bsonrpc::EventLoop;
  using bsonrpc::Threads;
  if (codec == "bson")
    rate = executor == "threads" ? run<bsonrpc::BsonRpc<Threads>>(inflight, calls)
                                 : run<bsonrpc::BsonRpc<EventLoop>>(inflight, calls);
  else
    rate = executor == "threads" ? run<bsonrpc::JsonRpc<bsonrpc::Rfc7464, Threads>>(inflight, calls)
                                 : run<bsonrpc::JsonRpc<bsonrpc::Rfc7464, EventLoop>>(inflight, calls);
  std::cout << executor << " " << codec << " inflight=" << inflight << ": " << static_cast<long>(rate)
            << " calls/s\n";
}
