// bsonrpc-client: the client side of CONFORMANCE.md. It connects over TCP, TCP+TLS or a Unix
// socket and makes one call, sends one notification, sends a batch from a file, prints the
// server's OpenRPC document (rpc.discover), or (with no action flag) runs the original README's
// "more features" scenario.
//
//   bsonrpc-client --connect ADDR [--codec json|bson]
//                  [--framing rfc7464|netstring|frameless|content-length|ndjson]
//                  [--executor threads|asio] [--tls-ca PEM | --tls-insecure]
//                  [--tls-cert PEM --tls-key PEM] [--timeout-ms N] [--verbose]
//                  [--call METHOD [JSON-PARAMS] [--repeat N]] [--notify METHOD [JSON-PARAMS]]
//                  [--batch FILE] [--discover]
//
// JSON-PARAMS is a JSON array or object, read as MongoDB Extended JSON (so {"$numberLong":
// "5"} sends an int64 over BSON). Results print as relaxed Extended JSON.
//
// --batch FILE holds a JSON array of entries {"method": M, "params": [...] or {...}
// (optional), "notify": true (optional, default false)}. It is sent as one JSON-RPC batch
// (with --codec bson, as one message after another, since BSON-RPC has no batches) and prints
// one element per request, in order: {"result": ...} or {"error": {"code", "message",
// "data"?}}.
//
// --discover calls rpc.discover and prints the OpenRPC document it answers as one line of JSON
// (the document itself, not Extended JSON: with --codec bson too).
//
// Exit codes: 0 on success; 1 for an error response (the error object goes to stderr), an
// unreachable peer, a TLS failure or a timeout; 2 for bad command-line input.
#include "conformance/command_line.hpp"
#include "conformance/services.hpp"
#include "conformance/tls.hpp"

#include <bsonrpc/bsonrpc.hpp>

#include <asio.hpp>
#include <asio/ssl.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <csignal>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

