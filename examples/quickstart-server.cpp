// Quickstart, minimal example, server side: the C++ twin of the original README's server.
//   quickstart-server [PORT [HOST]]     (default 6000 127.0.0.1; port 0 picks a free one)
#include <bsonrpc/bsonrpc.hpp>

#include <iostream>
#include <list>
#include <string>

// Class providing functions for the client to use:
struct ServerServices {
  std::string swapper(const std::string& txt) { return {txt.rbegin(), txt.rend()}; }
};
BSONRPC_SERVICE(ServerServices, BSONRPC_REQUEST(swapper, txt))

int main(int argc, char** argv) {
  const auto port = static_cast<unsigned short>(argc > 1 ? std::stoi(argv[1]) : 6000);
  const auto host = asio::ip::make_address(argc > 2 ? argv[2] : "127.0.0.1");

  // Quick-and-dirty TCP server:
  asio::io_context io;  // each connection's own thread drives it
  asio::ip::tcp::acceptor acceptor(io, {host, port});
  std::cout << "listening on " << acceptor.local_endpoint() << std::endl;

  ServerServices services;
  std::list<bsonrpc::JsonRpc<>> connections;
  while (true) {
    // The JsonRpc object spawns an internal thread to serve the connection.
    connections.emplace_back(acceptor.accept(), services);
    connections.remove_if([](auto& rpc) { return rpc.is_closed(); });  // forget finished ones
  }
}
