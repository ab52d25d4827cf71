// bsonrpc/stream/descriptor_pair.hpp: two POSIX file descriptors, one read and one written,
// as one stream an Rpc runs on, like a socket: stdin and stdout, or pipes to a child process.
//
//   asio::io_context io;
//   bsonrpc::JsonRpc<bsonrpc::ContentLength> rpc(bsonrpc::descriptor_pair::stdio(io), services);
//
// Reads and writes are asynchronous on the io_context (asio::posix::stream_descriptor
// underneath); anything epoll accepts works (pipes, FIFOs, terminals, sockets), and so do
// regular files and /dev/null, which never block.
//
// What closing does (close(), the destructor, or the Rpc closing its connection):
// - A pair made from two descriptors owns them and closes them: the peer reading the write
//   side sees end of stream, unless another process still holds a copy of it.
// - stdio() owns duplicates of descriptors 0 and 1, never 0 and 1 themselves: after closing,
//   the process's stdin and stdout are still open and usable. The peer therefore sees end of
//   stream only when the process exits (or closes descriptor 1 itself).
// - Non-blocking mode belongs to the open file, which duplicates share: while the pair is open,
//   stdin and stdout are non-blocking too (so do not read std::cin meanwhile; stdout carries
//   the protocol anyway, so log to stderr). On a terminal, stderr is usually that same open
//   file and turns non-blocking as well: a log line written while the terminal is busy may be
//   lost. Closing gives each file back the mode it had; a process killed before that cannot.
// - shutdown() cancels pending reads and writes; a pipe has no half-close that keeps its
//   descriptor, so the descriptors are released by close() alone.
// Writing to a pipe whose reader has gone raises SIGPIPE, which kills a process by default. The
// pair blocks SIGPIPE in the writing thread for the write and reports EPIPE (broken pipe)
// instead, so the connection closes and the process lives; signal dispositions are untouched.
#pragma once

#include <asio.hpp>

#if defined(ASIO_HAS_POSIX_STREAM_DESCRIPTOR)

#include <cerrno>
#include <cstddef>
#include <system_error>
#include <utility>

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

namespace bsonrpc {

namespace detail {

[[noreturn]] inline void throw_errno(const char* what) {
  throw std::system_error(errno, std::generic_category(), what);
}

// A close-on-exec duplicate of `fd`, numbered above the standard descriptors.
inline int duplicate_descriptor(int fd) {
  const int copy = ::fcntl(fd, F_DUPFD_CLOEXEC, 3);
  if (copy < 0) throw_errno("descriptor_pair: cannot duplicate descriptor");
  return copy;
}

// writev() that cannot kill the process: SIGPIPE, which a write to a pipe without reader raises
// in the writing thread, stays blocked (pending) during the write and is then consumed, unless
// one was pending already. errno is the write's.
inline ssize_t write_without_sigpipe(int fd, const iovec* buffers, int count) {
  sigset_t pipe_signal;
  sigset_t previous;
  sigemptyset(&pipe_signal);
  sigaddset(&pipe_signal, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_signal, &previous);
  sigset_t pending;
  sigpending(&pending);
  const bool was_pending = sigismember(&pending, SIGPIPE) == 1;
  ssize_t written = 0;
  do {
    written = ::writev(fd, buffers, count);
  } while (written < 0 && errno == EINTR);
  const int write_errno = errno;
  if (written < 0 && write_errno == EPIPE && !was_pending) {
    const timespec no_wait{0, 0};
    while (sigtimedwait(&pipe_signal, nullptr, &no_wait) < 0 && errno == EINTR) {
    }
  }
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  errno = write_errno;
  return written;
}

}  // namespace detail

// An AsyncReadStream and AsyncWriteStream over a read descriptor and a write descriptor. Like a
// plain socket it is its own lowest layer, with shutdown() and close(), and writes directly
// (write_some never waits), so a connection writes to it without a trip through the loop.
class descriptor_pair {
 public:
  using executor_type = asio::any_io_executor;
  using lowest_layer_type = descriptor_pair;
  using protocol_type = void;  // not a socket (any_stream asks, to tune TCP)

  // Takes ownership of `read_fd` and `write_fd`, also when it throws (std::system_error, for a
  // descriptor that is not open): they are then closed. `where` is an io_context or executor.
  // The same descriptor for both sides (a socket, a terminal) is duplicated for writing.
  template <class ExecutionContextOrExecutor>
  descriptor_pair(ExecutionContextOrExecutor&& where, int read_fd, int write_fd)
      : input_(where), output_(where) {
    try {
      if (write_fd == read_fd) write_fd = detail::duplicate_descriptor(read_fd);
      adopt(input_, read_fd, input_was_non_blocking_);
      adopt(output_, write_fd, output_was_non_blocking_);
    } catch (...) {
      if (read_fd >= 0) ::close(read_fd);
      if (write_fd >= 0 && write_fd != read_fd) ::close(write_fd);
      close();
      throw;
    }
  }

  // The process's stdin and stdout, through duplicates (see the top of this file).
  template <class ExecutionContextOrExecutor>
  static descriptor_pair stdio(ExecutionContextOrExecutor&& where) {
    const int in = detail::duplicate_descriptor(STDIN_FILENO);
    int out = -1;
    try {
      out = detail::duplicate_descriptor(STDOUT_FILENO);
    } catch (...) {
      ::close(in);
      throw;
    }
    return descriptor_pair(where, in, out);
  }

