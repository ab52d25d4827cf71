// bsonrpc/execution.hpp: where a registered method's handler runs, declared at registration.
//
//   BSONRPC_SERVICE(Server,
//     BSONRPC_REQUEST(echo, text).runs(bsonrpc::execution::in_place),
//     BSONRPC_RPC_REQUEST(sleep_ms, ms).runs(bsonrpc::execution::concurrent))
//
// The policy applies per method, to requests and notifications alike; a batch still runs as
// one task, as without a policy. Coroutine handlers (C++20) ignore it: they run on the
// connection's I/O executor whatever it says.
#pragma once

namespace bsonrpc {

/// Where a registered method's handler runs: `.runs(...)` on its registration.
enum class execution {
  /// Where the Executor runs handlers without a policy (Threads: requests on the pool,
  /// notifications one at a time in arrival order; EventLoop: on the strand, or on
  /// Options::handler_runner when set).
  standard,
  /// On the connection's strand, where the message was read, before the next one is read: no
  /// hand-off to another thread. The handler must not block; a blocking call (call,
  /// batch_call) from it is refused with errc::internal_error, as on the I/O thread.
  in_place,
  /// Where the Executor runs requests concurrently (Threads: the pool; EventLoop: the
  /// handler_runner). EventLoop without a handler_runner has nowhere else: it runs them in
  /// place, as it does every handler.
  concurrent,
  /// One at a time in arrival order, per connection, on the same threads as `concurrent`:
  /// every serial method of a connection shares one lane (requests and notifications).
  serial,
};

}  // namespace bsonrpc
