// Must not compile: Calculator was never registered with BSONRPC_SERVICE.
// Expected first error: "add_service: register the class with BSONRPC_SERVICE first".
#include <bsonrpc/codec/json.hpp>
#include <bsonrpc/dispatcher.hpp>

namespace demo {

struct Calculator {
  int add(int a, int b) const { return a + b; }
};

}  // namespace demo

int main() {
  demo::Calculator calculator;
  bsonrpc::dispatcher<bsonrpc::JsonCodec> dispatcher;
  dispatcher.add_service(calculator);
}
