// detail::task_queue: the executors' first-in first-out queue of tasks, which holds no
// memory while empty.
#include <bsonrpc/detail/task_queue.hpp>

#include <catch2/catch.hpp>

#include <functional>
#include <memory>
#include <utility>
#include <vector>

using bsonrpc::detail::task_queue;

TEST_CASE("task queue: items leave in the order they came, across compactions",
          "[task_queue]") {
  task_queue<int> queue;
  CHECK(queue.empty());
  int next_in = 0;
  int next_out = 0;
  // Pushes outrun pops and the queue never empties, so its consumed front is moved away
  // again and again.
  for (int round = 0; round < 50; ++round) {
    for (int i = 0; i < 7; ++i) queue.push_back(next_in++);
    for (int i = 0; i < 5; ++i) {
      REQUIRE_FALSE(queue.empty());
      CHECK(queue.front() == next_out++);
      queue.pop_front();
    }
    CHECK(queue.size() == static_cast<std::size_t>(next_in - next_out));
  }
  while (!queue.empty()) {
    CHECK(queue.front() == next_out++);
    queue.pop_front();
  }
  CHECK(next_out == next_in);
  CHECK(queue.size() == 0);
}

TEST_CASE("task queue: a popped task's captures are released at once", "[task_queue]") {
  task_queue<std::function<void()>> queue;
  auto first = std::make_shared<int>(1);
  auto second = std::make_shared<int>(2);
  queue.push_back([first] {});
  queue.push_back([second] {});
  CHECK(first.use_count() == 2);
  auto task = std::move(queue.front());
  queue.pop_front();
  task = nullptr;
  CHECK(first.use_count() == 1);   // gone, though the queue is not empty
  CHECK(second.use_count() == 2);  // still queued
  queue.clear();
  CHECK(second.use_count() == 1);
  CHECK(queue.empty());
}

TEST_CASE("task queue: iterating visits the items not yet popped; a moved-from queue is empty",
          "[task_queue]") {
  task_queue<int> queue;
  for (int i = 0; i < 5; ++i) queue.push_back(i);
  queue.pop_front();
  queue.pop_front();
  std::vector<int> seen(queue.begin(), queue.end());
  CHECK(seen == std::vector<int>{2, 3, 4});
  task_queue<int> taken = std::exchange(queue, {});
  CHECK(queue.empty());
  CHECK(queue.size() == 0);
  CHECK(taken.size() == 3);
  CHECK(taken.front() == 2);
  task_queue<int> moved(std::move(taken));
  CHECK(taken.empty());  // NOLINT(bugprone-use-after-move): moved-from state is specified
  CHECK(moved.size() == 3);
  queue.push_back(9);
  CHECK(queue.front() == 9);
}
