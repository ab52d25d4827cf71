// bsonrpc/dispatcher.hpp: the protocol engine. It validates incoming messages exactly per
// JSON-RPC 2.0, routes requests and notifications to registered services, routes responses to
// whoever waits for them, and builds every reply. It owns no socket and no thread: executors
// feed it frames, and tests feed it bytes.
#pragma once

#include <bsonrpc/codec/codec.hpp>
#include <bsonrpc/context.hpp>
#include <bsonrpc/detail/detached_context.hpp>
#include <bsonrpc/detail/handler_entry.hpp>
#include <bsonrpc/detail/hook_chain.hpp>
#include <bsonrpc/detail/coroutine.hpp>
#include <bsonrpc/detail/invoke.hpp>
#include <bsonrpc/detail/message.hpp>
#include <bsonrpc/detail/method_tables.hpp>
#include <bsonrpc/detail/openrpc.hpp>
#include <bsonrpc/detail/route.hpp>
#include <bsonrpc/errors.hpp>
#include <bsonrpc/execution.hpp>
#include <bsonrpc/log.hpp>
#include <bsonrpc/options.hpp>
#include <bsonrpc/service.hpp>

#include <chrono>
#include <functional>
#include <algorithm>
#include <array>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

namespace bsonrpc {

/// A connection's method table and the JSON-RPC rules around it, without any I/O: turns one
/// incoming message (or batch) into the handlers it runs and the reply to send. Every Rpc has
/// one; used alone it answers messages given as bytes (`handle`).
template <class Codec>
class dispatcher {
 public:
  using value_type = typename Codec::value_type;          ///< the codec's value type
  using message = detail::message_view<value_type>;       ///< one classified incoming message
  using traits = value_traits<value_type>;                ///< access to value_type
  /// Receives each response (result or error) to a request this side sent.
  using response_handler = std::function<void(const message&)>;

  /// Throws std::invalid_argument if a hook in options.hooks does not serve this codec. Hooks
  /// see `remote` (which must outlive the dispatcher) as the peer's identity; null: unknown.
  explicit dispatcher(Options options = {}, logger log = {},
                      const peer_identity* remote = nullptr)
      : options_(std::move(options)),
        log_(std::move(log)),
        hooks_(options_.hooks, remote ? *remote : detail::unknown_peer()) {
    if (options_.discover) {  // bsonrpc/discover.hpp
      catalog_ = std::make_shared<detail::method_catalog>(*options_.discover);
      add_entry(detail::method_kind::request, std::string(discover_method),
                detail::discover_entry<value_type>(catalog_));
    }
  }

  /// Exposes the methods BSONRPC_SERVICE registered for Service; `service` must outlive this.
  template <class Service>
  void add_service(Service& service) {
    static_assert(is_service_v<Service>,
                  "add_service: register the class with BSONRPC_SERVICE first");
    // Built once per Service type: each connection's table refers to these specs rather
    // than copying them (see add_method).
    static const auto specs = bsonrpc_service_methods(detail::service_tag<Service>{});
    std::apply([&](const auto&... spec) { (add_method(service, spec), ...); }, specs);
    if (catalog_) catalog_->add(detail::service_describer<value_type>(specs));
  }

  /// As above, sharing ownership of the service.
  template <class Service>
  void add_service(std::shared_ptr<Service> service) {
    add_service(*service);
    owned_.push_back(std::move(service));
  }

