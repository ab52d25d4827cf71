// bsonrpc/executor/executor.hpp: the Executor concept, checked member by member.
//
// An Executor policy (Threads, EventLoop, or your own) decides where a connection's handlers
// run, where blocking calls may wait, and how the connection's threads end. It is a type with
// a nested `runtime`, one per connection, that provides:
//
//   runtime(const asio::any_io_executor& io, const Options& options);
//       `io`: the stream's executor. Options: max_concurrent_requests, handler_runner,
//       concurrent_notification_handling, ... as the policy reads them.
//   void start(std::function<bool()> reading_done);
//       Called once, before the first read. A policy that drives the io_context itself
//       (Threads) does so until reading_done() holds.
//   void post_request(std::function<void()> task);
//       Runs a request's (or a batch's) handler task: called on the connection's strand.
//   void post_notification(std::function<void()> task);
//       Runs a notification's handler task; in arrival order unless
//       Options::concurrent_notification_handling.
//   void wait_for_notification_handlers() const;
//       Returns once the notification tasks posted so far have run, where they run in order
//       (a blocking call returns after the notifications read before its reply). It may return
//       at once where waiting could deadlock (from a notification handler).
//   blocking_scope() const;
//       Returns an object held while a thread waits for the peer (Threads lends the waiting
//       handler's pool slot to others, so a peer calling back is still served).
//   void read_until(const std::function<bool()>& ready,
//                   std::chrono::steady_clock::time_point deadline);
//       Called by a blocking caller (inside blocking_scope) before it waits for its reply: a
//       policy may read on the calling thread until ready() or the deadline, so the caller
//       reads its own reply. It may return at any time; the caller then waits as usual.
//   bool may_block() const;
//       Whether a blocking call may wait on the calling thread (not on a thread that must
//       read the very reply it would wait for).
//   void handler_returned();
//       Called on the handler's thread once a handler (or a batch) has returned, before its
//       reply is written: a policy that counts running handlers frees the slot here, so the
//       peer's next request, sent on receipt of this reply, finds it free. A no-op elsewhere.
//   void join();
//       After the connection finished (Rpc::join): joins the policy's threads, unless called
//       from one of them.
//   void release(const std::function<bool(std::chrono::milliseconds)>& wait_finished);
//       From the Rpc destructor, after close(): waits (bounded, through wait_finished) for the
//       handlers and joins the policy's threads, or does nothing where there are none to join.
#pragma once

#include <bsonrpc/options.hpp>

#include <asio.hpp>

#include <chrono>
#include <functional>
#include <type_traits>
#include <utility>

