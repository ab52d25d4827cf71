// bsonrpc/hooks.hpp: message hooks (middleware), an ordered chain of callables that see every
// message an Rpc receives or sends, in the codec's decoded form, and may pass it on, rewrite
// it, answer or reject it, or drop it. Set them in Options::hooks:
//
//   bsonrpc::hooks::metrics metrics;  // bsonrpc/hooks/metrics.hpp
//   bsonrpc::Options options;
//   options.hooks = {metrics, bsonrpc::hooks::allow_methods({"add"})};
//
// A hook is any copyable callable taking `hook_message<V>&`, V being the codec's value type
// (nlohmann::json for JsonCodec, bsonrpc::value for BsonCodec). A generic lambda
// `[](auto& m) {...}` or a class with a template operator() serves both codecs, and must then
// compile for both (read values through value_traits<V>); one taking
// `hook_message<nlohmann::json>&` serves JSON only, and an Rpc with another codec refuses it
// (std::invalid_argument from its constructor). Copies of a hook share one target object.
//
// Who sent a message: hook_message::remote() is the connection's peer_identity (endpoint, TLS
// peer certificate; bsonrpc/peer_identity.hpp), as a handler's Context::remote() is.
//
// Order: hooks are layers between the wire (before the first hook) and the application (after
// the last). Incoming messages pass them first to last, outgoing ones last to first. A request
// answered by a hook goes back only through the hooks it had passed, in reverse.
//
// What a hook may do, per message (a hook that does nothing passes the message on):
//   - rewrite it through value(); the library reads the message afresh after each hook. An
//     incoming message that no longer is a valid one stops the chain and is treated as such
//     input (-32600 when it has an id). An outgoing message is sent as the hooks leave it,
//     except a call whose id a hook changed or removed: no response could ever reach it, so
//     it fails at once with internal_error and is not sent.
//   - answer(result) or reject(error) a request: whoever waits for its outcome gets that
//     instead, and the request goes no further. An incoming request's reply goes back to the
//     peer and its handler never runs; an outgoing call completes locally and is never sent.
//   - answer or reject a response (incoming or outgoing): it is replaced by that result or
//     error, for the same id, and the chain goes on.
//   - drop() a notification: an incoming one never reaches its handler, an outgoing one is
//     not sent. reject() on a notification drops it too (a notification is never answered,
//     JSON-RPC 2.0 section 4.1). answer() on a notification, or drop() on anything else,
//     throws std::logic_error.
//   - throw: the library logs what() and acts as if the hook had called
//     reject(-32603, "Internal error"): an incoming request gets that error (the connection
//     stays open, nothing of the exception reaches the peer), a notification is dropped, a
//     response or an outgoing call turns into that error.
// Batches are screened element by element (in_batch() is true), in both directions: a hook
// answers, rejects or drops single entries of a batch; answered entries' replies join the
// batch's reply. Invalid messages, which no hook sees, are answered by the library; the error
// replies it sends for them (and for undecodable input) do pass the outgoing hooks.
//
// Threads: hooks must be thread-safe, since one Options (and its hooks) may serve many
// connections, and outgoing messages are hooked on the thread that sends them. Incoming
// messages are hooked on the connection's strand, one at a time in arrival order, before any
// handler is scheduled: the connection's I/O thread with Threads, a thread running the
// io_context with EventLoop. Replies are hooked where their handler finished (a worker thread
// with Threads; the strand with EventLoop, or Options::handler_runner's thread when set);
// calls and notifications on the thread making them. A hook must not block: it holds up its
// connection's reading. Nor may it make blocking calls (on an I/O thread they are refused,
// which fails the hook).
//
// Cost: with no hooks (Options::hooks empty) the library takes none of these paths: no copy,
// no allocation, no clock read; one emptiness test per message.
//
// Includes: no codec. nlohmann::json is only forward-declared here, by nlohmann's own
// <nlohmann/json_fwd.hpp> (a few standard headers and one declaration; not the whole of
// <nlohmann/json.hpp>), so Options and the executors cost a BSON-only program almost nothing of
// nlohmann and a JSON-only one nothing of libbson. Turning a generic hook (a template
// operator(), `[](auto& m) {...}`) into a `hook` instantiates it for hook_message<nlohmann::json>
// too: if its body reads the value (V's members, value_traits<V>), nlohmann::json must be complete
// there, so include <bsonrpc/codec/json.hpp> (bsonrpc.hpp and rpc.hpp do).
#pragma once

