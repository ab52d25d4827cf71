// mcp-stdio-server: a Model Context Protocol server. An AI client starts it as a child process
// and speaks JSON-RPC to it over its stdin and stdout, one JSON text per line (NDJSON).
//   mcp-stdio-server [--verbose]     (--verbose: the library's log lines on stderr)
//
// It answers initialize (negotiating the protocol version, announcing its tools), ping,
// tools/list and tools/call, and takes notifications/initialized. Its tools:
//   echo {text}  answers the text;
//   add {a, b}   answers the sum;
//   sleep {ms}   answers "slept MS" after MS milliseconds; it reports progress every 100 ms
//                when the call carries a progress token, and stops when the client cancels.
// Arguments that do not fit a tool's input schema, and unknown tools, get a JSON-RPC error
// (-32602), as the MCP specification lists them among protocol errors; a tool that runs and
// fails (sleep beyond a minute) answers a result with isError. Closing its stdin ends it.
// Only the protocol may go to stdout: anything else printed there would corrupt the stream.
//
// Every method is registered under its MCP name with .as(...), and takes its params object
// whole (by object): no hook rewrites a message. Options::protocol = mcp() makes the connection
// honour notifications/cancelled (a cancelled call gets no reply) and send
// notifications/progress under the call's _meta.progressToken.
#include <bsonrpc/bsonrpc.hpp>
#include <bsonrpc/define_type.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

using json = nlohmann::json;

struct initialize_params {
  std::string protocolVersion;
};
BSONRPC_DEFINE_TYPE(initialize_params, protocolVersion)

struct call_params {
  std::string name;
  std::optional<json> arguments;
};
BSONRPC_DEFINE_TYPE(call_params, name, arguments)

struct echo_arguments {
  std::string text;
};
BSONRPC_DEFINE_TYPE(echo_arguments, text)

struct add_arguments {
  double a = 0;
  double b = 0;
};
BSONRPC_DEFINE_TYPE(add_arguments, a, b)

struct sleep_arguments {
  std::int64_t ms = 0;
};
BSONRPC_DEFINE_TYPE(sleep_arguments, ms)

class mcp_server {
 public:
  // The client's version if this server speaks it, else the newest this server speaks (the
  // client then decides whether to go on).
  json initialize(const initialize_params& params) const {
    static constexpr std::array<std::string_view, 4> spoken{"2025-11-25", "2025-06-18",
                                                            "2025-03-26", "2024-11-05"};
    const bool known =
        std::find(spoken.begin(), spoken.end(), params.protocolVersion) != spoken.end();
    return {{"protocolVersion", known ? params.protocolVersion : std::string(spoken.front())},
            {"capabilities", {{"tools", {{"listChanged", false}}}}},
            {"serverInfo", {{"name", "bsonrpc-mcp-stdio-server"}, {"version", "1.0.0"}}}};
  }

  // ping and notifications/initialized may come with params ({} or _meta) or without.
  json ping(const std::optional<json>&) const { return json::object(); }
  void initialized(const std::optional<json>&) {}

  json list_tools(const std::optional<json>&) const {
    auto object = [](json properties, json required) {
      return json{{"type", "object"}, {"properties", std::move(properties)},
                  {"required", std::move(required)}};
    };
    return {{"tools",
             {{{"name", "echo"},
               {"description", "Answers its text."},
               {"inputSchema", object({{"text", {{"type", "string"}}}}, {"text"})}},
              {{"name", "add"},
               {"description", "Answers the sum of a and b."},
               {"inputSchema",
                object({{"a", {{"type", "number"}}}, {"b", {{"type", "number"}}}}, {"a", "b"})}},
              {{"name", "sleep"},
               {"description", "Waits ms milliseconds, then answers \"slept MS\"."},
               {"inputSchema",
                object({{"ms", {{"type", "integer"}, {"minimum", 0}}}}, {"ms"})}}}}};
  }

