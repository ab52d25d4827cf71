// bsonrpc/detail/connection/liveness.hpp: idle timeout and keepalive pings (Options::idle_timeout,
// Options::keepalive_interval).
//
// It notes when bytes were last read and written, and one timer on the strand wakes when
// something is due:
// - idle_timeout: the connection closes once it has carried no traffic for that long. Without
//   keepalive, traffic is any byte read or written; with keepalive, only bytes read count,
//   since our own pings must not keep a dead peer's connection open.
// - keepalive_interval: after that long without a byte read, a ping goes out: a request for
//   keepalive_method ("rpc.ping"). Every JSON-RPC 2.0 peer answers a request, if only with
//   -32601 Method not found, and any answer is bytes read. At most one ping is outstanding.
// So a peer that stops answering is closed on within idle_timeout of the last byte it sent,
// and its pending calls fail with connection_closed; a live peer answers the pings, and an
// idle connection to it stays open.
//
// The timer's handler holds the connection weakly: it never keeps it alive, and the
// connection cancels it when its stream is shut.
//
// Owner (the connection) provides:
//   std::weak_ptr<Owner> weak_from_this();  any_stream::strand_type& strand();
//   bool is_closed() const;  void close();
//   bool is_draining() const;              a graceful shutdown sends no ping
//   bool send_ping(std::function<void()> answered);   on the strand; false if not sent
#pragma once

#include <bsonrpc/log.hpp>
#include <bsonrpc/options.hpp>

#include <asio.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <system_error>

namespace bsonrpc::detail {

template <class Owner>
class liveness {
 public:
  using clock = std::chrono::steady_clock;

  liveness(Owner& owner, const Options& options, const logger& log)
      : owner_(owner),
        idle_timeout_(options.idle_timeout),
        keepalive_(options.keepalive_interval),
        log_(log) {}

  bool enabled() const noexcept { return idle_timeout_ || keepalive_; }

  // On the strand, as the connection starts.
  void start() {
    if (!enabled()) return;
    const auto now = ticks(clock::now());
    last_read_ = now;
    last_written_ = now;
    arm(next_wake(clock::now()));
  }

  // Bytes moved (any thread; cheap when disabled).
  void on_read() noexcept {
    if (enabled()) last_read_.store(ticks(clock::now()), std::memory_order_relaxed);
  }
  void on_written() noexcept {
    if (idle_timeout_ && !keepalive_)
      last_written_.store(ticks(clock::now()), std::memory_order_relaxed);
  }

  // On the strand, once the stream is shut.
  void stop() {
    stopped_ = true;
    if (timer_) timer_->cancel();
  }

 private:
  using duration = clock::duration;

  static duration::rep ticks(clock::time_point t) noexcept { return t.time_since_epoch().count(); }
  static clock::time_point at(duration::rep t) noexcept { return clock::time_point(duration(t)); }

  // The last traffic that counts for idle_timeout.
  clock::time_point last_traffic() const noexcept {
    const auto read = last_read_.load(std::memory_order_relaxed);
    if (keepalive_) return at(read);
    return at(std::max(read, last_written_.load(std::memory_order_relaxed)));
  }

  // When the timer must next look: the idle deadline, or when a ping is due.
  clock::time_point next_wake(clock::time_point now) const {
    auto wake = clock::time_point::max();
    if (idle_timeout_) wake = last_traffic() + *idle_timeout_;
    if (keepalive_) {
      auto ping_due = at(last_read_.load(std::memory_order_relaxed)) + *keepalive_;
      if (ping_due <= now || ping_outstanding_) ping_due = now + *keepalive_;
      wake = std::min(wake, ping_due);
    }
    return wake;
  }

  void arm(clock::time_point when) {
    if (stopped_) return;
    if (!timer_) timer_ = std::make_unique<asio::steady_timer>(owner_.strand());
    timer_->expires_at(when);
    timer_->async_wait([weak = owner_.weak_from_this(), this](std::error_code ec) {
      if (ec) return;
      auto self = weak.lock();
      if (!self || stopped_ || owner_.is_closed()) return;
      tick();
    });
  }

  // On the strand: closes an idle connection, or sends a ping that is due.
  void tick() {
    const auto now = clock::now();
    if (idle_timeout_ && now - last_traffic() >= *idle_timeout_) {
      log_(log_level::info, "no traffic for idle_timeout (" +
                                std::to_string(idle_timeout_->count()) + " ms): closing");
      owner_.close();
      return;
    }
    if (keepalive_ && !ping_outstanding_ && !owner_.is_draining() &&
        now - at(last_read_.load(std::memory_order_relaxed)) >= *keepalive_) {
      ping_outstanding_ = true;
      // The answer (any answer, or the connection's close) ends the ping; it runs on the
      // strand or where the connection closes, while the connection exists.
      if (!owner_.send_ping([this] { ping_outstanding_ = false; })) ping_outstanding_ = false;
    }
    arm(next_wake(now));
  }

  Owner& owner_;
  const std::optional<std::chrono::milliseconds> idle_timeout_;
  const std::optional<std::chrono::milliseconds> keepalive_;
  const logger& log_;

  std::atomic<duration::rep> last_read_{0};
  std::atomic<duration::rep> last_written_{0};
  std::atomic<bool> ping_outstanding_{false};
  std::unique_ptr<asio::steady_timer> timer_;  // strand only
  bool stopped_ = false;                       // strand only
};

}  // namespace bsonrpc::detail
