// bsonrpc/options.hpp: Options, one plain aggregate with every knob and its default.
#pragma once

#include <bsonrpc/discover.hpp>
#include <bsonrpc/hooks.hpp>
#include <bsonrpc/log.hpp>
#include <bsonrpc/protocol.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

namespace bsonrpc {

/// How a call or notification without arguments presents `params` on the wire (as in the
/// original library's `no_arguments_presentation`).
enum class no_arguments {
  omit,         ///< no params member
  empty_array,  ///< "params": []
  empty_object  ///< "params": {}
};

/// The method of the keepalive ping (Options::keepalive_interval). No peer is expected to
/// implement it: its -32601 Method not found answer proves the peer alive as well as a result.
inline constexpr std::string_view keepalive_method = "rpc.ping";

/// A connection's limits and behaviour; every member has a safe default.
struct Options {
  /// Largest incoming message accepted; a frame announcing more is refused before buffering.
  std::size_t max_message_bytes = 16 * 1024 * 1024;
  /// Deepest nesting of arrays/objects accepted in an incoming message.
  std::size_t max_depth = 128;
  /// Most entries accepted in one incoming batch; a longer batch gets a single Invalid Request.
  std::size_t max_batch_size = 1000;
  /// How outgoing calls without arguments present their params.
  no_arguments no_arguments_presentation = no_arguments::omit;
  /// Default time a blocking call waits for its response; nullopt waits forever.
  std::optional<std::chrono::milliseconds> default_timeout = std::nullopt;
  /// Request handlers running at once per connection (the original's concurrent_request_handling).
  std::size_t max_concurrent_requests = 8;
  /// Whether notification handlers may run concurrently (they run in arrival order by default,
  /// and a blocking call returns after the handlers of notifications read before its reply).
  bool concurrent_notification_handling = false;
  /// Most bytes queued for sending per connection: past it, call and notify fail with
  /// errc::backpressure, and the connection stops reading requests until the peer drains it.
  std::size_t max_pending_outgoing_bytes = 64 * 1024 * 1024;
  /// Requests and notifications received but not yet handled, per connection: past it, the
  /// connection stops reading until handlers catch up (a peer cannot queue work without bound).
  std::size_t max_pending_requests = 1024;
  /// Longest a started message may take to arrive in full (slow-drip peers); past it the
  /// connection closes. nullopt: no limit.
  std::optional<std::chrono::milliseconds> partial_message_timeout = std::chrono::seconds(30);
  /// Closes a connection that carried no traffic for this long: no byte read or written, or,
  /// with keepalive_interval set, no byte read (our pings do not count). Pending calls then
  /// fail with connection_closed. nullopt: never.
  std::optional<std::chrono::milliseconds> idle_timeout = std::nullopt;
  /// After this long without a byte read, sends a ping (a request for keepalive_method; any
  /// answer will do), one at a time: a live but idle peer answers and stays connected; with
  /// idle_timeout, a peer that stops answering is closed on within idle_timeout of the last
  /// byte it sent. nullopt: no pings.
  std::optional<std::chrono::milliseconds> keepalive_interval = std::nullopt;
  /// EventLoop only: where handlers run, e.g. [&pool](auto task) { asio::post(pool, task); }
  /// for handlers that block. Empty: on the connection's strand, as each message is read.
  std::function<void(std::function<void()>)> handler_runner;
  /// Where log lines go (nothing by default; stderr_log_sink() is ready to use).
  bsonrpc::log_sink log;
  /// Rewrites log lines before the sink sees them, e.g. to redact secrets.
  bsonrpc::log_filter log_filter;
  /// Message hooks (middleware; see bsonrpc/hooks.hpp), in order from the wire inwards: incoming
  /// messages pass them first to last, outgoing ones last to first. Empty: no hook runs, at no
  /// cost. Copies of Options share each hook's target (one metrics table for every connection).
  std::vector<hook> hooks;
  /// Which protocol's cancellation and progress messages this side sends and honours
  /// (bsonrpc/protocol.hpp): protocol::lsp() ($/cancelRequest, $/progress), protocol::mcp()
  /// (notifications/cancelled, notifications/progress). none() (the default): neither, as if
  /// the messages were any others. With a profile its cancel notifications (outside batches)
  /// are the connection's own, never a handler's; progress reports go to a handler only when
  /// their token is none of ours. A hook that filters methods (allow_methods) must let them in.
  bsonrpc::protocol::profile protocol = bsonrpc::protocol::none();
  /// Answers the request rpc.discover with an OpenRPC document of the methods registered on
  /// the connection, `info` being this (bsonrpc/discover.hpp). nullopt (the default): no
  /// rpc.discover, which is Method not found as any other unregistered name.
  std::optional<discover_info> discover = std::nullopt;
};

}  // namespace bsonrpc
