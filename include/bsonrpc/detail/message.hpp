// bsonrpc/detail/message.hpp: classifying a decoded value as a JSON-RPC 2.0 message, and
// building the messages the library sends. Views point into the decoded value: no copies.
#pragma once

#include <bsonrpc/codec/codec.hpp>
#include <bsonrpc/errors.hpp>
#include <bsonrpc/options.hpp>

#include <cstdint>
#include <exception>
#include <string>
#include <string_view>
#include <utility>

namespace bsonrpc::detail {

enum class message_kind { request, notification, response, error_response, invalid };

template <class V>
struct message_view {
  message_kind kind = message_kind::invalid;
  const V* id = nullptr;        // request, response: the id member (string, integer or null)
  std::string_view method;      // request, notification
  const V* params = nullptr;    // request, notification: nullptr when omitted
  const V* result = nullptr;    // response
  const V* error = nullptr;     // error response: an object with integer code, string message
  const char* problem = "";     // invalid: why, for the log and the error's data
  // Whoever holds the message discards it once the handler returns, and it is not const: the
  // handler's arguments may be moved out of `params` (set by route(), never by classify()).
  bool params_movable = false;
};

// An id is a string, an integer or null (JSON-RPC 2.0 section 4; fractions are refused).
template <class V>
bool is_valid_id(const V& id) {
  using traits = value_traits<V>;
  return traits::is_string(id) || traits::is_integer(id) || traits::is_null(id);
}

// Reads one message object. An object with a string method and no id is a notification even
// when otherwise malformed, since a notification is never answered (section 4.1); everything
// else that is not a valid request or response is `invalid`, and gets -32600 when answerable.
template <class Codec>
message_view<typename Codec::value_type> classify(const typename Codec::value_type& v) {
  using V = typename Codec::value_type;
  using traits = value_traits<V>;
  message_view<V> m;
  auto invalid = [&](const char* why) {
    m.kind = message_kind::invalid;
    m.problem = why;
    return m;
  };
  if (!traits::is_object(v)) return invalid("a message must be an object");

  const V* id = traits::find(v, "id");
  if (id && is_valid_id(*id)) m.id = id;
  const V* version = traits::find(v, Codec::protocol_key);
  const bool version_ok =
      version && traits::is_string(*version) && traits::as_string(*version) == "2.0";

  if (const V* method = traits::find(v, "method")) {
    if (!traits::is_string(*method)) return invalid("method must be a string");
    m.method = traits::as_string(*method);
    const V* params = traits::find(v, "params");
    if (!id) {
      m.kind = message_kind::notification;
      m.params = params;
      if (!version_ok) m.problem = "wrong or missing protocol version";
      else if (params && !traits::is_array(*params) && !traits::is_object(*params))
        m.problem = "params must be an array or an object";
      return m;
    }
    if (!m.id) return invalid("id must be a string, an integer or null");
    if (!version_ok) return invalid("wrong or missing protocol version");
    if (params && !traits::is_array(*params) && !traits::is_object(*params))
      return invalid("params must be an array or an object");
    m.kind = message_kind::request;
    m.params = params;
    return m;
  }

  const V* result = traits::find(v, "result");
  const V* error = traits::find(v, "error");
  if (!result && !error) return invalid("neither a request nor a response");
  if (!version_ok) return invalid("wrong or missing protocol version");
  if (!m.id) return invalid("a response needs a valid id");
  if (result && error) return invalid("a response has a result or an error, not both");
  if (result) {
    m.kind = message_kind::response;
    m.result = result;
    return m;
  }
  const V* code = traits::is_object(*error) ? traits::find(*error, "code") : nullptr;
  const V* text = traits::is_object(*error) ? traits::find(*error, "message") : nullptr;
  if (!code || !traits::is_integer(*code) || !text || !traits::is_string(*text))
    return invalid("an error must be an object with an integer code and a string message");
  m.kind = message_kind::error_response;
  m.error = error;
  return m;
}

template <class Codec>
typename Codec::value_type make_envelope() {
  using traits = value_traits<typename Codec::value_type>;
  auto out = traits::make_object();
  traits::add_member(out, Codec::protocol_key, traits::make_string("2.0"));
  return out;
}

template <class Codec>
typename Codec::value_type make_result(typename Codec::value_type id,
                                       typename Codec::value_type result) {
  using V = typename Codec::value_type;
  using traits = value_traits<V>;
  V out = make_envelope<Codec>();
  traits::add_member(out, "result", std::move(result));
  traits::add_member(out, "id", std::move(id));
  return out;
}

template <class Codec>
typename Codec::value_type make_error(typename Codec::value_type id, int code,
                                      std::string_view message,
                                      const typename Codec::value_type* data) {
  using V = typename Codec::value_type;
  using traits = value_traits<V>;
  V error = traits::make_object();
  traits::add_member(error, "code", traits::make_integer(code));
  traits::add_member(error, "message", traits::make_string(message));
  if (data) traits::add_member(error, "data", *data);
  V out = make_envelope<Codec>();
  traits::add_member(out, "error", std::move(error));
  traits::add_member(out, "id", std::move(id));
  return out;
}

template <class Codec>
typename Codec::value_type make_error(typename Codec::value_type id, const rpc_error& e) {
  using V = typename Codec::value_type;
  using traits = value_traits<V>;
  if (!e.has_data()) return make_error<Codec>(std::move(id), e.code_value(), e.message(), nullptr);
  V data = traits::from_neutral(e.data());
  return make_error<Codec>(std::move(id), e.code_value(), e.message(), &data);
}

// A request (with id) or a notification (id == nullptr); params as given, or per `presentation`.
template <class Codec>
typename Codec::value_type make_request(std::string_view method,
                                        typename Codec::value_type* params,
                                        const typename Codec::value_type* id,
                                        no_arguments presentation) {
  using V = typename Codec::value_type;
  using traits = value_traits<V>;
  V out = make_envelope<Codec>();
  traits::add_member(out, "method", traits::make_string(method));
  if (params) {
    traits::add_member(out, "params", std::move(*params));
  } else if (presentation == no_arguments::empty_array) {
    traits::add_member(out, "params", traits::make_array());
  } else if (presentation == no_arguments::empty_object) {
    traits::add_member(out, "params", traits::make_object());
  }
  if (id) traits::add_member(out, "id", *id);
  return out;
}

// The rpc_error a caller receives for an error response (classify() checked its shape).
template <class V>
rpc_error error_from_response(const V& error) {
  using traits = value_traits<V>;
  const auto code = traits::as_integer(*traits::find(error, "code"));
  const int code32 = code < INT32_MIN || code > INT32_MAX ? static_cast<int>(errc::internal_error)
                                                          : static_cast<int>(code);
  std::string message(traits::as_string(*traits::find(error, "message")));
  if (const V* data = traits::find(error, "data")) {
    try {
      return rpc_error(code32, message, traits::to_neutral(*data));
    } catch (const conversion_error&) {
      // Data with no bsonrpc::value form (a JSON integer beyond int64, a malformed Extended
      // JSON wrapper) must not cost the caller the error itself: it arrives without data.
    }
  }
  return rpc_error(code32, message);
}

// The exception a caller receives for an error response, ready to travel to its thread.
template <class V>
std::exception_ptr peer_error_ptr(const V& error) {
  const rpc_error e = error_from_response(error);
  try {
    throw_peer_error(e.code_value(), e.message(), e.data(), e.has_data());
  } catch (...) {
    return std::current_exception();
  }
}

}  // namespace bsonrpc::detail
