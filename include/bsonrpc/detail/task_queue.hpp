// bsonrpc/detail/task_queue.hpp: a first-in first-out queue that holds no memory while empty.
//
// A std::deque allocates a map and a first 512-byte block as soon as it is constructed, and
// keeps them: every idle connection paid 576 bytes for each queue of its executor (one with
// EventLoop, four with Threads) before any task ran. This queue is a vector read from an
// advancing front. It drops its storage whenever it empties, and moves the rest forward once
// the consumed front is the larger part, so a queue that never empties holds at most about
// twice its backlog. Not thread-safe: its owner's lock guards it.
#pragma once

#include <cstddef>
#include <utility>
#include <vector>

namespace bsonrpc::detail {

template <class T>
class task_queue {
 public:
  task_queue() = default;
  task_queue(task_queue&& other) noexcept
      : items_(std::move(other.items_)), front_(std::exchange(other.front_, 0)) {
    other.items_.clear();
  }
  task_queue& operator=(task_queue&& other) noexcept {
    if (this != &other) {
      items_ = std::move(other.items_);
      front_ = std::exchange(other.front_, 0);
      other.items_.clear();
    }
    return *this;
  }
  task_queue(const task_queue&) = delete;
  task_queue& operator=(const task_queue&) = delete;

  bool empty() const noexcept { return front_ == items_.size(); }
  std::size_t size() const noexcept { return items_.size() - front_; }

  void push_back(T item) { items_.push_back(std::move(item)); }

  // The oldest item; the queue must not be empty.
  T& front() { return items_[front_]; }

  // Destroys the oldest item (what a task captured goes now, not when the queue empties).
  void pop_front() {
    items_[front_] = T();
    if (++front_ == items_.size()) {
      clear();
    } else if (front_ >= compact_after && 2 * front_ >= items_.size()) {
      items_.erase(items_.begin(), items_.begin() + static_cast<std::ptrdiff_t>(front_));
      front_ = 0;
    }
  }

  // Destroys every item and frees the storage.
  void clear() noexcept {
    std::vector<T>().swap(items_);
    front_ = 0;
  }

  auto begin() noexcept { return items_.begin() + static_cast<std::ptrdiff_t>(front_); }
  auto end() noexcept { return items_.end(); }

 private:
  static constexpr std::size_t compact_after = 32;

  std::vector<T> items_;
  std::size_t front_ = 0;  // items_[0, front_) are consumed (empty)
};

}  // namespace bsonrpc::detail