  descriptor_pair(descriptor_pair&&) = default;
  descriptor_pair& operator=(descriptor_pair&& other) noexcept {
    if (this != &other) {
      close();
      input_ = std::move(other.input_);
      output_ = std::move(other.output_);
      input_was_non_blocking_ = other.input_was_non_blocking_;
      output_was_non_blocking_ = other.output_was_non_blocking_;
    }
    return *this;
  }
  descriptor_pair(const descriptor_pair&) = delete;
  descriptor_pair& operator=(const descriptor_pair&) = delete;
  ~descriptor_pair() { close(); }

  executor_type get_executor() noexcept { return input_.get_executor(); }
  descriptor_pair& lowest_layer() noexcept { return *this; }
  const descriptor_pair& lowest_layer() const noexcept { return *this; }
  bool is_open() const noexcept { return input_.is_open() || output_.is_open(); }

  template <class MutableBufferSequence, class ReadToken>
  auto async_read_some(const MutableBufferSequence& buffers, ReadToken&& token) {
    return input_.async_read_some(buffers, std::forward<ReadToken>(token));
  }

  // Writes once the descriptor takes bytes, completing with how many it took.
  template <class ConstBufferSequence, class WriteToken>
  auto async_write_some(const ConstBufferSequence& buffers, WriteToken&& token) {
    return asio::async_compose<WriteToken, void(std::error_code, std::size_t)>(
        write_operation<ConstBufferSequence>(*this, buffers), token, output_);
  }

  // Writes what the descriptor takes now, without waiting: 0 and would_block if it takes
  // nothing, broken_pipe if nobody reads the other end any more.
  template <class ConstBufferSequence>
  std::size_t write_some(const ConstBufferSequence& buffers, std::error_code& ec) {
    if (!output_.is_open()) {
      ec = asio::error::bad_descriptor;
      return 0;
    }
    iovec chunks[16];
    int count = 0;
    for (auto it = asio::buffer_sequence_begin(buffers);
         it != asio::buffer_sequence_end(buffers) && count < 16; ++it) {
      const asio::const_buffer chunk(*it);
      if (chunk.size() == 0) continue;
      chunks[count].iov_base = const_cast<void*>(chunk.data());
      chunks[count].iov_len = chunk.size();
      ++count;
    }
    ec = {};
    if (count == 0) return 0;
    const ssize_t written = detail::write_without_sigpipe(output_.native_handle(), chunks, count);
    if (written >= 0) return static_cast<std::size_t>(written);
    ec = errno == EAGAIN || errno == EWOULDBLOCK
             ? std::error_code(asio::error::would_block)
             : std::error_code(errno, asio::error::get_system_category());
    return 0;
  }

  // Always non-blocking: the descriptors are used asynchronously (and write_some never waits).
  bool non_blocking() const noexcept { return true; }
  void non_blocking(bool mode, std::error_code& ec) {
    ec = mode ? std::error_code() : std::error_code(asio::error::operation_not_supported);
  }

  // Cancels pending reads (shutdown_receive), writes (shutdown_send) or both: they complete
  // with operation_aborted. The descriptors stay open until close().
  void shutdown(asio::socket_base::shutdown_type what, std::error_code& ec) {
    ec = {};
    std::error_code ignored;
    if (what != asio::socket_base::shutdown_send && input_.is_open()) input_.cancel(ignored);
    if (what != asio::socket_base::shutdown_receive && output_.is_open()) output_.cancel(ignored);
  }

  // Closes both descriptors, giving their files back the blocking mode they had; pending
  // operations complete with operation_aborted.
  void close(std::error_code& ec) noexcept {
    ec = {};
    close();
  }
  void close() noexcept {
    // Both leave the reactor before either file's mode changes, so no operation can be left
    // reading or writing a descriptor that has just become blocking.
    const int in = input_.is_open() ? input_.release() : -1;
    const int out = output_.is_open() ? output_.release() : -1;
    restore_and_close(in, input_was_non_blocking_);
    restore_and_close(out, output_was_non_blocking_);
  }

 private:
  template <class Buffers>
  struct write_operation {
    write_operation(descriptor_pair& p, const Buffers& b) : pair(&p), buffers(b) {}

    descriptor_pair* pair;
    Buffers buffers;
    bool waited = false;  // the operation has left its initiating function
    bool finished = false;
    std::error_code result;
    std::size_t written = 0;

    template <class Self>
    void operator()(Self& self, std::error_code ec = {}) {
      if (!finished) {
        if (!ec) written = pair->write_some(buffers, ec);
        if (ec == asio::error::would_block) {
          waited = true;
          pair->output_.async_wait(asio::posix::descriptor_base::wait_write, std::move(self));
          return;
        }
        finished = true;
        result = ec;
        // A handler is never called from inside the initiating function.
        if (!waited) {
          asio::post(std::move(self));
          return;
        }
      }
      self.complete(result, written);
    }
  };

  // Owns `fd` once assigned (then set to -1), after noting its blocking mode.
  static void adopt(asio::posix::stream_descriptor& descriptor, int& fd, bool& was_non_blocking) {
    const int flags = ::fcntl(fd, F_GETFL);
    if (flags < 0) detail::throw_errno("descriptor_pair: not an open descriptor");
    was_non_blocking = (flags & O_NONBLOCK) != 0;
    descriptor.assign(fd);
    fd = -1;
    descriptor.non_blocking(true);
  }

  static void restore_and_close(int fd, bool was_non_blocking) {
    if (fd < 0) return;
    if (!was_non_blocking) {
      const int flags = ::fcntl(fd, F_GETFL);
      if (flags >= 0) ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
    }
    ::close(fd);
  }

  asio::posix::stream_descriptor input_;
  asio::posix::stream_descriptor output_;
  bool input_was_non_blocking_ = false;
  bool output_was_non_blocking_ = false;
};

}  // namespace bsonrpc

#endif  // ASIO_HAS_POSIX_STREAM_DESCRIPTOR
