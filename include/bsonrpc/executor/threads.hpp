// bsonrpc/executor/threads.hpp: Threads, the original library's threading model.
//
// Each connection gets its own threads: one at a time drives the stream's io_context (reads,
// and the completions of writes and timers) while the connection is open, so a blocking
// program needs no event loop of its own; request handlers run concurrently, up to
// Options::max_concurrent_requests. Notification handlers run one at a time in arrival order,
// unless Options::concurrent_notification_handling is set. Blocking calls are allowed anywhere
// except on the thread that is reading at that moment. The Executor concept:
// executor/executor.hpp.
//
// Leader/followers (detail/reading_role.hpp): one thread at a time reads. The thread that
// reads a request while no handler runs keeps it, runs the handler and writes the reply, then
// reads on; a blocking caller reads its own reply. The role moves to another thread only when
// one asks for it, or when its holder has been away for 2 ms (a standby takes it over). When
// every handler slot is taken, requests queue for the pool, and the reader keeps reading.
#pragma once

#include <bsonrpc/detail/io_context_share.hpp>
#include <bsonrpc/detail/reading_role.hpp>
#include <bsonrpc/detail/thread_pool.hpp>
#include <bsonrpc/executor/executor.hpp>
#include <bsonrpc/options.hpp>

#include <asio.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>

namespace bsonrpc {

/// Executor policy: each connection gets its own pool of up to Options::max_concurrent_requests
/// threads, which read the connection in turn and run its handlers. Blocking calls are allowed
/// on every thread but the one reading at that moment.
struct Threads {
  /// One connection's share of the policy (the Executor concept, executor/executor.hpp).
  class runtime {
   public:
    /// For a connection on `io`; reads Options::max_concurrent_requests and
    /// Options::concurrent_notification_handling.
    runtime(const asio::any_io_executor& io, const Options& options)
        : pool_(options.max_concurrent_requests),
          notifications_([this](std::function<void()> task) { pool_.post(std::move(task)); }),
          concurrent_notifications_(options.concurrent_notification_handling) {
      if (const auto* ex = io.target<asio::io_context::executor_type>())
        io_context_ = &ex->context();
      // An io_context that ran out of work earlier (say, after a synchronous connect) is
      // stopped; it must be restarted before this connection's thread can drive it.
      if (io_context_ && io_context_->stopped()) io_context_->restart();
      if (io_context_) {
        work_.emplace(io_context_->get_executor());
        share_ = &asio::use_service<detail::io_context_share>(*io_context_);
        share_->count(+1);
      }
    }
    runtime(const runtime&) = delete;
    runtime& operator=(const runtime&) = delete;
    ~runtime() {
      join_threads();
      if (share_) share_->count(-1);
    }

    /// Starts the reading role: a thread of the pool drives the io_context until `done()`
    /// holds. Other threads may run the same io_context too: the connection's strand keeps it
    /// in order.
    void start(std::function<bool()> done) {
      if (!io_context_) return;  // the user's execution context runs the I/O
      {
        std::lock_guard lock(done_mutex_);
        done_ = std::move(done);
      }
      pool_.lead([this] { lead(); });
    }

    /// On the strand. On a pool thread that reads, requests are kept for that thread, which
    /// runs them once the read's completion returns (reading_role hands them to the pool if
    /// another thread takes the role over first).
    void post_request(std::function<void()> task) {
      leadership* mine = leading();
      if (mine && mine->owner == this && mine->may_keep) {
        role_.keep(std::move(task));
        mine->kept = true;
        return;
      }
      pool_.post(std::move(task));
    }

    /// On the pool, in arrival order unless Options::concurrent_notification_handling.
    void post_notification(std::function<void()> task) {
      if (concurrent_notifications_) pool_.post(std::move(task));
      else notifications_.post(std::move(task));
    }

    /// Waits for the handlers of the notifications received so far (when they run in order).
    void wait_for_notification_handlers() const {
      if (!concurrent_notifications_) notifications_.wait_for_posted();
    }

    /// Held while a thread waits for the peer: lends a handler's pool slot to others, and
    /// counts the caller for the reading role.
    class wait_scope {
     public:
      /// Lends the slot and counts the caller, until destroyed.
      explicit wait_scope(detail::reading_role& role) : role_(role) { role_.count_caller(+1); }
      ~wait_scope() { role_.count_caller(-1); }
      wait_scope(const wait_scope&) = delete;
      wait_scope& operator=(const wait_scope&) = delete;

