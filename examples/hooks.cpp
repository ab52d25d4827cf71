// Message hooks: a server that times every call (bsonrpc::hooks::metrics), refuses requests
// without the right token before they are dispatched (a hook of our own), and serves only the
// methods it lists (bsonrpc::hooks::allow_methods); a client whose hook stamps the token on
// every call it makes. One process, two clients: one with the token, one without.
#include <bsonrpc/bsonrpc.hpp>

#include <iostream>
#include <string>

struct Calculator {
  int add(int a, int b) const { return a + b; }
  void shutdown() const {}  // registered, but not in the list of allowed methods
};
BSONRPC_SERVICE(Calculator, BSONRPC_REQUEST(add, a, b), BSONRPC_REQUEST(shutdown))

// Server side: a request must carry "auth": <token>, else it gets -32001 and never runs.
struct require_token {
  std::string token;
  template <class V>
  void operator()(bsonrpc::hook_message<V>& m) const {
    using traits = bsonrpc::value_traits<V>;
    if (!m.is_incoming() || m.kind() != bsonrpc::hook_kind::request) return;
    const V* auth = traits::find(m.value(), "auth");
    if (!auth || !traits::is_string(*auth) || traits::as_string(*auth) != token)
      m.reject(-32001, "Unauthorized");
  }
};

// Client side: stamps the token on each request this side sends.
struct send_token {
  std::string token;
  template <class V>
  void operator()(bsonrpc::hook_message<V>& m) const {
    using traits = bsonrpc::value_traits<V>;
    if (m.is_incoming() || m.kind() != bsonrpc::hook_kind::request) return;
    traits::add_member(m.value(), "auth", traits::make_string(token));
  }
};

// Prints add's sum, or the error a call met.
void try_call(bsonrpc::JsonRpc<>& rpc, const std::string& method) {
  try {
    if (method == "add") {
      const int sum = rpc.call<int>("add", 2, 3);
      std::cout << "add: " << sum << "\n";
    } else {
      rpc.call<void>(method);
      std::cout << method << ": done\n";
    }
  } catch (const bsonrpc::rpc_error& e) {
    std::cout << method << ": " << e.code_value() << " " << e.message() << "\n";
  }
}

int main() {
  asio::io_context io;
  asio::ip::tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
  asio::ip::tcp::socket alice_socket(io);
  alice_socket.connect(acceptor.local_endpoint());
  asio::ip::tcp::socket mallory_socket(io);
  mallory_socket.connect(acceptor.local_endpoint());

  // First the metrics, so that they count the refused requests too; copies share one table.
  bsonrpc::hooks::metrics metrics;
  bsonrpc::Options server_options;
  server_options.hooks = {metrics, require_token{"s3cret"},
                          bsonrpc::hooks::allow_methods({"add"})};
  Calculator calculator;
  bsonrpc::JsonRpc<> alice_server(acceptor.accept(), calculator, server_options);
  bsonrpc::JsonRpc<> mallory_server(acceptor.accept(), calculator, server_options);

  bsonrpc::Options alice_options;
  alice_options.hooks = {send_token{"s3cret"}};
  bsonrpc::JsonRpc<> alice(std::move(alice_socket), alice_options);
  bsonrpc::JsonRpc<> mallory(std::move(mallory_socket));

  try_call(alice, "add");         // add: 5
  try_call(alice, "shutdown");    // shutdown: -32601 Method not found
  try_call(mallory, "add");       // add: -32001 Unauthorized
  try_call(mallory, "shutdown");  // shutdown: -32001 Unauthorized

  for (const auto& [method, stats] : metrics.snapshot()) {
    std::cout << method << ": " << stats.calls << " calls, " << stats.errors << " errors";
    if (auto p99 = stats.latency.quantile(0.99)) std::cout << ", 99% within " << p99->count() << " us";
    std::cout << "\n";
  }
  // add: 2 calls, 1 errors, 99% within ... us
  // shutdown: 2 calls, 2 errors, 99% within ... us
}
