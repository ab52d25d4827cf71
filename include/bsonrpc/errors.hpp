// bsonrpc/errors.hpp: the exception hierarchy and the std::error_code category behind it.
//
// Blocking APIs throw; asynchronous ones report std::error_code. Both come from the one
// `errc` enum and `rpc_category()`, so `e.code() == bsonrpc::errc::timeout` works either way.
// JSON-RPC error codes (negative, per JSON-RPC 2.0 section 5.1) and any code a peer sends live
// in the same category; the library's own conditions use small positive values.
#pragma once

#include <bsonrpc/value.hpp>

#include <exception>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <string>
#include <system_error>
#include <utility>

namespace bsonrpc {

/// Error codes: the JSON-RPC 2.0 codes (negative, as on the wire) and the library's own
/// failures (positive). Usable as std::error_code through rpc_category().
enum class errc : int {
  parse_error = -32700,        ///< the peer sent bytes that are not a message
  invalid_request = -32600,    ///< a message that is not a valid request
  method_not_found = -32601,   ///< no such method
  invalid_params = -32602,     ///< the params do not fit the method
  internal_error = -32603,     ///< the handler failed
  server_error = -32000,       ///< an implementation-defined server error
  request_cancelled = -32800,  ///< LSP: the caller cancelled the request (Options::protocol)

  framing_error = 1,      ///< the byte stream cannot be split into messages
  encoding_error = 2,     ///< a value cannot be encoded by the codec
  decoding_error = 3,     ///< bytes inside a frame are not a valid message
  timeout = 4,            ///< no response within the allowed time
  connection_closed = 5,  ///< the connection closed before the operation completed
  message_too_large = 6,  ///< a frame exceeds max_message_bytes
  batch_not_supported = 7,  ///< the codec has no batches (BSON-RPC)
  empty_batch = 8,          ///< a batch must hold at least one message
  backpressure = 9,         ///< too much outgoing data is already queued
  not_connected = 10,       ///< no connection at the moment (reconnecting_client): nothing was sent
};

}  // namespace bsonrpc

namespace std {
template <>
struct is_error_code_enum<bsonrpc::errc> : true_type {};
}  // namespace std

namespace bsonrpc {

namespace detail {
class rpc_category_impl final : public std::error_category {
 public:
  const char* name() const noexcept override { return "bsonrpc"; }
  std::string message(int code) const override {
    switch (static_cast<errc>(code)) {
      case errc::parse_error: return "Parse error";
      case errc::invalid_request: return "Invalid Request";
      case errc::method_not_found: return "Method not found";
      case errc::invalid_params: return "Invalid params";
      case errc::internal_error: return "Internal error";
      case errc::server_error: return "Server error";
      case errc::request_cancelled: return "Request cancelled";
      case errc::framing_error: return "framing error";
      case errc::encoding_error: return "encoding error";
      case errc::decoding_error: return "decoding error";
      case errc::timeout: return "timed out waiting for the response";
      case errc::connection_closed: return "connection closed";
      case errc::message_too_large: return "message exceeds max_message_bytes";
      case errc::batch_not_supported: return "this codec does not support batches";
      case errc::empty_batch: return "a batch must not be empty";
      case errc::backpressure: return "too much outgoing data queued";
      case errc::not_connected: return "not connected";
    }
    if (code >= -32099 && code <= -32000) return "Server error";
    return "error " + std::to_string(code);
  }
};
}  // namespace detail

/// The error category of errc ("bsonrpc"); its messages are the JSON-RPC ones ("Parse error").
inline const std::error_category& rpc_category() noexcept {
  static const detail::rpc_category_impl category;
  return category;
}

/// `e` as a std::error_code of rpc_category() (found by ADL: `std::error_code ec = errc::timeout`).
inline std::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), rpc_category()};
}