     private:
      detail::thread_pool::blocking_scope lent_;
      detail::reading_role& role_;
    };
    /// A wait_scope for a thread about to wait for the peer.
    wait_scope blocking_scope() const { return wait_scope(role_); }

    /// A blocking caller reads its own reply when nobody else needs the reading role: it
    /// drives the io_context until `ready()` or `deadline`, then keeps the role while it is
    /// away (a call loop costs no hand-off); a standby reads on if it stays away.
    ///
    /// Another thread may run the completion that reads the reply: one of another connection
    /// on the same io_context, or one of the user's. Nothing can wake this thread out of the
    /// io_context for it, so it runs the io_context in slices: 1 ms while other connections
    /// share it, otherwise doubling from 1 ms to 100 ms (a reply read elsewhere is seen
    /// within the time already spent waiting, and a long wait costs a few wake-ups).
    void read_until(const std::function<bool()>& ready,
                    std::chrono::steady_clock::time_point deadline) {
      if (!io_context_ || on_io_thread() || ready()) return;
      const std::function<bool()> done = reading_done();
      if (!done) return;
      detail::reading_role::tasks orphans;
      if (!role_.try_take([this] { asio::post(*io_context_, [] {}); }, ready, orphans)) return;
      to_pool(orphans);
      leadership mine{this, {}, false};
      leadership* outer = std::exchange(leading(), &mine);
      bool ended = false;
      try {
        driving_scope driving(driving_);
        std::chrono::milliseconds slice(1);
        while (!ready() && !role_.handover_asked()) {
          if ((ended = done() || io_context_->stopped())) break;
          const auto now = std::chrono::steady_clock::now();
          if (now >= deadline) break;
          io_context_->run_one_for(
              std::min<std::chrono::steady_clock::duration>(deadline - now, slice));
          if (!share_->shared()) slice = std::min(slice * 2, max_slice);
        }
      } catch (...) {  // a completion of the user's threw: the role must not leave with it
        leading() = outer;
        if (role_.release()) pool_.lead([this] { lead(); });
        throw;
      }
      leading() = outer;
      if (ended ? role_.release() : role_.step_away(true)) pool_.lead([this] { lead(); });
    }

    /// Not on the thread reading for this connection, which reads the reply a blocking call
    /// waits for.
    bool may_block() const noexcept { return !on_io_thread(); }

    /// The kept request's handler has returned: its slot is free before the reply goes out.
    void handler_returned() noexcept {
      if (claim_holder() == this) {
        claim_holder() = nullptr;
        pool_.release_claim();
      }
    }

    /// After the connection finished: joins its threads, unless called from one of them.
    void join() {
      if (!on_own_thread()) join_threads();
    }

    /// From the Rpc destructor: waits up to 10 s for the handlers, then joins. Not from one of
    /// this connection's own threads, which cannot join themselves.
    void release(const std::function<bool(std::chrono::milliseconds)>& wait_finished) {
      if (on_own_thread()) return;
      wait_finished(std::chrono::seconds(10));
      join_threads();
    }

   private:
    static constexpr std::chrono::milliseconds max_slice{100};

    // Counts the threads of this runtime inside a loop that runs the io_context.
    class driving_scope {
     public:
      explicit driving_scope(std::atomic<int>& count) : count_(count) { ++count_; }
      ~driving_scope() { --count_; }
      driving_scope(const driving_scope&) = delete;
      driving_scope& operator=(const driving_scope&) = delete;

     private:
      std::atomic<int>& count_;
    };

    // The reading role, as the thread running the io_context for it sees it.
    struct leadership {
      const runtime* owner = nullptr;
      bool kept = false;           // it read requests it keeps for itself
      bool may_keep = true;        // a pool thread; not a blocking caller
    };
    static leadership*& leading() noexcept {
      thread_local leadership* current = nullptr;
      return current;
    }
    // The runtime whose claimed handler slot this thread holds while it runs a kept request.
    static const runtime*& claim_holder() noexcept {
      thread_local const runtime* current = nullptr;
      return current;
    }

    // Runs the requests this thread kept, each in a handler slot of its own, until none is
    // left or another thread took them with the role. With every slot taken, they queue.
    void run_kept() {
      while (std::function<void()> task = role_.next_kept()) {
        if (!pool_.try_claim()) {
          pool_.post(std::move(task));
          auto rest = role_.drop_kept();
          to_pool(rest);
          return;
        }
        const runtime* outer_claim = std::exchange(claim_holder(), this);
        task();
        task = nullptr;
        handler_returned();  // if the task ended without a handler's finish
        claim_holder() = outer_claim;
      }
    }

