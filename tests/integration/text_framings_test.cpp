// JSON-RPC over the text framings of editors and tools (Content-Length headers, NDJSON) on real
// sockets and pipes, with both executors, and the descriptor_pair stream: pipes, a child
// process, stdin/stdout, SIGPIPE.
#include <bsonrpc/bsonrpc.hpp>

#include "../support/socket_pairs.hpp"

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

extern char** environ;

using namespace std::chrono_literals;

namespace text_framings {

struct Services {
  std::string swapper(const std::string& txt) const { return {txt.rbegin(), txt.rend()}; }
  std::string echo(const std::string& txt) const { return txt; }
  // Notifies and calls back the caller before answering.
  int long_process(bsonrpc::Context& rpc, int a, int b) {
    rpc.notify("report", "working");
    return a * b * std::stoi(rpc.call<std::string>("swapper", "01"));
  }
  void report(const std::string& line) {
    std::lock_guard lock(mutex);
    lines.push_back(line);
    changed.notify_all();
  }

  // The reported lines, once `count` have arrived (or after 10 s).
  std::vector<std::string> wait_lines(std::size_t count) {
    std::unique_lock lock(mutex);
    changed.wait_for(lock, 10s, [&] { return lines.size() >= count; });
    return lines;
  }

  std::mutex mutex;
  std::condition_variable changed;
  std::vector<std::string> lines;
};
BSONRPC_SERVICE(Services,
  BSONRPC_REQUEST(swapper, txt),
  BSONRPC_REQUEST(echo, txt),
  BSONRPC_RPC_REQUEST(long_process, a, b),
  BSONRPC_NOTIFICATION(report, line))

// `fd`, renumbered above the standard descriptors if it is one of them.
inline int above_standard(int fd) {
  if (fd > STDERR_FILENO) return fd;
  const int moved = ::fcntl(fd, F_DUPFD_CLOEXEC, STDERR_FILENO + 1);
  ::close(fd);
  return moved;
}

// A close-on-exec pipe: {read end, write end}, never on descriptors 0 to 2 (a test run without
// stdin has descriptor 0 free).
inline std::pair<int, int> make_pipe() {
  int fds[2];
  REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
  return {above_standard(fds[0]), above_standard(fds[1])};
}

// Moves `fd` onto standard descriptor `target` until destroyed, then puts back what `target`
// was (or leaves it closed, if it was closed).
class standard_descriptor_swap {
 public:
  standard_descriptor_swap(int target, int fd)
      : target_(target), saved_(::fcntl(target, F_DUPFD_CLOEXEC, STDERR_FILENO + 1)) {
    ::dup2(fd, target);
    ::close(fd);
  }
  standard_descriptor_swap(const standard_descriptor_swap&) = delete;
  standard_descriptor_swap& operator=(const standard_descriptor_swap&) = delete;
  ~standard_descriptor_swap() {
    if (saved_ < 0) {
      ::close(target_);
      return;
    }
    ::dup2(saved_, target_);
    ::close(saved_);
  }

 private:
  int target_;
  int saved_;
};

struct tcp {
  static std::pair<asio::ip::tcp::socket, asio::ip::tcp::socket> connect(asio::io_context& io) {
    return bsonrpc::test::tcp_transport::connect(io);
  }
};

// Two descriptor pairs joined by two pipes, as a parent and the child it talks to would be.
struct pipes {
  static std::pair<bsonrpc::descriptor_pair, bsonrpc::descriptor_pair> connect(
      asio::io_context& io) {
    const auto [a_read, a_write] = make_pipe();
    const auto [b_read, b_write] = make_pipe();
    return {bsonrpc::descriptor_pair(io, a_read, b_write),
            bsonrpc::descriptor_pair(io, b_read, a_write)};
  }
};

template <class Framing, class Transport, class Executor>
struct setup {
  using rpc = bsonrpc::Rpc<bsonrpc::JsonCodec, Framing, Executor>;
  using transport = Transport;
  static constexpr bool event_loop = std::is_same_v<Executor, bsonrpc::EventLoop>;
};

using content_length_tcp = setup<bsonrpc::ContentLength, tcp, bsonrpc::Threads>;
using content_length_tcp_loop = setup<bsonrpc::ContentLength, tcp, bsonrpc::EventLoop>;
using ndjson_tcp = setup<bsonrpc::Ndjson, tcp, bsonrpc::Threads>;
using ndjson_tcp_loop = setup<bsonrpc::Ndjson, tcp, bsonrpc::EventLoop>;
using content_length_pipes = setup<bsonrpc::ContentLength, pipes, bsonrpc::Threads>;
using content_length_pipes_loop = setup<bsonrpc::ContentLength, pipes, bsonrpc::EventLoop>;
using ndjson_pipes = setup<bsonrpc::Ndjson, pipes, bsonrpc::Threads>;
using ndjson_pipes_loop = setup<bsonrpc::Ndjson, pipes, bsonrpc::EventLoop>;

// Runs the io_context on a thread of its own for the EventLoop executor, and posts handlers
// (which block: they call the peer and wait) to a pool.
template <bool EventLoop>
struct loop_runner {
  asio::io_context io;
  asio::thread_pool handler_pool{4};
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::thread thread;

