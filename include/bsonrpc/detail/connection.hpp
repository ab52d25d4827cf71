// bsonrpc/detail/connection.hpp: one connection's engine room. It reads and frames bytes,
// hands messages to the dispatcher, runs handlers through the executor policy, matches
// responses to pending calls, and serialises writes: every queued frame leaves in one write.
//
// Threading: reading, writing and the stream itself live on the stream's strand. The
// pending-call table and the outbox have their own mutexes, so any thread may call, notify or
// close. Handlers run wherever the executor policy puts them.
#pragma once

#include <bsonrpc/codec/codec.hpp>
#include <bsonrpc/detail/async_call.hpp>
#include <bsonrpc/context.hpp>
#include <bsonrpc/detail/hook_chain.hpp>
#include <bsonrpc/detail/message.hpp>
#include <bsonrpc/dispatcher.hpp>
#include <bsonrpc/errors.hpp>
#include <bsonrpc/framing/framing.hpp>
#include <bsonrpc/log.hpp>
#include <bsonrpc/options.hpp>
#include <bsonrpc/stream/any_stream.hpp>

#include <asio.hpp>
#include <asio/ssl/error.hpp>

#include <any>
#include <atomic>
#include <chrono>
#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <cstdint>
#include <exception>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <unordered_map>
#include <utility>
#include <vector>

namespace bsonrpc::detail {

inline std::uint64_t next_connection_id() {
  static std::atomic<std::uint64_t> counter{0};
  return ++counter;
}

template <class Codec, class Framing, class Executor>
class connection : public std::enable_shared_from_this<connection<Codec, Framing, Executor>> {
 public:
  using value_type = typename Codec::value_type;
  using traits = value_traits<value_type>;
  using completion = std::function<void(call_outcome<value_type>)>;
  using time_point = std::chrono::steady_clock::time_point;

  connection(std::unique_ptr<any_stream> stream, Options options, std::any client_info)
      : id_(next_connection_id()),
        options_(std::move(options)),
        log_(options_.log, options_.log_filter, id_),
        client_info_(std::move(client_info)),
        stream_(std::move(stream)),
        engine_(options_, log_),
        runtime_(stream_->strand().get_inner_executor(), options_) {
    engine_.set_response_handler([this](const typename dispatcher<Codec>::message& m) {
      complete_call(m);
    });
  }

  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;
  ~connection() { runtime_.join(); }

  dispatcher<Codec>& engine() noexcept { return engine_; }
  const Options& options() const noexcept { return options_; }
  const logger& log() const noexcept { return log_; }
  std::uint64_t id() const noexcept { return id_; }
  const std::any& client_info() const noexcept { return client_info_; }
  typename Executor::runtime& runtime() noexcept { return runtime_; }
  // The executor of the stream (its io_context), where completions are posted by default.
  asio::any_io_executor io_executor() const { return stream_->strand().get_inner_executor(); }
  any_stream::strand_type& strand() noexcept { return stream_->strand(); }

  // Starts reading; services must be registered before.
  void start() {
    auto self = this->shared_from_this();
    runtime_.start([self] { return self->reading_done_.load(); });
    asio::dispatch(stream_->strand(), [self] { self->read_more(); });
  }

  // Sends a request and registers `done` for its response. Throws encoding_error if the
  // request cannot be encoded and connection_closed if the connection is already closed.
  std::int64_t start_call(std::string_view method, std::optional<value_type> params,
                          completion done) {
    const std::int64_t id = next_call_id_.fetch_add(1, std::memory_order_relaxed);
    const value_type id_value = traits::make_integer(id);
    value_type request = detail::make_request<Codec>(method, params ? &*params : nullptr,
                                                     &id_value, options_.no_arguments_presentation);
    if (!engine_.hooks().empty()) {
      if (closed_flag()) throw connection_closed();
      call_outcome<value_type> local;
      const auto fate = engine_.hooks().screen_outgoing(request, id_, false, log_, local);
      if (fate == hook_chain<Codec>::fate::answered) {
        done(std::move(local));  // answered by a hook: never sent
        return id;
      }
      // A call a hook turned into a notification, or gave another id, could never complete.
      const value_type* sent_id = traits::find(request, "id");
      if (fate == hook_chain<Codec>::fate::dropped || !sent_id || !traits::is_integer(*sent_id) ||
          traits::as_integer(*sent_id) != id) {
        done({value_type(), make_error_ptr<internal_error>(
                                "a message hook changed a call's id or made it a notification")});
        return id;
      }
    }
    std::string framed = frame(request);
    {
      std::lock_guard lock(calls_mutex_);
      if (closed_) throw connection_closed();
      pending_.emplace(id, std::move(done));
    }
    try {
      if (!send(std::move(framed), false, true))
        fail_call(id, make_error_ptr<connection_closed>());
    } catch (...) {
      forget_call(id);
      throw;
    }
    return id;
  }