  /// Exposes a function, or a lambda or object with one operator() (not a template), as the
  /// request `name`. Its parameters bind as a service member's do: after an optional leading
  /// bsonrpc::Context&, one per name in `names` (positional or named params), or, with no names
  /// and one parameter, the whole params object. Its return value is the result. Safe at any
  /// time, from any thread (registering after messages flow copies the method table).
  template <class F>
  void add_request(std::string name, F fn, execution where = execution::standard) {
    add_function(detail::method_kind::request, std::move(name), std::move(fn),
                 std::array<std::string, 0>{}, where);
  }
  /// As above, naming the parameters: `{"a", "b"}`.
  template <class F, std::size_t N>
  void add_request(std::string name, F fn, const std::string_view (&names)[N],
                   execution where = execution::standard) {
    add_function(detail::method_kind::request, std::move(name), std::move(fn),
                 detail::to_names(names), where);
  }
  /// As add_request, for the notification `name`; `fn` returns void.
  template <class F>
  void add_notification(std::string name, F fn, execution where = execution::standard) {
    add_function(detail::method_kind::notification, std::move(name), std::move(fn),
                 std::array<std::string, 0>{}, where);
  }
  /// As above, naming the parameters: `{"a", "b"}`.
  template <class F, std::size_t N>
  void add_notification(std::string name, F fn, const std::string_view (&names)[N],
                        execution where = execution::standard) {
    add_function(detail::method_kind::notification, std::move(name), std::move(fn),
                 detail::to_names(names), where);
  }

  /// Messages may be dispatched from now on, on other threads: later registrations replace
  /// the method table instead of changing it. An Rpc calls it before it starts reading.
  void start_dispatching() {
    methods_.start_dispatching();
  }

  /// Where responses to this side's requests go (an Rpc routes them to its pending calls).
  void set_response_handler(response_handler handler) { on_response_ = std::move(handler); }
  /// The logger handlers' failures are reported to.
  const logger& log() const noexcept { return log_; }
  /// The options given at construction.
  const Options& options() const noexcept { return options_; }
  /// Options::hooks, ready to run over this codec's messages.
  const detail::hook_chain<Codec>& hooks() const noexcept { return hooks_; }

  /// Whether a request `name` is registered.
  bool has_request(std::string_view name) const { return methods_.find_request(name) != nullptr; }
  /// Whether a notification `name` is registered.
  bool has_notification(std::string_view name) const {
    return methods_.find_notification(name) != nullptr;
  }

  /// Handles one incoming message (or batch) to completion, running handlers on this thread,
  /// and appends the encoded reply to `out`. Returns false when there is nothing to send.
  bool handle(std::string_view bytes, Context& context, std::string& out) {
    const std::uint64_t connection = context.connection_id();
    auto r = detail::route<Codec>(bytes, decode_limits{options_.max_depth}, hooks_, connection,
                                  log_);
    std::optional<value_type> reply;
    switch (r.kind) {
      case detail::route_kind::refused:
      case detail::route_kind::answered: reply = std::move(r.reply); break;
      case detail::route_kind::dropped: return false;
      case detail::route_kind::batch: {
        std::optional<batch_screen> screen;
        if (!hooks_.empty()) screen = screen_batch(*r.doc, connection);
        reply = answer_batch(*r.doc, context, false, screen ? &*screen : nullptr);
        break;
      }
      case detail::route_kind::response:
      case detail::route_kind::notification: process(r.message, context); return false;
      case detail::route_kind::request:
        reply = run_request(r.message, context);
        if (!hooks_.empty())
          hooks_.outgoing_reply(*reply, r.message.method, connection, false, r.received, log_);
        break;
    }
    if (!reply) return false;
    encode_reply(*reply, out);
    return true;
  }

  /// As above, without a connection: handlers that call the peer get connection_closed.
  bool handle(std::string_view bytes, std::string& out) {
    detail::detached_context context;
    return handle(bytes, context, out);
  }

  /// Decodes `bytes`; on failure appends the Parse error reply (through the outgoing hooks of
  /// connection `connection`) to `out` and returns nullopt.
  std::optional<value_type> decode(std::string_view bytes, std::string& out,
                                   std::uint64_t connection = 0) const {
    try {
      return Codec::decode(bytes, decode_limits{options_.max_depth});
    } catch (const decoding_error& e) {
      value_type reply = detail::parse_error_reply<Codec>(e, log_);
      if (!hooks_.empty())
        hooks_.outgoing_reply(reply, {}, connection, false, std::chrono::steady_clock::now(), log_);
      encode_reply(reply, out);
      return std::nullopt;
    }
  }

