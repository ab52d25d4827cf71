// bsonrpc/detail/connection/outbox.hpp: frames waiting to be written, and the writes.
//
// Any thread queues a frame; the strand writes everything queued in one write, straight to
// the socket when it takes the bytes at once, else through one asynchronous write. While the
// reader handles the messages of one read it holds the writes back, so the replies to them
// (and the calls their completions chain) leave together, in writes of about 4 KiB: 64
// pipelined requests cost a few writes, not 64, and a lone request's reply still leaves
// before the next read. A close lets what is queued leave (for at most close_linger) and
// then shuts the stream down. A graceful shutdown asks instead to shut only the sending side
// once everything queued is written; nothing is sent after that.
//
// Owner (the connection) provides, all but the first two called on the strand:
//   bool is_closed() const;          any thread, lock-free
//   std::shared_ptr<Owner> shared_from_this();   keeps the connection alive across a write
//   void close();                    a queued close-after-response, or a failed write
//   void resume_reading();           the backlog shrank
//   void on_stream_shut();           the stream is shut: stop the reader's timers
//   void on_write_shut();            the sending side is shut (shut_write_when_flushed)
//   void on_bytes_written();         bytes left (for the idle timeout)
#pragma once

#include <bsonrpc/errors.hpp>
#include <bsonrpc/framing/framing.hpp>
#include <bsonrpc/log.hpp>
#include <bsonrpc/stream/any_stream.hpp>

#include <asio.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <system_error>
#include <utility>

namespace bsonrpc::detail {

// What the read buffer and the framing scratch buffer keep at most while idle.
inline constexpr std::size_t idle_buffer_limit = 64 * 1024;

// What an encoded frame's buffer starts with. Growing a string from empty to a 200-byte
// message reallocates it four times on the way.
inline constexpr std::size_t frame_reserve = 256;

// While writes are held, a write starts anyway once this much is queued. Holding a whole
// burst of replies keeps the two ends in lockstep (each waits while the other handles the
// whole burst): 64 pipelined calls in flight ran at about 190k calls/s held whole, 420k
// leaving in 4 KiB writes, 310k in 2 KiB and 200k in 8 KiB (loopback TCP, JSON, two cores).
inline constexpr std::size_t held_write_bytes = 4096;

// The frame around what `encode` appends to a string: encoded in place when the framing
// allows it, else encoded into a per-thread scratch buffer and copied into its frame.
// `framing` is the connection's (its writing members may depend on what it has read).
template <class Framing, class Encode>
std::string framed(const Framing& framing, Encode&& encode) {
  std::string out;
  if constexpr (frames_in_place<Framing>::value) {
    out.reserve(frame_reserve);  // a typical message then grows no buffer while it is encoded
    framing.begin_frame(out);
    const std::size_t start = out.size();
    encode(out);
    framing.end_frame(out, start);
  } else {
    thread_local std::string scratch;
    scratch.clear();
    encode(scratch);
    framing.wrap(scratch, out);
    if (scratch.capacity() > idle_buffer_limit) std::string().swap(scratch);
  }
  return out;
}

template <class Owner>
class outbox {
 public:
  outbox(Owner& owner, any_stream& stream, std::size_t max_pending_bytes, const logger& log)
      : owner_(owner), stream_(stream), max_pending_bytes_(max_pending_bytes), log_(log) {}

  // Queues framed bytes; false if the connection is closed or its sending side shut. A `limited` send (a call or
  // notification of ours) refuses to grow the queue past max_pending_outgoing_bytes (throws
  // errc::backpressure); replies are never refused: the reader pauses instead. An empty
  // `frame` with `close_when_flushed` queues only the close.
  bool send(std::string frame, bool close_when_flushed = false, bool limited = false) {
    {
      std::lock_guard lock(mutex_);
      if (owner_.is_closed() || write_shut_) return false;
      if (limited && queue_.size() + frame.size() > max_pending_bytes_ && !queue_.empty())
        throw error(errc::backpressure, "too much outgoing data queued on this connection");
      pending_bytes_ += frame.size();
      if (queue_.empty()) queue_ = std::move(frame);
      else queue_.append(frame);
      if (close_when_flushed) close_when_flushed_ = true;
      if (writing_ || (holds_ > 0 && queue_.size() < held_write_bytes)) return true;
      writing_ = true;
    }
    start_writing();
    return true;
  }

  // Holds writes back until the matching release(): what is queued meanwhile leaves in one
  // write, or in writes of held_write_bytes and more. Any thread; holds nest.
  void hold() {
    std::lock_guard lock(mutex_);
    ++holds_;
  }
  void release() {
    {
      std::lock_guard lock(mutex_);
      if (--holds_ > 0 || writing_ || (queue_.empty() && !close_when_flushed_)) return;
      writing_ = true;
    }
    start_writing();
  }

  // Whether the bytes queued or being written exceed the limit (the reader then pauses).
  // Lock-free: the reader asks before every message.
  bool over_limit() const noexcept { return pending_bytes_.load() > max_pending_bytes_; }