  // Ends a pending call now with `why` (a cancellation, a timeout); false if already ended.
  bool fail_call(std::int64_t id, std::exception_ptr why) {
    return complete_locally(id, {value_type(), why});
  }

  // Ends a pending call now with `outcome` (a batch entry a hook answered); false if ended.
  bool complete_locally(std::int64_t id, call_outcome<value_type> outcome) {
    completion done;
    {
      std::lock_guard lock(calls_mutex_);
      auto it = pending_.find(id);
      if (it == pending_.end()) return false;
      done = std::move(it->second);
      pending_.erase(it);
    }
    done(std::move(outcome));
    return true;
  }

  // Forgets a pending call (after a timeout or a cancellation); a late response is logged.
  bool forget_call(std::int64_t id) {
    std::lock_guard lock(calls_mutex_);
    return pending_.erase(id) > 0;
  }

  void send_notification(std::string_view method, std::optional<value_type> params) {
    value_type notification = detail::make_request<Codec>(
        method, params ? &*params : nullptr, nullptr, options_.no_arguments_presentation);
    if (!engine_.hooks().empty()) {
      if (closed_flag()) throw connection_closed();
      call_outcome<value_type> unused;
      // Dropped, or (made a request by a hook) answered: nothing to send.
      if (engine_.hooks().screen_outgoing(notification, id_, false, log_, unused) !=
          hook_chain<Codec>::fate::deliver)
        return;
    }
    if (!send(frame(notification), false, true)) throw connection_closed();
  }

  // Sends an already built message (a batch): its requests' ids must be registered first.
  void register_call(std::int64_t id, completion done) {
    std::lock_guard lock(calls_mutex_);
    if (closed_) throw connection_closed();
    pending_.emplace(id, std::move(done));
  }
  std::int64_t reserve_call_id() { return next_call_id_.fetch_add(1, std::memory_order_relaxed); }
  bool send_message(const value_type& message) { return send(frame(message), false, true); }

  // Closes the connection; every pending call fails with connection_closed at once. What was
  // already queued for sending (say, a notification just before close()) is still written,
  // for at most close_linger, then the stream shuts down. Any thread.
  void close() {
    {
      std::lock_guard lock(calls_mutex_);
      if (closed_) return;
      closed_ = true;
    }
    fail_all_calls();
    auto self = this->shared_from_this();
    asio::post(stream_->strand(), [self] { self->shutdown_when_flushed(); });
  }

  bool is_closed() const {
    std::lock_guard lock(calls_mutex_);
    return closed_;
  }

  // Waits until reading has stopped and every handler has finished.
  bool wait_finished(std::optional<std::chrono::milliseconds> timeout) {
    std::unique_lock lock(state_mutex_);
    auto finished = [&] { return reading_done_.load() && in_flight_ == 0; };
    if (!timeout) {
      state_changed_.wait(lock, finished);
      return true;
    }
    return state_changed_.wait_for(lock, *timeout, finished);
  }

  // Joins the executor's threads (not from one of them). Call after wait_finished().
  void join_threads() { runtime_.join(); }

  // The Context handed to rpc_ handlers: one per request or notification.
  class request_context final : public Context {
   public:
    explicit request_context(connection& owner) : owner_(owner) {}
    value call_value(std::string_view method, std::optional<value> params,
                     timeout_type timeout) override {
      return owner_.call_neutral(method, std::move(params), timeout);
    }
    void notify_value(std::string_view method, std::optional<value> params) override {
      owner_.notify_neutral(method, params);
    }
    timeout_type default_timeout() const override { return owner_.options_.default_timeout; }
    std::int64_t start_call_value(std::string_view method, std::optional<value> params,
                                  std::function<void(call_outcome<value>)> done) override {
      return owner_.start_call_neutral(method, std::move(params), std::move(done));
    }
    void cancel_call(std::int64_t id) override { owner_.cancel_call(id); }
    asio::any_io_executor get_executor() override { return owner_.io_executor(); }
    void abort() override { aborted = true; }
    void close_after_response() override { close_after = true; }
    const std::any& client_info() const override { return owner_.client_info_; }
    std::uint64_t connection_id() const override { return owner_.id_; }
    connection_stats stats() const override { return owner_.stats(); }

