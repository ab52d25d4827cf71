// Control for the compile-fail tests: every service macro used correctly, compiled exactly as
// the rejected programs are. It must compile, or their rejections prove nothing.
#include <bsonrpc/codec/json.hpp>
#include <bsonrpc/dispatcher.hpp>
#include <bsonrpc/interface.hpp>

#include <string>

namespace demo {

struct Calculator {
  int add(int a, int b) const { return a + b; }
  void log(const std::string& line) { last_line = line; }
  int scale(bsonrpc::Context&, int a) { return 2 * a; }
  void ping(bsonrpc::Context&) {}
  std::string last_line;
};

BSONRPC_SERVICE(Calculator,
  BSONRPC_REQUEST(add, a, b),
  BSONRPC_NOTIFICATION(log, line),
  BSONRPC_RPC_REQUEST(scale, a),
  BSONRPC_RPC_NOTIFICATION(ping))

BSONRPC_INTERFACE(AdderApi,
  BSONRPC_CALL(add, int(int a, int b)),
  BSONRPC_NOTIFY(log, void(const std::string& line)))

struct Adder {
  int add(bsonrpc::Context&, int a, int b) const { return a + b; }
  void log(std::string) {}
};

BSONRPC_IMPLEMENTS(Adder, AdderApi)

}  // namespace demo

int main() {
  demo::Calculator calculator;
  bsonrpc::dispatcher<bsonrpc::JsonCodec> dispatcher;
  dispatcher.add_service(calculator);
  demo::Adder adder;
  dispatcher.add_service(adder);
}
