// bsonrpc/detail/connection/reader.hpp: bytes from the stream to whole messages.
//
// It owns the read buffer and the Framing's scan state, hands each complete message to the
// owner, pauses while the owner reports back-pressure and resumes when asked, and closes a
// connection whose message has started arriving but stays incomplete for longer than
// Options::partial_message_timeout. Strand only, apart from paused().
//
// Owner (the connection) provides, called on the strand:
//   bool is_closed() const;
//   std::shared_ptr<Owner> shared_from_this();
//   bool must_pause();                            back-pressure: too much in flight
//   bool on_message(std::string_view message);    false if it did not decode
//   void close();
//   void on_reading_ended();                      no read is outstanding any more, for good
//   void on_bytes_read();                         bytes arrived (for the idle timeout)
//   void hold_writes(); void release_writes();    around the messages of one read: what they
//                                                 send leaves together (in 4 KiB writes)
#pragma once

#include <bsonrpc/detail/connection/outbox.hpp>
#include <bsonrpc/errors.hpp>
#include <bsonrpc/framing/framing.hpp>
#include <bsonrpc/log.hpp>
#include <bsonrpc/options.hpp>
#include <bsonrpc/stream/any_stream.hpp>

#include <asio.hpp>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>

namespace bsonrpc::detail {

template <class Framing, class Owner>
class reader {
 public:
  reader(Owner& owner, any_stream& stream, const Options& options, const logger& log)
      : owner_(owner), stream_(stream), options_(options), log_(log) {}

  // On the strand: the first read.
  void start() { read_more(); }

  // The framing: extract() on the strand only; its const writing members from any thread.
  const Framing& framing() const noexcept { return framing_; }

  // Whether the read loop stopped for back-pressure (any thread).
  bool paused() const noexcept { return paused_.load(); }

  // On the strand: continues a paused read loop when the backlog allows it.
  void resume() {
    if (!paused_ || owner_.is_closed() || owner_.must_pause()) return;
    paused_ = false;
    on_read({}, 0);
  }

  // On the strand, once the stream is shut: no timer may keep the connection alive.
  void stop() {
    if (partial_timer_) partial_timer_->cancel();
  }

 private:
  // An idle connection holds a small buffer. It doubles while a message outgrows it, or while
  // reads fill it (a burst, up to burst_buffer_limit), grows straight towards the size a
  // framing announces for the message under way, and shrinks back once everything in it is
  // handled. It is never zero-filled: only received bytes are ever read from it. 1 KiB holds
  // a typical message; it was the largest part of an idle EventLoop connection at 2 KiB.
  static constexpr std::size_t initial_buffer = 1024;
  static constexpr std::size_t min_read = initial_buffer / 4;
  static constexpr std::size_t burst_buffer_limit = 256 * 1024;
  // A header alone can announce up to max_message_bytes: the buffer takes at most this much, or
  // four times what has arrived, more than it holds, so a peer cannot reserve memory for free.
  static constexpr std::size_t hint_step = 16 * 1024;

  void read_more() {
    if (begin_ == filled_) {
      begin_ = filled_ = 0;
      if (capacity_ > idle_buffer_limit && !last_read_filled_) reallocate_buffer(initial_buffer);
    }
    const std::size_t unread = filled_ - begin_;
    std::size_t wanted = std::max(unread + min_read, initial_buffer);
    if (frame_size_hint_ > unread)  // the announced frame, in steps while bytes come in
      wanted = std::max(std::min(frame_size_hint_, std::max(4 * unread, hint_step)), wanted);
    // A burst grows the buffer whether or not the frame at its end announced its size.
    if (capacity_ - unread < min_read || (last_read_filled_ && capacity_ < burst_buffer_limit))
      wanted = std::max(wanted, 2 * capacity_);
    frame_size_hint_ = 0;
    if (wanted > capacity_) {
      reallocate_buffer(wanted);
    } else if (capacity_ - begin_ < wanted) {  // room enough once consumed bytes are dropped
      std::memmove(buffer_.get(), buffer_.get() + begin_, unread);
      filled_ = unread;
      begin_ = 0;
    }
    auto self = owner_.shared_from_this();
    stream_.async_read_some(asio::buffer(buffer_.get() + filled_, capacity_ - filled_),
                            [self, this](const std::error_code& ec, std::size_t n) {
                              on_read(ec, n);
                            });
  }

  // Moves the unread bytes to the front of a new buffer of `capacity` bytes.
  void reallocate_buffer(std::size_t capacity) {
    std::unique_ptr<char[]> fresh(new char[capacity]);
    if (filled_ > begin_) std::memcpy(fresh.get(), buffer_.get() + begin_, filled_ - begin_);
    filled_ -= begin_;
    begin_ = 0;
    buffer_ = std::move(fresh);
    capacity_ = capacity;
  }

