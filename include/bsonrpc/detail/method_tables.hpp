// bsonrpc/detail/method_tables.hpp: a dispatcher's request and notification tables, by name.
//
// Each table is a vector sorted by name: a connection's tables are a few contiguous
// allocations, not one per method (they are built for every connection, so they count in each
// idle connection's memory). Until start_dispatching(), registrations change the tables in
// place. After it, messages are looked up from other threads, so a registration copies the
// tables, adds to the copy and publishes it; a lookup never sees a table change. The replaced
// tables stay until this object goes, since handlers found in them may still be running.
// Lookups take no lock; registrations take `mutex_`.
#pragma once

#include <algorithm>
#include <atomic>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bsonrpc::detail {

template <class Entry>
class method_tables {
 public:
  using table = std::vector<std::pair<std::string, Entry>>;
  struct tables {
    table requests;
    table notifications;
  };

  method_tables() = default;
  // Moving is for a dispatcher that is not dispatching yet (or any more).
  method_tables(method_tables&& other) noexcept { take(other); }
  method_tables& operator=(method_tables&& other) noexcept {
    if (this != &other) take(other);
    return *this;
  }
  method_tables(const method_tables&) = delete;
  method_tables& operator=(const method_tables&) = delete;

  // The request (or notification) named `name`, or nullptr.
  const Entry* find_request(std::string_view name) const { return find(live().requests, name); }
  const Entry* find_notification(std::string_view name) const {
    return find(live().notifications, name);
  }
  const Entry* find(bool request, std::string_view name) const {
    return request ? find_request(name) : find_notification(name);
  }

  // Throws std::logic_error if `name` is registered already (as the same kind).
  void add(bool request, std::string name, Entry entry) {
    std::lock_guard lock(mutex_);
    std::unique_ptr<tables> copy;
    if (dispatching_) copy = std::make_unique<tables>(live());
    tables& target = copy ? *copy : initial_;
    table& methods = request ? target.requests : target.notifications;
    auto at = position(methods, name);
    if (at != methods.end() && at->first == name)
      throw std::logic_error("bsonrpc: method registered twice: " + name);
    methods.emplace(at, std::move(name), std::move(entry));
    if (copy) {
      live_.store(copy.get(), std::memory_order_release);
      replaced_.push_back(std::move(copy));
    }
  }

  // Lookups may run on other threads from now on. The tables give back the room their growth
  // left: every connection holds its own, and doubling leaves up to half of each unused.
  void start_dispatching() {
    std::lock_guard lock(mutex_);
    if (!dispatching_) {  // the live tables are still initial_: only dispatching makes copies
      initial_.requests.shrink_to_fit();
      initial_.notifications.shrink_to_fit();
    }
    dispatching_ = true;
  }

 private:
  const tables& live() const noexcept { return *live_.load(std::memory_order_acquire); }

  static typename table::const_iterator position(const table& methods, std::string_view name) {
    return std::lower_bound(methods.begin(), methods.end(), name,
                            [](const auto& e, std::string_view n) { return e.first < n; });
  }
  static const Entry* find(const table& methods, std::string_view name) {
    auto it = position(methods, name);
    return it == methods.end() || it->first != name ? nullptr : &it->second;
  }

  void take(method_tables& other) noexcept {
    const tables* theirs = other.live_.load();
    initial_ = std::move(other.initial_);
    replaced_ = std::move(other.replaced_);  // the heap tables keep their addresses
    dispatching_ = other.dispatching_;
    live_.store(theirs == &other.initial_ ? &initial_ : theirs);
    other.live_.store(&other.initial_);
  }

  tables initial_;
  std::atomic<const tables*> live_{&initial_};
  std::mutex mutex_;                                     // guards registrations
  bool dispatching_ = false;                             // under mutex_
  std::vector<std::unique_ptr<const tables>> replaced_;  // under mutex_
};

}  // namespace bsonrpc::detail
