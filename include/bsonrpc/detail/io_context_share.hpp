// bsonrpc/detail/io_context_share.hpp: how many Threads connections drive one io_context.
//
// A Threads connection's threads run the socket's io_context themselves. When several
// connections share one io_context (every connection a plain accept loop hands out, or both
// ends of a pair in one process), any of their threads may run any connection's completion:
// an empty completion posted to wake one particular thread may wake another, and a reply may
// be read on a thread other than the caller's that holds the reading role. The runtimes then
// wait for what they expect in short slices instead of relying on a wake-up.
#pragma once

#include <asio.hpp>

#include <atomic>

namespace bsonrpc::detail {

// An Asio service, one per io_context: the count of Threads runtimes attached to it.
class io_context_share : public asio::execution_context::service {
 public:
  using key_type = io_context_share;
  static inline asio::execution_context::id id;

  explicit io_context_share(asio::execution_context& context) : service(context) {}

  // A runtime attaches (+1) when it is created, detaches (-1) when destroyed.
  void count(int delta) noexcept { runtimes_.fetch_add(delta, std::memory_order_relaxed); }
  // Whether another runtime drives the same io_context.
  bool shared() const noexcept { return runtimes_.load(std::memory_order_relaxed) > 1; }

 private:
  void shutdown() override {}

  std::atomic<int> runtimes_{0};
};

}  // namespace bsonrpc::detail
