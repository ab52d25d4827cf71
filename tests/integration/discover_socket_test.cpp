// rpc.discover over real sockets, with both executors and both codecs: the document reaches
// the client whole, and describes methods registered on the running connection too.
#include <bsonrpc/bsonrpc.hpp>

#include "../support/rpc_pair.hpp"
#include "../support/socket_pairs.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace discsock {

struct node {
  std::string name;
  std::vector<node> children;
  std::optional<std::uint16_t> weight;
};
BSONRPC_DEFINE_TYPE(node, name, children, weight)

struct Tree {
  std::size_t count(const node& root) const {
    std::size_t n = 1;
    for (const auto& c : root.children) n += count(c);
    return n;
  }
  void log(const std::string&) {}
};
BSONRPC_SERVICE(Tree, BSONRPC_REQUEST(count, root), BSONRPC_NOTIFICATION(log, line))

using namespace bsonrpc::test::tcp_setups;  // json_threads, json_loop, bson_threads, bson_loop

bsonrpc::Options discovering() {
  bsonrpc::Options options;
  options.discover = bsonrpc::discover_info{"trees", "1.0.0", "Counts nodes."};
  return options;
}

}  // namespace discsock

TEMPLATE_TEST_CASE("discover: over a socket, a client gets the OpenRPC document of the "
                   "server's methods",
                   "[discover][integration]", discsock::json_threads, discsock::json_loop,
                   discsock::bson_threads, discsock::bson_loop) {
  bsonrpc::test::rpc_pair<TestType, discsock::Tree> p(discsock::discovering());
  p.server->add_request("sum", [](std::int64_t a, std::optional<std::int64_t> b) {
    return a + b.value_or(0);
  }, {"a", "b"});
  const auto doc = p.client->template call<nlohmann::json>("rpc.discover");

  CHECK(doc.at("openrpc") == "1.2.6");
  CHECK(doc.at("info") ==
        nlohmann::json{{"title", "trees"}, {"version", "1.0.0"}, {"description", "Counts nodes."}});
  std::vector<std::string> names;
  for (const auto& m : doc.at("methods")) names.push_back(m.at("name"));
  CHECK(names == std::vector<std::string>{"rpc.discover", "count", "log", "sum"});
  const auto& count = doc.at("methods").at(1);
  CHECK(count.at("params").at(0).at("name") == "root");
  CHECK(count.at("params").at(0).at("schema") ==
        nlohmann::json{{"$ref", "#/components/schemas/node"}});
  const auto& node = doc.at("components").at("schemas").at("node");
  CHECK(node.at("properties").at("children").at("items") ==
        nlohmann::json{{"$ref", "#/components/schemas/node"}});
  CHECK(node.at("properties").at("weight").at("anyOf").at(0).at("maximum") == 65535);
  CHECK(node.at("required") == nlohmann::json{"name", "children"});
  CHECK(doc.at("methods").at(2).at("x-notification") == true);
  CHECK(doc.at("methods").at(3).at("params").at(1).at("required") == false);

  // The document is a result like any other: the connection goes on.
  CHECK(p.client->template call<std::size_t>(
            "count", discsock::node{"a", {discsock::node{"b", {}, 3}}, std::nullopt}) == 2);
}

TEMPLATE_TEST_CASE("discover: over a socket, a server without Options::discover answers "
                   "rpc.discover with Method not found",
                   "[discover][integration]", discsock::json_threads, discsock::bson_loop) {
  bsonrpc::test::rpc_pair<TestType, discsock::Tree> p;
  CHECK_THROWS_AS(p.client->template call<nlohmann::json>("rpc.discover"),
                  bsonrpc::method_not_found);
}
