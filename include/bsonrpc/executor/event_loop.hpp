// bsonrpc/executor/event_loop.hpp: EventLoop, every connection's I/O on an Asio io_context
// the application runs, so one or a few threads serve thousands of connections.
//
// The library starts no thread. Reads and writes are asynchronous on a strand per
// connection. Handlers run on that strand as their messages are read, so a connection answers
// its requests in order, one at a time, with no hand-off between threads (connections run in
// parallel when several threads run the io_context). Handlers that block or compute for long
// belong elsewhere: set Options::handler_runner to run them on, say, an asio::thread_pool,
// where requests run concurrently and notifications one at a time in arrival order unless
// Options::concurrent_notification_handling is set.
// Blocking calls (call, batch_call) are refused on a thread running the io_context, since
// they would wait for the loop they block: use async_call there, or a coroutine handler.
// The Executor concept: executor/executor.hpp.
#pragma once

#include <bsonrpc/detail/thread_pool.hpp>
#include <bsonrpc/executor/executor.hpp>
#include <bsonrpc/options.hpp>

#include <asio.hpp>

#include <chrono>
#include <functional>
#include <utility>

namespace bsonrpc {

/// Executor policy: every connection's I/O on an io_context the application runs; the library
/// starts no thread. Handlers run on the connection's strand, or on Options::handler_runner.
struct EventLoop {
  /// One connection's share of the policy (the Executor concept, executor/executor.hpp).
  class runtime {
   public:
    /// For a connection on `io`; reads Options::handler_runner and
    /// Options::concurrent_notification_handling.
    runtime(const asio::any_io_executor& io, const Options& options)
        : io_(io),
          runner_(options.handler_runner),
          notifications_([this](std::function<void()> task) { post_request(std::move(task)); }),
          concurrent_notifications_(options.concurrent_notification_handling) {}
    runtime(const runtime&) = delete;
    runtime& operator=(const runtime&) = delete;

    /// Nothing to start: the application's threads run the io_context.
    void start(const std::function<bool()>&) {}

    /// Called on the connection's strand: without a runner the handler runs right there.
    void post_request(std::function<void()> task) {
      if (!runner_) {
        asio::dispatch(io_, std::move(task));
        return;
      }
      runner_([this, task = std::move(task)] {
        // The task keeps the connection, and so this runtime, alive while it runs.
        struct scope {
          const runtime* outer;
          ~scope() { running_handler() = outer; }
        } restore{std::exchange(running_handler(), this)};
        task();
      });
    }

    /// As post_request, in arrival order unless Options::concurrent_notification_handling.
    void post_notification(std::function<void()> task) {
      if (concurrent_notifications_) post_request(std::move(task));
      else notifications_.post(std::move(task));
    }

    /// Waits for the handlers of the notifications received so far (when they run in order).
    /// Not from one of this connection's handlers on the runner: a fixed pool whose threads
    /// all waited so would never run the notifications (Threads' pool lends the slot instead).
    void wait_for_notification_handlers() const {
      if (!concurrent_notifications_ && running_handler() != this)
        notifications_.wait_for_posted();
    }

    /// What blocking_scope() returns: nothing to hold.
    struct no_scope {};
    /// Nothing to lend while a caller waits: handlers hold no slot here.
    no_scope blocking_scope() const { return {}; }

    /// Not on a thread running the io_context, where a blocking wait deadlocks.
    bool may_block() const noexcept {
      if (const auto* ex = io_.target<asio::io_context::executor_type>())
        return !ex->running_in_this_thread();
      return true;
    }

    /// A blocking caller waits for the loop to read its reply.
    void read_until(const std::function<bool()>&, std::chrono::steady_clock::time_point) {}

    /// Handlers hold no slot here: the runner, or the loop, bounds them.
    void handler_returned() noexcept {}

    /// Nothing to join: the Rpc destructor closes the connection and returns at once; the
    /// connection's state lives until its last pending operation on the loop completes.
    void join() {}
    /// Nothing to wait for or join, as for join().
    void release(const std::function<bool(std::chrono::milliseconds)>&) {}

   private:
    static const runtime*& running_handler() noexcept {
      thread_local const runtime* current = nullptr;
      return current;
    }

    asio::any_io_executor io_;
    std::function<void(std::function<void()>)> runner_;
    detail::serial_lane notifications_;
    bool concurrent_notifications_;
  };
};

static_assert(is_executor_v<EventLoop>);

}  // namespace bsonrpc
