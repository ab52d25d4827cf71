// Must not compile: `add` takes two parameters but BSONRPC_REQUEST names three.
// Expected first error: "... list one name for each parameter of the member ...".
#include <bsonrpc/codec/json.hpp>
#include <bsonrpc/dispatcher.hpp>

namespace demo {

struct Calculator {
  int add(int a, int b) const { return a + b; }
};

BSONRPC_SERVICE(Calculator,
  BSONRPC_REQUEST(add, a, b, c))

}  // namespace demo

int main() {
  demo::Calculator calculator;
  bsonrpc::dispatcher<bsonrpc::JsonCodec> dispatcher;
  dispatcher.add_service(calculator);
}
