// Quickstart, "example with more features", client side: the C++ twin of the original README's.
//   features-client [PORT [HOST]]       (default 6000 127.0.0.1)
#include <bsonrpc/bsonrpc.hpp>

#include <iostream>
#include <string>

struct ClientServices {
  std::string swapper(const std::string& txt) { return {txt.rbegin(), txt.rend()}; }

  void report_progress(const std::string& txt) {
    std::cout << "Msg from server: " << txt << std::endl;
  }
};
BSONRPC_SERVICE(ClientServices,
                BSONRPC_REQUEST(swapper, txt),
                BSONRPC_NOTIFICATION(report_progress, txt))

int main(int argc, char** argv) {
  const auto port = static_cast<unsigned short>(argc > 1 ? std::stoi(argv[1]) : 6000);
  const auto host = asio::ip::make_address(argc > 2 ? argv[2] : "127.0.0.1");

  // Cut-the-corners TCP client:
  asio::io_context io;
  asio::ip::tcp::socket socket(io);
  socket.connect({host, port});

  ClientServices services;
  bsonrpc::JsonRpc<> rpc(std::move(socket), services);
  // Batch call:
  bsonrpc::Batch bb;
  bb.request("echo_times", "-hello-", 2).request("echo_times", "-world-", 1);
  auto batch_result = rpc.batch_call(bb);
  for (std::size_t i = 0; i < batch_result.size(); ++i)
    std::cout << (i ? ", '" : "['") << batch_result[i].get<std::string>() << "'";
  std::cout << "]" << std::endl;  // -> ['-hello--hello-', '-world-']
  auto server = rpc.peer();
  std::cout << server["long_process"].call<int>(2, 3, 4) << std::endl;
  // -> Msg from server: Stage 1
  // -> Msg from server: Stage 2
  // -> 24
  rpc.close();  // closes the socket too
}
