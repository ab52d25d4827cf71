// bsonrpc/detail/reading_role.hpp: which thread reads a Threads connection, under one mutex.
//
// One thread at a time holds the reading role: it runs the stream's io_context. The holder
// may step away with the role (to run a request it kept, or to return from a blocking call
// to its caller) and step back later, without waking anyone. While it is away, nobody reads;
// a standby thread takes the role over once the holder has been away for `takeover_after`, or
// at once when the role is free. So a lone request or a call loop costs no hand-off between
// threads, and a handler that runs long delays the connection's next read by
// `takeover_after` at most.
//
// The holder keeps the requests it reads (up to the pool's bound) and runs them itself, one
// after another, while away. Whoever takes the role over from it also takes the requests it
// has not started yet, and hands them to the pool: a slow handler holds up those behind it
// for `takeover_after` at most.
//
// A blocking caller takes the role when it is free or away, and reads its own reply. When
// another thread reads, the caller asks it to hand the role over (`interrupt` wakes it) and
// waits briefly; if the reader does not answer in time, the caller waits for its reply as
// before.
#pragma once

#include <bsonrpc/detail/task_queue.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
#include <utility>

namespace bsonrpc::detail {

class reading_role {
 public:
  using clock = std::chrono::steady_clock;
  using task = std::function<void()>;
  using tasks = task_queue<task>;
  static constexpr std::chrono::milliseconds takeover_after{2};
  // How long a caller waits for the reader to hand the role over: the reader answers between
  // two completions, and the reply wakes it if nothing else does.
  static constexpr std::chrono::milliseconds handover_wait{100};
  // How often a caller waiting for the role checks whether its reply arrived.
  static constexpr std::chrono::milliseconds ready_poll{1};
  // A standby checks on an away holder every takeover_after while the connection has been
  // busy this recently; after that, it sleeps until the role changes.
  static constexpr std::chrono::milliseconds busy_window{100};

  // A standby's wait (one at a time): true once it holds the role, false when reading is
  // over. Its caller must then read, or (false) leave.
  // `orphans` receives the requests the away holder had kept and not started.
  bool wait_as_standby(tasks& orphans) {
    std::unique_lock lock(mutex_);
    for (;;) {
      if (over_) {
        standby_ = false;
        return false;
      }
      const auto now = clock::now();
      if (state_ == state::free || (state_ == state::away && now >= away_since_ + takeover_after)) {
        standby_ = false;
        take(lock, orphans);
        return true;
      }
      if (state_ == state::away) {
        changed_.wait_until(lock, away_since_ + takeover_after);
      } else if (now < last_away_ + busy_window) {
        changed_.wait_for(lock, takeover_after);
      } else {
        sleeping_ = true;
        changed_.wait(lock);
        sleeping_ = false;
      }
    }
  }

  // A blocking caller starts (+1) or ends (-1) its wait for a reply.
  void count_caller(int delta) {
    std::lock_guard lock(mutex_);
    callers_ += delta;
  }

  // The holder steps away with the role. Returns true if a standby must be started (the
  // caller then runs wait_as_standby() on another thread). `self_waits`: the holder is a
  // blocking caller (counted) that got its reply. Where other callers wait for replies,
  // the role is left free for the standby to read on at once, rather than kept while away.
  [[nodiscard]] bool step_away(bool self_waits = false) {
    std::lock_guard lock(mutex_);
    if (state_ != state::reading || holder_ != std::this_thread::get_id()) return false;
    if (handover_pending()) return hand_over();
    if (callers_ > (self_waits ? 1 : 0)) {
      state_ = state::free;
      changed_.notify_all();
      return need_standby();
    }
    state_ = state::away;
    away_since_ = last_away_ = clock::now();
    if (sleeping_) changed_.notify_all();
    return need_standby();
  }

  // The holder is back: true if it still holds the role (now reading again).
  bool step_back() {
    std::lock_guard lock(mutex_);
    if (state_ != state::away || holder_ != std::this_thread::get_id()) return false;
    state_ = state::reading;
    return true;
  }

  // Whether this thread has the role and is reading.
  bool reading_here() const {
    std::lock_guard lock(mutex_);
    return state_ == state::reading && holder_ == std::this_thread::get_id();
  }