  /// Acts on one classified message: runs a request (returning its reply), runs a
  /// notification, routes a response, or answers an invalid message. nullopt: no reply.
  std::optional<value_type> process(const message& m, Context& context) {
    switch (m.kind) {
      case detail::message_kind::request: return run_request(m, context);
      case detail::message_kind::notification: run_notification(m, context); return std::nullopt;
      case detail::message_kind::response:
      case detail::message_kind::error_response:
        if (on_response_) on_response_(m);
        else log_(log_level::error, "response received but no request is waiting for it");
        return std::nullopt;
      case detail::message_kind::invalid: break;
    }
    return detail::invalid_request_reply<Codec>(m, log_);
  }

  /// Runs a request's handler and returns its reply: the result, or the error it maps to.
  value_type run_request(const message& m, Context& context) {
    const value_type id = *m.id;
    const entry* handler = methods_.find_request(m.method);
    if (!handler) {
      // Another bsonrpc's keepalive ping wants only an answer (Options::keepalive_interval).
      log_(m.method == keepalive_method ? log_level::debug : log_level::info,
           "method not found: " + std::string(m.method));
      return error_reply(id, errc::method_not_found, "Method not found");
    }
    try {
      if (handler->spawn)
        return detail::make_result<Codec>(id, run_coroutine_here(*handler, context, m.params));
      return detail::make_result<Codec>(id,
                                        handler->invoke(context, m.params, m.params_movable));
    } catch (...) {
      return reply_for_failure(id, m.method, std::current_exception());
    }
  }

  /// Where `m`'s handler runs, as its registration declared (.runs(...)); standard for a
  /// method not found, an invalid notification and a coroutine handler.
  execution execution_of(const message& m) const {
    if (m.kind != detail::message_kind::request && *m.problem) return execution::standard;
    const entry* handler =
        methods_.find(m.kind == detail::message_kind::request, m.method);
    return handler ? handler->policy : execution::standard;
  }

  /// Whether `m` names a coroutine handler (which completes through start_async()).
  bool is_coroutine(const message& m) const {
    // An invalid notification goes to run_notification(), which drops it: never to a handler.
    if (m.kind != detail::message_kind::request && *m.problem) return false;
    const entry* handler =
        methods_.find(m.kind == detail::message_kind::request, m.method);
    return handler && handler->spawn;
  }

  /// Starts a coroutine handler (is_coroutine(m)) on `ex`; `done` receives the reply to send,
  /// or nullopt for a notification.
  void start_async(const message& m, std::shared_ptr<Context> context,
                   const asio::any_io_executor& ex,
                   std::function<void(std::optional<value_type>)> done) {
    const bool is_request = m.kind == detail::message_kind::request;
    const entry& handler = *methods_.find(is_request, m.method);
    std::optional<value_type> id;
    if (is_request) id = *m.id;
    std::string method(m.method);
    auto finish = [this, id, method, done](std::exception_ptr failure, value_type result) {
      if (!id) {
        if (failure) log_failure("notification " + method, failure);
        done(std::nullopt);
      } else if (failure) {
        done(reply_for_failure(*id, method, failure));
      } else {
        done(detail::make_result<Codec>(*id, std::move(result)));
      }
    };
    try {
      handler.spawn(std::move(context), m.params, ex, finish);
    } catch (...) {
      finish(std::current_exception(), value_type());
    }
  }

  /// The error reply for a handler that failed with `failure`.
  value_type reply_for_failure(const value_type& id, std::string_view method,
                               std::exception_ptr failure) const {
    try {
      std::rethrow_exception(failure);
    } catch (const rpc_error& e) {
      return detail::make_error<Codec>(id, e);
    } catch (const encoding_error& e) {
      log_(log_level::error, "result of " + std::string(method) + " not encodable: " + e.what());
      return error_reply(id, errc::internal_error, "Internal error");
    } catch (const std::exception& e) {
      log_(log_level::error, "handler " + std::string(method) + " threw: " + e.what());
      value_type data = traits::make_string(e.what());
      return detail::make_error<Codec>(id, static_cast<int>(errc::server_error), "Server error",
                                       &data);
    } catch (...) {
      log_(log_level::error, "handler " + std::string(method) + " threw a non-std exception");
      value_type data = traits::make_string("unknown exception");
      return detail::make_error<Codec>(id, static_cast<int>(errc::server_error), "Server error",
                                       &data);
    }
  }