namespace bsonrpc {

namespace detail::executor_concept {
template <class, class = void>
struct has_runtime : std::false_type {};
template <class E>
struct has_runtime<E, std::void_t<typename E::runtime>> : std::true_type {};

template <class R, class = void>
struct constructible : std::false_type {};
template <class R>
struct constructible<R, std::enable_if_t<std::is_constructible_v<
                            R, const asio::any_io_executor&, const Options&>>> : std::true_type {};

#define BSONRPC_DETAIL_EXECUTOR_MEMBER(name, expression)                          \
  template <class, class = void>                                                  \
  struct name : std::false_type {};                                               \
  template <class R>                                                              \
  struct name<R, std::void_t<decltype(expression)>> : std::true_type {};
BSONRPC_DETAIL_EXECUTOR_MEMBER(has_start,
                               std::declval<R&>().start(std::declval<std::function<bool()>>()))
BSONRPC_DETAIL_EXECUTOR_MEMBER(has_post_request, std::declval<R&>().post_request(
                                                     std::declval<std::function<void()>>()))
BSONRPC_DETAIL_EXECUTOR_MEMBER(has_post_notification, std::declval<R&>().post_notification(
                                                          std::declval<std::function<void()>>()))
BSONRPC_DETAIL_EXECUTOR_MEMBER(has_wait_for_notification_handlers,
                               std::declval<const R&>().wait_for_notification_handlers())
BSONRPC_DETAIL_EXECUTOR_MEMBER(has_blocking_scope, std::declval<const R&>().blocking_scope())
BSONRPC_DETAIL_EXECUTOR_MEMBER(has_read_until,
                               std::declval<R&>().read_until(
                                   std::declval<const std::function<bool()>&>(),
                                   std::declval<std::chrono::steady_clock::time_point>()))
BSONRPC_DETAIL_EXECUTOR_MEMBER(has_may_block, bool{std::declval<const R&>().may_block()})
BSONRPC_DETAIL_EXECUTOR_MEMBER(has_handler_returned, std::declval<R&>().handler_returned())
BSONRPC_DETAIL_EXECUTOR_MEMBER(has_join, std::declval<R&>().join())
BSONRPC_DETAIL_EXECUTOR_MEMBER(
    has_release,
    std::declval<R&>().release(
        std::declval<const std::function<bool(std::chrono::milliseconds)>&>()))
#undef BSONRPC_DETAIL_EXECUTOR_MEMBER

template <class E, bool = has_runtime<E>::value>
struct runtime_of {
  using type = void;
};
template <class E>
struct runtime_of<E, true> {
  using type = typename E::runtime;
};
}  // namespace detail::executor_concept

/// Whether E models the Executor concept.
template <class E>
constexpr bool is_executor() {
  namespace c = detail::executor_concept;
  using R = typename c::runtime_of<E>::type;
  return c::has_runtime<E>::value && c::constructible<R>::value && c::has_start<R>::value &&
         c::has_post_request<R>::value && c::has_post_notification<R>::value &&
         c::has_wait_for_notification_handlers<R>::value && c::has_blocking_scope<R>::value &&
         c::has_read_until<R>::value && c::has_may_block<R>::value &&
         c::has_handler_returned<R>::value &&
         c::has_join<R>::value && c::has_release<R>::value;
}
/// is_executor<E>().
template <class E>
inline constexpr bool is_executor_v = is_executor<E>();

/// Instantiate (`static_assert(sizeof(executor_static_asserts<E>))`) to check E: each missing
/// member fails with its own message, and only that one.
template <class E>
struct executor_static_asserts {
  using R = typename detail::executor_concept::runtime_of<E>::type;  ///< E::runtime, or void
  /// Whether the runtime R passes the member check Has.
  template <template <class, class> class Has>
  static constexpr bool has = Has<R, void>::value;
  static_assert(detail::executor_concept::has_runtime<E>::value,
                "Executor: missing the nested `class runtime` (one per connection)");
  static_assert(!detail::executor_concept::has_runtime<E>::value ||
                    detail::executor_concept::constructible<R>::value,
                "Executor: runtime needs a constructor "
                "`runtime(const asio::any_io_executor& io, const Options& options)`");
  static_assert(!detail::executor_concept::has_runtime<E>::value ||
                    has<detail::executor_concept::has_start>,
                "Executor: runtime lacks `void start(std::function<bool()> reading_done)`");
  static_assert(!detail::executor_concept::has_runtime<E>::value ||
                    has<detail::executor_concept::has_post_request>,
                "Executor: runtime lacks `void post_request(std::function<void()> task)`");
  static_assert(!detail::executor_concept::has_runtime<E>::value ||
                    has<detail::executor_concept::has_post_notification>,
                "Executor: runtime lacks `void post_notification(std::function<void()> task)`");
  static_assert(!detail::executor_concept::has_runtime<E>::value ||
                    has<detail::executor_concept::has_wait_for_notification_handlers>,
                "Executor: runtime lacks `void wait_for_notification_handlers() const`");
  static_assert(!detail::executor_concept::has_runtime<E>::value ||
                    has<detail::executor_concept::has_blocking_scope>,
                "Executor: runtime lacks `blocking_scope() const` (an object held while a "
                "thread waits for the peer)");
  static_assert(!detail::executor_concept::has_runtime<E>::value ||
                    has<detail::executor_concept::has_read_until>,
                "Executor: runtime lacks `void read_until(const std::function<bool()>& ready, "
                "std::chrono::steady_clock::time_point deadline)`");
  static_assert(!detail::executor_concept::has_runtime<E>::value ||
                    has<detail::executor_concept::has_may_block>,
                "Executor: runtime lacks `bool may_block() const`");
  static_assert(!detail::executor_concept::has_runtime<E>::value ||
                    has<detail::executor_concept::has_handler_returned>,
                "Executor: runtime lacks `void handler_returned()`");
  static_assert(!detail::executor_concept::has_runtime<E>::value ||
                    has<detail::executor_concept::has_join>,
                "Executor: runtime lacks `void join()`");
  static_assert(!detail::executor_concept::has_runtime<E>::value ||
                    has<detail::executor_concept::has_release>,
                "Executor: runtime lacks `void release(const std::function<bool("
                "std::chrono::milliseconds)>& wait_finished)`");
  static constexpr bool value = is_executor<E>();  ///< is_executor<E>(), once every check passed
};

}  // namespace bsonrpc
