// A codec of the user's own: JSON-RPC messages as CBOR (RFC 8949) through nlohmann's CBOR
// reader and writer. It reuses nlohmann::json as its value type, so value_traits and the
// converters already exist; the dispatcher and Rpc need nothing else.
#include <bsonrpc/bsonrpc.hpp>

#include "support/socket_pairs.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <string>

namespace custom {

struct CborCodec {
  using value_type = nlohmann::json;
  static constexpr std::string_view protocol_key = "jsonrpc";
  static constexpr bool supports_batches = true;

  static value_type decode(std::string_view bytes, const bsonrpc::decode_limits& = {}) {
    try {
      return value_type::from_cbor(bytes.begin(), bytes.end());
    } catch (const nlohmann::json::exception& e) {
      throw bsonrpc::decoding_error(e.what());
    }
  }
  static void encode(const value_type& message, std::string& out) {
    try {
      value_type::to_cbor(message, nlohmann::detail::output_adapter<char, std::string>(out));
    } catch (const nlohmann::json::exception& e) {
      throw bsonrpc::encoding_error(e.what());
    }
  }
};

struct Math {
  int add(int a, int b) const { return a + b; }
};
BSONRPC_SERVICE(Math, BSONRPC_REQUEST(add, a, b))

std::string cbor(const nlohmann::json& j) {
  std::string out;
  CborCodec::encode(j, out);
  return out;
}

}  // namespace custom

TEST_CASE("custom codec: a user's CBOR codec drives the dispatcher", "[codec][custom]") {
  custom::Math math;
  bsonrpc::dispatcher<custom::CborCodec> engine;
  engine.add_service(math);
  std::string out;
  REQUIRE(engine.handle(custom::cbor({{"jsonrpc", "2.0"}, {"method", "add"}, {"params", {1, 2}}, {"id", 7}}), out));
  CHECK(custom::CborCodec::decode(out) == nlohmann::json({{"jsonrpc", "2.0"}, {"result", 3}, {"id", 7}}));
  out.clear();
  REQUIRE(engine.handle(std::string("\xff\x00", 2), out));
  CHECK(custom::CborCodec::decode(out)["error"]["code"] == -32700);
}

TEST_CASE("custom codec: Rpc carries a user's codec over a real socket", "[codec][custom][integration]") {
  asio::io_context io;
  auto [s, c] = bsonrpc::test::tcp_transport::connect(io);
  custom::Math math;
  bsonrpc::Rpc<custom::CborCodec, bsonrpc::Netstring> server(std::move(s), math);
  bsonrpc::Rpc<custom::CborCodec, bsonrpc::Netstring> client(std::move(c));
  CHECK(client.call<int>("add", 20, 22) == 42);
  bsonrpc::Batch batch;
  batch.request("add", 1, 1).request("add", 2, 2);
  auto results = client.batch_call(batch);
  REQUIRE(results.size() == 2);
  CHECK(results[1].get<int>() == 4);
}

TEST_CASE("messages: calls without arguments present params as configured", "[messages]") {
  using bsonrpc::no_arguments;
  const nlohmann::json id = 1;
  auto request = [&](no_arguments presentation) {
    return bsonrpc::detail::make_request<bsonrpc::JsonCodec>("ping", nullptr, &id, presentation);
  };
  CHECK_FALSE(request(no_arguments::omit).contains("params"));
  CHECK(request(no_arguments::empty_array)["params"] == nlohmann::json::array());
  CHECK(request(no_arguments::empty_object)["params"] == nlohmann::json::object());
  const auto notification =
      bsonrpc::detail::make_request<bsonrpc::JsonCodec>("ping", nullptr, nullptr, no_arguments::omit);
  CHECK(notification == nlohmann::json({{"jsonrpc", "2.0"}, {"method", "ping"}}));
}

TEST_CASE("log: the filter rewrites every line before the sink sees it", "[log]") {
  std::vector<std::string> lines;
  bsonrpc::logger log(
      [&](bsonrpc::log_level, std::uint64_t id, std::string_view line) {
        lines.push_back(std::to_string(id) + " " + std::string(line));
      },
      [](bsonrpc::log_level, std::string_view line) {
        std::string redacted(line);
        for (auto at = redacted.find("hunter2"); at != std::string::npos; at = redacted.find("hunter2"))
          redacted.replace(at, 7, "***");
        return redacted;
      },
      9);
  custom::Math math;
  bsonrpc::dispatcher<bsonrpc::JsonCodec> engine({}, log);
  engine.add_service(math);
  std::string out;
  engine.handle(R"({"jsonrpc":"2.0","method":"login_hunter2","id":1})", out);
  REQUIRE_FALSE(lines.empty());
  for (const auto& line : lines) CHECK(line.find("hunter2") == std::string::npos);
  CHECK(lines.front().rfind("9 ", 0) == 0);
}
