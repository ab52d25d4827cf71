// bsonrpc/detail/connection/outgoing.hpp: the calls, notifications and batches this side
// sends, and how their callers wait.
//
// One place decides the timeout rule: every call form (blocking, future, completion token,
// a Context's async_call, batches) gives up after its explicit timeout or else
// Options::default_timeout. Blocking forms wait on one kind of slot; asynchronous forms get a
// deadline timer on the connection's strand. A call that gives up is forgotten, so a late
// response is only logged. With a protocol profile (Options::protocol), cancelling a call
// also tells the peer, once, and a call may carry a progress token whose reports go to its
// callback until it completes (progress_routes).
//
// Owner (the connection) provides:
//   bool is_closed() const;  std::shared_ptr<Owner> shared_from_this();
//   bool send(std::string frame, bool close_when_flushed, bool limited);
//   bsonrpc::dispatcher<Codec>& dispatcher();   its hooks screen what we send
//   std::uint64_t id() const;  const logger& log() const;
//   typename Executor::runtime& runtime();      blocking_scope(),
//                                              wait_for_notification_handlers()
//   bool may_block() const;                     whether a blocking call may wait here
//   any_stream::strand_type& strand();
//   const Framing& framing() const;            frames what we send
#pragma once

#include <bsonrpc/batch.hpp>
#include <bsonrpc/detail/connection/call_table.hpp>
#include <bsonrpc/detail/connection/outbox.hpp>
#include <bsonrpc/detail/connection/progress_routes.hpp>
#include <bsonrpc/detail/message.hpp>
#include <bsonrpc/dispatcher.hpp>
#include <bsonrpc/errors.hpp>
#include <bsonrpc/options.hpp>
#include <bsonrpc/protocol.hpp>

#include <asio.hpp>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace bsonrpc::detail {

// Where a blocking caller waits for its outcome. The waiting thread takes the outcome (and any
// exception in it) out of the slot, so an exception lives and dies on the thread that throws
// it (a std::promise would keep a reference on the completing thread; TSan follows neither).
template <class T>
class wait_slot {
 public:
  void fill(T outcome) {
    std::lock_guard lock(mutex_);
    outcome_ = std::move(outcome);
    ready_.notify_all();
  }
  bool ready() {
    std::lock_guard lock(mutex_);
    return outcome_.has_value();
  }
  // Waits at most `timeout` (nullopt: forever); false if it passed first.
  bool wait(std::optional<std::chrono::milliseconds> timeout) {
    std::unique_lock lock(mutex_);
    auto arrived = [&] { return outcome_.has_value(); };
    if (!timeout) {
      ready_.wait(lock, arrived);
      return true;
    }
    return ready_.wait_for(lock, *timeout, arrived);
  }
  T take() {
    std::lock_guard lock(mutex_);
    T out = std::move(*outcome_);
    outcome_.reset();
    return out;
  }

 private:
  std::mutex mutex_;
  std::condition_variable ready_;
  std::optional<T> outcome_;
};

template <class Codec, class Framing, class Owner>
class outgoing_calls {
 public:
  using value_type = typename Codec::value_type;
  using traits = value_traits<value_type>;
  using outcome = call_outcome<value_type>;
  using completion = std::function<void(outcome)>;
  using batch_done = std::function<void(std::error_code, std::vector<batch_result>)>;
  using timeout_type = std::optional<std::chrono::milliseconds>;
  using progress_callback = progress_routes::callback;

  outgoing_calls(Owner& owner, call_table<value_type>& calls, progress_routes& progress,
                 const Options& options)
      : owner_(owner), calls_(calls), progress_(progress), options_(options) {}

  // Sends a request; `done` receives its outcome, or timeout_error once `timeout` has passed.
  // Throws encoding_error if it cannot be encoded, connection_closed if the connection is.
  // With `on_progress`, the params carry a fresh progress token whose reports go there until
  // the call completes: std::logic_error without a profile, std::invalid_argument for params
  // that are not one object.
  std::int64_t start_call(std::string_view method, std::optional<value_type> params,
                          completion done, timeout_type timeout,
                          progress_callback on_progress = {}) {
    std::string route;
    if (on_progress) route = route_progress(params, done, std::move(on_progress));
    try {
      return start_timed_call(method, std::move(params), std::move(done), timeout);
    } catch (...) {
      if (!route.empty()) progress_.remove(route);  // never sent: nothing completes it
      throw;
    }
  }

