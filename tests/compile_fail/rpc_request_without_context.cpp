// Must not compile: BSONRPC_RPC_REQUEST passes a bsonrpc::Context& first, but `scale` takes an
// int first.
// Expected first error: "... the member's first parameter must be bsonrpc::Context&".
#include <bsonrpc/codec/json.hpp>
#include <bsonrpc/dispatcher.hpp>

namespace demo {

struct Calculator {
  int scale(int a, int factor) { return a * factor; }
};

BSONRPC_SERVICE(Calculator,
  BSONRPC_RPC_REQUEST(scale, a, factor))

}  // namespace demo

int main() {
  demo::Calculator calculator;
  bsonrpc::dispatcher<bsonrpc::JsonCodec> dispatcher;
  dispatcher.add_service(calculator);
}