#include <bsonrpc/errors.hpp>
#include <bsonrpc/peer_identity.hpp>
#include <bsonrpc/value.hpp>

// nlohmann installs json_fwd.hpp always from 3.11.2, before that only as a multi-header install.
#if __has_include(<nlohmann/json_fwd.hpp>)
#include <nlohmann/json_fwd.hpp>
#else
#include <nlohmann/json.hpp>
#endif

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace bsonrpc {

/// Which way a message passes the hooks.
enum class hook_direction {
  incoming,  ///< read from the peer: hooks run first to last
  outgoing   ///< sent by this side: hooks run last to first
};

/// What a message is. No kind for batches: hooks see a batch's entries one by one.
enum class hook_kind {
  request,       ///< has a method and an id
  notification,  ///< has a method, no id
  response,      ///< a result for a request
  error,         ///< an error response
};

namespace detail {
template <class Codec>
class hook_chain;
}

/// One message on its way through the hooks.
template <class V>
class hook_message {
 public:
  /// Whether the message was read from the peer or is being sent.
  hook_direction direction() const noexcept { return direction_; }
  /// Request, notification, response or error.
  hook_kind kind() const noexcept { return kind_; }
  /// direction() == hook_direction::incoming.
  bool is_incoming() const noexcept { return direction_ == hook_direction::incoming; }
  /// A request or notification: its method. A reply this side sends: the method of the request
  /// it answers (empty for replies to invalid input). An incoming response: empty.
  std::string_view method() const noexcept { return method_; }
  /// A request or response: its id (string, integer or null). A notification: nullptr.
  const V* id() const noexcept { return id_; }
  /// A request or notification: its params, nullptr when omitted.
  const V* params() const noexcept { return params_; }
  /// A response: its result. An error: the error object (integer code, string message).
  const V* result() const noexcept { return result_; }
  /// An error: the error object (integer code, string message). Otherwise nullptr.
  const V* error() const noexcept { return error_; }

  /// The whole message; a hook may change it (the library reads it afresh after each hook).
  V& value() noexcept { return *value_; }
  /// The whole message, read-only.
  const V& value() const noexcept { return *value_; }

  /// The connection's id, as in log lines and Context::connection_id() (0 for a dispatcher
  /// used without a connection).
  std::uint64_t connection_id() const noexcept { return connection_id_; }
  /// Who is on the other end of the connection (bsonrpc/peer_identity.hpp): endpoint and, over
  /// TLS, the peer certificate's subject and alternative names. Empty for a dispatcher used
  /// without a connection.
  const peer_identity& remote() const noexcept { return *remote_; }
  /// Whether the message is an entry of a batch.
  bool in_batch() const noexcept { return in_batch_; }
  /// An incoming message: when it was read. A reply this side sends: when its request was
  /// read. An outgoing call or notification: time_point{} (no clock is read for it).
  std::chrono::steady_clock::time_point received_at() const noexcept { return received_at_; }

  /// A request: whoever waits for it gets `result` instead. A response: its result becomes
  /// `result`. See the top of this header.
  void answer(V result) {
    if (kind_ == hook_kind::notification)
      throw std::logic_error("hook: a notification cannot be answered (drop it instead)");
    answer_.clear();
    answer_.push_back(std::move(result));
    rejection_.reset();
    settled_ = true;
  }

  /// A request: whoever waits for it gets `e` instead. A response: it becomes the error `e`.
  /// A notification: dropped.
  void reject(rpc_error e) {
    rejection_ = std::move(e);
    answer_.clear();
    settled_ = true;
  }
  /// As reject(rpc_error(code, message)).
  void reject(int code, const std::string& message) { reject(rpc_error(code, message)); }
  /// As reject(rpc_error(code, message, data)).
  void reject(int code, const std::string& message, bsonrpc::value data) {
    reject(rpc_error(code, message, std::move(data)));
  }

  /// A notification: it goes no further (no handler runs, nothing is sent).
  void drop() {
    if (kind_ != hook_kind::notification)
      throw std::logic_error("hook: only a notification can be dropped (answer or reject it)");
    settled_ = true;
  }

  /// Whether a hook has answered, rejected or dropped the message.
  bool is_settled() const noexcept { return settled_; }

 private:
  template <class Codec>
  friend class detail::hook_chain;

  hook_message(V& message, hook_direction direction, std::uint64_t connection_id, bool in_batch,
               std::chrono::steady_clock::time_point received_at, const peer_identity& remote)
      : value_(&message),
        direction_(direction),
        connection_id_(connection_id),
        in_batch_(in_batch),
        received_at_(received_at),
        remote_(&remote) {}

  V* value_;
  hook_direction direction_;
  hook_kind kind_ = hook_kind::request;
  std::string_view method_;
  const V* id_ = nullptr;
  const V* params_ = nullptr;
  const V* result_ = nullptr;
  const V* error_ = nullptr;
  std::uint64_t connection_id_;
  bool in_batch_;
  std::chrono::steady_clock::time_point received_at_;
  const peer_identity* remote_;
  bool settled_ = false;
  // The answer, if any: at most one element. A vector, not std::optional, because a vector
  // member leaves hook_message<V> instantiable while V is incomplete (nlohmann::json here), as
  // `hook` needs to test callables against hook_message<nlohmann::json>&.
  std::vector<V> answer_;
  std::optional<rpc_error> rejection_;
};

/// Whether F can be a hook for messages of value type V.
template <class F, class V>
inline constexpr bool is_hook_for_v = std::is_invocable_v<F&, hook_message<V>&>;

/// One hook, type-erased: a callable for hook_message<nlohmann::json>& and/or
/// hook_message<bsonrpc::value>& (the value types of every codec the library ships).
class hook {
 public:
  /// Wraps the callable `f`, which takes hook_message<nlohmann::json>& and/or
  /// hook_message<bsonrpc::value>&; copies of the hook share it. Implicit, so that
  /// `options.hooks = {a, b}` reads naturally.
  template <class F, class = std::enable_if_t<!std::is_same_v<std::decay_t<F>, hook>>>
  hook(F&& f)  // NOLINT: implicit, so that `options.hooks = {a, b}` reads naturally
      : target_(std::make_shared<std::decay_t<F>>(std::forward<F>(f))) {
    using T = std::decay_t<F>;
    static_assert(is_hook_for_v<T, nlohmann::json> || is_hook_for_v<T, value>,
                  "a hook is a callable taking bsonrpc::hook_message<V>& for V = nlohmann::json "
                  "(JsonCodec) or bsonrpc::value (BsonCodec)");
    if constexpr (is_hook_for_v<T, nlohmann::json>) json_ = &call<T, nlohmann::json>;
    if constexpr (is_hook_for_v<T, value>) value_ = &call<T, value>;
  }

  /// Whether this hook handles messages whose value type is V.
  template <class V>
  bool serves() const noexcept {
    return entry<V>() != nullptr;
  }

  /// Runs the hook. Precondition: serves<V>().
  template <class V>
  void operator()(hook_message<V>& m) const {
    entry<V>()(target_.get(), m);
  }

 private:
  template <class T, class V>
  static void call(void* target, hook_message<V>& m) {
    (*static_cast<T*>(target))(m);
  }

  template <class V>
  auto entry() const noexcept {
    using fn = void (*)(void*, hook_message<V>&);
    if constexpr (std::is_same_v<V, nlohmann::json>) return json_;
    else if constexpr (std::is_same_v<V, value>) return value_;
    else return fn(nullptr);
  }

  std::shared_ptr<void> target_;
  void (*json_)(void*, hook_message<nlohmann::json>&) = nullptr;
  void (*value_)(void*, hook_message<value>&) = nullptr;
};

}  // namespace bsonrpc