  // Sends a request and waits for its result; throws the peer's error, timeout_error or
  // connection_closed.
  value_type call(std::string_view method, std::optional<value_type> params,
                  timeout_type timeout) {
    refuse_blocking_on_io_thread("call");
    auto slot = std::make_shared<wait_slot<outcome>>();
    const auto id = send_call(method, std::move(params), [slot](outcome o) {
      slot->fill(std::move(o));
    });
    outcome result = wait(*slot, timeout, [&] { return calls_.forget(id); });
    if (result.error) std::rethrow_exception(std::move(result.error));
    return std::move(result.result);
  }

  void notify(std::string_view method, std::optional<value_type> params) {
    value_type notification = make_request<Codec>(method, params ? &*params : nullptr, nullptr,
                                                  options_.no_arguments_presentation);
    const auto& hooks = owner_.dispatcher().hooks();
    if (!hooks.empty()) {
      if (owner_.is_closed()) throw connection_closed();
      outcome unused;
      // Dropped, or (made a request by a hook) answered: nothing to send.
      if (hooks.screen_outgoing(notification, owner_.id(), false, owner_.log(), unused) !=
          hook_chain<Codec>::fate::deliver)
        return;
    }
    if (!owner_.send(frame(notification), false, true)) throw connection_closed();
  }

  // Ends a pending call with asio::error::operation_aborted. With a profile the peer is told,
  // once (only the cancel that ends the call sends), and the reply LSP still sends is dropped
  // without a word.
  void cancel(std::int64_t id) {
    const auto& profile = options_.protocol;
    // Marked before the call ends, so that a reply read meanwhile finds the mark.
    const bool marked = profile.answers_cancelled_requests() && calls_.expect_late_reply(id);
    if (!calls_.complete(id, {value_type(), make_error_ptr<std::system_error>(
                                                asio::error::operation_aborted)})) {
      if (marked) calls_.forget_late_reply(id);
      return;
    }
    if (profile.is_none() || owner_.is_closed()) return;
    try {
      notify(profile.cancel_method(), cancel_params<value_type>(profile, id));
    } catch (const std::exception& e) {
      // The call has ended here anyway; the peer merely works on in vain.
      owner_.log()(log_level::debug, std::string("cancel not sent: ") + e.what());
    }
  }

  // Sends `batch`; `done` receives every request's outcome in request order, or
  // connection_closed, or timeout once `timeout` has passed. Returns the requests' ids.
  std::vector<std::int64_t> start_batch(const Batch& batch, batch_done done,
                                        timeout_type timeout);

  // Sends `batch` and waits for every request's outcome.
  std::vector<batch_result> batch_call(const Batch& batch, timeout_type timeout) {
    refuse_blocking_on_io_thread("batch_call");
    using result = std::pair<std::error_code, std::vector<batch_result>>;
    auto slot = std::make_shared<wait_slot<result>>();
    const auto ids = start_batch(
        batch, [slot](std::error_code ec, std::vector<batch_result> r) {
          slot->fill({ec, std::move(r)});
        },
        std::nullopt);
    auto [ec, results] = wait(*slot, timeout, [&] {
      bool forgot = false;
      for (auto id : ids) forgot = calls_.forget(id) || forgot;
      return forgot;
    });
    if (ec == errc::connection_closed) throw connection_closed();
    return std::move(results);
  }

  // The same through neutral values (a Context's and caller's calls): the default timeout
  // applies to asynchronous calls as to every other form.
  std::int64_t start_call_neutral(std::string_view method, const std::optional<value>& params,
                                  std::function<void(call_outcome<value>)> done,
                                  progress_callback on_progress = {}) {
    return start_call(method, from_neutral(params),
                      [done = std::move(done)](outcome o) {
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
                      },
                      options_.default_timeout, std::move(on_progress));
  }
  value call_neutral(std::string_view method, const std::optional<value>& params,
                     timeout_type timeout) {
    return traits::to_neutral(call(method, from_neutral(params), timeout));
  }
  void notify_neutral(std::string_view method, const std::optional<value>& params) {
    notify(method, from_neutral(params));
  }

  static std::optional<value_type> from_neutral(const std::optional<value>& params) {
    if (!params) return std::nullopt;
    return traits::from_neutral(*params);
  }

 private:
  // start_call without a progress callback.
  std::int64_t start_timed_call(std::string_view method, std::optional<value_type> params,
                                completion done, timeout_type timeout) {
    if (!timeout) return send_call(method, std::move(params), std::move(done));
    auto timer = std::make_shared<deadline>();
    auto self = owner_.shared_from_this();
    const auto id = send_call(method, std::move(params),
                              [self, timer, done = std::move(done)](outcome o) {
                                asio::post(self->strand(), [timer] { timer->disarm(); });
                                done(std::move(o));
                              });
    arm(timer, {id}, *timeout);
    return id;
  }

