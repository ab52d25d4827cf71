// bsonrpc/detail/connection/core.hpp: one connection, wired from its parts.
//
//               +-----------+   frames   +-------+  request   +----------------+
//   socket ---> |  reader   | ---------> | route | ---------> | handler_runner | --+
//               +-----------+            +-------+            +----------------+   | reply
//                 ^ pauses while           |   | response                          v
//                 | must_pause()           |   v                              +--------+
//                 |                        | +------------+  completes         | outbox | ---> socket
//                 +---- resumes -----------+ | call_table | -------> caller     +--------+
//                                            +------------+                        ^
//   caller ---> outgoing: start_call, notify, start_batch, deadlines ---> frames --+
//
// A request: socket bytes -> reader (framing) -> route (decode, hooks, classify) -> handler
// runner (the Executor runs the handler) -> outbox -> socket. A reply to one of our calls:
// reader -> route -> call_table -> the waiting caller. Each part owns its state and its lock:
// the reader and the outbox's writes live on the stream's strand; the outbox queue, the call
// table and the handler runner's wait have one mutex each. What the reader asks before each
// message (closed? too many requests in flight? too many bytes unsent?) is atomic, so a
// message takes no lock until the executor runs its handler. The connection owns only the
// closed flag, the counters and the wiring.
//
// With a protocol profile (Options::protocol) two more parts join: incoming_cancellation files
// the peer's requests in flight, which its cancel notifications mark cancelled (routed here, on
// the strand, never queued behind handlers); progress_routes sends the peer's progress reports
// on our calls to their callbacks. Without one, neither sees a message.
//
// A graceful shutdown (graceful_shutdown) refuses the requests read once it has begun, waits
// until no handler runs and no call of ours is pending, then has the outbox shut the sending
// side once everything is written; the connection closes when the peer closes its side.
// With Options::idle_timeout or keepalive_interval, liveness closes idle connections and pings
// the peer when it has been silent.
#pragma once

#include <bsonrpc/context.hpp>
#include <bsonrpc/detail/connection/call_table.hpp>
#include <bsonrpc/detail/connection/graceful_shutdown.hpp>
#include <bsonrpc/detail/connection/handler_runner.hpp>
#include <bsonrpc/detail/connection/incoming_cancellation.hpp>
#include <bsonrpc/detail/connection/liveness.hpp>
#include <bsonrpc/detail/connection/outbox.hpp>
#include <bsonrpc/detail/connection/outgoing.hpp>
#include <bsonrpc/detail/connection/progress_routes.hpp>
#include <bsonrpc/detail/connection/reader.hpp>
#include <bsonrpc/detail/route.hpp>
#include <bsonrpc/dispatcher.hpp>
#include <bsonrpc/executor/executor.hpp>
#include <bsonrpc/log.hpp>
#include <bsonrpc/options.hpp>
#include <bsonrpc/protocol.hpp>
#include <bsonrpc/stream/any_stream.hpp>

#include <asio.hpp>

