// Must not compile: its only fault is a warning (an unused parameter), so this checks that the
// compile-fail and header harnesses really compile with -Wextra -Werror.
// Expected first error: "unused parameter 'b' [-Werror=unused-parameter]".
#include <bsonrpc/codec/json.hpp>
#include <bsonrpc/dispatcher.hpp>

namespace demo {

struct Calculator {
  int add(int a, int b) const { return a; }
};

BSONRPC_SERVICE(Calculator,
  BSONRPC_REQUEST(add, a, b))

}  // namespace demo

int main() {
  demo::Calculator calculator;
  bsonrpc::dispatcher<bsonrpc::JsonCodec> dispatcher;
  dispatcher.add_service(calculator);
}