    bool aborted = false;
    bool close_after = false;

   private:
    connection& owner_;
  };

  connection_stats stats() const {
    return {requests_.load(), notifications_.load(), errors_sent_.load()};
  }

  // Call parameters given as neutral values, in this codec's value type.
  static std::optional<value_type> params_from_neutral(const std::optional<value>& params) {
    if (!params) return std::nullopt;
    return traits::from_neutral(*params);
  }

  // A notification through neutral values (used by Context and caller).
  void notify_neutral(std::string_view method, const std::optional<value>& params) {
    send_notification(method, params_from_neutral(params));
  }

  // Starts a call through neutral values (used by Context and caller).
  std::int64_t start_call_neutral(std::string_view method, std::optional<value> params,
                                  std::function<void(call_outcome<value>)> done) {
    return start_call(method, params_from_neutral(params),
                      [done = std::move(done)](call_outcome<value_type> o) {
      call_outcome<value> neutral;
      neutral.error = o.error;
      if (!o.error) {
        try {
          neutral.result = traits::to_neutral(o.result);
        } catch (...) {
          neutral.error = std::current_exception();
        }
      }
      done(std::move(neutral));
    });
  }

  void cancel_call(std::int64_t id) {
    fail_call(id, make_error_ptr<std::system_error>(asio::error::operation_aborted));
  }

  // A blocking call through neutral values (used by Context and caller).
  value call_neutral(std::string_view method, std::optional<value> params,
                     std::optional<std::chrono::milliseconds> timeout) {
    return traits::to_neutral(call_blocking(method, params_from_neutral(params), timeout));
  }

  // A blocking call returns after the handlers of the notifications read before its reply
  // (a server's progress reports come before the result they precede), as in the original,
  // where they run on the reading thread. Not on a notification handler (it would wait for
  // itself), nor once the connection has closed.
  void wait_for_earlier_notifications() const {
    if (!closed_flag()) runtime_.wait_for_notification_handlers();
  }

  // Sends a request and waits for its result; throws the peer's error, timeout_error or
  // connection_closed.
  value_type call_blocking(std::string_view method, std::optional<value_type> params,
                           std::optional<std::chrono::milliseconds> timeout) {
    if (runtime_.on_io_thread())
      throw error(errc::internal_error, "a blocking call on the I/O thread would deadlock");
    // Not a std::promise: the waiting thread takes the outcome (and any exception) out of the
    // shared slot, so the exception object lives and dies on the thread that throws it.
    struct slot {
      std::mutex mutex;
      std::condition_variable ready;
      std::optional<call_outcome<value_type>> outcome;
    };
    auto shared = std::make_shared<slot>();
    const auto id = start_call(method, std::move(params), [shared](call_outcome<value_type> o) {
      std::lock_guard lock(shared->mutex);
      shared->outcome = std::move(o);
      shared->ready.notify_all();
    });
    [[maybe_unused]] auto blocked = runtime_.blocking_scope();
    std::unique_lock lock(shared->mutex);
    auto arrived = [&] { return shared->outcome.has_value(); };
    if (!timeout) {
      shared->ready.wait(lock, arrived);
    } else if (!shared->ready.wait_for(lock, *timeout, arrived)) {
      lock.unlock();
      if (forget_call(id)) throw timeout_error();
      lock.lock();
      shared->ready.wait(lock, arrived);  // it completed while we gave up: take it
    }
    call_outcome<value_type> outcome = std::move(*shared->outcome);
    shared->outcome.reset();
    lock.unlock();
    wait_for_earlier_notifications();
    if (outcome.error) std::rethrow_exception(std::move(outcome.error));
    return std::move(outcome.result);
  }

 private:
  std::string frame(const value_type& message) const {
    return framed([&](std::string& out) { Codec::encode(message, out); });
  }

