// bsonrpc/detail/connection/incoming_cancellation.hpp: the peer's requests in flight, which it
// may cancel (Options::protocol).
//
// A request enters the table when it is read, on the strand, so that a cancel read after it
// finds it even before its handler starts; it leaves when its handler returns. A cancel for an
// id not in the table (unknown, finished, never sent) changes nothing and stores nothing, so
// the table holds at most the requests in flight. Without a profile nothing enters it. Any
// thread; one mutex for the table, one per request for its callbacks.
#pragma once

#include <bsonrpc/log.hpp>

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

namespace bsonrpc::detail {

// One request's cancellation: a flag, and the callbacks its handler registered (Context's
// on_cancel). Callbacks run once, on the thread that cancels, or at once on the registering
// thread if the request is already cancelled; never once the handler has returned (close()).
class request_cancellation {
 public:
  explicit request_cancellation(std::string key) : key_(std::move(key)) {}

  const std::string& key() const noexcept { return key_; }
  bool cancelled() const noexcept { return cancelled_.load(std::memory_order_acquire); }

  // Runs `fn` when the request is cancelled: now, here, if it already is; never after close().
  void on_cancel(std::function<void()> fn, const logger& log) {
    {
      std::lock_guard lock(mutex_);
      if (closed_) return;
      if (!cancelled_.load(std::memory_order_relaxed)) {
        callbacks_.push_back(std::move(fn));
        return;
      }
    }
    run(fn, log);
  }

  // Marks the request cancelled and runs its callbacks here; false if it was cancelled already
  // or its handler has returned.
  bool cancel(const logger& log) {
    std::vector<std::function<void()>> callbacks;
    {
      std::lock_guard lock(mutex_);
      if (closed_ || cancelled_.load(std::memory_order_relaxed)) return false;
      cancelled_.store(true, std::memory_order_release);
      if (callbacks_.empty()) return true;
      callbacks.swap(callbacks_);
      running_ = std::this_thread::get_id();
    }
    for (auto& fn : callbacks) run(fn, log);
    {
      std::lock_guard lock(mutex_);
      running_ = std::thread::id();
    }
    idle_.notify_all();
    return true;
  }

  // The handler has returned: no callback runs from now on, and one running on another thread
  // has finished when this returns (it may refer to the handler's locals). Whether the request
  // was cancelled.
  bool close() {
    std::vector<std::function<void()>> dropped;
    std::unique_lock lock(mutex_);
    closed_ = true;
    dropped.swap(callbacks_);
    // A callback that returns from the handler's own thread (an in_place handler cancelled
    // from its callback) must not wait for itself.
    if (running_ != std::this_thread::get_id())
      idle_.wait(lock, [&] { return running_ == std::thread::id(); });
    return cancelled_.load(std::memory_order_relaxed);
  }

 private:
  static void run(std::function<void()>& fn, const logger& log) {
    try {
      fn();
    } catch (const std::exception& e) {
      log(log_level::error, std::string("a cancel callback threw: ") + e.what());
    } catch (...) {
      log(log_level::error, "a cancel callback threw a non-std exception");
    }
  }

  const std::string key_;
  std::atomic<bool> cancelled_{false};
  std::mutex mutex_;
  std::condition_variable idle_;
  bool closed_ = false;                    // under mutex_
  std::thread::id running_;                // under mutex_: the thread running callbacks
  std::vector<std::function<void()>> callbacks_;  // under mutex_
};

// The cancellable requests in flight, by id (detail::id_key).
class incoming_cancellation {
 public:
  // Files a request read now. A second request under an id already in flight (the peer
  // reused it) is not filed, and cannot be cancelled: a cancel names the first.
  std::shared_ptr<request_cancellation> enter(std::string key) {
    auto state = std::make_shared<request_cancellation>(std::move(key));
    std::lock_guard lock(mutex_);
    in_flight_.emplace(state->key(), state);
    return state;
  }

  // The request's handler has returned: it leaves the table (if it was filed) and no
  // callback of it runs from now on. Whether the peer had cancelled it.
  bool leave(request_cancellation& state) {
    {
      std::lock_guard lock(mutex_);
      auto it = in_flight_.find(state.key());
      if (it != in_flight_.end() && it->second.get() == &state) in_flight_.erase(it);
    }
    return state.close();
  }

  // Cancels the request in flight under `key`, running its callbacks on this thread; false if
  // there is none (unknown, finished), or it was cancelled already.
  bool cancel(const std::string& key, const logger& log) {
    std::shared_ptr<request_cancellation> state;
    {
      std::lock_guard lock(mutex_);
      auto it = in_flight_.find(key);
      if (it == in_flight_.end()) return false;
      state = it->second;
    }
    return state->cancel(log);
  }

  std::size_t size() const {
    std::lock_guard lock(mutex_);
    return in_flight_.size();
  }

 private:
  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::shared_ptr<request_cancellation>> in_flight_;
};

}  // namespace bsonrpc::detail
