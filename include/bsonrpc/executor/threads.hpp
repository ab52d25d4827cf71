// bsonrpc/executor/threads.hpp: Threads, the original library's threading model.
//
// Each connection gets one I/O thread that drives the stream's io_context while the
// connection is open (so a blocking program needs no event loop of its own), and a worker
// pool on which request handlers run concurrently, up to Options::max_concurrent_requests.
// Notification handlers run one at a time in arrival order, unless
// Options::concurrent_notification_handling is set. Blocking calls are allowed anywhere
// except on the I/O thread itself. The Executor concept: executor/executor.hpp.
#pragma once

#include <bsonrpc/detail/thread_pool.hpp>
#include <bsonrpc/executor/executor.hpp>
#include <bsonrpc/options.hpp>

#include <asio.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <thread>
#include <utility>

namespace bsonrpc {

struct Threads {
  class runtime {
   public:
    runtime(const asio::any_io_executor& io, const Options& options)
        : pool_(options.max_concurrent_requests),
          notifications_([this](std::function<void()> task) { pool_.post(std::move(task)); }),
          concurrent_notifications_(options.concurrent_notification_handling) {
      if (const auto* ex = io.target<asio::io_context::executor_type>())
        io_context_ = &ex->context();
      // An io_context that ran out of work earlier (say, after a synchronous connect) is
      // stopped; it must be restarted before this connection's thread can drive it.
      if (io_context_ && io_context_->stopped()) io_context_->restart();
      if (io_context_) work_.emplace(io_context_->get_executor());
    }
    runtime(const runtime&) = delete;
    runtime& operator=(const runtime&) = delete;
    ~runtime() { join_threads(); }

    // Drives the io_context on the connection's own thread until `done()` holds. Other
    // threads may run the same io_context too: the connection's strand keeps it in order.
    void start(std::function<bool()> done) {
      if (!io_context_) return;  // the user's execution context runs the I/O
      driver_ = std::thread([this, done = std::move(done)] {
        while (!done() && !io_context_->stopped())
          io_context_->run_one_for(std::chrono::milliseconds(100));
        // Completions already due (cancelled timers, the last writes) release the
        // connection's state now rather than whenever the io_context next runs.
        if (!io_context_->stopped()) io_context_->poll();
        work_.reset();
      });
    }

    void post_request(std::function<void()> task) { pool_.post(std::move(task)); }

    void post_notification(std::function<void()> task) {
      if (concurrent_notifications_) pool_.post(std::move(task));
      else notifications_.post(std::move(task));
    }

    // Waits for the handlers of the notifications received so far (when they run in order).
    void wait_for_notification_handlers() const {
      if (!concurrent_notifications_) notifications_.wait_for_posted();
    }

    detail::thread_pool::blocking_scope blocking_scope() const { return {}; }

    // Not on the connection's I/O thread, which reads the reply a blocking call waits for.
    bool may_block() const noexcept { return !on_io_thread(); }

    // After the connection finished: joins its threads, unless called from one of them.
    void join() {
      if (!on_own_thread()) join_threads();
    }

    // From the Rpc destructor: waits up to 10 s for the handlers, then joins. Not from one of
    // this connection's own threads, which cannot join themselves.
    void release(const std::function<bool(std::chrono::milliseconds)>& wait_finished) {
      if (on_own_thread()) return;
      wait_finished(std::chrono::seconds(10));
      join_threads();
    }

   private:
    bool on_io_thread() const noexcept { return driver_.get_id() == std::this_thread::get_id(); }
    bool on_own_thread() const noexcept { return on_io_thread() || pool_.runs_on_this_thread(); }

    void join_threads() {
      if (driver_.joinable()) {
        if (on_io_thread()) driver_.detach();
        else driver_.join();
      }
      pool_.stop_and_join();
    }

    asio::io_context* io_context_ = nullptr;
    std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
    std::thread driver_;
    detail::thread_pool pool_;
    detail::serial_lane notifications_;
    bool concurrent_notifications_;
  };
};

static_assert(is_executor_v<Threads>);

}  // namespace bsonrpc