  void prepare(bsonrpc::Options& options) {
    if constexpr (EventLoop) {
      options.handler_runner = [this](std::function<void()> task) {
        asio::post(handler_pool, std::move(task));
      };
      work.emplace(io.get_executor());
      thread = std::thread([this] { io.run(); });
    }
  }
  ~loop_runner() { stop(); }

  // Called once the Rpc objects are gone.
  void stop() {
    work.reset();
    if (thread.joinable()) thread.join();
    handler_pool.join();
  }
};

// Two connected endpoints, each serving its own Services.
template <class Setup>
struct endpoints {
  Services server_services;
  Services client_services;
  loop_runner<Setup::event_loop> loop;
  std::unique_ptr<typename Setup::rpc> server;
  std::unique_ptr<typename Setup::rpc> client;

  explicit endpoints(bsonrpc::Options options = {}) {
    auto [s, c] = Setup::transport::connect(loop.io);
    loop.prepare(options);
    server = std::make_unique<typename Setup::rpc>(std::move(s), server_services, options);
    client = std::make_unique<typename Setup::rpc>(std::move(c), client_services, options);
  }
  ~endpoints() {
    client.reset();
    server.reset();
    loop.stop();
  }
};

// What `fd` receives until `done(received)` holds, the stream ends, or 10 s pass.
template <class Done>
std::string receive_until(int fd, Done&& done) {
  std::string received;
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!done(received)) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    pollfd ready{fd, POLLIN, 0};
    if (left.count() <= 0 || ::poll(&ready, 1, static_cast<int>(left.count())) <= 0) break;
    char chunk[4096];
    const ssize_t n = ::read(fd, chunk, sizeof chunk);
    if (n <= 0) break;
    received.append(chunk, static_cast<std::size_t>(n));
  }
  return received;
}

// The messages framed by F at the front of `bytes` (complete ones only).
template <class F>
std::vector<std::string> messages_in(std::string_view bytes) {
  std::vector<std::string> messages;
  F framing;
  while (auto f = framing.extract(bytes, std::size_t{1} << 24)) {
    messages.emplace_back(f->message(bytes));
    bytes.remove_prefix(f->consumed);
  }
  return messages;
}

// A JSON-RPC request text.
inline std::string request(int id, const std::string& method, const nlohmann::json& params) {
  return nlohmann::json{{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", params}}
      .dump();
}

// Waits up to 10 s for `pid` to exit; its wait status, or nullopt if it is still running.
inline std::optional<int> wait_exit(pid_t pid) {
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) return status;
    std::this_thread::sleep_for(10ms);
  }
  return std::nullopt;
}

// Starts `cat` with `stdin_fd` as its stdin and `stdout_fd` as its stdout.
inline pid_t spawn_cat(int stdin_fd, int stdout_fd) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, stdin_fd, STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&actions, stdout_fd, STDOUT_FILENO);
  char name[] = "cat";
  char* argv[] = {name, nullptr};
  pid_t pid = -1;
  const int failed = ::posix_spawnp(&pid, "cat", &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  REQUIRE(failed == 0);
  return pid;
}

bool is_open(int fd) { return ::fcntl(fd, F_GETFD) != -1; }
bool is_non_blocking(int fd) { return (::fcntl(fd, F_GETFL) & O_NONBLOCK) != 0; }

}  // namespace text_framings