  // The reader, between completions: whether another thread asked for the role. If so the
  // role is now that thread's; true if a standby must be started (this thread may become it).
  bool handover_asked() const noexcept { return asked_.load(std::memory_order_relaxed); }
  [[nodiscard]] bool hand_over_if_asked(bool& handed) {
    std::lock_guard lock(mutex_);
    handed = false;
    if (state_ != state::reading || holder_ != std::this_thread::get_id() || !handover_pending())
      return false;
    handed = true;
    return hand_over();
  }

  // A caller that wants to read its own reply. Takes the role if it is free or away, or
  // (reading elsewhere) asks the reader for it through `interrupt` and waits up to
  // handover_wait, or until `ready()`: the reply may be read meanwhile, by the reader or by
  // a thread of another connection on the same io_context, which `interrupt` may have woken
  // instead. True if this thread now reads.
  template <class Interrupt, class Ready>
  bool try_take(Interrupt&& interrupt, const Ready& ready, tasks& orphans) {
    std::unique_lock lock(mutex_);
    if (over_) return false;
    if (state_ != state::reading) {
      take(lock, orphans);
      return true;
    }
    // Not from a reader that serves other waiting callers too, nor twice at once.
    if (holder_ == std::this_thread::get_id() || asked_ || callers_ > 1) return false;
    wanted_by_ = std::this_thread::get_id();
    asked_ = true;
    lock.unlock();
    interrupt();
    lock.lock();
    const auto me = std::this_thread::get_id();
    const auto handed = [&] { return over_ || (state_ == state::reading && holder_ == me); };
    for (const auto until = clock::now() + handover_wait; clock::now() < until;) {
      if (changed_.wait_for(lock, ready_poll, handed)) break;
      lock.unlock();
      const bool arrived = ready();
      lock.lock();
      if (arrived) break;
    }
    if (state_ == state::reading && holder_ == me && !over_) return true;
    if (asked_ && wanted_by_ == me) asked_ = false;  // not answered: withdraw
    if (state_ == state::reading && holder_ == me) {  // handed over just as reading ended
      state_ = state::free;
      changed_.notify_all();
    }
    return false;
  }

  // The reader keeps a request it read, to run it once it steps away.
  void keep(task t) {
    std::lock_guard lock(mutex_);
    kept_.push_back(std::move(t));
  }
  // The next request this thread kept, unless they were taken over (or none is left).
  task next_kept() {
    std::lock_guard lock(mutex_);
    if (kept_.empty()) return {};
    task t = std::move(kept_.front());
    kept_.pop_front();
    return t;
  }
  // The kept requests not started, when the holder cannot run them (no free handler slot).
  tasks drop_kept() {
    std::lock_guard lock(mutex_);
    return std::exchange(kept_, {});
  }

  // The holder leaves the role free (reading ended, or it cannot go on). True if a standby
  // must be started to take it.
  [[nodiscard]] bool release() {
    std::lock_guard lock(mutex_);
    if (holder_ != std::this_thread::get_id() || state_ == state::free) return false;
    state_ = state::free;
    if (handover_pending()) return hand_over();
    changed_.notify_all();
    return need_standby() && !over_;
  }

  // Reading has ended for good, or the threads stop: standbys and waiting callers leave.
  void end() {
    std::lock_guard lock(mutex_);
    over_ = true;
    changed_.notify_all();
  }

 private:
  enum class state { free, reading, away };

  void take(std::unique_lock<std::mutex>&, tasks& orphans) {
    state_ = state::reading;
    holder_ = std::this_thread::get_id();
    orphans = std::exchange(kept_, {});
  }
  bool handover_pending() const { return asked_.load(std::memory_order_relaxed); }
  // Under the lock: gives the role to the thread that asked for it.
  bool hand_over() {
    state_ = state::reading;
    holder_ = wanted_by_;
    asked_ = false;
    changed_.notify_all();
    return need_standby();
  }
  bool need_standby() {
    if (standby_) return false;
    standby_ = true;
    return true;
  }

  mutable std::mutex mutex_;
  std::condition_variable changed_;
  state state_ = state::free;
  std::thread::id holder_;
  std::thread::id wanted_by_;
  std::atomic<bool> asked_{false};  // written under mutex_; read without it between reads
  clock::time_point away_since_{};
  clock::time_point last_away_{};
  tasks kept_;              // read by the holder, not started yet
  int callers_ = 0;        // blocking callers waiting for replies
  bool standby_ = false;   // a standby waits (or has been asked to start)
  bool sleeping_ = false;  // the standby sleeps until the role changes
  bool over_ = false;
};

}  // namespace bsonrpc::detail