  // On the strand: shuts the stream down now if nothing is being written, else once the
  // writes finish or close_linger has passed.
  void shutdown_when_flushed() {
    if (stream_closed_) return;
    bool flushing = false;
    {
      std::lock_guard lock(mutex_);
      flushing = writing_ || !queue_.empty();  // queued while held: release() writes it
    }
    if (!flushing) {
      shutdown_stream();
      return;
    }
    if (linger_) return;
    linger_ = std::make_unique<asio::steady_timer>(stream_.strand(), close_linger);
    auto self = owner_.shared_from_this();
    linger_->async_wait([self, this](std::error_code ec) {
      if (!ec) shutdown_stream();
    });
  }

  // On the strand.
  bool stream_closed() const noexcept { return stream_closed_; }

  // On the strand: once everything queued so far (and whatever is queued before the queue
  // runs dry) is written, shuts the sending side: the peer reads it all, then end of stream.
  void shut_write_when_flushed() {
    if (stream_closed_) return;
    {
      std::lock_guard lock(mutex_);
      if (writing_ || !queue_.empty()) {  // queued while held: release() writes it
        shut_write_when_flushed_ = true;
        return;
      }
      write_shut_ = true;
    }
    shut_write();
  }

 private:
  static constexpr std::chrono::seconds close_linger{2};

  // Once writing_ is set: on the strand already (a handler answering inline, the reader's
  // release), the write starts at once.
  void start_writing() {
    auto self = owner_.shared_from_this();
    asio::dispatch(stream_.strand(), [self, this] { write_queued(); });
  }

  // On the strand: writes everything queued. After a few rounds of directly written batches
  // the loop yields, so reads get their turn.
  void write_queued() {
    for (int round = 0; round < 16; ++round) {
      {
        std::lock_guard lock(mutex_);
        writing_buffer_.clear();
        writing_buffer_.swap(queue_);
        if (writing_buffer_.empty()) {
          writing_ = false;
          if (!close_when_flushed_) {
            if (!shut_write_when_flushed_) return;
            write_shut_ = true;
          }
        }
      }
      if (write_shut_) {  // strand: only here and in finish_write() does it change
        shut_write();
        return;
      }
      if (writing_buffer_.empty()) {  // only a close was queued
        owner_.close();
        return;
      }
      const std::size_t written = stream_.try_write_some(asio::buffer(writing_buffer_));
      if (written > 0) owner_.on_bytes_written();
      if (written < writing_buffer_.size()) {
        write_rest(written);
        return;
      }
      if (!finish_write()) return;
    }
    auto self = owner_.shared_from_this();
    asio::post(stream_.strand(), [self, this] { write_queued(); });
  }

  void write_rest(std::size_t written) {
    auto self = owner_.shared_from_this();
    stream_.async_write(asio::buffer(writing_buffer_) + written,
                        [self, this](const std::error_code& ec, std::size_t) {
                          if (!ec) {
                            owner_.on_bytes_written();
                            if (finish_write()) write_queued();
                            return;
                          }
                          // A peer that hung up is routine; an operator acts only on the rest.
                          log_(is_hangup(ec) ? log_level::debug : log_level::error,
                               "write failed: " + ec.message());
                          // Nothing more can be written: no linger, shut down now.
                          owner_.close();
                          {
                            std::lock_guard lock(mutex_);
                            writing_ = false;
                          }
                          shutdown_stream();
                        });
  }

  // On the strand, once writing_buffer_ is sent: true if more was queued meanwhile.
  bool finish_write() {
    bool more = false;
    bool close_now = false;
    bool shut_now = false;
    {
      std::lock_guard lock(mutex_);
      // Sent: no longer pending. over_limit() counts it until now, and resume_reading()
      // below would find the backlog still full.
      pending_bytes_ -= writing_buffer_.size();
      writing_buffer_.clear();
      more = !queue_.empty();
      if (!more) {
        writing_ = false;
        close_now = close_when_flushed_;
        shut_now = !close_now && shut_write_when_flushed_;
        if (shut_now) write_shut_ = true;
      }
    }
    if (shut_now) shut_write();
    if (close_now) owner_.close();
    if (more) return true;
    if (owner_.is_closed()) shutdown_when_flushed();
    else owner_.resume_reading();
    return false;
  }

  void shut_write() {
    if (stream_closed_) return;
    stream_.shutdown_send();
    owner_.on_write_shut();
  }

  void shutdown_stream() {
    if (stream_closed_) return;
    stream_closed_ = true;
    if (linger_) linger_->cancel();
    stream_.shutdown();
    stream_.close();
    owner_.on_stream_shut();
  }

  Owner& owner_;
  any_stream& stream_;
  const std::size_t max_pending_bytes_;
  const logger& log_;

  std::mutex mutex_;
  std::string queue_;
  std::string writing_buffer_;  // strand only
  bool writing_ = false;
  int holds_ = 0;
  bool close_when_flushed_ = false;
  bool shut_write_when_flushed_ = false;
  bool write_shut_ = false;  // changes on the strand, under mutex_
  std::atomic<std::size_t> pending_bytes_{0};  // queue_ and writing_buffer_ together

  bool stream_closed_ = false;                  // strand only
  std::unique_ptr<asio::steady_timer> linger_;  // strand only
};

}  // namespace bsonrpc::detail