/// Base of every exception the library throws.
class error : public std::runtime_error {
 public:
  /// An error with `code` and the message `what`.
  error(std::error_code code, const std::string& what) : std::runtime_error(what), code_(code) {}
  /// An error with the code `code` of rpc_category() and the message `what`.
  error(errc code, const std::string& what) : error(make_error_code(code), what) {}
  /// What went wrong, as a code (a JSON-RPC code for rpc_error).
  std::error_code code() const noexcept { return code_; }

 private:
  std::error_code code_;
};

/// The byte stream cannot be split into messages.
class framing_error : public error {
 public:
  /// With errc::framing_error.
  explicit framing_error(const std::string& what) : error(errc::framing_error, what) {}
  /// With another code (message_too_large uses errc::message_too_large).
  framing_error(errc code, const std::string& what) : error(code, what) {}
};

/// A frame longer than max_message_bytes: rejected before it is buffered in full.
class message_too_large : public framing_error {
 public:
  /// With errc::message_too_large.
  explicit message_too_large(const std::string& what)
      : framing_error(errc::message_too_large, what) {}
};

/// A value the codec cannot encode (say, a string that is not UTF-8 for JSON).
class encoding_error : public error {
 public:
  /// With errc::encoding_error.
  explicit encoding_error(const std::string& what) : error(errc::encoding_error, what) {}
};

/// Bytes inside a frame that are not a valid message (a JSON-RPC Parse error).
class decoding_error : public error {
 public:
  /// With errc::decoding_error.
  explicit decoding_error(const std::string& what) : error(errc::decoding_error, what) {}
};

/// A call got no response within its timeout.
class timeout_error : public error {
 public:
  /// With errc::timeout.
  explicit timeout_error(const std::string& what = "timed out waiting for the response")
      : error(errc::timeout, what) {}
};

/// The connection closed before the call or notification completed.
class connection_closed : public error {
 public:
  /// With errc::connection_closed.
  explicit connection_closed(const std::string& what = "connection closed")
      : error(errc::connection_closed, what) {}

 protected:
  /// With another code (not_connected uses errc::not_connected).
  connection_closed(errc code, const std::string& what) : error(code, what) {}
};

/// A reconnecting_client had no connection when the call or notification was made, so nothing
/// was sent: retrying cannot run a method twice. Caught as connection_closed too; its code()
/// is errc::not_connected.
class not_connected : public connection_closed {
 public:
  /// With errc::not_connected.
  explicit not_connected(const std::string& what = "not connected")
      : connection_closed(errc::not_connected, what) {}
};

/// A JSON-RPC error object: thrown by handlers to answer with it, and thrown to callers when
/// the peer answered with it. `what()` is the message. The predefined errors of JSON-RPC 2.0
/// (section 5.1) each have a subclass, so callers can catch the kind: parse_error,
/// invalid_request, method_not_found, invalid_params, internal_error, server_error.
class rpc_error : public error {
 public:
  /// The error object {code, message}, without data.
  rpc_error(int code, const std::string& message)
      : error(std::error_code(code, rpc_category()), message), message_(message) {}
  /// The error object {code, message, data}.
  rpc_error(int code, const std::string& message, value data)
      : rpc_error(code, message) {
    data_ = std::move(data);
    has_data_ = true;
  }
  /// As rpc_error(int, message), with a predefined code.
  rpc_error(errc code, const std::string& message) : rpc_error(static_cast<int>(code), message) {}
  /// As rpc_error(int, message, data), with a predefined code.
  rpc_error(errc code, const std::string& message, value data)
      : rpc_error(static_cast<int>(code), message, std::move(data)) {}

  /// The error object's `code`.
  int code_value() const noexcept { return code().value(); }
  /// The error object's `message`.
  const std::string& message() const noexcept { return message_; }
  /// Whether the error object has a `data` member.
  bool has_data() const noexcept { return has_data_; }
  /// The error's `data` member; null when absent (see has_data()).
  const value& data() const noexcept { return data_; }

 private:
  std::string message_;
  value data_;
  bool has_data_ = false;
};

