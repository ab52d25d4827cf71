// bsonrpc/detail/connection/call_table.hpp: the calls this side made and still waits for.
//
// It hands out call ids, keeps each pending call's completion, completes a call from the
// peer's response (or locally: a timeout, a cancellation, a hook's answer) exactly once, and
// fails every pending call when the connection closes. Once closed it refuses new calls, so
// no call can slip in after the fail-all and wait forever. It also remembers the calls
// cancelled on the wire whose peer still answers (LSP's -32800), so that reply is dropped
// quietly; at most max_late_replies of them. It tells its owner when the last pending call
// ends (a graceful shutdown waits for that). Any thread; one mutex.
#pragma once

#include <bsonrpc/codec/codec.hpp>
#include <bsonrpc/detail/async_call.hpp>
#include <bsonrpc/detail/message.hpp>
#include <bsonrpc/errors.hpp>
#include <bsonrpc/log.hpp>

#include <atomic>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>

namespace bsonrpc::detail {

template <class V>
class call_table {
 public:
  using traits = value_traits<V>;
  using completion = std::function<void(call_outcome<V>)>;

  // Set once, before any call: runs (outside the lock, on the thread that ended it) whenever
  // a call ends and none is left pending.
  void on_empty(std::function<void()> fn) { on_empty_ = std::move(fn); }

  // Whether no call is pending.
  bool empty() {
    std::lock_guard lock(mutex_);
    return pending_.empty();
  }

  std::int64_t next_id() noexcept { return next_id_.fetch_add(1, std::memory_order_relaxed); }

  // Registers `done` for call `id`; throws connection_closed once the table is closed.
  void add(std::int64_t id, completion done) {
    std::lock_guard lock(mutex_);
    if (closed_) throw connection_closed();
    pending_.emplace(id, std::move(done));
  }

  // Ends call `id` now with `outcome` (a timeout, a cancellation, a hook's answer); false if
  // it had already ended.
  bool complete(std::int64_t id, call_outcome<V> outcome) {
    completion done = take(id);
    if (!done) return false;
    done(std::move(outcome));
    return true;
  }

  // Call `id` is about to be cancelled on the wire: its reply may still come, unwanted.
  // Whether this added it (so that a cancel that turns out not to end the call takes back
  // only its own mark).
  bool expect_late_reply(std::int64_t id) {
    std::lock_guard lock(mutex_);
    return late_.size() < max_late_replies && late_.insert(id).second;
  }
  void forget_late_reply(std::int64_t id) {
    std::lock_guard lock(mutex_);
    late_.erase(id);
  }

  // Forgets call `id` without completing it (its waiter gave up); a late response is logged.
  bool forget(std::int64_t id) {
    bool now_empty = false;
    {
      std::lock_guard lock(mutex_);
      if (pending_.erase(id) == 0) return false;
      now_empty = pending_.empty();
    }
    if (now_empty && on_empty_) on_empty_();
    return true;
  }

  // Completes the call that response `m` answers. The decoded message is the caller's and
  // discarded after this: the result is moved out of it.
  void complete_from(const message_view<V>& m, const logger& log) {
    if (!traits::is_integer(*m.id)) {
      log(log_level::error, "response with an id this side never sent");
      return;
    }
    const std::int64_t id = traits::as_integer(*m.id);
    completion done = take(id);
    if (!done) {
      if (take_late_reply(id))
        log(log_level::debug, "reply to cancelled call " + std::to_string(id) + " dropped");
      else
        log(log_level::error, "response to unknown or expired request id " + std::to_string(id));
      return;
    }
    call_outcome<V> outcome;
    if (m.result) {
      outcome.result = std::move(const_cast<V&>(*m.result));
    } else {
      outcome.error = peer_error_ptr(*m.error);
    }
    done(std::move(outcome));
  }

  // Refuses new calls from now on and fails every pending one with connection_closed.
  void close() {
    std::unordered_map<std::int64_t, completion> failed;
    {
      std::lock_guard lock(mutex_);
      closed_ = true;
      failed.swap(pending_);
    }
    // One exception per call, moved into its completion: this thread keeps no reference to
    // it or to its message, so the caller that rethrows it also destroys it (see
    // make_error_ptr).
    for (auto& [id, done] : failed) done({V(), make_error_ptr<connection_closed>()});
  }

 private:
  static constexpr std::size_t max_late_replies = 1024;

  bool take_late_reply(std::int64_t id) {
    std::lock_guard lock(mutex_);
    return late_.erase(id) > 0;
  }

  completion take(std::int64_t id) {
    completion done;
    bool now_empty = false;
    {
      std::lock_guard lock(mutex_);
      auto it = pending_.find(id);
      if (it == pending_.end()) return {};
      done = std::move(it->second);
      pending_.erase(it);
      now_empty = pending_.empty();
    }
    if (now_empty && on_empty_) on_empty_();
    return done;
  }

  std::mutex mutex_;
  std::unordered_map<std::int64_t, completion> pending_;
  std::unordered_set<std::int64_t> late_;  // cancelled calls whose reply may still come
  bool closed_ = false;
  std::function<void()> on_empty_;
  std::atomic<std::int64_t> next_id_{1};
};

}  // namespace bsonrpc::detail