  // The frame around what `encode` appends to a string: encoded in place when the framing
  // allows it, else encoded into a per-thread scratch buffer and copied into its frame.
  template <class Encode>
  static std::string framed(Encode&& encode) {
    std::string out;
    if constexpr (frames_in_place<Framing>::value) {
      Framing::begin_frame(out);
      const std::size_t start = out.size();
      encode(out);
      Framing::end_frame(out, start);
    } else {
      thread_local std::string scratch;
      scratch.clear();
      encode(scratch);
      Framing::wrap(scratch, out);
      if (scratch.capacity() > idle_buffer_limit) std::string().swap(scratch);
    }
    return out;
  }

  // Queues framed bytes; false if the connection is closed. One write drains the whole queue.
  // A `limited` send (a call or notification of ours) refuses to grow the queue past
  // max_pending_outgoing_bytes; replies are never refused: reading pauses instead.
  bool send(std::string framed, bool close_when_flushed = false, bool limited = false) {
    {
      std::lock_guard lock(out_mutex_);
      if (closed_flag()) return false;
      if (limited && outbox_.size() + framed.size() > options_.max_pending_outgoing_bytes &&
          !outbox_.empty())
        throw error(errc::backpressure, "too much outgoing data queued on this connection");
      if (outbox_.empty()) outbox_ = std::move(framed);
      else outbox_.append(framed);
      if (close_when_flushed) close_when_flushed_ = true;
      if (writing_) return true;
      writing_ = true;
    }
    // On the strand already (a handler answering inline), the write starts at once.
    auto self = this->shared_from_this();
    asio::dispatch(stream_->strand(), [self] { self->write_queued(); });
    return true;
  }

  bool closed_flag() const {
    std::lock_guard lock(calls_mutex_);
    return closed_;
  }

  // On the strand: writes everything queued, each batch of frames in one write. What the
  // socket takes at once is written directly; only the rest waits for an asynchronous write.
  // After a few rounds of directly written batches the loop yields, so reads get their turn.
  void write_queued() {
    for (int round = 0; round < 16; ++round) {
      {
        std::lock_guard lock(out_mutex_);
        writing_buffer_.clear();
        writing_buffer_.swap(outbox_);
        if (writing_buffer_.empty()) {
          writing_ = false;
          if (!close_when_flushed_) return;
        }
      }
      if (writing_buffer_.empty()) {  // only a close was queued
        close();
        return;
      }
      const std::size_t written = stream_->try_write_some(asio::buffer(writing_buffer_));
      if (written < writing_buffer_.size()) {
        write_rest(written);
        return;
      }
      if (!finish_write()) return;
    }
    auto self = this->shared_from_this();
    asio::post(stream_->strand(), [self] { self->write_queued(); });
  }

  void write_rest(std::size_t written) {
    auto self = this->shared_from_this();
    stream_->async_write(asio::buffer(writing_buffer_) + written,
                         [self](const std::error_code& ec, std::size_t) {
                           if (ec) {
                             self->log_(log_level::error, "write failed: " + ec.message());
                             // Nothing more can be written: no linger, shut down now.
                             self->close();
                             {
                               std::lock_guard lock(self->out_mutex_);
                               self->writing_ = false;
                             }
                             self->shutdown_stream();
                             return;
                           }
                           if (self->finish_write()) self->write_queued();
                         });
  }

  // On the strand, once writing_buffer_ is sent: true if more was queued meanwhile.
  bool finish_write() {
    bool more = false;
    bool close_now = false;
    {
      std::lock_guard lock(out_mutex_);
      // Sent: no longer pending. must_pause() counts it until cleared, and resume_reading()
      // below would find the backlog still full.
      writing_buffer_.clear();
      more = !outbox_.empty();
      if (!more) {
        writing_ = false;
        close_now = close_when_flushed_;
      }
    }
    if (close_now) close();
    if (more) return true;
    if (closed_flag()) shutdown_when_flushed();
    else resume_reading();
    return false;
  }

  // An idle connection holds a small buffer. It doubles while a message outgrows it, or while
  // reads fill it (a burst, up to burst_buffer_limit), grows straight towards the size a
  // framing announces for the message under way, and shrinks back once everything in it is
  // handled.
  // It is never zero-filled: only received bytes are ever read from it.
  static constexpr std::size_t initial_buffer = 2048;
  static constexpr std::size_t min_read = initial_buffer / 4;
  static constexpr std::size_t idle_buffer_limit = 64 * 1024;
  static constexpr std::size_t burst_buffer_limit = 256 * 1024;
  // A header alone can announce up to max_message_bytes: the buffer takes at most this much, or
  // four times what has arrived, more than it holds, so a peer cannot reserve memory for free.
  static constexpr std::size_t hint_step = 16 * 1024;