  /// Runs a notification's handler. Notifications are never answered, even on error (4.1).
  void run_notification(const message& m, Context& context) {
    if (*m.problem) {
      log_(log_level::error, "invalid notification " + std::string(m.method) + ": " + m.problem);
      return;
    }
    const entry* handler = methods_.find_notification(m.method);
    if (!handler) {
      log_(log_level::info, "notification not found: " + std::string(m.method));
      return;
    }
    try {
      if (handler->spawn) {
        run_coroutine_here(*handler, context, m.params);
        return;
      }
      handler->invoke(context, m.params, m.params_movable);
    } catch (...) {
      log_failure("notification " + std::string(m.method), std::current_exception());
    }
  }

  /// Logs, as an error, that `what` failed with `failure`.
  void log_failure(const std::string& what, std::exception_ptr failure) const {
    try {
      std::rethrow_exception(failure);
    } catch (const std::exception& e) {
      log_(log_level::error, what + " failed: " + e.what());
    } catch (...) {
      log_(log_level::error, what + " threw a non-std exception");
    }
  }

  /// What the incoming hooks made of a batch's entries: per entry, whether a hook answered or
  /// dropped it (and the answer), and when the batch was read.
  struct batch_screen {
    /// One entry's screening.
    struct entry {
      bool settled = false;  ///< a hook answered or dropped it: it does not run
      std::optional<value_type> reply;  ///< a settled request's reply, through the hooks
    };
    std::vector<entry> entries;  ///< empty: the batch is refused whole, no hook saw it
    std::chrono::steady_clock::time_point received;  ///< when the batch was read
    bool has_replies = false;  ///< whether any settled entry has a reply
  };

  /// Runs the incoming hooks over each entry of `batch`, rewriting entries in place. A batch
  /// that answer_batch() refuses whole (empty, or over max_batch_size) is not screened.
  batch_screen screen_batch(value_type& batch, std::uint64_t connection) const {
    batch_screen screen;
    screen.received = std::chrono::steady_clock::now();
    const std::size_t n = traits::size(batch);
    if (n == 0 || n > options_.max_batch_size) return screen;
    screen.entries.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
      // The batch is the caller's (decoded here): entries may be rewritten.
      auto& entry = const_cast<value_type&>(traits::at(batch, i));
      auto& out = screen.entries[i];
      const auto fate =
          hooks_.screen_incoming(entry, connection, true, screen.received, log_, out.reply);
      out.settled = fate != detail::hook_chain<Codec>::fate::deliver;
      screen.has_replies = screen.has_replies || out.reply.has_value();
    }
    return screen;
  }

  /// Runs a batch's entries in order and returns its reply: one entry per request, none for
  /// notifications, nothing at all when no entry is a request (section 6); a single -32600
  /// for an empty batch or one longer than max_batch_size. Responses in the batch go to the
  /// response handler, unless the caller has already routed them. With hooks, `screen` is
  /// what screen_batch() made of the batch: settled entries do not run, their replies take
  /// their place, and every other reply passes the outgoing hooks.
  std::optional<value_type> answer_batch(const value_type& batch, Context& context,
                                         bool responses_routed,
                                         batch_screen* screen = nullptr) {
    const std::size_t n = traits::size(batch);
    if (n == 0 || n > options_.max_batch_size) {
      log_(log_level::error, n == 0 ? "empty batch" : "batch too large: " + std::to_string(n));
      value_type refusal = error_reply(traits::make_null(), errc::invalid_request, "Invalid Request");
      if (!hooks_.empty())
        hooks_.outgoing_reply(refusal, {}, context.connection_id(), false,
                              screen ? screen->received : std::chrono::steady_clock::now(), log_);
      return refusal;
    }
    const bool screened = screen && screen->entries.size() == n;
    value_type replies = traits::make_array();
    bool any = false;
    for (std::size_t i = 0; i < n; ++i) {
      if (screened && screen->entries[i].settled) {
        if (auto& reply = screen->entries[i].reply) {
          traits::push_back(replies, std::move(*reply));
          any = true;
        }
        continue;
      }
      const message m = detail::classify<Codec>(traits::at(batch, i));
      const bool is_response = m.kind == detail::message_kind::response ||
                               m.kind == detail::message_kind::error_response;
      if (is_response && responses_routed) continue;
      if (auto reply = process(m, context)) {
        if (screened) {
          const bool is_request = m.kind == detail::message_kind::request;
          hooks_.outgoing_reply(*reply, is_request ? m.method : std::string_view(),
                                context.connection_id(), true, screen->received, log_);
        }
        traits::push_back(replies, std::move(*reply));
        any = true;
      }
    }
    if (!any) return std::nullopt;
    return replies;
  }

