// A tiny Language Server Protocol server: an editor starts it as a child process and speaks
// JSON-RPC to it over its stdin and stdout, in Content-Length framing.
//   lsp-stdio-server [--verbose]     (--verbose: the library's log lines on stderr)
//
// It answers initialize (announcing hover support), textDocument/hover, example/slow (which
// waits {ms} milliseconds unless the editor cancels it with $/cancelRequest: the reply is then
// -32800 Request cancelled) and shutdown, ignores
// the notifications it does not know (initialized, textDocument/didOpen ...), and answers other
// requests with Method not found. The exit notification ends it: exit code 0 after shutdown,
// 1 without (LSP 3.17, "exit"); so does the editor closing its end of the pipe.
// Only the protocol may go to stdout: anything else printed there would corrupt the stream.
//
// Each method is registered under its LSP name (.as("textDocument/hover")) and takes its params
// object whole (by object: a member with one parameter and no parameter names): no hook
// rewrites a message.
#include <bsonrpc/bsonrpc.hpp>

#include <atomic>
#include <chrono>
#include <string>
#include <string_view>
#include <thread>

// BSONRPC_DEFINE_TYPE rather than NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE: a line of 1e300 from the
// editor is Invalid params, not a float cast into an int (undefined behaviour).
struct TextDocumentIdentifier {
  std::string uri;
};
BSONRPC_DEFINE_TYPE(TextDocumentIdentifier, uri)

struct Position {
  int line = 0;
  int character = 0;
};
BSONRPC_DEFINE_TYPE(Position, line, character)

struct HoverParams {
  TextDocumentIdentifier textDocument;
  Position position;
};
BSONRPC_DEFINE_TYPE(HoverParams, textDocument, position)

struct SlowParams {
  int ms = 0;
};
BSONRPC_DEFINE_TYPE(SlowParams, ms)

class LanguageServer {
 public:
  // Every field of the client's InitializeParams is optional to us.
  nlohmann::json initialize(const nlohmann::json&) {
    state expected = created;
    if (!state_.compare_exchange_strong(expected, running))
      throw bsonrpc::rpc_error(-32600, "initialize may be sent only once");
    return {{"capabilities", {{"hoverProvider", true}}},
            {"serverInfo", {{"name", "lsp-stdio-server"}, {"version", "1.0"}}}};
  }

  nlohmann::json hover(const HoverParams& params) const {
    require_running();
    const std::string where = params.textDocument.uri + " at line " +
                              std::to_string(params.position.line) + ", character " +
                              std::to_string(params.position.character);
    return {{"contents", {{"kind", "markdown"}, {"value", "**lsp-stdio-server**: " + where}}}};
  }

  // A deliberately slow request, to cancel: it checks for the editor's $/cancelRequest every
  // 10 ms. Once cancelled, whatever it returns is replaced by -32800 Request cancelled.
  std::string slow(bsonrpc::Context& ctx, const SlowParams& params) const {
    require_running();
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(params.ms);
    while (!ctx.cancelled() && std::chrono::steady_clock::now() < until)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    return ctx.cancelled() ? "cancelled" : "waited " + std::to_string(params.ms) + " ms";
  }

  void shutdown() {  // the result is null
    require_running();
    state_ = shut_down;
  }

  // After the last reply has left, the connection closes, and main() returns.
  void exit(bsonrpc::Context& rpc) { rpc.close_after_response(); }

  int exit_code() const { return state_ == shut_down ? 0 : 1; }

 private:
  enum state { created, running, shut_down };

  // LSP error codes for requests out of turn.
  void require_running() const {
    if (state_ == created) throw bsonrpc::rpc_error(-32002, "Server not initialized");
    if (state_ == shut_down) throw bsonrpc::rpc_error(-32600, "Server is shut down");
  }

  std::atomic<state> state_{created};
};
BSONRPC_SERVICE(LanguageServer,
  BSONRPC_REQUEST(initialize),
  BSONRPC_REQUEST(hover).as("textDocument/hover"),
  BSONRPC_RPC_REQUEST(slow).as("example/slow").runs(bsonrpc::execution::concurrent),
  BSONRPC_REQUEST(shutdown),
  BSONRPC_RPC_NOTIFICATION(exit))

int main(int argc, char** argv) {
  bsonrpc::Options options;
  if (argc > 1 && std::string_view(argv[1]) == "--verbose") options.log = bsonrpc::stderr_log_sink();
  options.protocol = bsonrpc::protocol::lsp();  // honour $/cancelRequest

  asio::io_context io;  // the connection's own thread drives it
  LanguageServer server;
  bsonrpc::JsonRpc<bsonrpc::ContentLength> rpc(bsonrpc::descriptor_pair::stdio(io), server,
                                               options);
  rpc.join();
  return server.exit_code();
}
