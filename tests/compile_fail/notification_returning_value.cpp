// Must not compile: `log` returns a value, but nobody receives a notification's result.
// Expected first error: "BSONRPC_NOTIFICATION: a notification handler returns void ...".
#include <bsonrpc/codec/json.hpp>
#include <bsonrpc/dispatcher.hpp>

#include <string>

namespace demo {

struct Calculator {
  bool log(const std::string& line) { return !line.empty(); }
};

BSONRPC_SERVICE(Calculator,
  BSONRPC_NOTIFICATION(log, line))

}  // namespace demo

int main() {
  demo::Calculator calculator;
  bsonrpc::dispatcher<bsonrpc::JsonCodec> dispatcher;
  dispatcher.add_service(calculator);
}