  void on_read(const std::error_code& ec, std::size_t n) {
    if (ec) {
      // A peer that hangs up is routine for a server; an operator acts only on the rest.
      if (is_hangup(ec)) log_(log_level::debug, "peer closed the connection: " + ec.message());
      else if (!owner_.is_closed()) log_(log_level::error, "read failed: " + ec.message());
      end_reading();
      return;
    }
    if (n > 0) owner_.on_bytes_read();
    last_read_filled_ = n > 0 && filled_ + n == capacity_;
    filled_ += n;
    bool needs_bytes = false;  // the loop stopped for want of bytes, not for back-pressure
    const writes_held held(owner_);
    try {
      while (!owner_.is_closed() && !owner_.must_pause()) {
        const std::string_view unread(buffer_.get() + begin_, filled_ - begin_);
        auto found = framing_.extract(unread, options_.max_message_bytes);
        if (!found) {
          needs_bytes = true;
          if constexpr (has_frame_size_hint<Framing>::value)
            frame_size_hint_ = framing_.frame_size_hint(unread);
          break;
        }
        const bool decoded = owner_.on_message(found->message(unread));
        begin_ += found->consumed;
        ++messages_read_;
        if (!decoded && !framing_resynchronises<Framing>::value) {
          log_(log_level::error,
               "undecodable message with a framing that cannot resynchronise: closing");
          owner_.close();
          break;
        }
      }
    } catch (const framing_error& e) {
      log_(log_level::error, std::string("framing error, closing: ") + e.what());
      end_reading();
      return;
    } catch (const std::exception& e) {
      // Nothing a peer sends may escape into the event loop: this connection ends, no other.
      log_(log_level::error, std::string("unexpected failure on input, closing: ") + e.what());
      end_reading();
      return;
    }
    if (begin_ == filled_) begin_ = filled_ = 0;
    if (owner_.is_closed()) {
      end_reading();
      return;
    }
    watch_partial_message();
    if (!needs_bytes || owner_.must_pause()) {
      // Stopped for back-pressure, complete messages may still be buffered: only resume()
      // handles them, a read would wait for bytes the peer may never send. The flag goes up
      // before the second check, so a handler finishing in between either sees it (and
      // resumes us) or is seen by the check.
      paused_ = true;
      if (!owner_.must_pause()) {
        auto self = owner_.shared_from_this();
        asio::post(stream_.strand(), [self, this] { resume(); });
      }
      return;
    }
    read_more();
  }

  // Holds the owner's writes while the messages of one read are handled.
  class writes_held {
   public:
    explicit writes_held(Owner& owner) : owner_(owner) { owner_.hold_writes(); }
    ~writes_held() { owner_.release_writes(); }
    writes_held(const writes_held&) = delete;
    writes_held& operator=(const writes_held&) = delete;

   private:
    Owner& owner_;
  };

  void end_reading() {
    owner_.close();
    owner_.on_reading_ended();
  }

  // Whether part of a message is buffered (not only what separates messages).
  bool message_under_way() const {
    if (begin_ == filled_) return false;
    if constexpr (has_between_messages<Framing>::value) return !framing_.between_messages();
    return true;
  }

  // Closes the connection if a message that has started arriving is still incomplete after
  // partial_message_timeout (a peer dripping bytes cannot hold it forever).
  void watch_partial_message() {
    const auto timeout = options_.partial_message_timeout;
    if (!timeout || !message_under_way() || partial_timer_armed_) return;
    if (!partial_timer_) partial_timer_ = std::make_unique<asio::steady_timer>(stream_.strand());
    partial_timer_armed_ = true;
    partial_timer_->expires_after(*timeout);
    auto self = owner_.shared_from_this();
    partial_timer_->async_wait([self, this, started = messages_read_](std::error_code ec) {
      partial_timer_armed_ = false;
      if (ec || owner_.is_closed()) return;
      if (messages_read_ == started && message_under_way()) {
        log_(log_level::error, "a message took longer than partial_message_timeout: closing");
        owner_.close();
        return;
      }
      watch_partial_message();  // another message is under way: time it afresh
    });
  }

  Owner& owner_;
  any_stream& stream_;
  const Options& options_;
  const logger& log_;
  Framing framing_;

  std::unique_ptr<char[]> buffer_;  // bytes [begin_, filled_) are received and not yet handled
  std::size_t capacity_ = 0;
  std::size_t begin_ = 0;
  std::size_t filled_ = 0;
  std::size_t frame_size_hint_ = 0;  // from the framing, when a message is under way
  std::atomic<bool> paused_{false};
  bool last_read_filled_ = false;
  std::uint64_t messages_read_ = 0;
  std::unique_ptr<asio::steady_timer> partial_timer_;
  bool partial_timer_armed_ = false;
};

}  // namespace bsonrpc::detail
