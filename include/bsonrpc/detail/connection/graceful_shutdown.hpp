// bsonrpc/detail/connection/graceful_shutdown.hpp: ending a connection without losing a reply.
//
// Rpc::shutdown() and async_shutdown() drive it. Once begun (draining), the connection reads
// on, since the peer's replies to our own calls arrive on the same stream, but refuses every
// request it reads with a -32000 "Shutting down" error and drops notifications. When no handler
// is in flight and no call of ours is pending, the outbox writes what is queued and then shuts
// the stream's sending side (write_shut): the peer reads every reply, then end of stream. The
// connection closes when the peer closes its side too (reading to the end means no unread bytes
// turn the close into a reset that could destroy replies still in flight), or peer_linger
// (1 s) later. The deadline given to the first begin() bounds the whole drain: when it passes
// before everything was answered, the connection closes as close() would.
//
// The outcome given to every waiter: success once everything was answered and the connection
// has finished, errc::timeout if the deadline cut the drain short (at once, handlers may still
// run), errc::connection_closed if the connection closed otherwise first (close(), the peer, an
// I/O error).
//
// Owner (the connection) provides:
//   shared_from_this(), weak_from_this();  any_stream::strand_type& strand();
//   bool is_closed() const;  void close();      any thread
//   bool is_idle();                 no handler in flight and no call of ours pending
//   void shut_write_when_flushed(); on the strand: the outbox shuts the sending side once
//                                   everything queued is written, then calls on_write_shut()
#pragma once

#include <bsonrpc/errors.hpp>
#include <bsonrpc/log.hpp>

#include <asio.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <system_error>
#include <utility>
#include <vector>

namespace bsonrpc::detail {

template <class Owner>
class graceful_shutdown {
 public:
  using completion = std::function<void(std::error_code)>;

  graceful_shutdown(Owner& owner, const logger& log) : owner_(owner), log_(log) {}

  // Whether shutdown has begun: requests read from now on are refused. Any thread, lock-free.
  bool draining() const noexcept { return phase_.load() != phase::running; }

  // Any thread: begins the drain (the first call sets the deadline, now + `timeout`) and
  // gives `done` its outcome once known. A later call waits for the same drain.
  void begin(std::chrono::milliseconds timeout, completion done) {
    std::optional<std::error_code> known;
    {
      std::lock_guard lock(mutex_);
      if (outcome_) known = outcome_;
      else waiters_.push_back(std::move(done));
      if (!deadline_) deadline_ = std::chrono::steady_clock::now() + timeout;
    }
    if (known) {
      done(*known);
      return;
    }
    auto expected = phase::running;
    if (!phase_.compare_exchange_strong(expected, phase::draining)) return;
    log_(log_level::debug, "shutting down: refusing new requests");
    auto self = owner_.shared_from_this();
    asio::post(owner_.strand(), [self, this] {
      if (phase_.load() != phase::write_shut) arm(deadline());  // else armed for the peer
      check();
    });
  }

  // On the strand: a handler finished or our last pending call ended; the drain may be done.
  void check() {
    if (phase_.load() != phase::draining || owner_.is_closed() || !owner_.is_idle()) return;
    phase_ = phase::flushing;
    owner_.shut_write_when_flushed();
  }

  // On the strand: every reply is written and the sending side shut. The peer has until the
  // deadline, and at most peer_linger, to close its side.
  void on_write_shut() {
    phase_ = phase::write_shut;
    log_(log_level::debug, "shutting down: every reply written, waiting for the peer to close");
    arm(std::min(deadline(), std::chrono::steady_clock::now() + peer_linger));
  }

  // The connection has finished (closed, reading ended, no handler running). Any thread.
  void on_finished() {
    if (phase_.load() == phase::write_shut) complete({});
    else complete(make_error_code(errc::connection_closed));
  }

  // On the strand, once the stream is shut: the timer must not keep the connection alive.
  void stop() {
    stopped_ = true;
    if (timer_) timer_->cancel();
  }

 private:
  enum class phase { running, draining, flushing, write_shut };
  // A peer that reads sees our end of stream within a round trip, and closes; one that does
  // not read would only delay the close.
  static constexpr std::chrono::seconds peer_linger{1};

  // On the strand: (re)arms the timer for `when`.
  void arm(std::chrono::steady_clock::time_point when) {
    if (stopped_) return;
    if (!timer_) timer_ = std::make_unique<asio::steady_timer>(owner_.strand());
    timer_->expires_at(when);  // cancels a wait for an earlier expiry
    // Held weakly: the timer never keeps the connection alive.
    timer_->async_wait([weak = owner_.weak_from_this(), this](std::error_code ec) {
      if (ec) return;
      auto self = weak.lock();
      if (!self || stopped_ || timer_->expiry() > std::chrono::steady_clock::now()) return;
      if (phase_.load() == phase::write_shut) {
        owner_.close();  // the peer did not close its side in time
        return;
      }
      if (owner_.is_closed()) return;
      log_(log_level::info, "shutdown deadline passed with replies outstanding: closing");
      owner_.close();
      complete(make_error_code(errc::timeout));
    });
  }

  std::chrono::steady_clock::time_point deadline() {
    std::lock_guard lock(mutex_);
    return *deadline_;
  }

  // Gives every waiter `outcome`, once; later waiters get it at once.
  void complete(std::error_code outcome) {
    std::vector<completion> waiters;
    {
      std::lock_guard lock(mutex_);
      if (outcome_) return;
      outcome_ = outcome;
      waiters.swap(waiters_);
    }
    for (auto& done : waiters) done(outcome);
  }

  Owner& owner_;
  const logger& log_;
  std::atomic<phase> phase_{phase::running};

  std::mutex mutex_;
  std::vector<completion> waiters_;
  std::optional<std::error_code> outcome_;
  std::optional<std::chrono::steady_clock::time_point> deadline_;  // set by the first begin()

  std::unique_ptr<asio::steady_timer> timer_;
  bool stopped_ = false;
};

}  // namespace bsonrpc::detail