#define TEXT_FRAMING_SETUPS                                                                   \
  text_framings::content_length_tcp, text_framings::content_length_tcp_loop,                 \
      text_framings::ndjson_tcp, text_framings::ndjson_tcp_loop,                             \
      text_framings::content_length_pipes, text_framings::content_length_pipes_loop,         \
      text_framings::ndjson_pipes, text_framings::ndjson_pipes_loop

// ---- both framings, both executors, over TCP and over pipes

TEMPLATE_TEST_CASE("text framings: calls and notifications travel in both directions",
                   "[content-length][ndjson][integration]", TEXT_FRAMING_SETUPS) {
  text_framings::endpoints<TestType> p;
  CHECK(p.client->template call<std::string>("swapper", "Hello World!") == "!dlroW olleH");
  CHECK(p.client->template call<std::string>("echo", bsonrpc::named{{"txt", "by name"}}) ==
        "by name");
  CHECK(p.server->template call<std::string>("swapper", "from server") == "revres morf");
  p.client->notify("report", "to server");
  p.server->notify("report", "to client");
  CHECK(p.server_services.wait_lines(1) == std::vector<std::string>{"to server"});
  CHECK(p.client_services.wait_lines(1) == std::vector<std::string>{"to client"});
  CHECK_THROWS_AS(p.client->template call<int>("no_such_method"), bsonrpc::method_not_found);
}

TEMPLATE_TEST_CASE("text framings: a handler notifies and calls back its caller before answering",
                   "[content-length][ndjson][integration]", TEXT_FRAMING_SETUPS) {
  text_framings::endpoints<TestType> p;
  CHECK(p.client->template call<int>("long_process", 2, 3) == 60);
  CHECK(p.client_services.wait_lines(1) == std::vector<std::string>{"working"});
  CHECK(p.server->template call<int>("long_process", 1, 1) == 10);
}

TEMPLATE_TEST_CASE("text framings: a batch gets each request's result",
                   "[content-length][ndjson][integration]", TEXT_FRAMING_SETUPS) {
  text_framings::endpoints<TestType> p;
  bsonrpc::Batch batch;
  batch.request("swapper", "ab").notify("report", "in batch").request("echo", "cd");
  const auto results = p.client->batch_call(batch);
  REQUIRE(results.size() == 2);
  CHECK(results[0].template get<std::string>() == "ba");
  CHECK(results[1].template get<std::string>() == "cd");
  CHECK(p.server_services.wait_lines(1) == std::vector<std::string>{"in batch"});
}

TEMPLATE_TEST_CASE("text framings: newlines, CRs, headers-like text and 1 MiB strings come back unchanged",
                   "[content-length][ndjson][integration]", TEXT_FRAMING_SETUPS) {
  text_framings::endpoints<TestType> p;
  const std::string tricky = "line 1\nline 2\r\n\r\nContent-Length: 3\r\n\r\n\x1E\t\"}\u00e9";
  CHECK(p.client->template call<std::string>("echo", tricky) == tricky);
  const std::string big(1 << 20, 'b');
  CHECK(p.client->template call<std::string>("echo", big) == big);
  CHECK(p.server->template call<std::string>("echo", big + tricky) == big + tricky);
}

TEMPLATE_TEST_CASE("text framings: what was sent before close() reaches the peer, which then closes too",
                   "[content-length][ndjson][integration][lifecycle]", TEXT_FRAMING_SETUPS) {
  text_framings::endpoints<TestType> p;
  for (int i = 0; i < 50; ++i) p.client->notify("report", std::to_string(i));
  p.client->close();
  CHECK(p.server_services.wait_lines(50).size() == 50);
  CHECK(p.server->join(10s));
  CHECK(p.server->is_closed());
}

// ---- raw peers: the bytes on the wire