  void read_more() {
    if (begin_ == filled_) {
      begin_ = filled_ = 0;
      if (capacity_ > idle_buffer_limit && !last_read_filled_) reallocate_buffer(initial_buffer);
    }
    const std::size_t unread = filled_ - begin_;
    std::size_t wanted = std::max(unread + min_read, initial_buffer);
    if (frame_size_hint_ > unread)  // the announced frame, in steps while bytes come in
      wanted = std::max(std::min(frame_size_hint_, std::max(4 * unread, hint_step)), wanted);
    else if (capacity_ - unread < min_read || (last_read_filled_ && capacity_ < burst_buffer_limit))
      wanted = std::max(wanted, 2 * capacity_);
    frame_size_hint_ = 0;
    if (wanted > capacity_) {
      reallocate_buffer(wanted);
    } else if (capacity_ - begin_ < wanted) {  // room enough once consumed bytes are dropped
      std::memmove(buffer_.get(), buffer_.get() + begin_, unread);
      filled_ = unread;
      begin_ = 0;
    }
    auto self = this->shared_from_this();
    stream_->async_read_some(
        asio::buffer(buffer_.get() + filled_, capacity_ - filled_),
        [self](const std::error_code& ec, std::size_t n) { self->on_read(ec, n); });
  }

  // Moves the unread bytes to the front of a new buffer of `capacity` bytes.
  void reallocate_buffer(std::size_t capacity) {
    std::unique_ptr<char[]> fresh(new char[capacity]);
    if (filled_ > begin_) std::memcpy(fresh.get(), buffer_.get() + begin_, filled_ - begin_);
    filled_ -= begin_;
    begin_ = 0;
    buffer_ = std::move(fresh);
    capacity_ = capacity;
  }

  void on_read(const std::error_code& ec, std::size_t n) {
    if (ec) {
      // A TLS peer that closes its socket without a close_notify is an ordinary hang-up.
      if (ec == asio::error::eof || ec == asio::ssl::error::stream_truncated)
        log_(log_level::info, "peer closed the connection");
      else if (!closed_flag()) log_(log_level::error, "read failed: " + ec.message());
      finish_reading();
      return;
    }
    last_read_filled_ = n > 0 && filled_ + n == capacity_;
    filled_ += n;
    bool needs_bytes = false;  // the loop stopped for want of bytes, not for back-pressure
    try {
      while (!closed_flag() && !must_pause()) {
        const std::string_view unread(buffer_.get() + begin_, filled_ - begin_);
        auto found = framing_.extract(unread, options_.max_message_bytes);
        if (!found) {
          needs_bytes = true;
          if constexpr (has_frame_size_hint<Framing>::value)
            frame_size_hint_ = framing_.frame_size_hint(unread);
          break;
        }
        const bool decoded = handle_message(found->message(unread));
        begin_ += found->consumed;
        ++messages_read_;
        if (!decoded && !framing_resynchronises<Framing>::value) {
          log_(log_level::error, "undecodable message with a framing that cannot resynchronise: closing");
          close();
          break;
        }
      }
    } catch (const framing_error& e) {
      log_(log_level::error, std::string("framing error, closing: ") + e.what());
      finish_reading();
      return;
    } catch (const std::exception& e) {
      // Nothing a peer sends may escape into the event loop: this connection ends, no other.
      log_(log_level::error, std::string("unexpected failure on input, closing: ") + e.what());
      finish_reading();
      return;
    }
    if (begin_ == filled_) begin_ = filled_ = 0;
    if (closed_flag()) {
      finish_reading();
      return;
    }
    watch_partial_message();
    if (!needs_bytes || must_pause()) {
      // Stopped for back-pressure, complete messages may still be buffered: only
      // resume_reading() handles them, a read would wait for bytes the peer may never send.
      // The flag goes up before the second check, so a handler finishing in between either
      // sees it (and resumes us) or is seen by the check.
      reading_paused_ = true;
      if (!must_pause()) {
        auto self = this->shared_from_this();
        asio::post(stream_->strand(), [self] { self->resume_reading(); });
      }
      return;
    }
    read_more();
  }