#include <any>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

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
  using dispatcher_type = bsonrpc::dispatcher<Codec>;
  using outgoing_type = outgoing_calls<Codec, Framing, connection>;

  connection(std::unique_ptr<any_stream> stream, Options options, std::any client_info)
      : id_(next_connection_id()),
        options_(std::move(options)),
        log_(options_.log, options_.log_filter, id_),
        client_info_(std::move(client_info)),
        stream_(std::move(stream)),
        dispatcher_(options_, log_, &stream_->remote()),
        outbox_(*this, *stream_, options_.max_pending_outgoing_bytes, log_),
        reader_(*this, *stream_, options_, log_),
        outgoing_(*this, calls_, progress_, options_),
        shutdown_(*this, log_),
        liveness_(*this, options_, log_),
        handlers_(*this, stream_->strand().get_inner_executor(), options_) {
    dispatcher_.set_response_handler(
        [this](const message_view<value_type>& m) { calls_.complete_from(m, log_); });
    calls_.on_empty([this] { recheck_shutdown(); });
  }
  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;

  // Starts reading; services must be registered before.
  void start() {
    handlers_.start();
    auto self = this->shared_from_this();
    asio::dispatch(stream_->strand(), [self] {
      self->reader_.start();
      self->liveness_.start();
    });
  }

  dispatcher_type& dispatcher() noexcept { return dispatcher_; }
  outgoing_type& outgoing() noexcept { return outgoing_; }
  typename Executor::runtime& runtime() noexcept { return handlers_.runtime(); }
  // Whether a blocking call may wait on the calling thread (not in an in_place handler, nor
  // where the Executor refuses).
  bool may_block() const { return handlers_.may_block(); }
  const Options& options() const noexcept { return options_; }
  const logger& log() const noexcept { return log_; }
  std::uint64_t id() const noexcept { return id_; }
  const std::any& client_info() const noexcept { return client_info_; }
  const peer_identity& remote() const noexcept { return stream_->remote(); }
  // The framing that reads this connection; its writing members frame what we send.
  const Framing& framing() const noexcept { return reader_.framing(); }
  // The executor of the stream (its io_context), where completions are posted by default.
  asio::any_io_executor io_executor() const { return stream_->strand().get_inner_executor(); }
  any_stream::strand_type& strand() noexcept { return stream_->strand(); }
  connection_stats stats() const {
    return {requests_.load(), notifications_.load(), errors_sent_.load()};
  }

  // Closes the connection; every pending call fails with connection_closed at once. What was
  // already queued for sending (say, a notification just before close()) is still written,
  // for at most the outbox's linger, then the stream shuts down. Any thread.
  void close() {
    if (closed_.exchange(true)) return;
    calls_.close();
    auto self = this->shared_from_this();
    asio::post(stream_->strand(), [self] { self->outbox_.shutdown_when_flushed(); });
  }
  bool is_closed() const noexcept { return closed_.load(); }

  // Begins a graceful shutdown (see graceful_shutdown), bounded by `timeout` from the first
  // call; `done` gets its outcome. Any thread.
  void shutdown(std::chrono::milliseconds timeout, std::function<void(std::error_code)> done) {
    shutdown_.begin(timeout, std::move(done));
  }

  // Whether this thread runs one of this connection's handlers.
  bool in_handler_here() const noexcept { return handlers_.in_handler_here(); }

  // Waits until reading has stopped and every handler has finished; false on timeout.
  bool wait_finished(std::optional<std::chrono::milliseconds> timeout) {
    return handlers_.wait_finished(timeout);
  }

  // The Context handed to rpc_ handlers: one per request or notification. `cancellation`:
  // the request's entry in the in-flight table (enter_request()), null if it cannot be
  // cancelled; `m` is read for its progress token before the handler runs.
  class request_context final : public Context {
   public:
    explicit request_context(connection& owner) : owner_(owner) {}
    request_context(connection& owner, const message_view<value_type>& m,
                    std::shared_ptr<request_cancellation> cancellation)
        : owner_(owner), cancellation_(std::move(cancellation)) {
      if (owner_.options_.protocol.is_none() || m.kind != message_kind::request) return;
      if (const value_type* token = progress_token_of(owner_.options_.protocol, m.params))
        progress_token_ = traits::to_neutral(*token);
    }
    value call_value(std::string_view method, std::optional<value> params,
                     timeout_type timeout) override {
      return owner_.outgoing_.call_neutral(method, params, timeout);
    }
    void notify_value(std::string_view method, std::optional<value> params) override {
      owner_.outgoing_.notify_neutral(method, params);
    }
    timeout_type default_timeout() const override { return owner_.options_.default_timeout; }
    std::int64_t start_call_value(std::string_view method, std::optional<value> params,
                                  std::function<void(call_outcome<value>)> done) override {
      return owner_.outgoing_.start_call_neutral(method, params, std::move(done));
    }
    std::int64_t start_call_value_with(const call_options& options, std::string_view method,
                                       std::optional<value> params,
                                       std::function<void(call_outcome<value>)> done) override {
      return owner_.outgoing_.start_call_neutral(method, params, std::move(done),
                                                 options.on_progress);
    }
    void cancel_call(std::int64_t id) override { owner_.outgoing_.cancel(id); }
    asio::any_io_executor get_executor() override { return owner_.io_executor(); }
    void abort() override { aborted = true; }
    void close_after_response() override { close_after = true; }
    const std::any& client_info() const override { return owner_.client_info_; }
    std::uint64_t connection_id() const override { return owner_.id_; }
    connection_stats stats() const override { return owner_.stats(); }
    const peer_identity& remote() const override { return owner_.remote(); }

    bool cancelled() const override { return cancellation_ && cancellation_->cancelled(); }
    bool cancellable() const override { return cancellation_ != nullptr; }
    void on_cancel(std::function<void()> fn) override {
      if (cancellation_) cancellation_->on_cancel(std::move(fn), owner_.log_);
    }
    std::optional<value> progress_token() const override { return progress_token_; }
    bool report_progress(value report) override {
      if (!progress_token_) return false;
      const auto& profile = owner_.options_.protocol;
      owner_.outgoing_.notify(profile.progress_method(),
                              progress_params<value_type>(profile,
                                                          traits::from_neutral(*progress_token_),
                                                          traits::from_neutral(report)));
      return true;
    }

    // The handler has returned with `reply` (a request's): the request leaves the in-flight
    // table, and no cancel callback runs from now on. If the peer had cancelled it, `reply`
    // becomes the profile's answer (LSP: -32800), or false: send nothing (MCP).
    bool settle(value_type& reply) {
      if (!cancellation_ || !owner_.cancellations_.leave(*cancellation_)) return true;
      owner_.log_(log_level::debug, "request cancelled by the peer");
      if (!owner_.options_.protocol.answers_cancelled_requests()) return false;
      const value_type* id = traits::is_object(reply) ? traits::find(reply, "id") : nullptr;
      reply = make_error<Codec>(id ? *id : traits::make_null(),
                                protocol::request_cancelled_code, "Request cancelled", nullptr);
      return true;
    }

    bool aborted = false;
    bool close_after = false;

   private:
    connection& owner_;
    std::shared_ptr<request_cancellation> cancellation_;
    std::optional<value> progress_token_;
  };

  // On the strand, as request `m` is read: files it as cancellable (see request_context);
  // null without a profile, for a notification, or a request with a null id.
  std::shared_ptr<request_cancellation> enter_request(const message_view<value_type>& m) {
    if (options_.protocol.is_none() || m.kind != message_kind::request || traits::is_null(*m.id))
      return nullptr;
    return cancellations_.enter(id_key(*m.id));
  }

  // --- For the parts (see each part's Owner list). ---

  // Queues a frame; false if the connection is closed.
  bool send(std::string frame, bool close_when_flushed, bool limited) {
    return outbox_.send(std::move(frame), close_when_flushed, limited);
  }

  // Sends a handler's reply (one response or a batch of them).
  void send_reply(const value_type& reply, bool close_when_flushed) {
    errors_sent_ += count_errors(reply);
    std::string frame;
    try {
      frame = framed(reader_.framing(),
                     [&](std::string& out) { dispatcher_.encode_reply(reply, out); });
    } catch (const std::exception& e) {
      // The framing refused what the codec wrote (say, Ndjson given a raw newline): the peer
      // will never get this reply, so the connection cannot go on.
      log_(log_level::error, std::string("cannot frame a reply: ") + e.what() + ": closing");
      close();
      return;
    }
    send(std::move(frame), close_when_flushed, false);
  }

  // Closes once everything queued so far is written.
  void close_when_flushed() {
    if (!send(std::string(), true, false)) close();
  }

  // The reader holds writes while it handles the messages of one read. On the strand.
  void hold_writes() { outbox_.hold(); }
  void release_writes() { outbox_.release(); }

  // The reader pauses while too many requests are in flight or too many bytes unsent.
  bool must_pause() { return handlers_.saturated() || outbox_.over_limit(); }

  // On the strand.
  void resume_reading() { reader_.resume(); }

  // Any thread: a reader paused for back-pressure looks again.
  void wake_reader() {
    if (!reader_.paused()) return;
    auto self = this->shared_from_this();
    asio::post(stream_->strand(), [self] { self->reader_.resume(); });
  }

  void on_reading_ended() { handlers_.mark_reading_done(); }

  // For graceful_shutdown: nothing left to answer or to wait for.
  bool is_idle() { return handlers_.idle() && calls_.empty(); }
  // On the strand.
  void shut_write_when_flushed() { outbox_.shut_write_when_flushed(); }
  void on_write_shut() { shutdown_.on_write_shut(); }
  // Any thread.
  void on_handler_finished() { recheck_shutdown(); }

  // For liveness.
  void on_bytes_read() noexcept { liveness_.on_read(); }
  void on_bytes_written() noexcept { liveness_.on_written(); }
  bool is_draining() const noexcept { return shutdown_.draining(); }
  // On the strand: sends a keepalive ping; `answered` runs once it has ended (answered, or
  // failed as the connection closed). False if it could not be sent.
  bool send_ping(std::function<void()> answered) {
    try {
      outgoing_.start_call(keepalive_method, std::nullopt,
                           [answered = std::move(answered)](call_outcome<value_type>) {
                             answered();
                           },
                           std::nullopt);
      return true;
    } catch (const std::exception& e) {
      log_(log_level::debug, std::string("keepalive ping not sent: ") + e.what());
      return false;
    }
  }
  void on_finished() { shutdown_.on_finished(); }

  // On the strand, once the stream is shut. A read loop paused for back-pressure has no read
  // outstanding whose failure would end it, and resume does nothing once closed: it ends
  // here, or the connection would never count as finished.
  void on_stream_shut() {
    reader_.stop();
    shutdown_.stop();
    liveness_.stop();
    if (reader_.paused()) handlers_.mark_reading_done();
  }

  // On the strand: acts on one message; false if it did not decode.
  bool on_message(std::string_view bytes) {
    auto r = route<Codec>(bytes, decode_limits{options_.max_depth}, dispatcher_.hooks(), id_, log_);
    switch (r.kind) {
      case route_kind::refused: send_reply(*r.reply, false); break;
      case route_kind::answered:
        ++requests_;
        send_reply(*r.reply, false);
        break;
      case route_kind::dropped: ++notifications_; break;
      case route_kind::batch: on_batch(std::move(r.doc)); break;
      case route_kind::response: calls_.complete_from(r.message, log_); break;
      case route_kind::request:
        ++requests_;
        if (shutdown_.draining()) send_reply(shutting_down_reply(*r.message.id), false);
        else handlers_.run(std::move(r.doc), r.message, true, r.received);
        break;
      case route_kind::notification:
        ++notifications_;
        if (!options_.protocol.is_none() && on_protocol_notification(r.message)) break;
        if (shutdown_.draining()) log_(log_level::debug, "shutting down: notification dropped");
        else handlers_.run(std::move(r.doc), r.message, false, r.received);
        break;
    }
    return r.decoded;
  }

 private:
  // On the strand: acts on the profile's cancel and progress notifications outside batches;
  // false for any other notification, or a report under a token that is not ours when a
  // handler is registered for it (say, LSP progress the peer started itself).
  bool on_protocol_notification(const message_view<value_type>& m) {
    const auto& profile = options_.protocol;
    if (m.method == profile.cancel_method()) {
      const value_type* id = *m.problem ? nullptr : cancelled_request_id(profile, m.params);
      if (!id) log_(log_level::debug, "cancel notification without a usable id: ignored");
      else if (!cancellations_.cancel(id_key(*id), log_))
        log_(log_level::debug, "cancel for a request not in flight: ignored");
      return true;
    }
    if (m.method != profile.progress_method()) return false;
    auto report = *m.problem ? std::nullopt : read_progress(profile, m.params);
    auto route = report ? progress_.find(id_key(*report->first)) : nullptr;
    if (!route) {
      if (dispatcher_.has_notification(m.method)) return false;
      log_(log_level::debug, "progress report under an unknown token: ignored");
      return true;
    }
    try {
      (*route)(traits::to_neutral(*report->second));
    } catch (const std::exception& e) {
      log_(log_level::error, std::string("a progress callback threw: ") + e.what());
    } catch (...) {
      log_(log_level::error, "a progress callback threw a non-std exception");
    }
    return true;
  }

  // Responses to a batch we sent are routed at once, here on the strand; requests and
  // notifications run as one handler task. The incoming hooks screen every entry first.
  void on_batch(std::shared_ptr<value_type> batch) {
    std::shared_ptr<typename dispatcher_type::batch_screen> screen;
    if (!dispatcher_.hooks().empty())
      screen = std::make_shared<typename dispatcher_type::batch_screen>(
          dispatcher_.screen_batch(*batch, id_));
    bool has_requests = traits::size(*batch) == 0 || (screen && screen->has_replies);
    for (std::size_t i = 0; i < traits::size(*batch); ++i) {
      if (screen && i < screen->entries.size() && screen->entries[i].settled) {
        if (screen->entries[i].reply) ++requests_;  // answered by a hook
        else ++notifications_;                      // dropped by a hook
        continue;
      }
      auto m = classify<Codec>(traits::at(*batch, i));
      if (m.kind == message_kind::response || m.kind == message_kind::error_response) {
        calls_.complete_from(m, log_);
        continue;
      }
      has_requests = true;
      if (m.kind == message_kind::request) ++requests_;
      if (m.kind == message_kind::notification) ++notifications_;
    }
    if (!has_requests) return;
    if (shutdown_.draining() && traits::size(*batch) > 0) refuse_batch(*batch);
    else handlers_.run_batch(std::move(batch), std::move(screen));
  }

  // The error every request read after a graceful shutdown began gets.
  static value_type shutting_down_reply(const value_type& id) {
    return make_error<Codec>(id, static_cast<int>(errc::server_error), "Shutting down", nullptr);
  }

  // Shutting down: each request of a batch (not a response, not a notification) is refused.
  void refuse_batch(const value_type& batch) {
    value_type replies = traits::make_array();
    for (std::size_t i = 0; i < traits::size(batch); ++i) {
      auto m = classify<Codec>(traits::at(batch, i));
      if (m.kind == message_kind::request) traits::push_back(replies, shutting_down_reply(*m.id));
    }
    if (traits::size(replies) > 0) send_reply(replies, false);
  }

  // Any thread: a handler or a call of ours ended; a graceful shutdown may be done.
  void recheck_shutdown() {
    if (!shutdown_.draining()) return;
    auto self = this->shared_from_this();
    asio::post(stream_->strand(), [self] { self->shutdown_.check(); });
  }

  static std::uint64_t count_errors(const value_type& reply) {
    if (traits::is_object(reply)) return traits::find(reply, "error") ? 1 : 0;
    std::uint64_t n = 0;
    if (traits::is_array(reply))
      for (std::size_t i = 0; i < traits::size(reply); ++i) n += count_errors(traits::at(reply, i));
    return n;
  }

  const std::uint64_t id_;
  const Options options_;
  const logger log_;
  const std::any client_info_;
  std::unique_ptr<any_stream> stream_;
  dispatcher_type dispatcher_;

  std::atomic<bool> closed_{false};
  std::atomic<std::uint64_t> requests_{0};
  std::atomic<std::uint64_t> notifications_{0};
  std::atomic<std::uint64_t> errors_sent_{0};

  call_table<value_type> calls_;
  incoming_cancellation cancellations_;
  progress_routes progress_;
  outbox<connection> outbox_;
  reader<Framing, connection> reader_;
  outgoing_type outgoing_;
  graceful_shutdown<connection> shutdown_;
  liveness<connection> liveness_;
  handler_runner<Codec, Executor, connection> handlers_;  // last: its threads stop first
};

}  // namespace bsonrpc::detail
