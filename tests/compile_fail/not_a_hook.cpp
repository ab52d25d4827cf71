// Must not compile: a hook takes bsonrpc::hook_message<V>&, not the raw bytes.
// Expected first error: "... a hook is a callable taking bsonrpc::hook_message<V>& ...".
#include <bsonrpc/options.hpp>

#include <string_view>

int main() {
  bsonrpc::Options options;
  options.hooks.push_back([](std::string_view) {});
}