    void to_pool(detail::reading_role::tasks& tasks) {
      for (auto& task : tasks) pool_.post(std::move(task));
      tasks.clear();
    }

    std::function<bool()> reading_done() {
      std::lock_guard lock(done_mutex_);
      return done_;
    }

    // A pool thread's part in reading: it stands by until the role is free (or its holder
    // stayed away), then reads; when it hands the role over, it may stand by again.
    void lead() {
      std::function<bool()> done = reading_done();  // it may hold the connection: kept
      if (!done) return;                            // alive while this thread takes part
      detail::reading_role::tasks orphans;
      while (role_.wait_as_standby(orphans)) {
        to_pool(orphans);
        if (!read(done)) return;
      }
    }

    // Reads (holding the role) until reading ends or another thread takes the role over;
    // runs each request it keeps, with the role in hand. True if this thread must now stand
    // by (the role went to a caller, and no other thread stands by).
    bool read(const std::function<bool()>& done) {
      leadership mine{this, {}, true};
      for (;;) {
        leadership* outer = std::exchange(leading(), &mine);
        {
          driving_scope driving(driving_);
          while (!mine.kept && !done() && !io_context_->stopped() && !role_.handover_asked())
            io_context_->run_one_for(max_slice);
        }
        leading() = outer;
        if (mine.kept) {
          mine.kept = false;
          if (role_.step_away()) pool_.lead([this] { lead(); });
          run_kept();
          if (role_.step_back()) continue;
          return false;  // taken over meanwhile
        }
        if (!done() && !io_context_->stopped()) {
          bool handed = false;
          const bool stand_by = role_.hand_over_if_asked(handed);
          if (handed) return stand_by;
          continue;  // the caller withdrew
        }
        break;
      }
      // Reading has ended. Completions already due (cancelled timers, the last writes)
      // release the connection's state now rather than whenever the io_context next runs.
      role_.end();
      if (finishing_.exchange(true)) return false;
      {
        std::lock_guard lock(done_mutex_);
        done_ = nullptr;  // no cycle: `done` may hold the connection, which holds this runtime
      }
      if (!io_context_->stopped()) io_context_->poll();
      work_.reset();
      return false;
    }

    // Reading for this connection, or about to hand the role on (still on the strand).
    bool on_io_thread() const noexcept {
      const leadership* mine = leading();
      return mine && mine->owner == this;
    }
    bool on_own_thread() const noexcept { return pool_.runs_on_this_thread(); }

    // Stops and joins this connection's threads. Reading may have ended while none of them
    // held the role (a blocking caller had stepped away with it), so none ran the end of
    // read(): the reference cycle through `done_` and the kept requests is broken here. The
    // caller holds the connection, so nothing destroyed here destroys this runtime.
    void join_threads() {
      role_.end();
      wake_readers();
      pool_.stop_and_join();
      std::function<bool()> done;
      {
        std::lock_guard lock(done_mutex_);
        done = std::exchange(done_, nullptr);
      }
      detail::reading_role::tasks kept = role_.drop_kept();
      work_.reset();
    }

    // Wakes this runtime's threads out of the io_context once reading is over. Where other
    // threads run the same io_context, an empty completion may wake one of them instead, so
    // it is posted again every millisecond (for 100 ms at most) until this runtime's threads
    // have left it.
    void wake_readers() {
      if (!io_context_) return;
      for (int i = 0; i < 1000 && driving_.load() > 0; ++i) {
        if (i % 10 == 0) asio::post(*io_context_, [] {});
        std::this_thread::sleep_for(std::chrono::microseconds(100));
      }
    }

    asio::io_context* io_context_ = nullptr;
    detail::io_context_share* share_ = nullptr;  // owned by the io_context
    std::atomic<int> driving_{0};
    std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
    std::mutex done_mutex_;
    std::function<bool()> done_;  // from start() until a leader sees reading end
    std::atomic<bool> finishing_{false};
    mutable detail::reading_role role_;
    detail::thread_pool pool_;
    detail::serial_lane notifications_;
    bool concurrent_notifications_;
  };
};

static_assert(is_executor_v<Threads>);

}  // namespace bsonrpc