  // On the strand: whether part of a message is buffered (not only what separates messages).
  bool message_under_way() const {
    if (begin_ == filled_) return false;
    if constexpr (has_between_messages<Framing>::value) return !framing_.between_messages();
    return true;
  }

  // On the strand: closes the connection if a message that has started arriving is still
  // incomplete after partial_message_timeout (a peer dripping bytes cannot hold it forever).
  void watch_partial_message() {
    const auto timeout = options_.partial_message_timeout;
    if (!timeout || !message_under_way() || partial_timer_armed_) return;
    if (!partial_timer_) partial_timer_ = std::make_unique<asio::steady_timer>(stream_->strand());
    partial_timer_armed_ = true;
    partial_timer_->expires_after(*timeout);
    auto self = this->shared_from_this();
    partial_timer_->async_wait([self, started = messages_read_](std::error_code ec) {
      self->partial_timer_armed_ = false;
      if (ec || self->closed_flag()) return;
      if (self->messages_read_ == started && self->message_under_way()) {
        self->log_(log_level::error, "a message took longer than partial_message_timeout: closing");
        self->close();
        return;
      }
      self->watch_partial_message();  // another message is under way: time it afresh
    });
  }

  // Whether the peer is ahead of us: too many unanswered requests or too many unsent bytes.
  bool must_pause() {
    {
      std::lock_guard lock(state_mutex_);
      if (in_flight_ >= options_.max_pending_requests) return true;
    }
    std::lock_guard lock(out_mutex_);
    return outbox_.size() + writing_buffer_.size() > options_.max_pending_outgoing_bytes;
  }

  // On the strand: continues a paused read loop when the backlog allows it.
  void resume_reading() {
    if (!reading_paused_ || closed_flag() || must_pause()) return;
    reading_paused_ = false;
    on_read({}, 0);
  }

  // Acts on one message; false if it did not decode (a Parse error was sent).
  bool handle_message(std::string_view bytes) {
    std::string parse_error;
    std::optional<value_type> decoded = engine_.decode(bytes, parse_error, id_);
    if (!decoded) {
      ++errors_sent_;
      send(framed([&](std::string& out) { out += parse_error; }));
      return false;
    }
    auto doc = std::make_shared<value_type>(std::move(*decoded));
    if constexpr (Codec::supports_batches) {
      if (traits::is_array(*doc)) {
        handle_batch(std::move(doc));
        return true;
      }
    }
    time_point received{};
    if (!engine_.hooks().empty()) {
      received = std::chrono::steady_clock::now();
      std::optional<value_type> reply;
      switch (engine_.hooks().screen_incoming(*doc, id_, false, received, log_, reply)) {
        case hook_chain<Codec>::fate::dropped: ++notifications_; return true;
        case hook_chain<Codec>::fate::answered:
          ++requests_;
          send_value(*reply, false);
          return true;
        case hook_chain<Codec>::fate::deliver: break;
      }
    }
    auto m = detail::classify<Codec>(*doc);
    switch (m.kind) {
      case message_kind::response:
      case message_kind::error_response: complete_call(m); return true;
      case message_kind::request:
        ++requests_;
        run_handler(std::move(doc), true, received);
        return true;
      case message_kind::notification:
        ++notifications_;
        run_handler(std::move(doc), false, received);
        return true;
      case message_kind::invalid: break;
    }
    request_context context(*this);
    if (auto answer = engine_.process(m, context)) {
      if (!engine_.hooks().empty())
        engine_.hooks().outgoing_reply(*answer, {}, id_, false, received, log_);
      send_value(*answer, false);
    }
    return true;
  }