TEST_CASE("content-length: a language-server style request with other headers is answered in Content-Length framing",
          "[content-length][integration]") {
  asio::io_context io;
  auto [socket, peer] = bsonrpc::test::tcp_transport::connect(io);
  text_framings::Services services;
  bsonrpc::JsonRpc<bsonrpc::ContentLength> server(std::move(socket), services);
  const std::string body = text_framings::request(7, "swapper", {"lsp"});
  asio::write(peer, asio::buffer("content-type: application/vscode-jsonrpc; charset=utf-8\r\n"
                                 "content-length: " + std::to_string(body.size()) + "\r\n\r\n" +
                                 body));
  const std::string reply = text_framings::receive_until(peer.native_handle(), [](auto& r) {
    return !text_framings::messages_in<bsonrpc::ContentLength>(r).empty();
  });
  CHECK(reply.rfind("Content-Length: ", 0) == 0);
  const auto messages = text_framings::messages_in<bsonrpc::ContentLength>(reply);
  REQUIRE(messages.size() == 1);
  const auto json = nlohmann::json::parse(messages[0]);
  CHECK(json["id"] == 7);
  CHECK(json["result"] == "psl");
}

TEST_CASE("content-length: a malformed header block closes the connection",
          "[content-length][integration][limits]") {
  const char* malformed = GENERATE("Content-Length: 2\n\n{}", "Content-Length: x\r\n\r\n{}",
                                   "Content-Type: a\r\n\r\n{}",
                                   "Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}");
  CAPTURE(malformed);
  asio::io_context io;
  auto [socket, peer] = bsonrpc::test::tcp_transport::connect(io);
  text_framings::Services services;
  bsonrpc::JsonRpc<bsonrpc::ContentLength> server(std::move(socket), services);
  asio::write(peer, asio::buffer(std::string(malformed)));
  CHECK(server.join(10s));
  CHECK(server.is_closed());
  // The peer sees the end of the stream and no reply.
  CHECK(text_framings::receive_until(peer.native_handle(), [](auto&) { return false; }).empty());
}

TEST_CASE("content-length: a length above max_message_bytes closes the connection before the body",
          "[content-length][integration][limits]") {
  asio::io_context io;
  auto [socket, peer] = bsonrpc::test::tcp_transport::connect(io);
  text_framings::Services services;
  bsonrpc::Options options;
  options.max_message_bytes = 1000;
  bsonrpc::JsonRpc<bsonrpc::ContentLength> server(std::move(socket), services, options);
  asio::write(peer, asio::buffer(std::string("Content-Length: 1001\r\n\r\n{")));
  CHECK(server.join(10s));
  CHECK(server.is_closed());
}

TEST_CASE("ndjson: a line that does not parse gets -32700 and the next line is answered",
          "[ndjson][integration]") {
  asio::io_context io;
  auto [socket, peer] = bsonrpc::test::tcp_transport::connect(io);
  text_framings::Services services;
  bsonrpc::JsonRpc<bsonrpc::Ndjson, bsonrpc::Threads> server(std::move(socket), services);
  // CRLF, blank lines and a broken line, as a careless writer might send them.
  asio::write(peer, asio::buffer("{\"jsonrpc\":\"2.0\",\r\n\r\n\n  \n" +
                                 text_framings::request(2, "swapper", {"ab"}) + "\r\n"));
  const std::string replies = text_framings::receive_until(
      peer.native_handle(), [](auto& r) { return std::count(r.begin(), r.end(), '\n') >= 2; });
  const auto lines = text_framings::messages_in<bsonrpc::Ndjson>(replies);
  REQUIRE(lines.size() == 2);
  CHECK(replies.size() == lines[0].size() + lines[1].size() + 2);  // each reply: one line, LF
  CHECK(nlohmann::json::parse(lines[0])["error"]["code"] == -32700);
  CHECK(nlohmann::json::parse(lines[1])["result"] == "ba");
  CHECK_FALSE(server.is_closed());
}

TEMPLATE_TEST_CASE("text framings: a peer idle after a message and its trailing newlines stays connected past the partial-message timeout",
                   "[ndjson][frameless][integration]", bsonrpc::Ndjson, bsonrpc::Frameless) {
  asio::io_context io;
  auto [socket, peer] = bsonrpc::test::tcp_transport::connect(io);
  text_framings::Services services;
  bsonrpc::Options options;
  options.partial_message_timeout = 100ms;
  bsonrpc::JsonRpc<TestType, bsonrpc::Threads> server(std::move(socket), services, options);
  for (int id = 1; id <= 2; ++id) {
    // What separates messages (a newline, blank lines) stays buffered: it must not count as
    // the start of a message that takes too long.
    asio::write(peer, asio::buffer(text_framings::request(id, "swapper", {"ab"}) + "\n\r\n\n"));
    const std::string reply = text_framings::receive_until(peer.native_handle(), [](auto& r) {
      return r.find("\"ba\"") != std::string::npos;
    });
    CHECK(reply.find("\"id\":" + std::to_string(id)) != std::string::npos);
    std::this_thread::sleep_for(400ms);
    REQUIRE_FALSE(server.is_closed());
  }
  // A message that does start and stalls is still cut off.
  asio::write(peer, asio::buffer(std::string("{\"jsonrpc\":")));
  CHECK(server.join(10s));
}

