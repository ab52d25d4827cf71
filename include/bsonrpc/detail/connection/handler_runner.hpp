// bsonrpc/detail/connection/handler_runner.hpp: running a connection's handlers.
//
// It runs each request or notification where its method's execution policy says
// (bsonrpc/execution.hpp). standard hands it to the Executor policy's runtime (request lane:
// concurrent where the executor allows; notification lane: in arrival order unless
// Options::concurrent_notification_handling); in_place runs it here on the strand, before the
// next message is read; concurrent takes the request lane, a notification too; serial takes
// the connection's serial lane, which feeds the request lane. A batch is one task on the
// request lane. It counts the handlers in flight for back-pressure and for join(), and acts on
// what a handler asked of its Context once it returns: send its reply (or what the protocol
// profile makes of a cancelled request's reply), close after it, or abort the connection. One
// mutex, for waiting until the handlers have finished.
//
// Owner (the connection) provides:
//   std::shared_ptr<Owner> shared_from_this();
//   bsonrpc::dispatcher<Codec>& dispatcher();
//   std::uint64_t id() const;  const logger& log() const;
//   asio::any_io_executor io_executor() const;   where coroutine handlers run
//   class request_context;    a Context constructible from Owner& (a batch), and from Owner&,
//                             the message and its cancellation; with `aborted`, `close_after`,
//                             and bool settle(value_type& reply) (false: send no reply)
//   std::shared_ptr<request_cancellation> enter_request(const message_view<value_type>&);
//                             on the strand, as a message is read: its cancellation, or null
//   void send_reply(const value_type&, bool close_when_flushed);
//   void close_when_flushed();   close once what is queued is written
//   void close();
//   void wake_reader();          any thread: a paused reader may continue
//   void on_handler_finished();  any thread, after each handler's reply is queued
//   void on_finished();          any thread, once: reading has ended and no handler runs
#pragma once

#include <bsonrpc/detail/connection/incoming_cancellation.hpp>
#include <bsonrpc/detail/message.hpp>
#include <bsonrpc/detail/thread_pool.hpp>
#include <bsonrpc/dispatcher.hpp>
#include <bsonrpc/execution.hpp>
#include <bsonrpc/log.hpp>
#include <bsonrpc/options.hpp>

#include <asio.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <utility>

namespace bsonrpc::detail {

template <class Codec, class Executor, class Owner>
class handler_runner {
 public:
  using value_type = typename Codec::value_type;
  using time_point = std::chrono::steady_clock::time_point;
  using batch_screen = typename dispatcher<Codec>::batch_screen;

  handler_runner(Owner& owner, const asio::any_io_executor& io, const Options& options)
      : owner_(owner), max_in_flight_(options.max_pending_requests), runtime_(io, options) {}

  typename Executor::runtime& runtime() noexcept { return runtime_; }
  const typename Executor::runtime& runtime() const noexcept { return runtime_; }

  // Starts the executor (Threads: the connection's I/O thread, until reading has ended).
  void start() {
    auto self = owner_.shared_from_this();
    runtime_.start([self, this] { return reading_done_.load(); });
  }

  // Whether as many requests are in flight as Options::max_pending_requests allows.
  // Lock-free: the reader asks before every message.
  bool saturated() const noexcept { return in_flight_.load() >= max_in_flight_; }

  // Whether no handler is in flight (any thread).
  bool idle() const noexcept { return in_flight_.load() == 0; }

  // Whether this thread runs one of this connection's handlers (not a coroutine's), which a
  // wait for every handler to finish would wait for.
  bool in_handler_here() const noexcept { return handling_here() == this; }

  // On the strand: runs the handler of a request or notification. `m` is `doc` as route()
  // classified it (it points into `doc`, which the task keeps alive); `received`: when it was
  // read, for the outgoing hooks (unset without hooks).
  void run(std::shared_ptr<value_type> doc, const message_view<value_type>& m, bool is_request,
           time_point received) {
    begin();
    auto cancellation = is_request ? owner_.enter_request(m) : nullptr;
    const execution where = owner_.dispatcher().execution_of(m);
    if (where == execution::in_place) {
      // The reader's loop is below us: finish() finds it running, not paused, so waking it
      // does nothing, and the loop asks must_pause() afresh before the next message.
      struct scope {
        const handler_runner* outer;
        ~scope() { in_place_here() = outer; }
      } restore{std::exchange(in_place_here(), this)};
      handle(doc, m, is_request, received, std::move(cancellation));
      return;
    }
    auto self = owner_.shared_from_this();
    auto task = [self, this, doc = std::move(doc), m, is_request, received,
                 cancellation = std::move(cancellation)]() mutable {
      handle(doc, m, is_request, received, std::move(cancellation));
    };
    switch (where) {
      case execution::concurrent: runtime_.post_request(std::move(task)); return;
      case execution::serial:
        if (!serial_)
          serial_.emplace([this](std::function<void()> t) { runtime_.post_request(std::move(t)); });
        serial_->post(std::move(task));
        return;
      case execution::in_place:
      case execution::standard: break;
    }
    if (is_request) runtime_.post_request(std::move(task));
    else runtime_.post_notification(std::move(task));
  }

  // Whether a blocking call may wait on the calling thread: not in an in_place handler, which
  // holds the strand that must read the reply, nor where the Executor says no.
  bool may_block() const { return in_place_here() != this && runtime_.may_block(); }

