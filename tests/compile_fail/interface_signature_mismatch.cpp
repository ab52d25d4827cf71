// Must not compile: Calculator declares add as int(int a, int b), but the implementing class's
// add returns a std::string.
// Expected first error: "BSONRPC_IMPLEMENTS: the member's result type differs from the
// interface's declaration ...".
#include <bsonrpc/codec/json.hpp>
#include <bsonrpc/dispatcher.hpp>
#include <bsonrpc/interface.hpp>

#include <string>

namespace demo {

BSONRPC_INTERFACE(Calculator,
  BSONRPC_CALL(add, int(int a, int b)))

struct Adder {
  std::string add(int a, int b) const { return std::to_string(a + b); }
};

BSONRPC_IMPLEMENTS(Adder, Calculator)

}  // namespace demo

int main() {
  demo::Adder adder;
  bsonrpc::dispatcher<bsonrpc::JsonCodec> dispatcher;
  dispatcher.add_service(adder);
}
