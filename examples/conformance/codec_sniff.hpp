// conformance/codec_sniff.hpp: `--framing auto` picks the codec too. Before a plain (TCP or
// Unix) connection gets its Rpc, the server peeks at its first bytes (MSG_PEEK: they stay in
// the socket for the Rpc to read) until they show a BSON document or not: BSON gets a BsonRpc,
// anything else JsonRpc<AutoFraming>, which detects the JSON framing itself and closes on bytes
// that match none, with its log line. Over TLS the bytes cannot be peeked under the record
// layer: there `--framing auto` serves JSON framings only, and refuses BSON with a log line.
#pragma once

#include <bsonrpc/framing/auto.hpp>

#include <asio.hpp>

#include <array>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>
#include <system_error>
#include <utility>

namespace conformance {

enum class sniffed_codec { json, bson };

// What a connection's first bytes say, or nullopt while more are needed. Text that stays
// undecided longer (a netstring's digits, a header name) is told from BSON by its first four
// bytes: a BSON document under 16 MiB has a NUL among them, text never does.
inline std::optional<sniffed_codec> sniff_codec(std::string_view first) {
  const auto framing = bsonrpc::detect_framing(first);
  if (framing == bsonrpc::detected_framing::bson) return sniffed_codec::bson;
  if (framing != bsonrpc::detected_framing::undecided) return sniffed_codec::json;
  const auto head = first.substr(0, 4);
  if (head.size() == 4 && head.find('\0') == std::string_view::npos) return sniffed_codec::json;
  return std::nullopt;
}

// Peeks at `socket` on its executor until sniff_codec() decides, then calls
// done(socket, codec) there. After `limit` without a decision (a silent or very slow peer) the
// codec is json: AutoFraming then waits and times out as it would have. A peer that closes or
// fails first is dropped without a call.
template <class Socket>
class codec_sniffer : public std::enable_shared_from_this<codec_sniffer<Socket>> {
 public:
  using done_type = std::function<void(Socket, sniffed_codec)>;

  static void start(Socket socket, std::chrono::milliseconds limit, done_type done) {
    auto self =
        std::shared_ptr<codec_sniffer>(new codec_sniffer(std::move(socket), std::move(done)));
    self->deadline_.expires_after(limit);
    self->deadline_.async_wait([self](const std::error_code& ec) {
      if (!ec) self->finish(sniffed_codec::json);
    });
    self->wait();
  }

 private:
  codec_sniffer(Socket socket, done_type done)
      : socket_(std::move(socket)),
        deadline_(socket_.get_executor()),
        pause_(socket_.get_executor()),
        done_(std::move(done)) {}

  void wait() {
    auto self = this->shared_from_this();
    socket_.async_wait(Socket::wait_read, [self](const std::error_code& ec) {
      if (self->finished_) return;
      if (ec) return self->drop();
      self->peek();
    });
  }

  void peek() {
    std::array<char, 8> first{};
    std::error_code ec;
    const std::size_t n = socket_.receive(asio::buffer(first), Socket::message_peek, ec);
    if (ec || n == 0) return drop();
    if (const auto codec = sniff_codec(std::string_view(first.data(), n))) return finish(*codec);
    // Fewer bytes than a decision needs: wait_read would fire again at once, so pause first.
    pause_.expires_after(std::chrono::milliseconds(5));
    pause_.async_wait([self = this->shared_from_this()](const std::error_code& e) {
      if (!e && !self->finished_) self->wait();
    });
  }

  void drop() {
    finished_ = true;
    deadline_.cancel();
    pause_.cancel();
  }

  // The handover runs after the cancelled operations' handlers, which only see finished_.
  void finish(sniffed_codec codec) {
    if (finished_) return;
    drop();
    std::error_code ignored;
    socket_.cancel(ignored);
    asio::post(socket_.get_executor(), [self = this->shared_from_this(), codec] {
      self->done_(std::move(self->socket_), codec);
    });
  }

  Socket socket_;
  asio::steady_timer deadline_;
  asio::steady_timer pause_;
  done_type done_;
  bool finished_ = false;
};

}  // namespace conformance