  // On the strand: runs a batch's requests and notifications as one task (its responses
  // were routed already); `screen` is what the incoming hooks made of it, if any.
  void run_batch(std::shared_ptr<value_type> batch, std::shared_ptr<batch_screen> screen) {
    begin();
    auto self = owner_.shared_from_this();
    runtime_.post_request([self, this, batch, screen] {
      handling_scope here(this);
      typename Owner::request_context context(owner_);
      auto replies = owner_.dispatcher().answer_batch(*batch, context, true, screen.get());
      finish(context, replies ? &*replies : nullptr);
    });
  }

  // Reading has ended for good: the connection finishes once its handlers have.
  void mark_reading_done() {
    bool finished = false;
    {
      std::lock_guard lock(mutex_);
      finished = !reading_done_.exchange(true) && in_flight_ == 0;
    }
    changed_.notify_all();
    if (finished) owner_.on_finished();
  }

  // Waits until reading has ended and every handler has finished; false on timeout.
  bool wait_finished(std::optional<std::chrono::milliseconds> timeout) {
    std::unique_lock lock(mutex_);
    auto finished = [&] { return reading_done_.load() && in_flight_ == 0; };
    if (!timeout) {
      changed_.wait(lock, finished);
      return true;
    }
    return changed_.wait_for(lock, *timeout, finished);
  }

 private:
  // On the strand, before reading has ended: wait_finished() cannot be satisfied meanwhile.
  void begin() { ++in_flight_; }

  // Runs the handler of a request or notification (run()'s task) and acts on its outcome.
  void handle(const std::shared_ptr<value_type>& doc, const message_view<value_type>& m,
              bool is_request, time_point received,
              std::shared_ptr<request_cancellation> cancellation) {
    auto& engine = owner_.dispatcher();
    if (engine.is_coroutine(m)) {
      start_coroutine(doc, m, received, std::move(cancellation));
      return;
    }
    handling_scope here(this);
    typename Owner::request_context context(owner_, m, std::move(cancellation));
    if (is_request) {
      value_type reply = engine.run_request(m, context);
      if (!context.settle(reply)) {
        finish(context, nullptr);
        return;
      }
      if (!engine.hooks().empty())
        engine.hooks().outgoing_reply(reply, m.method, owner_.id(), false, received,
                                      owner_.log());
      finish(context, &reply);
    } else {
      engine.run_notification(m, context);
      finish(context, nullptr);
    }
  }

  // The runner whose in_place handler runs on this thread, if any.
  static const handler_runner*& in_place_here() noexcept {
    thread_local const handler_runner* current = nullptr;
    return current;
  }
  // The runner whose handler (of any execution policy) runs on this thread, if any.
  static const handler_runner*& handling_here() noexcept {
    thread_local const handler_runner* current = nullptr;
    return current;
  }
  struct handling_scope {
    explicit handling_scope(const handler_runner* runner)
        : outer(std::exchange(handling_here(), runner)) {}
    ~handling_scope() { handling_here() = outer; }
    handling_scope(const handling_scope&) = delete;
    handling_scope& operator=(const handling_scope&) = delete;
    const handler_runner* outer;
  };

  template <class Context>
  void finish(Context& context, const value_type* reply) {
    // Before the reply, so that the peer's next request finds the handler's slot free; not
    // while a serial lane may run its next handler on this thread, in that same slot.
    if (!serial_lane::draining_here()) runtime_.handler_returned();
    if (context.aborted) {
      owner_.log()(log_level::info, "handler aborted the connection");
      owner_.close();
    } else if (reply) {
      owner_.send_reply(*reply, context.close_after);
    } else if (context.close_after) {
      owner_.close_when_flushed();
    }
    bool finished = false;
    {
      std::lock_guard lock(mutex_);
      finished = --in_flight_ == 0 && reading_done_;
    }
    changed_.notify_all();
    owner_.on_handler_finished();
    if (finished) owner_.on_finished();
    owner_.wake_reader();
  }

  // A coroutine handler (C++20) runs on the connection's I/O executor and finishes when its
  // coroutine does.
  void start_coroutine(const std::shared_ptr<value_type>& doc, const message_view<value_type>& m,
                       time_point received, std::shared_ptr<request_cancellation> cancellation) {
    using context_type = typename Owner::request_context;
    auto context = std::make_shared<context_type>(owner_, m, std::move(cancellation));
    auto& engine = owner_.dispatcher();
    // With hooks, the reply needs the request's method: keep the message it points into.
    auto hooked = engine.hooks().empty() ? nullptr : doc;
    auto self = owner_.shared_from_this();
    engine.start_async(m, context, owner_.io_executor(),
                       [self, this, context, hooked, method = m.method,
                        received](std::optional<value_type> reply) {
                         if (reply && !context->settle(*reply)) reply.reset();
                         if (hooked && reply)
                           owner_.dispatcher().hooks().outgoing_reply(
                               *reply, method, owner_.id(), false, received, owner_.log());
                         finish(*context, reply ? &*reply : nullptr);
                       });
  }

  Owner& owner_;
  const std::size_t max_in_flight_;

  std::mutex mutex_;
  std::condition_variable changed_;
  std::atomic<bool> reading_done_{false};
  std::atomic<std::size_t> in_flight_{0};  // decremented under mutex_, for wait_finished()
  std::optional<serial_lane> serial_;       // made on the strand by the first serial handler

  typename Executor::runtime runtime_;  // last: its threads stop before the rest goes
};

}  // namespace bsonrpc::detail
