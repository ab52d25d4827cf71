// Quickstart, minimal example, client side: the C++ twin of the original README's client.
//   quickstart-client [PORT [HOST]]     (default 6000 127.0.0.1)
#include <bsonrpc/bsonrpc.hpp>

#include <iostream>
#include <string>

int main(int argc, char** argv) {
  const auto port = static_cast<unsigned short>(argc > 1 ? std::stoi(argv[1]) : 6000);
  const auto host = asio::ip::make_address(argc > 2 ? argv[2] : "127.0.0.1");

  // Cut-the-corners TCP client:
  asio::io_context io;
  asio::ip::tcp::socket socket(io);
  socket.connect({host, port});

  bsonrpc::JsonRpc<> rpc(std::move(socket));
  auto server = rpc.peer();
  // Execute in server:
  auto result = server["swapper"].call<std::string>("Hello World!");
  std::cout << result << std::endl;  // "!dlroW olleH"
  rpc.close();  // closes the socket too
}