namespace {

using namespace conformance;
using ordered_json = nlohmann::ordered_json;

constexpr const char* usage =
    "usage: bsonrpc-client --connect ADDR [--codec json|bson]\n"
    "                      [--framing rfc7464|netstring|frameless|content-length|ndjson]\n"
    "                      [--executor threads|asio]\n"
    "                      [--tls-ca PEM | --tls-insecure] [--tls-cert PEM --tls-key PEM]\n"
    "                      [--timeout-ms N] [--verbose]\n"
    "                      [--call METHOD [JSON-PARAMS] [--repeat N]]\n"
    "                      [--notify METHOD [JSON-PARAMS]] [--batch FILE] [--discover]\n";

// A failure to report on one line with exit code 1.
class failure : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class client_action { scenario, call, notify, batch, discover };

struct batch_entry {
  std::string method;
  std::optional<bsonrpc::value> params;
  bool notify = false;
};

struct client_config {
  address connect;
  conformance::codec codec = codec::json;
  conformance::framing framing = framing::rfc7464;
  conformance::executor executor = executor::threads;
  bool tls = false;
  bool tls_insecure = false;
  tls_files tls_paths;
  std::chrono::milliseconds timeout{30'000};
  bool verbose = false;
  client_action action = client_action::scenario;
  std::string method;
  std::optional<bsonrpc::value> params;
  std::vector<batch_entry> batch;
  std::size_t repeat = 1;
};

// Params on the command line or in a batch file: a JSON array or object, as Extended JSON.
bsonrpc::value parse_params(const nlohmann::json& json, const std::string& where) {
  if (!json.is_array() && !json.is_object())
    throw usage_error(where + ": params must be a JSON array or object");
  try {
    return bsonrpc::from_extended_json(json);
  } catch (const std::exception& e) {
    throw usage_error(where + ": " + e.what());
  }
}

bsonrpc::value parse_params(const std::string& text, const std::string& where) {
  const auto json = nlohmann::json::parse(text, nullptr, false);
  if (json.is_discarded()) throw usage_error(where + ": params are not valid JSON");
  return parse_params(json, where);
}

std::vector<batch_entry> read_batch_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw usage_error("cannot read the batch file '" + path + "'");
  std::stringstream text;
  text << in.rdbuf();
  const auto json = nlohmann::json::parse(text.str(), nullptr, false);
  if (json.is_discarded() || !json.is_array() || json.empty())
    throw usage_error("batch file '" + path + "': expected a non-empty JSON array");
  std::vector<batch_entry> entries;
  for (const auto& item : json) {
    const std::string where = "batch file '" + path + "', entry " + std::to_string(entries.size());
    if (!item.is_object() || !item.contains("method") || !item["method"].is_string())
      throw usage_error(where + ": expected {\"method\": ..., \"params\": ..., \"notify\": ...}");
    batch_entry e{item["method"].get<std::string>(), std::nullopt, false};
    if (item.contains("params")) e.params = parse_params(item["params"], where);
    if (item.contains("notify")) {
      if (!item["notify"].is_boolean()) throw usage_error(where + ": notify must be true/false");
      e.notify = item["notify"].get<bool>();
    }
    entries.push_back(std::move(e));
  }
  return entries;
}

client_config parse_command_line(int argc, char** argv) {
  client_config config;
  bool has_connect = false;
  int actions = 0;
  for (arguments args(argc, argv); !args.done();) {
    const std::string& flag = args.flag();
    if (flag == "--connect") {
      config.connect = parse_address(args.value_for(flag));
      has_connect = true;
    } else if (flag == "--codec") {
      config.codec = parse_codec(args.value_for(flag));
    } else if (flag == "--framing") {
      config.framing = parse_framing(args.value_for(flag));
    } else if (flag == "--executor") {
      config.executor = parse_executor(args.value_for(flag));
    } else if (flag == "--tls-ca") {
      config.tls_paths.peer_ca = args.value_for(flag);
      config.tls = true;
    } else if (flag == "--tls-insecure") {
      config.tls_insecure = config.tls = true;
    } else if (flag == "--tls-cert") {
      config.tls_paths.cert = args.value_for(flag);
      config.tls = true;
    } else if (flag == "--tls-key") {
      config.tls_paths.key = args.value_for(flag);
      config.tls = true;
    } else if (flag == "--timeout-ms") {
      config.timeout = std::chrono::milliseconds(
          parse_integer<std::int64_t>(args.value_for(flag), "--timeout-ms", 1));
    } else if (flag == "--repeat") {
      config.repeat = parse_integer<std::size_t>(args.value_for(flag), "--repeat", 1);
    } else if (flag == "--verbose") {
      config.verbose = true;
    } else if (flag == "--call" || flag == "--notify") {
      config.action = flag == "--call" ? client_action::call : client_action::notify;
      config.method = args.value_for(flag);
      if (auto params = args.optional_value()) config.params = parse_params(*params, flag);
      ++actions;
    } else if (flag == "--batch") {
      config.action = client_action::batch;
      config.batch = read_batch_file(args.value_for(flag));
      ++actions;
    } else if (flag == "--discover") {
      config.action = client_action::discover;
      ++actions;
    } else {
      throw usage_error("unknown argument '" + flag + "'");
    }
  }
  if (!has_connect) throw usage_error("--connect ADDR is required");
  if (actions > 1)
    throw usage_error("give at most one of --call, --notify, --batch and --discover");
  if (config.repeat > 1 && config.action != client_action::call)
    throw usage_error("--repeat goes with --call");
  if (config.tls_paths.cert.empty() != config.tls_paths.key.empty())
    throw usage_error("--tls-cert and --tls-key go together");
  if (config.tls_insecure && !config.tls_paths.peer_ca.empty())
    throw usage_error("--tls-ca and --tls-insecure exclude each other");
  return config;
}

ordered_json to_json(const bsonrpc::value& v) { return bsonrpc::to_extended_json<ordered_json>(v); }

ordered_json error_object(const bsonrpc::rpc_error& e) {
  ordered_json out = {{"code", e.code_value()}, {"message", e.message()}};
  if (e.has_data()) out["data"] = to_json(e.data());
  return out;
}

// Batch::request takes C++ arguments, so a runtime array goes in through a size switch.
template <std::size_t... I>
void add_positional(bsonrpc::Batch& batch, const batch_entry& e, const bsonrpc::array& a,
                    std::index_sequence<I...>) {
  if (e.notify) batch.notify(e.method, a[I]...);
  else batch.request(e.method, a[I]...);
}

template <std::size_t N = 0>
void add_to_batch(bsonrpc::Batch& batch, const batch_entry& e, const bsonrpc::array& a) {
  if constexpr (N > 16) {
    throw usage_error("batch entry " + e.method + ": at most 16 positional params");
  } else {
    if (a.size() == N) add_positional(batch, e, a, std::make_index_sequence<N>{});
    else add_to_batch<N + 1>(batch, e, a);
  }
}

template <class RpcType>
int send_batch(RpcType& rpc, const std::vector<batch_entry>& entries) {
  ordered_json out = ordered_json::array();
  bool all_ok = true;
  auto add_outcome = [&](const bsonrpc::value* result, const bsonrpc::rpc_error* error) {
    if (result) out.push_back({{"result", to_json(*result)}});
    else out.push_back({{"error", error_object(*error)}});
    all_ok = all_ok && result;
  };
  if constexpr (RpcType::codec_type::supports_batches) {
    bsonrpc::Batch batch;
    for (const auto& e : entries) {
      if (e.params && e.params->is_document()) {
        const bsonrpc::named args(e.params->get<bsonrpc::document>());
        if (e.notify) batch.notify(e.method, args);
        else batch.request(e.method, args);
      } else {
        add_to_batch(batch, e, e.params ? e.params->get<bsonrpc::array>() : bsonrpc::array{});
      }
    }
    for (const auto& r : rpc.batch_call(batch)) {
      if (r.ok()) add_outcome(&r.result(), nullptr);
      else add_outcome(nullptr, &r.error());
    }
  } else {
    for (const auto& e : entries) {
      if (e.notify) {
        rpc.notify_value(e.method, e.params);
        continue;
      }
      try {
        const auto result = rpc.call_value(e.method, e.params, rpc.options().default_timeout);
        add_outcome(&result, nullptr);
      } catch (const bsonrpc::rpc_error& error) {
        add_outcome(nullptr, &error);
      }
    }
  }
  std::cout << out.dump() << std::endl;
  return all_ok ? 0 : 1;
}

// The original README's "more features" client: a batch, then a call the server calls back in.
template <class RpcType>
int run_scenario(RpcType& rpc) {
  std::vector<std::string> batch_result;
  if constexpr (RpcType::codec_type::supports_batches) {
    bsonrpc::Batch bb;
    bb.request("echo_times", "-hello-", 2).request("echo_times", "-world-", 1);
    for (const auto& r : rpc.batch_call(bb)) batch_result.push_back(r.template get<std::string>());
  } else {  // BSON-RPC has no batches
    batch_result.push_back(rpc.template call<std::string>("echo_times", "-hello-", 2));
    batch_result.push_back(rpc.template call<std::string>("echo_times", "-world-", 1));
  }
  std::cout << nlohmann::json(batch_result).dump() << std::endl;  // ["-hello--hello-","-world-"]
  // -> Msg from server: Stage 1
  // -> Msg from server: Stage 2
  std::cout << to_json(rpc.peer()["long_process"](2, 3, 4)).dump() << std::endl;  // -> 24
  return 0;
}

// With --executor asio the program runs the io_context on a background thread, so that the
// blocking calls of the main thread have a loop to wait on (EventLoop starts no thread).
class background_loop {
 public:
  explicit background_loop(asio::io_context& io)
      : io_(io), work_(io.get_executor()), thread_([&io] { io.run(); }) {}
  background_loop(const background_loop&) = delete;
  background_loop& operator=(const background_loop&) = delete;
  ~background_loop() {
    work_.reset();
    io_.stop();
    thread_.join();
  }