  // Attaches a fresh progress token to `params` and routes its reports to `on_progress` until
  // `done` runs (the route is removed first, however the call ends).
  std::string route_progress(std::optional<value_type>& params, completion& done,
                             progress_callback on_progress) {
    const auto& profile = options_.protocol;
    if (profile.is_none())
      throw std::logic_error("bsonrpc: a progress callback needs Options::protocol");
    const value_type token = traits::make_string(progress_.next_token());
    if (!attach_progress_token(profile, params, token))
      throw std::invalid_argument(
          "bsonrpc: a call with a progress callback takes one params object (or none)");
    std::string key = id_key(token);
    progress_.add(key, std::move(on_progress));
    done = [routes = &progress_, key, done = std::move(done)](outcome o) {
      routes->remove(key);
      done(std::move(o));
    };
    return key;
  }

  // An asynchronous call's timer; touched only on the connection's strand.
  struct deadline {
    std::unique_ptr<asio::steady_timer> timer;
    bool completed = false;
    void disarm() {
      completed = true;
      if (timer) timer->cancel();
    }
  };

  // Fails calls `ids` with timeout_error unless they complete within `timeout`.
  void arm(std::shared_ptr<deadline> timer, std::vector<std::int64_t> ids,
           std::chrono::milliseconds timeout) {
    std::weak_ptr<Owner> weak = owner_.shared_from_this();
    asio::post(owner_.strand(), [this, weak, timer, ids = std::move(ids), timeout] {
      if (timer->completed || weak.expired()) return;
      timer->timer = std::make_unique<asio::steady_timer>(owner_.strand(), timeout);
      timer->timer->async_wait([this, weak, ids](std::error_code ec) {
        auto alive = weak.lock();
        if (ec || !alive) return;
        for (auto id : ids) calls_.complete(id, {value_type(), make_error_ptr<timeout_error>()});
      });
    });
  }

  void refuse_blocking_on_io_thread(const char* what) {
    if (!owner_.may_block())
      throw error(errc::internal_error,
                  std::string("a blocking ") + what + " on the I/O thread would deadlock");
  }

  // Waits for `slot` at most `timeout`; then gives up if `forget()` finds the call still
  // pending (timeout_error), else takes the outcome that beat it. A blocking call returns
  // after the handlers of the notifications read before its reply (a server's progress
  // reports come before the result they precede), as in the original, where they run on the
  // reading thread; not once the connection has closed.
  template <class T, class Forget>
  T wait(wait_slot<T>& slot, timeout_type timeout, Forget&& forget) {
    {
      [[maybe_unused]] auto blocked = owner_.runtime().blocking_scope();
      using clock = std::chrono::steady_clock;
      const auto started = clock::now();
      owner_.runtime().read_until([&] { return slot.ready(); },
                                  timeout ? started + *timeout : clock::time_point::max());
      if (timeout) {
        const auto spent = std::chrono::duration_cast<std::chrono::milliseconds>(
            clock::now() - started);
        timeout = std::max(*timeout - spent, std::chrono::milliseconds(0));
      }
      if (!slot.wait(timeout)) {
        if (forget()) throw timeout_error();
        slot.wait(std::nullopt);  // it completed while we gave up: take it
      }
    }
    T out = slot.take();
    if (!owner_.is_closed()) owner_.runtime().wait_for_notification_handlers();
    return out;
  }

  std::string frame(const value_type& message) const {
    return framed(owner_.framing(), [&](std::string& out) { Codec::encode(message, out); });
  }

