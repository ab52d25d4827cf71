// bsonrpc/detail/route.hpp: the one route for incoming messages.
//
// route() decodes a message, runs the incoming hooks over it and classifies it: a batch, a
// response to one of our calls, a request or notification to run, or something answered at
// once (a Parse error, an Invalid Request, a hook's reply) or dropped. The connection and
// dispatcher::handle both act on what it returns, so both treat every message alike.
#pragma once

#include <bsonrpc/codec/codec.hpp>
#include <bsonrpc/detail/hook_chain.hpp>
#include <bsonrpc/detail/message.hpp>
#include <bsonrpc/errors.hpp>
#include <bsonrpc/log.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace bsonrpc::detail {

enum class route_kind {
  refused,       // `reply` goes back at once: a Parse error or an Invalid Request
  answered,      // a hook answered it: `reply` goes back at once
  dropped,       // a hook dropped it: nothing to do
  batch,         // an array: screen and answer its entries (dispatcher::screen_batch, answer_batch)
  response,      // a response to one of our calls
  request,       // run its handler; its reply goes back
  notification,  // run its handler; never answered, even on error (section 4.1)
};

template <class V>
struct routed {
  route_kind kind = route_kind::dropped;
  bool decoded = true;            // false: refused with a Parse error
  std::shared_ptr<V> doc;         // the message, shared with the handler that runs it
  message_view<V> message;        // response, request, notification: `doc` classified
  std::optional<V> reply;         // refused, answered: the reply, outgoing hooks applied
  std::chrono::steady_clock::time_point received;  // when the hooks saw it (unset without)
};

// The -32600 reply to a message that is neither a valid request nor a response.
template <class Codec>
typename Codec::value_type invalid_request_reply(const message_view<typename Codec::value_type>& m,
                                                 const logger& log) {
  using traits = value_traits<typename Codec::value_type>;
  log(log_level::error, std::string("invalid request: ") + m.problem);
  return make_error<Codec>(m.id ? *m.id : traits::make_null(),
                           static_cast<int>(errc::invalid_request), "Invalid Request", nullptr);
}

// The -32700 reply to bytes that do not decode.
template <class Codec>
typename Codec::value_type parse_error_reply(const decoding_error& e, const logger& log) {
  using traits = value_traits<typename Codec::value_type>;
  log(log_level::error, std::string("undecodable message: ") + e.what());
  return make_error<Codec>(traits::make_null(), static_cast<int>(errc::parse_error),
                           "Parse error", nullptr);
}

template <class Codec>
routed<typename Codec::value_type> route(std::string_view bytes, decode_limits limits,
                                         const hook_chain<Codec>& hooks,
                                         std::uint64_t connection, const logger& log) {
  using V = typename Codec::value_type;
  using traits = value_traits<V>;
  routed<V> r;
  auto answer = [&](V reply, std::string_view method) {
    if (!hooks.empty()) {
      if (r.received == decltype(r.received){}) r.received = std::chrono::steady_clock::now();
      hooks.outgoing_reply(reply, method, connection, false, r.received, log);
    }
    r.kind = route_kind::refused;
    r.reply = std::move(reply);
    return std::move(r);
  };
  try {
    r.doc = std::make_shared<V>(Codec::decode(bytes, limits));
  } catch (const decoding_error& e) {
    r.decoded = false;
    return answer(parse_error_reply<Codec>(e, log), {});
  }
  if constexpr (Codec::supports_batches) {
    if (traits::is_array(*r.doc)) {
      r.kind = route_kind::batch;
      return r;
    }
  }
  if (!hooks.empty()) {
    r.received = std::chrono::steady_clock::now();
    std::optional<V> reply;
    switch (hooks.screen_incoming(*r.doc, connection, false, r.received, log, reply)) {
      case hook_chain<Codec>::fate::dropped: r.kind = route_kind::dropped; return r;
      case hook_chain<Codec>::fate::answered:
        r.kind = route_kind::answered;
        r.reply = std::move(reply);
        return r;
      case hook_chain<Codec>::fate::deliver: break;
    }
  }
  r.message = classify<Codec>(*r.doc);
  // r.doc is ours and goes to the one handler that runs it; nothing reads its params after
  // the handler has its arguments (the hooks have seen it already, the reply needs only the
  // id and the method, which are not params).
  r.message.params_movable = true;
  switch (r.message.kind) {
    case message_kind::response:
    case message_kind::error_response: r.kind = route_kind::response; return r;
    case message_kind::request: r.kind = route_kind::request; return r;
    case message_kind::notification: r.kind = route_kind::notification; return r;
    case message_kind::invalid: break;
  }
  return answer(invalid_request_reply<Codec>(r.message, log), {});
}

}  // namespace bsonrpc::detail
