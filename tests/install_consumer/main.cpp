// Serves one JSON-RPC request through an installed bsonrpc and checks the reply.
// Exits non-zero on any mismatch.
#include <bsonrpc/bsonrpc.hpp>

#include <nlohmann/json.hpp>

#include <any>
#include <cstdint>
#include <iostream>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace demo {

struct Calculator {
  int subtract(int minuend, int subtrahend) const { return minuend - subtrahend; }
};

BSONRPC_SERVICE(Calculator, BSONRPC_REQUEST(subtract, minuend, subtrahend))

}  // namespace demo

namespace {

// Whether `request` gets exactly `expected` as its reply.
bool answers(bsonrpc::dispatcher<bsonrpc::JsonCodec>& dispatcher, const std::string& request,
             const nlohmann::json& expected) {
  std::string out;
  if (!dispatcher.handle(request, out)) {
    std::cerr << "no reply to " << request << '\n';
    return false;
  }
  const auto reply = nlohmann::json::parse(out, nullptr, /*allow_exceptions=*/false);
  if (reply != expected) {
    std::cerr << "request:  " << request << "\nreply:    " << out
              << "\nexpected: " << expected.dump() << '\n';
    return false;
  }
  return true;
}

}  // namespace

int main() {
  demo::Calculator calculator;
  bsonrpc::dispatcher<bsonrpc::JsonCodec> dispatcher;
  dispatcher.add_service(calculator);

  const bool ok =
      answers(dispatcher, R"({"jsonrpc":"2.0","method":"subtract","params":[42,23],"id":1})",
              {{"jsonrpc", "2.0"}, {"result", 19}, {"id", 1}}) &&
      answers(dispatcher,
              R"({"jsonrpc":"2.0","method":"subtract","params":{"subtrahend":23,"minuend":42},"id":2})",
              {{"jsonrpc", "2.0"}, {"result", 19}, {"id", 2}});
  if (!ok) return 1;
  std::cout << "bsonrpc from the install prefix answered both requests correctly\n";
  return 0;
}
