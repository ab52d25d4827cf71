// bsonrpc/detail/thread_pool.hpp: the bounded worker pool of the Threads executor.
//
// Threads start on demand, up to `max_threads` running handlers at once. A handler that
// blocks waiting for the peer (a call from inside a handler) lends its slot, so a pool of one
// still makes progress when the peer calls back while a handler waits for it.
//
// Besides handlers, the pool runs its connection's reading role (leader/followers): a
// `lead` task is never counted against max_threads and never waits behind handlers, so a pool
// whose handlers all block still reads. The reader runs the requests it read itself, each in
// a handler slot it claims (try_claim) and releases (release_claim).
#pragma once

#include <bsonrpc/detail/task_queue.hpp>

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

namespace bsonrpc::detail {

class thread_pool {
 public:
  explicit thread_pool(std::size_t max_threads) : max_threads_(max_threads ? max_threads : 1) {}
  thread_pool(const thread_pool&) = delete;
  thread_pool& operator=(const thread_pool&) = delete;
  ~thread_pool() { stop_and_join(); }

  void post(std::function<void()> task) {
    std::unique_lock lock(mutex_);
    if (stopping_) return;
    tasks_.push_back(std::move(task));
    if (idle_ >= tasks_.size() + leads_.size()) {  // a sleeper for each queued task, woken or not
      wake_.notify_one();
    } else if (threads_.size() < max_threads_ + blocked_ + leading_ + leads_.size()) {
      // Threads reading, or about to, are not there for handlers.
      threads_.emplace_back([this] { work(); });
    }
  }

  // Runs `task` on an idle worker, or a new one, at once: not a handler, so neither counted
  // against max_threads nor queued behind handlers.
  void lead(std::function<void()> task) {
    std::unique_lock lock(mutex_);
    if (stopping_) return;
    leads_.push_back(std::move(task));
    if (idle_ >= tasks_.size() + leads_.size()) wake_.notify_one();
    else threads_.emplace_back([this] { work(); });
  }

  // Takes a handler slot for a task the calling thread runs itself, if one is free and no
  // handler waits in the queue for one. Release it with release_claim().
  bool try_claim() {
    std::lock_guard lock(mutex_);
    if (stopping_ || !tasks_.empty() || running_ >= max_threads_ + blocked_) return false;
    ++running_;
    return true;
  }

  void release_claim() {
    std::lock_guard lock(mutex_);
    --running_;
    if (!tasks_.empty() && idle_ > 0) wake_.notify_one();
  }

  // Marks the calling pool thread as waiting on the peer for the guard's lifetime.
  class blocking_scope {
   public:
    blocking_scope() : pool_(current()) {
      if (pool_) pool_->set_blocked(+1);
    }
    ~blocking_scope() {
      if (pool_) pool_->set_blocked(-1);
    }
    blocking_scope(const blocking_scope&) = delete;
    blocking_scope& operator=(const blocking_scope&) = delete;

   private:
    thread_pool* pool_;
  };

  // Whether the calling thread is one of this pool's workers.
  bool runs_on_this_thread() const noexcept { return current() == this; }

  // Finishes queued tasks, then joins every worker (not the calling thread, if it is one).
  void stop_and_join() {
    std::vector<std::thread> threads;
    {
      std::unique_lock lock(mutex_);
      stopping_ = true;
      wake_.notify_all();
      threads.swap(threads_);
    }
    for (auto& t : threads) {
      if (t.get_id() == std::this_thread::get_id()) t.detach();
      else if (t.joinable()) t.join();
    }
  }

 private:
  static thread_pool*& current() noexcept {
    thread_local thread_pool* pool = nullptr;
    return pool;
  }

  void set_blocked(int delta) {
    std::unique_lock lock(mutex_);
    blocked_ = static_cast<std::size_t>(static_cast<long>(blocked_) + delta);
    if (delta < 0 || tasks_.empty() || stopping_) return;
    if (idle_ > 0) wake_.notify_one();
    else threads_.emplace_back([this] { work(); });
  }

  void work() {
    current() = this;
    std::unique_lock lock(mutex_);
    for (;;) {
      // Leads first; handlers only while fewer than max_threads are busy and not blocked.
      while (leads_.empty() &&
             !stopping_ && (tasks_.empty() || running_ >= max_threads_ + blocked_)) {
        ++idle_;
        wake_.wait(lock);
        --idle_;
      }
      if (!leads_.empty()) {
        auto lead = std::move(leads_.front());
        leads_.pop_front();
        ++leading_;
        lock.unlock();
        lead();
        lead = nullptr;
        lock.lock();
        --leading_;
        continue;
      }
      if (tasks_.empty()) return;  // stopping, nothing left
      auto task = std::move(tasks_.front());
      tasks_.pop_front();
      ++running_;
      lock.unlock();
      task();
      task = nullptr;
      lock.lock();
      --running_;
      if (!tasks_.empty() && idle_ > 0) wake_.notify_one();
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_;
  task_queue<std::function<void()>> tasks_;
  task_queue<std::function<void()>> leads_;
  std::vector<std::thread> threads_;
  std::size_t max_threads_;
  std::size_t running_ = 0;
  std::size_t idle_ = 0;
  std::size_t blocked_ = 0;
  std::size_t leading_ = 0;  // threads in a lead task (reading, or running what they kept)
  bool stopping_ = false;
};

// Runs tasks one at a time, in order, through `post` (notifications, by default).
// The queue lives in shared state that a running drain keeps alive: the last task often holds
// the last reference to the connection that owns this lane, so the lane itself may be
// destroyed while its drain is still looping.
class serial_lane {
 public:
  explicit serial_lane(std::function<void(std::function<void()>)> post)
      : state_(std::make_shared<state>()) {
    state_->post = std::move(post);
  }

  void post(std::function<void()> task) {
    std::unique_lock lock(state_->mutex);
    state_->tasks.push_back(std::move(task));
    ++state_->posted;
    if (state_->draining) return;
    state_->draining = true;
    lock.unlock();
    state_->post([s = state_] { drain(*s); });
  }

  // Whether the calling thread is running a lane's tasks (and may run more of them next).
  static bool draining_here() noexcept { return current() != nullptr; }

  // Waits until every task posted so far has run; returns at once on one of the lane's own
  // tasks, which would wait for itself.
  void wait_for_posted() const {
    if (current() == state_.get()) return;
    std::unique_lock lock(state_->mutex);
    const std::uint64_t target = state_->posted;
    if (state_->finished >= target) return;
    ++state_->waiters;
    state_->progress.wait(lock, [&] { return state_->finished >= target; });
    --state_->waiters;
  }

 private:
  struct state {
    std::function<void(std::function<void()>)> post;
    std::mutex mutex;
    std::condition_variable progress;  // signalled as tasks finish, when someone waits
    task_queue<std::function<void()>> tasks;
    std::uint64_t posted = 0;
    std::uint64_t finished = 0;
    std::size_t waiters = 0;
    bool draining = false;
  };

  static const state*& current() noexcept {
    thread_local const state* running = nullptr;
    return running;
  }

  static void drain(state& s) {
    const state* outer = std::exchange(current(), &s);  // a lane run inline inside another's
    std::unique_lock lock(s.mutex);
    while (!s.tasks.empty()) {
      auto task = std::move(s.tasks.front());
      s.tasks.pop_front();
      lock.unlock();
      task();
      task = nullptr;
      lock.lock();
      ++s.finished;
      if (s.waiters > 0) s.progress.notify_all();
    }
    s.draining = false;
    current() = outer;
  }

  std::shared_ptr<state> state_;
};

}  // namespace bsonrpc::detail