  /// Appends the encoding of `reply` (one response or a batch of them) to `out`. A reply the
  /// codec cannot encode (say, a handler's string that is not UTF-8) becomes -32603.
  void encode_reply(const value_type& reply, std::string& out) const {
    const std::size_t mark = out.size();
    try {
      Codec::encode(reply, out);
      return;
    } catch (const encoding_error& e) {
      out.resize(mark);
      log_(log_level::error, std::string("reply not encodable: ") + e.what());
    }
    if (traits::is_array(reply)) {
      value_type fixed = traits::make_array();
      for (std::size_t i = 0; i < traits::size(reply); ++i)
        traits::push_back(fixed, encodable_or_internal_error(traits::at(reply, i)));
      Codec::encode(fixed, out);
    } else {
      Codec::encode(encodable_or_internal_error(reply), out);
    }
  }

  /// The error response {id, error: {code, message: text}}.
  value_type error_reply(value_type id, errc code, std::string_view text) const {
    return detail::make_error<Codec>(std::move(id), static_cast<int>(code), text, nullptr);
  }

 private:
  using entry = detail::handler_entry<value_type>;

  template <class Service, class Spec>
  void add_method(Service& service, const Spec& spec) {
    add_entry(spec.kind, std::string(spec.name), detail::member_entry<value_type>(service, spec));
  }

  template <class F, std::size_t N>
  void add_function(detail::method_kind kind, std::string name, F fn,
                    std::array<std::string, N> names, execution where) {
    detail::method_catalog::describer describe;
    if (catalog_) describe = detail::function_describer<value_type, F>(kind, name, names);
    auto e =
        detail::function_entry<value_type>(kind, name, std::move(fn), std::move(names), where);
    add_entry(kind, std::move(name), std::move(e));
    if (catalog_) catalog_->add(std::move(describe));
  }

  void add_entry(detail::method_kind kind, std::string name, entry e) {
    methods_.add(kind == detail::method_kind::request, std::move(name), std::move(e));
  }

  // Runs a coroutine handler to completion on a private io_context (synchronous use).
  value_type run_coroutine_here(const entry& handler, Context& context, const value_type* params) {
    asio::io_context io;
    std::exception_ptr failure;
    value_type result;
    // The Context outlives the run: the shared_ptr does not own it.
    std::shared_ptr<Context> borrowed(std::shared_ptr<Context>(), &context);
    handler.spawn(borrowed, params, io.get_executor(), [&](std::exception_ptr e, value_type v) {
      failure = e;
      result = std::move(v);
    });
    io.run();
    if (failure) std::rethrow_exception(failure);
    return result;
  }

  value_type encodable_or_internal_error(const value_type& reply) const {
    std::string scratch;
    try {
      Codec::encode(reply, scratch);
      return reply;
    } catch (const encoding_error&) {
      const value_type* id = traits::is_object(reply) ? traits::find(reply, "id") : nullptr;
      return error_reply(id ? *id : traits::make_null(), errc::internal_error, "Internal error");
    }
  }

  Options options_;
  logger log_;
  detail::hook_chain<Codec> hooks_;
  detail::method_tables<entry> methods_;
  response_handler on_response_;
  std::vector<std::shared_ptr<void>> owned_;
  std::shared_ptr<detail::method_catalog> catalog_;  // with Options::discover only
};

}  // namespace bsonrpc
