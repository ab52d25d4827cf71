// Must not compile: BSONRPC_REQUEST names `subtract`, which Calculator does not have.
// Expected first error: "'subtract' is not a member of 'demo::Calculator'".
#include <bsonrpc/codec/json.hpp>
#include <bsonrpc/dispatcher.hpp>

namespace demo {

struct Calculator {
  int add(int a, int b) const { return a + b; }
};

BSONRPC_SERVICE(Calculator,
  BSONRPC_REQUEST(subtract, a, b))

}  // namespace demo

int main() {
  demo::Calculator calculator;
  bsonrpc::dispatcher<bsonrpc::JsonCodec> dispatcher;
  dispatcher.add_service(calculator);
}