  json call_tool(bsonrpc::Context& ctx, const call_params& call) const {
    const json arguments = call.arguments.value_or(json::object());
    if (call.name == "echo") return text(arguments_as<echo_arguments>(call.name, arguments).text);
    if (call.name == "add") {
      const auto [a, b] = arguments_as<add_arguments>(call.name, arguments);
      return text(number(a + b));
    }
    if (call.name == "sleep")
      return sleep(ctx, arguments_as<sleep_arguments>(call.name, arguments));
    throw bsonrpc::rpc_error(-32602, "Unknown tool: " + call.name);
  }

 private:
  static json text(const std::string& t, bool is_error = false) {
    json result{{"content", {{{"type", "text"}, {"text", t}}}}};
    if (is_error) result["isError"] = true;
    return result;
  }

  // 5, not 5.000000, for whole numbers.
  static std::string number(double x) {
    if (std::nearbyint(x) == x && std::fabs(x) < 1e15)
      return std::to_string(static_cast<std::int64_t>(x));
    return json(x).dump();
  }

  template <class Arguments>
  static Arguments arguments_as(const std::string& tool, const json& arguments) {
    try {
      return arguments.get<Arguments>();
    } catch (const std::exception& e) {
      throw bsonrpc::rpc_error(-32602, "Invalid arguments for tool " + tool + ": " + e.what());
    }
  }

  // Wakes every 100 ms to report progress, and at once when the client cancels (the reply is
  // then dropped: MCP answers a cancelled request with nothing).
  static json sleep(bsonrpc::Context& ctx, const sleep_arguments& args) {
    if (args.ms < 0 || args.ms > 60'000)
      return text("ms must be between 0 and 60000, got " + std::to_string(args.ms), true);
    struct wakeup {
      std::mutex mutex;
      std::condition_variable cancelled;
    };
    auto wake = std::make_shared<wakeup>();
    ctx.on_cancel([wake] {
      std::lock_guard lock(wake->mutex);
      wake->cancelled.notify_all();
    });
    const auto start = std::chrono::steady_clock::now();
    const auto end = start + std::chrono::milliseconds(args.ms);
    std::unique_lock lock(wake->mutex);
    for (auto next = start + progress_every; !ctx.cancelled(); next += progress_every) {
      if (wake->cancelled.wait_until(lock, std::min(next, end), [&] { return ctx.cancelled(); }))
        break;
      if (std::chrono::steady_clock::now() >= end) break;
      const auto slept = std::chrono::duration_cast<std::chrono::milliseconds>(next - start);
      ctx.report_progress(bsonrpc::document{{"progress", slept.count()},
                                            {"total", args.ms},
                                            {"message", "slept " + std::to_string(slept.count())}});
    }
    return text("slept " + std::to_string(args.ms));
  }

  static constexpr std::chrono::milliseconds progress_every{100};
};

// A sleeping tool must not hold up the others: tools/call runs concurrently (Threads: on the
// connection's handler pool); everything else answers where it was read.
BSONRPC_SERVICE(mcp_server,
  BSONRPC_REQUEST(initialize).runs(bsonrpc::execution::in_place),
  BSONRPC_REQUEST(ping).runs(bsonrpc::execution::in_place),
  BSONRPC_NOTIFICATION(initialized).as("notifications/initialized"),
  BSONRPC_REQUEST(list_tools).as("tools/list").runs(bsonrpc::execution::in_place),
  BSONRPC_RPC_REQUEST(call_tool).as("tools/call").runs(bsonrpc::execution::concurrent))

int main(int argc, char** argv) {
  bsonrpc::Options options;
  options.log = bsonrpc::stderr_log_sink(argc > 1 && std::string_view(argv[1]) == "--verbose"
                                             ? bsonrpc::log_level::debug
                                             : bsonrpc::log_level::warning);
  options.max_concurrent_requests = 128;
  options.protocol = bsonrpc::protocol::mcp();

  asio::io_context io;  // the connection's own threads drive it
  mcp_server server;
  bsonrpc::JsonRpc<bsonrpc::Ndjson> rpc(bsonrpc::descriptor_pair::stdio(io), server, options);
  rpc.join();
  return 0;
}