  void handle_batch(std::shared_ptr<value_type> batch) {
    // The incoming hooks screen every entry first, here on the strand.
    std::shared_ptr<typename dispatcher<Codec>::batch_screen> screen;
    if (!engine_.hooks().empty())
      screen = std::make_shared<typename dispatcher<Codec>::batch_screen>(
          engine_.screen_batch(*batch, id_));
    // Responses to a batch we sent are routed at once; requests run as one handler task.
    bool has_requests = traits::size(*batch) == 0 || (screen && screen->has_replies);
    for (std::size_t i = 0; i < traits::size(*batch); ++i) {
      if (screen && i < screen->entries.size() && screen->entries[i].settled) {
        if (screen->entries[i].reply) ++requests_;  // answered by a hook
        else ++notifications_;                      // dropped by a hook
        continue;
      }
      auto m = detail::classify<Codec>(traits::at(*batch, i));
      if (m.kind == message_kind::response || m.kind == message_kind::error_response) {
        complete_call(m);
        continue;
      }
      has_requests = true;
      if (m.kind == message_kind::request) ++requests_;
      if (m.kind == message_kind::notification) ++notifications_;
    }
    if (!has_requests) return;
    begin_handler();
    auto self = this->shared_from_this();
    runtime_.post_request([self, batch, screen] {
      request_context context(*self);
      // Responses in it were routed above, on the strand.
      auto replies = self->engine_.answer_batch(*batch, context, true, screen.get());
      self->finish_handler(context, replies ? &*replies : nullptr);
    });
  }

  // `received`: when the message was read, for the outgoing hooks (unset without hooks).
  void run_handler(std::shared_ptr<value_type> doc, bool is_request, time_point received) {
    begin_handler();
    auto self = this->shared_from_this();
    auto task = [self, doc, is_request, received] {
      auto m = detail::classify<Codec>(*doc);
#if defined(ASIO_HAS_CO_AWAIT)
      if (self->engine_.is_coroutine(m)) {
        auto context = std::make_shared<request_context>(*self);
        // With hooks, the reply needs the request's method: keep the message it points into.
        auto hooked = self->engine_.hooks().empty() ? nullptr : doc;
        self->engine_.start_async(
            m, context, self->io_executor(),
            [self, context, hooked, method = m.method, received](std::optional<value_type> reply) {
              if (hooked && reply)
                self->engine_.hooks().outgoing_reply(*reply, method, self->id_, false, received,
                                                     self->log_);
              self->finish_handler(*context, reply ? &*reply : nullptr);
            });
        return;
      }
#endif
      request_context context(*self);
      if (is_request) {
        value_type reply = self->engine_.run_request(m, context);
        if (!self->engine_.hooks().empty())
          self->engine_.hooks().outgoing_reply(reply, m.method, self->id_, false, received,
                                               self->log_);
        self->finish_handler(context, &reply);
      } else {
        self->engine_.run_notification(m, context);
        self->finish_handler(context, nullptr);
      }
    };
    if (is_request) runtime_.post_request(std::move(task));
    else runtime_.post_notification(std::move(task));
  }

  void begin_handler() {
    std::lock_guard lock(state_mutex_);
    ++in_flight_;
  }

  void finish_handler(request_context& context, const value_type* reply) {
    if (context.aborted) {
      log_(log_level::info, "handler aborted the connection");
      close();
    } else if (reply) {
      send_value(*reply, context.close_after);
    } else if (context.close_after) {
      if (!send(std::string(), true)) close();
    }
    {
      std::lock_guard lock(state_mutex_);
      --in_flight_;
      state_changed_.notify_all();
    }
    if (reading_paused_) {
      auto self = this->shared_from_this();
      asio::post(stream_->strand(), [self] { self->resume_reading(); });
    }
  }

  void send_value(const value_type& reply, bool close_when_flushed) {
    errors_sent_ += count_errors(reply);
    std::string frame;
    try {
      frame = framed([&](std::string& out) { engine_.encode_reply(reply, out); });
    } catch (const std::exception& e) {
      // The framing refused what the codec wrote (say, Ndjson given a raw newline): the peer
      // will never get this reply, so the connection cannot go on.
      log_(log_level::error, std::string("cannot frame a reply: ") + e.what() + ": closing");
      close();
      return;
    }
    send(std::move(frame), close_when_flushed);
  }

  static std::uint64_t count_errors(const value_type& reply) {
    if (traits::is_object(reply)) return traits::find(reply, "error") ? 1 : 0;
    std::uint64_t n = 0;
    if (traits::is_array(reply))
      for (std::size_t i = 0; i < traits::size(reply); ++i) n += count_errors(traits::at(reply, i));
    return n;
  }

