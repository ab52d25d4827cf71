// Must not compile: an Rpc whose Executor policy's runtime lacks may_block(). The first error
// the user reads is the concept's, from where Rpc is instantiated, not one from deep inside
// the connection.
#include <bsonrpc/json_rpc.hpp>

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
    void read_until(const std::function<bool()>&, std::chrono::steady_clock::time_point) {}
    void handler_returned() {}
    void join() {}
    void release(const std::function<bool(std::chrono::milliseconds)>&) {}
  };
};

}  // namespace demo

int main() {
  asio::io_context io;
  bsonrpc::JsonRpc<bsonrpc::Rfc7464, demo::InlineExecutor> rpc(asio::ip::tcp::socket{io});
}
