// A TCP proxy that mistreats what it carries, for soak tests: it forwards every byte in its own
// 1-byte write, pauses at random, and resets each connection (both sides get a TCP RST) after
// a random number of bytes. Everything random comes from one seed, so a failing run can be
// replayed (thread scheduling aside).
//
// Each proxied connection (a link) has two pump threads on blocking sockets, one per
// direction; the accepting thread reaps finished links, so threads and descriptors do not
// pile up over thousands of connections. The destructor resets every link and joins all.
#pragma once

#include <asio.hpp>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <random>
#include <thread>
#include <utility>

namespace bsonrpc::test {

class fault_proxy {
 public:
  struct faults {
    std::uint64_t seed = 1;
    // A link is reset after this many bytes on average (both directions; exponential).
    double mean_bytes_before_reset = 20000;
    // Each chunk read is forwarded after a pause with this probability, of up to max_pause.
    double pause_probability = 0.05;
    std::chrono::microseconds max_pause{300};
  };

  fault_proxy(asio::ip::tcp::endpoint upstream, faults f) : upstream_(upstream), faults_(f) {
    asio::ip::tcp::acceptor acceptor(io_, {asio::ip::make_address("127.0.0.1"), 0});
    port_ = acceptor.local_endpoint().port();
    listen_fd_ = acceptor.release();
    accepting_ = std::thread([this] { accept_loop(); });
  }
  fault_proxy(const fault_proxy&) = delete;
  fault_proxy& operator=(const fault_proxy&) = delete;

  ~fault_proxy() {
    stopping_ = true;
    accepting_.join();
    ::close(listen_fd_);
    std::lock_guard lock(mutex_);
    for (auto& l : links_) l->reset();
    for (auto& l : links_) l->join();
    links_.clear();
  }

  unsigned short port() const { return port_; }
  std::uint64_t connections() const { return connections_.load(); }
  std::uint64_t resets() const { return resets_.load(); }
  std::uint64_t bytes() const { return bytes_.load(); }

 private:
  struct link {
    link(fault_proxy& owner, int client, int server, std::uint64_t seed)
        : owner(owner), fds{client, server} {
      std::mt19937_64 random(seed);
      std::exponential_distribution<double> budget(1.0 / owner.faults_.mean_bytes_before_reset);
      reset_after = static_cast<std::uint64_t>(budget(random)) + 1;
      for (int dir = 0; dir < 2; ++dir)
        pumps[dir] = std::thread([this, dir, s = random()] { pump(fds[dir], fds[1 - dir], s); });
    }

    // Both sides get a reset: no linger, and both reads wake up.
    void reset() {
      if (resetting.exchange(true)) return;
      const ::linger hard{1, 0};
      for (int fd : fds) {
        ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
        ::shutdown(fd, SHUT_RD);
      }
    }

    void join() {
      for (auto& t : pumps)
        if (t.joinable()) t.join();
      for (int& fd : fds)
        if (fd >= 0) ::close(std::exchange(fd, -1));
    }

    bool done() const { return pumps_done.load() == 2; }

    void pump(int from, int to, std::uint64_t seed) {
      std::mt19937_64 random(seed);
      std::uniform_real_distribution<double> chance(0.0, 1.0);
      std::uniform_int_distribution<long> pause(0, owner.faults_.max_pause.count());
      char buffer[4096];
      ssize_t n = 0;
      while ((n = ::recv(from, buffer, sizeof buffer, 0)) > 0 && !resetting) {
        if (chance(random) < owner.faults_.pause_probability)
          std::this_thread::sleep_for(std::chrono::microseconds(pause(random)));
        for (ssize_t i = 0; i < n && !resetting; ++i) {
          if (!send_byte(to, buffer[i])) {
            reset();
            break;
          }
          owner.bytes_++;
          if (++carried == reset_after) {
            owner.resets_++;
            reset();
          }
        }
      }
      // An end passes on as an end (the peer closed its sending side), an error as a reset.
      if (n < 0) reset();
      else if (!resetting) ::shutdown(to, SHUT_WR);
      pumps_done++;
    }

    // One byte, in its own write; false if the socket failed.
    bool send_byte(int fd, char byte) {
      for (;;) {
        const ssize_t n = ::send(fd, &byte, 1, MSG_NOSIGNAL);
        if (n == 1) return true;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
          if (resetting) return false;
          continue;  // SO_SNDTIMEO passed: look at `resetting`, then wait again
        }
        return false;
      }
    }

    fault_proxy& owner;
    int fds[2];
    std::thread pumps[2];
    std::uint64_t reset_after = 0;
    std::atomic<std::uint64_t> carried{0};
    std::atomic<bool> resetting{false};
    std::atomic<int> pumps_done{0};
  };

  void accept_loop() {
    std::uint64_t n = 0;
    while (!stopping_) {
      ::pollfd p{listen_fd_, POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) {
        reap();
        continue;
      }
      const int client = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (client < 0) continue;
      const int server = connect_upstream();
      if (server < 0) {
        ::close(client);
        continue;
      }
      for (int fd : {client, server}) configure(fd);
      ++connections_;
      std::lock_guard lock(mutex_);
      links_.push_back(std::make_unique<link>(*this, client, server, faults_.seed + 7919 * ++n));
      reap_locked();
    }
  }

  int connect_upstream() {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    const auto address = upstream_.data();
    if (::connect(fd, address, static_cast<socklen_t>(upstream_.size())) != 0) {
      ::close(fd);
      return -1;
    }
    return fd;
  }

  static void configure(int fd) {
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    const ::timeval limit{1, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit);
  }

  void reap() {
    std::lock_guard lock(mutex_);
    reap_locked();
  }
  void reap_locked() {
    for (auto it = links_.begin(); it != links_.end();) {
      if (!(*it)->done()) {
        ++it;
        continue;
      }
      (*it)->join();
      it = links_.erase(it);
    }
  }

  asio::io_context io_;
  asio::ip::tcp::endpoint upstream_;
  faults faults_;
  unsigned short port_ = 0;
  int listen_fd_ = -1;
  std::atomic<bool> stopping_{false};
  std::atomic<std::uint64_t> connections_{0};
  std::atomic<std::uint64_t> resets_{0};
  std::atomic<std::uint64_t> bytes_{0};
  std::mutex mutex_;
  std::list<std::unique_ptr<link>> links_;
  std::thread accepting_;
};

}  // namespace bsonrpc::test
