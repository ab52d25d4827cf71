// bsonrpc/detail/reconnect_slot.hpp: the one piece of state a reconnecting_client shares
// between its callers and its supervising thread, with the lock guarding it: the current
// connection (or none), how many connections were made, and whether the client is closing.
//
// Callers take a copy of the current connection for the length of one call; the supervisor
// files a new connection as the candidate while on_connected runs (so that close() can close
// it too), publishes it once on_connected has returned, retires it once it has finished, and
// sleeps between attempts here, so that close() wakes it at once.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>

namespace bsonrpc::detail {

template <class Rpc>
class reconnect_slot {
 public:
  // The current connection, if one is published and not closed.
  std::shared_ptr<Rpc> current() const {
    std::lock_guard lock(mutex_);
    if (current_ && !current_->is_closed()) return current_;
    return nullptr;
  }

  // Files `rpc` as the connection being set up; false once closing.
  bool propose(std::shared_ptr<Rpc> rpc) {
    std::lock_guard lock(mutex_);
    if (stopping_) return false;
    candidate_ = std::move(rpc);
    return true;
  }

  // The candidate is dropped (its setup failed).
  void withdraw() {
    std::lock_guard lock(mutex_);
    candidate_.reset();
  }

  // Makes the candidate the current connection; false (and nothing changes) once closing.
  bool publish() {
    {
      std::lock_guard lock(mutex_);
      if (stopping_) return false;
      current_ = std::move(candidate_);
      ++connections_;
    }
    changed_.notify_all();
    return true;
  }

  // `rpc` is no longer current (it has closed).
  void retire(const std::shared_ptr<Rpc>& rpc) {
    std::lock_guard lock(mutex_);
    if (current_ == rpc) current_.reset();
  }

  // Starts closing: no connection is published from now on; closes the current one and the
  // candidate, if any.
  void stop() {
    std::shared_ptr<Rpc> current, candidate;
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
      current = std::move(current_);
      candidate = std::move(candidate_);
    }
    changed_.notify_all();
    if (current) current->close();
    if (candidate) candidate->close();
  }

  bool stopping() const {
    std::lock_guard lock(mutex_);
    return stopping_;
  }

  // Sleeps for `delay` unless closing begins first; true if closing.
  bool sleep_unless_stopped(std::chrono::milliseconds delay) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, delay, [&] { return stopping_; });
  }

  // Waits until a connection is current or closing begins; whether one is current.
  bool wait_connected(std::optional<std::chrono::milliseconds> timeout) {
    std::unique_lock lock(mutex_);
    auto ready = [&] { return stopping_ || (current_ && !current_->is_closed()); };
    if (timeout) changed_.wait_for(lock, *timeout, ready);
    else changed_.wait(lock, ready);
    return !stopping_ && current_ && !current_->is_closed();
  }

  std::uint64_t connections() const {
    std::lock_guard lock(mutex_);
    return connections_;
  }

 private:
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::shared_ptr<Rpc> current_;
  std::shared_ptr<Rpc> candidate_;  // made, on_connected running
  std::uint64_t connections_ = 0;
  bool stopping_ = false;
};

}  // namespace bsonrpc::detail