 private:
  asio::io_context& io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::thread thread_;
};

template <class RpcType>
int act(const client_config& config, RpcType& rpc) {
  switch (config.action) {
    case client_action::scenario: return run_scenario(rpc);
    case client_action::notify: rpc.notify_value(config.method, config.params); return 0;
    case client_action::batch: return send_batch(rpc, config.batch);
    case client_action::discover:
    case client_action::call: break;
  }
  try {
    if (config.action == client_action::discover) {
      // As nlohmann::json, not through bsonrpc::value (which reads JSON as Extended JSON): the
      // schemas' "$ref" and "$binary" keys stay keys. (BSON: the document, relaxed.)
      const auto document = rpc.template call_for<nlohmann::json>(config.timeout, "rpc.discover");
      std::cout << document.dump() << std::endl;
      return 0;
    }
    bsonrpc::value result;
    const auto start = std::chrono::steady_clock::now();
    for (std::size_t i = 0; i < config.repeat; ++i)
      result = rpc.call_value(config.method, config.params, config.timeout);
    if (config.repeat > 1) {
      const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
      std::cerr << config.repeat << " calls in " << took.count() << " s: "
                << static_cast<long long>(config.repeat / took.count()) << " calls/s" << std::endl;
    }
    std::cout << to_json(result).dump() << std::endl;
    return 0;
  } catch (const bsonrpc::rpc_error& e) {
    std::cerr << error_object(e).dump() << std::endl;
    return 1;
  }
}

template <class RpcType, class Stream>
int run_session(const client_config& config, asio::io_context& io, Stream stream) {
  // In the scenario the server's progress messages are the output; otherwise stdout holds
  // only the result.
  client_services services(config.action == client_action::scenario ? std::cout : std::cerr);
  bsonrpc::Options options;
  options.default_timeout = config.timeout;
  if (config.verbose) options.log = bsonrpc::stderr_log_sink(bsonrpc::log_level::debug);
  RpcType rpc(std::move(stream), services, options);
  std::optional<background_loop> loop;  // stopped before `rpc` and `services` go
  if constexpr (std::is_same_v<typename RpcType::executor_policy, bsonrpc::EventLoop>)
    loop.emplace(io);
  const int code = act(config, rpc);
  // close() still writes what is queued (a notification just sent, say); join() returns once
  // it has and the connection is shut down.
  rpc.close();
  rpc.join(std::chrono::seconds(5));
  return code;
}

// Adds TLS when asked for (handshake with a deadline, server name checked), then runs.
template <class RpcType, class Socket>
int secure_and_run(const client_config& config, asio::io_context& io, Socket socket,
                   asio::ssl::context* tls) {
  if (!tls) return run_session<RpcType>(config, io, std::move(socket));
  asio::ssl::stream<Socket> stream(std::move(socket), *tls);
  // The certificate must name the host (unchecked with --tls-insecure), sent by SNI too.
  if (!config.connect.is_unix) bsonrpc::tls::set_server_name(stream, config.connect.host);
  const auto ec = run_with_deadline(io, stream.lowest_layer(), config.timeout, [&](auto done) {
    stream.async_handshake(asio::ssl::stream_base::client, done);
  });
  if (ec) throw failure("TLS handshake with " + config.connect.to_string() + " failed: " +
                        ec.message());
  return run_session<RpcType>(config, io, std::move(stream));
}

template <class RpcType>
int run_client(const client_config& config) {
  std::optional<asio::ssl::context> tls;  // loaded first: bad files are a usage error
  try {
    if (config.tls) tls.emplace(make_client_tls(config.tls_paths, config.tls_insecure));
  } catch (const std::system_error& e) {
    throw usage_error(std::string("cannot load the TLS files: ") + e.code().message());
  }
  asio::ssl::context* tls_context = tls ? &*tls : nullptr;
  asio::io_context io;  // once connected, the Rpc's I/O thread or a background_loop runs it
  const auto& where = config.connect;
  if (where.is_unix) {
    asio::local::stream_protocol::socket socket(io);
    const auto ec = run_with_deadline(io, socket, config.timeout, [&](auto done) {
      socket.async_connect({where.path}, done);
    });
    if (ec) throw failure("cannot connect to " + where.to_string() + ": " + ec.message());
    return secure_and_run<RpcType>(config, io, std::move(socket), tls_context);
  }
  asio::ip::tcp::resolver resolver(io);
  std::error_code ec;
  const auto endpoints = resolver.resolve(where.host, std::to_string(where.port), ec);
  if (ec) throw failure("cannot resolve " + where.host + ": " + ec.message());
  asio::ip::tcp::socket socket(io);
  ec = run_with_deadline(io, socket, config.timeout, [&](auto done) {
    asio::async_connect(socket, endpoints,
                        [done](const std::error_code& e, const asio::ip::tcp::endpoint&) { done(e); });
  });
  if (ec) throw failure("cannot connect to " + where.to_string() + ": " + ec.message());
  return secure_and_run<RpcType>(config, io, std::move(socket), tls_context);
}

}  // namespace

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);
  try {
    if (argc == 2 && std::string(argv[1]) == "--help") {
      std::cout << usage;
      return 0;
    }
    const client_config config = parse_command_line(argc, argv);
    return with_rpc_type(config.codec, config.framing, config.executor, [&](auto tag) {
      return run_client<typename decltype(tag)::type>(config);
    });
  } catch (const usage_error& e) {
    std::cerr << "bsonrpc-client: " << e.what() << " (see --help)" << std::endl;
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "bsonrpc-client: " << e.what() << std::endl;
    return 1;
  }
}