TEST_CASE("ndjson: a line longer than max_message_bytes closes the connection before its newline",
          "[ndjson][integration][limits]") {
  asio::io_context io;
  auto [socket, peer] = bsonrpc::test::tcp_transport::connect(io);
  text_framings::Services services;
  bsonrpc::Options options;
  options.max_message_bytes = 1000;
  bsonrpc::JsonRpc<bsonrpc::Ndjson, bsonrpc::EventLoop> server(std::move(socket), services,
                                                                options);
  std::thread loop([&io] { io.run_for(10s); });
  asio::write(peer, asio::buffer("[\"" + std::string(1000, 'x')));
  CHECK(server.join(10s));
  CHECK(server.is_closed());
  loop.join();
}

// ---- descriptor_pair

TEMPLATE_TEST_CASE("descriptor pair: an Rpc calls itself through a cat child process, and closing ends the child",
                   "[descriptor_pair][integration]", text_framings::content_length_pipes,
                   text_framings::ndjson_pipes_loop) {
  const auto [to_child_read, to_child_write] = text_framings::make_pipe();
  const auto [from_child_read, from_child_write] = text_framings::make_pipe();
  const pid_t child = text_framings::spawn_cat(to_child_read, from_child_write);
  ::close(to_child_read);
  ::close(from_child_write);
  text_framings::Services services;
  text_framings::loop_runner<TestType::event_loop> loop;
  bsonrpc::Options options;
  loop.prepare(options);
  {
    // Every message comes back through cat: a request to itself, answered to itself.
    typename TestType::rpc rpc(bsonrpc::descriptor_pair(loop.io, from_child_read, to_child_write),
                               services, options);
    CHECK(rpc.template call<std::string>("swapper", "cat") == "tac");
    CHECK(rpc.template call<int>("long_process", 2, 3) == 60);
    rpc.notify("report", "echoed");
    CHECK(services.wait_lines(2) == std::vector<std::string>{"working", "echoed"});
    rpc.close();
    CHECK(rpc.join(10s));
  }
  // Closing closed the pipe into cat: it read end of file and exited.
  const auto status = text_framings::wait_exit(child);
  if (!status) {
    ::kill(child, SIGKILL);
    ::waitpid(child, nullptr, 0);
  }
  REQUIRE(status);
  CHECK(WIFEXITED(*status));
  CHECK(WEXITSTATUS(*status) == 0);
  loop.stop();
}

TEST_CASE("descriptor pair: writing to a pipe nobody reads closes the connection, and the process lives",
          "[descriptor_pair][integration]") {
  // SIGPIPE's default action kills the process: make sure that is what is in force.
  struct sigaction default_action {};
  struct sigaction previous {};
  default_action.sa_handler = SIG_DFL;
  ::sigaction(SIGPIPE, &default_action, &previous);
  const auto [in_read, in_write] = text_framings::make_pipe();
  const auto [out_read, out_write] = text_framings::make_pipe();
  ::close(out_read);
  asio::io_context io;
  {
    bsonrpc::JsonRpc<bsonrpc::Ndjson> rpc(bsonrpc::descriptor_pair(io, in_read, out_write));
    rpc.notify("report", "nobody listens");
    CHECK(rpc.join(10s));
    CHECK(rpc.is_closed());
    CHECK_THROWS_AS(rpc.notify("report", "again"), bsonrpc::connection_closed);
  }
  ::close(in_write);
  ::sigaction(SIGPIPE, &previous, nullptr);
}