  void complete_call(const typename dispatcher<Codec>::message& m) {
    if (!traits::is_integer(*m.id)) {
      log_(log_level::error, "response with an id this side never sent");
      return;
    }
    const std::int64_t id = traits::as_integer(*m.id);
    completion done;
    {
      std::lock_guard lock(calls_mutex_);
      auto it = pending_.find(id);
      if (it == pending_.end()) {
        log_(log_level::error, "response to unknown or expired request id " + std::to_string(id));
        return;
      }
      done = std::move(it->second);
      pending_.erase(it);
    }
    call_outcome<value_type> outcome;
    if (m.result) {
      // The decoded message is ours and discarded after this: move the result out of it.
      outcome.result = std::move(const_cast<value_type&>(*m.result));
    } else {
      const rpc_error e = error_from_response(*m.error);
      try {
        throw_peer_error(e.code_value(), e.message(), e.data(), e.has_data());
      } catch (...) {
        outcome.error = std::current_exception();
      }
    }
    done(std::move(outcome));
  }

  void fail_all_calls() {
    std::unordered_map<std::int64_t, completion> failed;
    {
      std::lock_guard lock(calls_mutex_);
      failed.swap(pending_);
    }
    // One exception per call, moved into its completion: this thread keeps no reference to
    // it or to its message, so the caller that rethrows it also destroys it (see
    // make_error_ptr).
    for (auto& [id, done] : failed) done({value_type(), make_error_ptr<connection_closed>()});
  }

  static constexpr std::chrono::seconds close_linger{2};

  // On the strand: shuts down now if nothing is being written, else once the writes finish
  // (write_queued() calls back here) or close_linger has passed.
  void shutdown_when_flushed() {
    if (stream_closed_) return;
    bool flushing = false;
    {
      std::lock_guard lock(out_mutex_);
      flushing = writing_;
    }
    if (!flushing) {
      shutdown_stream();
      return;
    }
    if (linger_) return;
    linger_ = std::make_unique<asio::steady_timer>(stream_->strand(), close_linger);
    auto self = this->shared_from_this();
    linger_->async_wait([self](std::error_code ec) {
      if (!ec) self->shutdown_stream();
    });
  }

  void shutdown_stream() {
    if (stream_closed_) return;
    stream_closed_ = true;
    if (linger_) linger_->cancel();
    if (partial_timer_) partial_timer_->cancel();
    stream_->shutdown();
    stream_->close();
    // A read loop paused for back-pressure has no read outstanding whose failure would end
    // it, and resume_reading() does nothing once closed: it ends here, or the connection
    // would never count as finished (the Threads I/O thread would spin, join() would hang).
    if (reading_paused_) mark_reading_done();
  }

  void finish_reading() {
    close();
    mark_reading_done();
  }

  void mark_reading_done() {
    {
      std::lock_guard lock(state_mutex_);
      reading_done_ = true;
    }
    state_changed_.notify_all();
  }

  const std::uint64_t id_;
  const Options options_;
  const logger log_;
  const std::any client_info_;
  std::unique_ptr<any_stream> stream_;
  dispatcher<Codec> engine_;
  Framing framing_;

  // Reading (strand only).
  std::unique_ptr<char[]> buffer_;  // bytes [begin_, filled_) are received and not yet handled
  std::size_t capacity_ = 0;
  std::size_t begin_ = 0;
  std::size_t filled_ = 0;
  std::size_t frame_size_hint_ = 0;  // from the framing, when a message is under way
  std::atomic<bool> reading_paused_{false};
  bool last_read_filled_ = false;
  std::uint64_t messages_read_ = 0;             // strand only
  std::unique_ptr<asio::steady_timer> partial_timer_;  // strand only
  bool partial_timer_armed_ = false;            // strand only
  bool stream_closed_ = false;                // strand only
  std::unique_ptr<asio::steady_timer> linger_;  // strand only

  // Writing.
  std::mutex out_mutex_;
  std::string outbox_;
  std::string writing_buffer_;  // strand only
  bool writing_ = false;
  bool close_when_flushed_ = false;

  // Calls this side made.
  mutable std::mutex calls_mutex_;
  std::unordered_map<std::int64_t, completion> pending_;
  std::atomic<std::int64_t> next_call_id_{1};
  bool closed_ = false;

  std::atomic<std::uint64_t> requests_{0};
  std::atomic<std::uint64_t> notifications_{0};
  std::atomic<std::uint64_t> errors_sent_{0};

  // Lifecycle.
  std::mutex state_mutex_;
  std::condition_variable state_changed_;
  std::atomic<bool> reading_done_{false};
  std::size_t in_flight_ = 0;

  typename Executor::runtime runtime_;
};

}  // namespace bsonrpc::detail
