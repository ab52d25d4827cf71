// bsonrpc/detail/hook_chain.hpp: running Options::hooks over messages (see bsonrpc/hooks.hpp for
// the rules). The dispatcher owns one; the connection and Rpc ask it to screen each message.
#pragma once

#include <bsonrpc/codec/codec.hpp>
#include <bsonrpc/detail/async_call.hpp>
#include <bsonrpc/detail/message.hpp>
#include <bsonrpc/errors.hpp>
#include <bsonrpc/hooks.hpp>
#include <bsonrpc/log.hpp>
#include <bsonrpc/value.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace bsonrpc::detail {

template <class Codec>
class hook_chain {
 public:
  using value_type = typename Codec::value_type;
  using message = hook_message<value_type>;
  using traits = value_traits<value_type>;
  using time_point = std::chrono::steady_clock::time_point;

  // What the hooks decided for a message: let it go on (as they left it), answered (a request
  // settled by a hook: its reply or outcome is ready), or dropped (a notification).
  enum class fate { deliver, answered, dropped };

  hook_chain() = default;
  // Throws std::invalid_argument if a hook does not serve this codec's value type.
  // `remote`, the peer's identity as hooks see it, must outlive the chain.
  explicit hook_chain(const std::vector<hook>& hooks,
                      const peer_identity& remote = unknown_peer())
      : hooks_(hooks), remote_(&remote) {
    for (const hook& h : hooks_)
      if (!h.template serves<value_type>())
        throw std::invalid_argument("bsonrpc: a hook in Options::hooks does not take this codec's "
                                    "messages (hook_message<" + value_type_name() + ">&)");
  }

  bool empty() const noexcept { return hooks_.empty(); }

  // Runs the incoming hooks, first to last, over one message received (a batch entry when
  // `in_batch`). answered: `reply` holds the reply for the peer, already through the outgoing
  // hooks of the hooks the request had passed.
  fate screen_incoming(value_type& msg, std::uint64_t connection, bool in_batch,
                       time_point received, const logger& log,
                       std::optional<value_type>& reply) const {
    message m(msg, hook_direction::incoming, connection, in_batch, received, *remote_);
    if (!read(m, false)) return fate::deliver;  // invalid input: the library answers it
    for (std::size_t i = 0; i < hooks_.size(); ++i) {
      run(i, m, log);
      bool valid = read(m, false);  // the hook may have rewritten it: its views are stale
      if (m.settled_) {
        if (m.kind_ == hook_kind::notification) return fate::dropped;
        if (m.kind_ == hook_kind::request) {
          const std::string_view method = m.method_;
          reply = settled_reply(m);
          outgoing_reply(*reply, method, connection, in_batch, received, log, i);
          return fate::answered;
        }
        msg = settled_reply(m);  // a response: replaced, and on it goes
        m.settled_ = false;
        valid = read(m, false);
      }
      if (!valid) return fate::deliver;
    }
    return fate::deliver;
  }

  // Runs the outgoing hooks over a reply this side sends, from hook `end - 1` down to the
  // first; `request_method` is the method of the request it answers.
  void outgoing_reply(value_type& reply, std::string_view request_method, std::uint64_t connection,
                      bool in_batch, time_point received, const logger& log,
                      std::size_t end = static_cast<std::size_t>(-1)) const {
    message m(reply, hook_direction::outgoing, connection, in_batch, received, *remote_);
    if (!read(m, true, request_method)) return;
    for (std::size_t i = std::min(end, hooks_.size()); i-- > 0;) {
      run(i, m, log);
      bool valid = read(m, true, request_method);
      if (m.settled_) {
        reply = settled_reply(m);
        m.settled_ = false;
        valid = read(m, true, request_method);
      }
      if (!valid) return;
    }
  }

