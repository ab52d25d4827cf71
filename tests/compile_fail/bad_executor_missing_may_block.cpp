// Must not compile: an Executor whose runtime lacks may_block(). executor_static_asserts names
// the missing member with its signature, and no other check fails.
// Expected first error: "Executor: runtime lacks `bool may_block() const`".
#include <bsonrpc/executor/executor.hpp>

#include <chrono>
#include <functional>

namespace demo {

struct InlineExecutor {
  class runtime {
   public:
    runtime(const asio::any_io_executor&, const bsonrpc::Options&) {}
    void start(std::function<bool()>) {}
    void post_request(std::function<void()> task) { task(); }
    void post_notification(std::function<void()> task) { task(); }
    void wait_for_notification_handlers() const {}
    struct scope {};
    scope blocking_scope() const { return {}; }
    void join() {}
    void release(const std::function<bool(std::chrono::milliseconds)>&) {}
  };
};

}  // namespace demo

static_assert(sizeof(bsonrpc::executor_static_asserts<demo::InlineExecutor>));

int main() {}