// One class per predefined JSON-RPC 2.0 error (section 5.1), so callers can catch the kind.
#define BSONRPC_DETAIL_PREDEFINED_ERROR(name, code_enum, default_message)                    \
  class name : public rpc_error {                                                            \
   public:                                                                                   \
    explicit name(const std::string& message = default_message)                              \
        : rpc_error(errc::code_enum, message) {}                                             \
    name(const std::string& message, value data)                                             \
        : rpc_error(errc::code_enum, message, std::move(data)) {}                            \
  };
BSONRPC_DETAIL_PREDEFINED_ERROR(parse_error, parse_error, "Parse error")
BSONRPC_DETAIL_PREDEFINED_ERROR(invalid_request, invalid_request, "Invalid Request")
BSONRPC_DETAIL_PREDEFINED_ERROR(method_not_found, method_not_found, "Method not found")
BSONRPC_DETAIL_PREDEFINED_ERROR(invalid_params, invalid_params, "Invalid params")
BSONRPC_DETAIL_PREDEFINED_ERROR(internal_error, internal_error, "Internal error")
BSONRPC_DETAIL_PREDEFINED_ERROR(server_error, server_error, "Server error")
#undef BSONRPC_DETAIL_PREDEFINED_ERROR

/// An asynchronous call's outcome with the peer's error as a value. async_call<reply<T>>(...,
/// token) completes every form without a failure when the peer answers, error or not: on
/// success the reply holds the result, on an error reply error() holds the whole error object
/// (code, message, data). Only local failures (timeout, closed connection, cancellation, a
/// result that does not convert) fail the call, and then the reply is empty.
template <class T>
class reply {
 public:
  /// Empty: neither a result nor the peer's error (a local failure).
  reply() = default;
  /// Holds the result.
  explicit reply(T result) : result_(std::move(result)) {}
  /// Holds the peer's error.
  explicit reply(rpc_error error) : error_(std::move(error)) {}

  /// Whether it holds a result.
  bool ok() const noexcept { return result_.has_value(); }
  /// The result; throws the peer's error (or a decoding/transport error) when there is none.
  const T& value() const {
    if (!result_) {
      if (error_) throw *error_;
      throw bsonrpc::error(errc::internal_error, "the call did not complete with a result");
    }
    return *result_;
  }
  /// The peer's error object, or nullptr (success, or a failure that is not a peer error).
  const rpc_error* error() const noexcept { return error_ ? &*error_ : nullptr; }

 private:
  std::optional<T> result_;
  std::optional<rpc_error> error_;
};

template <class T>
struct is_reply : std::false_type {};
template <class T>
struct is_reply<reply<T>> : std::true_type {};

namespace detail {
// std::make_exception_ptr(E(args...)), with the temporary E gone before this returns: the
// exception object then shares its message (libstdc++'s reference-counted string) with
// nothing that dies on this thread after another thread has read it, a release ThreadSanitizer
// cannot see through libstdc++'s atomic count and reports as a race.
template <class E, class... Args>
std::exception_ptr make_error_ptr(Args&&... args) {
  return std::make_exception_ptr(E(std::forward<Args>(args)...));
}

// The exception a caller receives for an error response from the peer: the predefined class
// for the predefined codes, rpc_error for the rest.
[[noreturn]] inline void throw_peer_error(int code, const std::string& message, value data,
                                          bool has_data) {
  auto raise = [&](auto tag) -> void {
    using E = decltype(tag);
    if (has_data) throw E(message, std::move(data));
    throw E(message);
  };
  switch (static_cast<errc>(code)) {
    case errc::parse_error: raise(parse_error{}); break;
    case errc::invalid_request: raise(invalid_request{}); break;
    case errc::method_not_found: raise(method_not_found{}); break;
    case errc::invalid_params: raise(invalid_params{}); break;
    case errc::internal_error: raise(internal_error{}); break;
    case errc::server_error: raise(server_error{}); break;
    default: break;
  }
  if (has_data) throw rpc_error(code, message, std::move(data));
  throw rpc_error(code, message);
}
}  // namespace detail

}  // namespace bsonrpc

