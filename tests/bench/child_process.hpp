// tests/bench/child_process.hpp: a benchmark server in a child process (this program, run in
// its --serve mode), so that client and server are two processes as the goals require.
#pragma once

#include <asio.hpp>

#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

extern char** environ;

namespace bench {

// Resident set of process `pid`, in KiB.
inline long resident_kib(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  throw std::runtime_error("no VmRSS for process " + std::to_string(pid));
}

// Runs `program arguments...`, which must print "listening on HOST:PORT" on its standard
// output first; killed and reaped when this object goes.
class child_server {
 public:
  child_server(const std::string& program, const std::vector<std::string>& arguments) {
    int out[2];
    if (::pipe(out) != 0) throw std::system_error(errno, std::generic_category(), "pipe");
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&actions, out[0]);
    std::vector<char*> argv{const_cast<char*>(program.c_str())};
    for (const auto& a : arguments) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    const int rc = ::posix_spawn(&pid_, program.c_str(), &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(out[1]);
    if (rc != 0) {
      ::close(out[0]);
      throw std::system_error(rc, std::generic_category(), "posix_spawn " + program);
    }
    output_ = out[0];
    try {
      endpoint_ = read_listening_line();
    } catch (...) {
      stop();
      throw;
    }
  }

  child_server(const child_server&) = delete;
  child_server& operator=(const child_server&) = delete;

  ~child_server() { stop(); }

  const asio::ip::tcp::endpoint& endpoint() const noexcept { return endpoint_; }
  pid_t pid() const noexcept { return pid_; }

 private:
  void stop() {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    ::close(output_);
  }

  asio::ip::tcp::endpoint read_listening_line() {
    std::string line;
    for (char c = 0; c != '\n';) {
      pollfd ready{output_, POLLIN, 0};
      if (::poll(&ready, 1, 10'000) != 1 || ::read(output_, &c, 1) != 1)
        throw std::runtime_error("the benchmark server did not start");
      if (c != '\n') line += c;
    }
    const std::string prefix = "listening on ";
    const auto colon = line.rfind(':');
    if (line.rfind(prefix, 0) != 0 || colon == std::string::npos)
      throw std::runtime_error("unexpected line from the benchmark server: " + line);
    return {asio::ip::make_address(line.substr(prefix.size(), colon - prefix.size())),
            static_cast<unsigned short>(std::stoi(line.substr(colon + 1)))};
  }

  pid_t pid_ = -1;
  int output_ = -1;
  asio::ip::tcp::endpoint endpoint_;
};

}  // namespace bench
