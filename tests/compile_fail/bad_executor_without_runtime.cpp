// Must not compile: an Executor policy with no nested runtime, say a plain Asio executor passed
// where the policy goes. One message names what is missing, and no other check fails.
// Expected first error: "Executor: missing the nested `class runtime`".
#include <bsonrpc/executor/executor.hpp>

namespace demo {
struct NotAnExecutor {};
}  // namespace demo

static_assert(sizeof(bsonrpc::executor_static_asserts<demo::NotAnExecutor>));

int main() {}