  // Runs the outgoing hooks, last to first, over a call or notification this side makes.
  // answered: the call completes locally with `outcome`, after the result passed, as an
  // incoming response, back through the hooks the call had passed.
  fate screen_outgoing(value_type& msg, std::uint64_t connection, bool in_batch,
                       const logger& log, call_outcome<value_type>& outcome) const {
    message m(msg, hook_direction::outgoing, connection, in_batch, time_point{}, *remote_);
    if (!read(m, false)) return fate::deliver;
    for (std::size_t i = hooks_.size(); i-- > 0;) {
      run(i, m, log);
      bool valid = read(m, false);
      if (m.settled_) {
        if (m.kind_ == hook_kind::notification) return fate::dropped;
        if (m.kind_ == hook_kind::request) {
          value_type response = settled_reply(m);
          outcome = local_outcome(response, i + 1, connection, in_batch, log);
          return fate::answered;
        }
        msg = settled_reply(m);
        m.settled_ = false;
        valid = read(m, false);
      }
      if (!valid) return fate::deliver;
    }
    return fate::deliver;
  }

 private:
  static std::string value_type_name() {
    if constexpr (std::is_same_v<value_type, nlohmann::json>) return "nlohmann::json";
    else if constexpr (std::is_same_v<value_type, value>) return "bsonrpc::value";
    else return "V";
  }

  // Runs hook `i`; one that throws rejects the message with -32603 (logged, never sent).
  void run(std::size_t i, message& m, const logger& log) const {
    try {
      hooks_[i](m);
    } catch (const std::exception& e) {
      log(log_level::error, std::string("message hook failed: ") + e.what());
      m.reject(static_cast<int>(errc::internal_error), "Internal error");
    } catch (...) {
      log(log_level::error, "message hook threw a non-std exception");
      m.reject(static_cast<int>(errc::internal_error), "Internal error");
    }
  }

  // (Re)reads the message's views after a hook; false if it is no longer a valid message. A
  // reply keeps the method of the request it answers.
  static bool read(message& m, bool is_reply, std::string_view request_method = {}) {
    const message_view<value_type> v = classify<Codec>(*m.value_);
    m.id_ = v.id;
    m.params_ = v.params;
    m.result_ = v.result;
    m.error_ = v.error;
    m.method_ = is_reply ? request_method : v.method;
    switch (v.kind) {
      case message_kind::request: m.kind_ = hook_kind::request; return true;
      case message_kind::notification: m.kind_ = hook_kind::notification; return !*v.problem;
      case message_kind::response: m.kind_ = hook_kind::response; return true;
      case message_kind::error_response: m.kind_ = hook_kind::error; return true;
      case message_kind::invalid: break;
    }
    return false;
  }

  // The response a hook's answer() or reject() stands for, with the message's id.
  static value_type settled_reply(message& m) {
    value_type id = m.id_ ? *m.id_ : traits::make_null();
    if (!m.answer_.empty()) {
      value_type answer = std::move(m.answer_.front());
      m.answer_.clear();
      return make_result<Codec>(std::move(id), std::move(answer));
    }
    const rpc_error rejection = *std::exchange(m.rejection_, std::nullopt);
    return make_error<Codec>(std::move(id), rejection);
  }

  // A call answered by hook `from - 1`: its response passes hooks [from, end) as incoming.
  call_outcome<value_type> local_outcome(value_type& response, std::size_t from,
                                         std::uint64_t connection, bool in_batch,
                                         const logger& log) const {
    message m(response, hook_direction::incoming, connection, in_batch, time_point{}, *remote_);
    read(m, false);
    for (std::size_t i = from; i < hooks_.size(); ++i) {
      run(i, m, log);
      bool valid = read(m, false);
      if (m.settled_) {
        response = settled_reply(m);
        m.settled_ = false;
        valid = read(m, false);
      }
      if (!valid) break;
    }
    call_outcome<value_type> outcome;
    const message_view<value_type> v = classify<Codec>(response);
    if (v.kind == message_kind::response) {
      outcome.result = std::move(const_cast<value_type&>(*v.result));
      return outcome;
    }
    if (v.kind == message_kind::error_response)
      outcome.error = peer_error_ptr(*v.error);
    else
      outcome.error = make_error_ptr<internal_error>("a message hook left an invalid response");
    return outcome;
  }

  std::vector<hook> hooks_;
  const peer_identity* remote_ = &unknown_peer();
};

}  // namespace bsonrpc::detail
