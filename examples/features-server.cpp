// Quickstart, "example with more features", server side: the C++ twin of the original README's.
//   features-server [PORT [HOST]]       (default 6000 127.0.0.1; port 0 picks a free one)
#include <bsonrpc/bsonrpc.hpp>

#include <any>
#include <iostream>
#include <list>
#include <sstream>
#include <string>

struct ServerServices {
  std::string echo_times(const std::string& txt, int n) {
    std::string out;
    for (int i = 0; i < n; ++i) out += txt;
    return out;
  }

  int long_process(bsonrpc::Context& rpc, int a, int b, int c) {
    std::cout << std::any_cast<std::string>(rpc.client_info()) << std::endl;
    // 2 ways to send notifications:
    rpc.notify("report_progress", "Stage 1");
    auto client = rpc.peer();
    client.n["report_progress"]("Stage 2");
    // Make a request to client, why not:
    auto result = client["swapper"].call<std::string>("TestinG");
    std::cout << result << std::endl;  // -> "GnitseT"
    return a * b * c;
  }
};
BSONRPC_SERVICE(ServerServices,
                BSONRPC_REQUEST(echo_times, txt, n),
                BSONRPC_RPC_REQUEST(long_process, a, b, c))

int main(int argc, char** argv) {
  const auto port = static_cast<unsigned short>(argc > 1 ? std::stoi(argv[1]) : 6000);
  const auto host = asio::ip::make_address(argc > 2 ? argv[2] : "127.0.0.1");

  // Quick-and-dirty TCP server:
  asio::io_context io;  // each connection's own thread drives it
  asio::ip::tcp::acceptor acceptor(io, {host, port});
  std::cout << "listening on " << acceptor.local_endpoint() << std::endl;

  ServerServices services;
  bsonrpc::Options options;
  options.max_concurrent_requests = 16;  // request handlers running at once, per connection
  std::list<bsonrpc::JsonRpc<>> connections;
  while (true) {
    asio::ip::tcp::endpoint addr;
    auto s = acceptor.accept(addr);
    std::ostringstream client_info;
    client_info << addr;
    connections.emplace_back(std::move(s), services, options, client_info.str());
    connections.remove_if([](auto& rpc) { return rpc.is_closed(); });  // forget finished ones
  }
}