  // Sends a request with a fresh id and registers `done` for its response.
  std::int64_t send_call(std::string_view method, std::optional<value_type> params,
                         completion done) {
    const std::int64_t id = calls_.next_id();
    const value_type id_value = traits::make_integer(id);
    value_type request = make_request<Codec>(method, params ? &*params : nullptr, &id_value,
                                             options_.no_arguments_presentation);
    const auto& hooks = owner_.dispatcher().hooks();
    if (!hooks.empty()) {
      if (owner_.is_closed()) throw connection_closed();
      outcome local;
      const auto fate = hooks.screen_outgoing(request, owner_.id(), false, owner_.log(), local);
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
    std::string bytes = frame(request);
    calls_.add(id, std::move(done));
    try {
      if (!owner_.send(std::move(bytes), false, true))
        calls_.complete(id, {value_type(), make_error_ptr<connection_closed>()});
    } catch (...) {
      calls_.forget(id);
      throw;
    }
    return id;
  }

  Owner& owner_;
  call_table<value_type>& calls_;
  progress_routes& progress_;
  const Options& options_;
};

template <class Codec, class Framing, class Owner>
std::vector<std::int64_t> outgoing_calls<Codec, Framing, Owner>::start_batch(const Batch& batch,
                                                                       batch_done done,
                                                                       timeout_type timeout) {
  static_assert(Codec::supports_batches,
                "batch_call: this codec has no batches (BSON-RPC has no top-level arrays)");
  if (batch.empty()) throw error(errc::empty_batch, "a batch must hold at least one message");
  // The outcomes, gathered in request order; the last one completes the batch.
  struct collector {
    std::mutex mutex;
    std::vector<std::optional<batch_result>> results;
    std::size_t remaining = 0;
    std::error_code failure;  // connection_closed or timeout: the batch fails whole
    batch_done done;
    std::shared_ptr<deadline> timer;
  };
  auto state = std::make_shared<collector>();
  state->done = std::move(done);
  std::vector<std::int64_t> ids;
  value_type message = traits::make_array();
  const auto& hooks = owner_.dispatcher().hooks();
  // Requests a hook answered: their slot and outcome, completed once the rest is sent.
  std::vector<std::pair<std::size_t, outcome>> answered;
  for (const auto& e : batch.entries()) {
    std::optional<value_type> params = from_neutral(e.params);
    std::optional<value_type> id_value;
    if (e.is_request) {
      ids.push_back(calls_.next_id());
      id_value = traits::make_integer(ids.back());
    }
    value_type request = make_request<Codec>(e.method, params ? &*params : nullptr,
                                             id_value ? &*id_value : nullptr,
                                             options_.no_arguments_presentation);
    if (!hooks.empty()) {
      outcome local;
      using fate = typename hook_chain<Codec>::fate;
      const fate f = hooks.screen_outgoing(request, owner_.id(), true, owner_.log(), local);
      if (f == fate::dropped) continue;
      if (f == fate::answered) {
        // Only a request is answered (one a hook made of a notification waits for nothing).
        if (e.is_request) answered.emplace_back(ids.size() - 1, std::move(local));
        continue;
      }
    }
    traits::push_back(message, std::move(request));
  }
  state->results.resize(ids.size());
  state->remaining = ids.size();
  if (timeout && !ids.empty()) state->timer = std::make_shared<deadline>();
  auto self = owner_.shared_from_this();
  for (std::size_t slot = 0; slot < ids.size(); ++slot) {
    calls_.add(ids[slot], [self, state, slot](outcome o) {
      std::unique_lock lock(state->mutex);
      if (!o.error) {
        try {
          state->results[slot].emplace(traits::to_neutral(o.result));
        } catch (const conversion_error& e) {
          state->results[slot].emplace(rpc_error(errc::decoding_error, e.what()));
        }
      } else {
        try {
          std::rethrow_exception(o.error);
        } catch (const rpc_error& e) {
          state->results[slot].emplace(e);
        } catch (const bsonrpc::error& e) {
          state->results[slot].emplace(rpc_error(e.code().value(), e.what()));
          if (e.code() == errc::connection_closed || e.code() == errc::timeout)
            state->failure = e.code();
        }
      }
      if (--state->remaining > 0) return;
      lock.unlock();
      if (auto timer = state->timer)
        asio::post(self->strand(), [timer] { timer->disarm(); });
      std::vector<batch_result> out;
      out.reserve(state->results.size());
      for (auto& r : state->results) out.push_back(std::move(*r));
      if (state->failure) state->done(state->failure, {});
      else state->done({}, std::move(out));
    });
  }
  // Hooks may have settled every entry: an empty batch is never sent (it is invalid).
  bool sent = traits::size(message) == 0;
  try {
    if (!sent) sent = owner_.send(frame(message), false, true);
  } catch (...) {
    for (auto id : ids) calls_.forget(id);
    throw;
  }
  if (!sent) {
    for (auto id : ids) calls_.forget(id);
    throw connection_closed();
  }
  for (auto& [slot, result] : answered) calls_.complete(ids[slot], std::move(result));
  if (ids.empty()) state->done({}, {});
  else if (state->timer) arm(state->timer, ids, *timeout);
  return ids;
}

}  // namespace bsonrpc::detail