TEST_CASE("descriptor pair: stdio() serves over descriptors 0 and 1 and leaves them open and blocking after close",
          "[descriptor_pair][integration]") {
  // Descriptors 0 and 1 are swapped for pipes meanwhile: nothing in between may print (Catch2
  // reports to stdout), so what is seen is recorded and checked once they are back.
  const auto [in_read, in_write] = text_framings::make_pipe();
  const auto [out_read, out_write] = text_framings::make_pipe();
  std::fflush(stdout);
  std::optional<text_framings::standard_descriptor_swap> swap_in, swap_out;
  swap_in.emplace(STDIN_FILENO, in_read);
  swap_out.emplace(STDOUT_FILENO, out_write);

  std::string answer;
  std::string failure;
  bool non_blocking_while_open = false;
  bool server_joined = false;
  bool open_after_close = false;
  bool blocking_after_close = false;
  try {
    asio::io_context server_io;
    asio::io_context client_io;
    text_framings::Services services;
    bsonrpc::JsonRpc<bsonrpc::ContentLength> server(bsonrpc::descriptor_pair::stdio(server_io),
                                                    services);
    bsonrpc::JsonRpc<bsonrpc::ContentLength> client(
        bsonrpc::descriptor_pair(client_io, out_read, in_write));
    answer = client.call_for<std::string>(10s, "swapper", "stdio");
    non_blocking_while_open = text_framings::is_non_blocking(STDIN_FILENO) &&
                              text_framings::is_non_blocking(STDOUT_FILENO);
    server.close();
    server_joined = server.join(10s);
    open_after_close = text_framings::is_open(STDIN_FILENO) && text_framings::is_open(STDOUT_FILENO);
    blocking_after_close = !text_framings::is_non_blocking(STDIN_FILENO) &&
                           !text_framings::is_non_blocking(STDOUT_FILENO);
  } catch (const std::exception& e) {
    failure = e.what();
  }
  swap_out.reset();
  swap_in.reset();

  CHECK(failure.empty());
  CHECK(answer == "oidts");
  CHECK(non_blocking_while_open);
  CHECK(server_joined);
  CHECK(open_after_close);
  CHECK(blocking_after_close);
}

TEST_CASE("descriptor pair: one descriptor for both directions, as a socket, is duplicated for writing",
          "[descriptor_pair][integration]") {
  int fds[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0);
  asio::io_context io;
  text_framings::Services services;
  bsonrpc::JsonRpc<bsonrpc::Ndjson> server(bsonrpc::descriptor_pair(io, fds[0], fds[0]), services);
  asio::local::stream_protocol::socket peer(io, asio::local::stream_protocol(), fds[1]);
  bsonrpc::JsonRpc<bsonrpc::Ndjson> client(std::move(peer), services);
  CHECK(client.call<std::string>("swapper", "one fd") == "df eno");
  CHECK(server.call<std::string>("swapper", "two fds") == "sdf owt");
}

TEST_CASE("descriptor pair: a descriptor that is not open is refused, and the other one closed",
          "[descriptor_pair]") {
  asio::io_context io;
  const auto [read_end, write_end] = text_framings::make_pipe();
  const int not_open = write_end;
  ::close(write_end);
  CHECK_THROWS_AS(bsonrpc::descriptor_pair(io, read_end, not_open), std::system_error);
  CHECK_FALSE(text_framings::is_open(read_end));
}

TEST_CASE("descriptor pair: a regular file is read to its end and /dev/null takes writes",
          "[descriptor_pair]") {
  std::FILE* file = std::tmpfile();
  REQUIRE(file);
  std::fputs("hello", file);
  std::fflush(file);
  const int read_fd = ::dup(::fileno(file));
  ::lseek(read_fd, 0, SEEK_SET);
  const int null_fd = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
  REQUIRE((read_fd >= 0 && null_fd >= 0));
  asio::io_context io;
  bsonrpc::descriptor_pair pair(io, read_fd, null_fd);
  std::string received;
  std::error_code end;
  char chunk[64];
  std::function<void(std::error_code, std::size_t)> on_read = [&](std::error_code ec,
                                                                  std::size_t n) {
    received.append(chunk, n);
    if (ec) end = ec;
    else pair.async_read_some(asio::buffer(chunk), on_read);
  };
  pair.async_read_some(asio::buffer(chunk), on_read);
  std::size_t written = 0;
  asio::async_write(pair, asio::buffer("discarded", 9),
                    [&](std::error_code, std::size_t n) { written = n; });
  io.run_for(10s);
  CHECK(received == "hello");
  CHECK(end == asio::error::eof);
  CHECK(written == 9);
  std::fclose(file);
}
