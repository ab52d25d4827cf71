// bsonrpc/detail/connection/progress_routes.hpp: where the peer's progress reports on our
// calls go (call_options::on_progress, with Options::protocol).
//
// A call with a progress callback gets a fresh token, sent in its params; the route from that
// token to the callback lives until the call completes, however it completes. A report under
// any other token finds nothing here. Any thread; one mutex, never held while a callback runs.
#pragma once

#include <bsonrpc/value.hpp>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>

namespace bsonrpc::detail {

class progress_routes {
 public:
  using callback = std::function<void(const value&)>;

  // A token no other call of this connection has used.
  std::string next_token() {
    return "bsonrpc-progress-" + std::to_string(next_.fetch_add(1, std::memory_order_relaxed));
  }

  // Routes reports filed under `key` (detail::id_key of the token) to `fn`.
  void add(std::string key, callback fn) {
    auto shared = std::make_shared<const callback>(std::move(fn));
    std::lock_guard lock(mutex_);
    routes_[std::move(key)] = std::move(shared);
  }

  void remove(const std::string& key) {
    std::shared_ptr<const callback> gone;  // destroyed after the lock is released
    std::lock_guard lock(mutex_);
    auto it = routes_.find(key);
    if (it == routes_.end()) return;
    gone = std::move(it->second);
    routes_.erase(it);
  }

  // The callback for `key`, or null: the caller runs it without the lock.
  std::shared_ptr<const callback> find(const std::string& key) const {
    std::lock_guard lock(mutex_);
    auto it = routes_.find(key);
    return it == routes_.end() ? nullptr : it->second;
  }

  std::size_t size() const {
    std::lock_guard lock(mutex_);
    return routes_.size();
  }

 private:
  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::shared_ptr<const callback>> routes_;
  std::atomic<std::uint64_t> next_{1};
};

}  // namespace bsonrpc::detail
