// bsonrpc/stream/any_stream.hpp: one type for every connected stream a connection can own.
//
// Supported out of the box: asio::ip::tcp::socket, asio::local::stream_protocol::socket,
// asio::ssl::stream<asio::ip::tcp::socket> (handshake already done by the caller), and any
// other Asio AsyncReadStream + AsyncWriteStream whose lowest_layer() is a socket. The stream
// keeps the executor (io_context) it was created with; all its operations are started from
// the connection's strand on that executor. Who is at the other end (endpoint, TLS peer
// certificate) is read once, as the stream is adopted: remote().
#pragma once

#include <bsonrpc/detail/identify.hpp>
#include <bsonrpc/peer_identity.hpp>

#include <asio.hpp>
#include <asio/ssl/error.hpp>

#include <cstddef>
#include <functional>
#include <memory>
#include <type_traits>
#include <system_error>
#include <utility>

namespace bsonrpc::detail {

// Whether a read or write failed because the peer went away: an orderly close, a reset, a
// TLS peer closing its socket without close_notify. Routine for a server, not an error.
inline bool is_hangup(const std::error_code& ec) noexcept {
  return ec == asio::error::eof || ec == asio::error::connection_reset ||
         ec == asio::error::broken_pipe || ec == asio::error::connection_aborted ||
         ec == asio::ssl::error::stream_truncated;
}

// Every operation completes on strand(), so a connection's state needs no other lock.
class any_stream {
 public:
  using handler = std::function<void(const std::error_code&, std::size_t)>;
  using strand_type = asio::strand<asio::any_io_executor>;

  virtual ~any_stream() = default;
  virtual strand_type& strand() noexcept = 0;
  virtual void async_read_some(asio::mutable_buffer buffer, handler done) = 0;
  // Writes all of `buffer` (a composed operation) before calling `done`.
  virtual void async_write(asio::const_buffer buffer, handler done) = 0;
  // Writes what the socket takes now without waiting: the bytes written, 0 if none (or if the
  // stream cannot write that way, as TLS). Saves a trip through the event loop per write.
  virtual std::size_t try_write_some(asio::const_buffer buffer) noexcept = 0;
  // Stops both directions at the socket level: pending reads complete with an error or EOF.
  virtual void shutdown() noexcept = 0;
  // Stops sending: the peer reads what was written, then end of stream (TLS: without
  // close_notify; a pipe: pending writes are cancelled, the pipe stays open). Reads go on.
  virtual void shutdown_send() noexcept = 0;
  virtual void close() noexcept = 0;

  // Who was at the other end when the stream was adopted.
  const peer_identity& remote() const noexcept { return remote_; }

 protected:
  explicit any_stream(peer_identity remote) : remote_(std::move(remote)) {}

 private:
  const peer_identity remote_;
};

template <class Stream>
class stream_adapter final : public any_stream {
 public:
  explicit stream_adapter(Stream&& stream)
      : any_stream(identify(stream)),
        stream_(std::move(stream)),
        strand_(asio::any_io_executor(stream_.get_executor())) {
    // RPC messages are small and latency-bound: never hold them back for Nagle's algorithm.
    using lowest = std::decay_t<decltype(stream_.lowest_layer())>;
    if constexpr (std::is_same_v<typename lowest::protocol_type, asio::ip::tcp>) {
      std::error_code ignored;
      stream_.lowest_layer().set_option(asio::ip::tcp::no_delay(true), ignored);
    }
  }

  strand_type& strand() noexcept override { return strand_; }

  void async_read_some(asio::mutable_buffer buffer, handler done) override {
    stream_.async_read_some(buffer, asio::bind_executor(strand_, std::move(done)));
  }

  void async_write(asio::const_buffer buffer, handler done) override {
    asio::async_write(stream_, buffer, asio::bind_executor(strand_, std::move(done)));
  }

  std::size_t try_write_some(asio::const_buffer buffer) noexcept override {
    if constexpr (is_socket) {
      std::error_code ec;
      if (!stream_.non_blocking()) stream_.non_blocking(true, ec);
      if (ec) return 0;
      const std::size_t written = stream_.write_some(buffer, ec);
      return ec ? 0 : written;
    } else {
      return 0;
    }
  }

  void shutdown() noexcept override {
    std::error_code ignored;
    stream_.lowest_layer().shutdown(asio::socket_base::shutdown_both, ignored);
  }

  void shutdown_send() noexcept override {
    std::error_code ignored;
    stream_.lowest_layer().shutdown(asio::socket_base::shutdown_send, ignored);
  }

  void close() noexcept override {
    std::error_code ignored;
    stream_.lowest_layer().close(ignored);
  }

  Stream& get() noexcept { return stream_; }

 private:
  // A plain socket, not a layer over one (such as TLS). A socket's lowest layer is its base
  // class (asio::basic_socket), a descriptor_pair's is itself.
  static constexpr bool is_socket =
      std::is_base_of_v<std::decay_t<decltype(std::declval<Stream&>().lowest_layer())>, Stream>;

  Stream stream_;
  strand_type strand_;
};

template <class Stream>
std::unique_ptr<any_stream> make_any_stream(Stream&& stream) {
  return std::make_unique<stream_adapter<std::decay_t<Stream>>>(std::move(stream));
}

}  // namespace bsonrpc::detail
