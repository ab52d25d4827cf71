// Benchmark (not a test): memory held per idle server-side connection.
//   idle_connections [--executor asio|threads] [--connections N]
// A child process opens N raw client sockets; this process accepts them, holds an Rpc for
// each, and reports the growth of its resident set per connection.
#include <bsonrpc/bsonrpc.hpp>

#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

namespace {

struct Echo {
  bsonrpc::any_value echo(const bsonrpc::any_value& v) const { return v; }
};
BSONRPC_SERVICE(Echo, BSONRPC_REQUEST(echo, value))

long resident_kib() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  return -1;
}

// Opens `connections` client sockets from a child process (so this process holds only the
// server side) and keeps them open until the child is killed.
pid_t spawn_clients(const asio::ip::tcp::endpoint& server, std::size_t connections, int ready_fd) {
  const pid_t child = ::fork();
  if (child != 0) return child;
  asio::io_context io;
  std::vector<asio::ip::tcp::socket> clients;
  clients.reserve(connections);
  for (std::size_t i = 0; i < connections; ++i) clients.emplace_back(io).connect(server);
  const char done = 1;
  if (::write(ready_fd, &done, 1) != 1) std::_Exit(1);
  ::pause();
  std::_Exit(0);
}

template <class Rpc>
int run(std::size_t connections) {
  asio::io_context io;
  asio::ip::tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
  acceptor.listen(4096);
  Echo echo;
  bsonrpc::connection_set<Rpc> servers;
  int ready[2];
  if (::pipe(ready) != 0) return 1;
  // Warm up allocators and code paths with one connection, then measure the rest.
  const pid_t warmup = spawn_clients(acceptor.local_endpoint(), 1, ready[1]);
  servers.add(acceptor.accept(), echo);
  char byte = 0;
  if (::read(ready[0], &byte, 1) != 1) return 1;
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const long before = resident_kib();
  const pid_t child = spawn_clients(acceptor.local_endpoint(), connections, ready[1]);
  for (std::size_t i = 0; i < connections; ++i) servers.add(acceptor.accept(), echo);
  if (::read(ready[0], &byte, 1) != 1) return 1;
  std::thread loop;
  if constexpr (std::is_same_v<typename Rpc::executor_policy, bsonrpc::EventLoop>)
    loop = std::thread([&] { io.run_for(std::chrono::seconds(2)); });
  std::this_thread::sleep_for(std::chrono::seconds(1));
  const long after = resident_kib();
  std::cout << "server-side connections: " << servers.size() << "\n"
            << "rss before: " << before << " KiB, after: " << after << " KiB\n"
            << "per idle connection: "
            << static_cast<double>(after - before) / static_cast<double>(connections)
            << " KiB\n";
  if (loop.joinable()) loop.join();
  ::kill(child, SIGKILL);
  ::kill(warmup, SIGKILL);
  ::waitpid(child, nullptr, 0);
  ::waitpid(warmup, nullptr, 0);
  servers.close_all();
  io.restart();
  io.run_for(std::chrono::seconds(1));
  servers.clear();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string executor = "asio";
  std::size_t connections = 10000;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--executor")) executor = argv[i + 1];
    else if (!std::strcmp(argv[i], "--connections")) connections = std::stoul(argv[i + 1]);
  }
  rlimit limit{};
  getrlimit(RLIMIT_NOFILE, &limit);
  limit.rlim_cur = limit.rlim_max;
  setrlimit(RLIMIT_NOFILE, &limit);
  if (limit.rlim_cur < connections + 64) {
    std::cerr << "descriptor limit " << limit.rlim_cur << " is too low\n";
    return 1;
  }
  std::cout << "executor: " << executor << "\n";
  if (executor == "threads") return run<bsonrpc::JsonRpc<bsonrpc::Rfc7464, bsonrpc::Threads>>(connections);
  return run<bsonrpc::JsonRpc<bsonrpc::Rfc7464, bsonrpc::EventLoop>>(connections);
}
