// conformance/services.hpp: the services of CONFORMANCE.md, one object per connection, and the
// client-side services (swapper, report_progress) of the original README's scenarios.
#pragma once

#include <bsonrpc/bsonrpc.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <limits>
#include <mutex>
#include <optional>
#include <ostream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace conformance {
// fail()'s optional `data`: an explicit null is data too, unlike an omitted parameter.
struct error_data {
  bsonrpc::value data;
};
}  // namespace conformance

namespace bsonrpc {
// Reads fail()'s `data` as given, null included; an omitted `data` stays nullopt.
template <class V>
struct converter<V, std::optional<conformance::error_data>> {
  static V to_value(const std::optional<conformance::error_data>& d) {
    return d ? bsonrpc::to_value<V>(d->data) : value_traits<V>::make_null();
  }
  static std::optional<conformance::error_data> from_value(const V& v) {
    return conformance::error_data{bsonrpc::from_value<bsonrpc::value>(v)};
  }
};
}  // namespace bsonrpc

namespace conformance {

// `text` reversed by Unicode code point; bytes that are not valid UTF-8 move one by one.
inline std::string reverse_code_points(const std::string& text) {
  std::vector<std::pair<std::size_t, std::size_t>> units;  // offset, length
  for (std::size_t i = 0; i < text.size();) {
    const auto lead = static_cast<unsigned char>(text[i]);
    std::size_t n = lead < 0x80 ? 1 : lead >= 0xF0 && lead < 0xF8 ? 4 : lead >= 0xE0 ? 3
                                                                   : lead >= 0xC0 ? 2 : 1;
    if (lead >= 0xF8 || i + n > text.size()) n = 1;
    for (std::size_t k = 1; k < n; ++k)
      if ((static_cast<unsigned char>(text[i + k]) & 0xC0) != 0x80) n = 1;
    units.emplace_back(i, n);
    i += n;
  }
  std::string out;
  out.reserve(text.size());
  for (auto it = units.rbegin(); it != units.rend(); ++it) out.append(text, it->first, it->second);
  return out;
}

// a + b or a * b with JSON-RPC's expectations: integers stay integers (int32 while both are
// int32 and the result fits, else int64); a double operand or an int64 overflow gives a double.
inline bsonrpc::value arithmetic(const bsonrpc::value& a, const bsonrpc::value& b, char op,
                                 const char* method) {
  auto as_double = [](const bsonrpc::value& v) -> std::optional<double> {
    if (const auto* i = v.get_if<std::int32_t>()) return *i;
    if (const auto* i = v.get_if<std::int64_t>()) return static_cast<double>(*i);
    if (const auto* d = v.get_if<double>()) return *d;
    return std::nullopt;
  };
  const auto x = as_double(a), y = as_double(b);
  if (!x || !y)
    throw bsonrpc::invalid_params("Invalid params",
                                  std::string(method) + ": operands must be numbers");
  if (a.is_integer() && b.is_integer()) {
    auto wide = [](const bsonrpc::value& v) -> std::int64_t {
      if (const auto* i = v.get_if<std::int32_t>()) return *i;
      return v.get<std::int64_t>();
    };
    std::int64_t r = 0;
    const bool overflow = op == '+' ? __builtin_add_overflow(wide(a), wide(b), &r)
                                    : __builtin_mul_overflow(wide(a), wide(b), &r);
    if (!overflow) {
      const bool fits32 = r >= std::numeric_limits<std::int32_t>::min() &&
                          r <= std::numeric_limits<std::int32_t>::max();
      if (a.is<std::int32_t>() && b.is<std::int32_t>() && fits32)
        return static_cast<std::int32_t>(r);
      return r;
    }
  }
  return op == '+' ? *x + *y : *x * *y;
}


// Counts the request handlers running, so that shutdown can let them finish first.
class in_flight_counter {
 public:
  class scope {
   public:
    explicit scope(std::atomic<int>& n, bool counted = false) : n_(n) {
      if (!counted) ++n_;
    }
    ~scope() { --n_; }
    scope(const scope&) = delete;
    scope& operator=(const scope&) = delete;

   private:
    std::atomic<int>& n_;
  };
  scope track() { return scope(n_); }
  // For work counted from when it is queued: queued() there, then hold `finished()` in it.
  void queued() { ++n_; }
  scope finished() { return scope(n_, true); }
  int running() const { return n_.load(); }

 private:
  std::atomic<int> n_{0};
};

// The server side: one object per connection, so `record` and `stats` are per connection.
class services {
 public:
  services(in_flight_counter& in_flight, bsonrpc::log_sink log)
      : in_flight_(in_flight), log_(std::move(log)) {}

  // any_value keeps the value in the codec it came in, so BSON types survive byte for byte.
  bsonrpc::any_value echo(const bsonrpc::any_value& value) {
    auto busy = in_flight_.track();
    return value;
  }

  std::string swapper(const std::string& txt) {
    auto busy = in_flight_.track();
    return reverse_code_points(txt);
  }

  std::string echo_times(const std::string& txt, std::int64_t n) {
    auto busy = in_flight_.track();
    if (n < 0 || (txt.size() > 0 && static_cast<std::uint64_t>(n) > max_result_bytes / txt.size()))
      throw bsonrpc::invalid_params("Invalid params", "echo_times: n is negative or too large");
    std::string out;
    out.reserve(txt.size() * static_cast<std::size_t>(n));
    for (std::int64_t i = 0; i < n; ++i) out += txt;
    return out;
  }

  bsonrpc::value add(const bsonrpc::value& a, const bsonrpc::value& b) {
    auto busy = in_flight_.track();
    return arithmetic(a, b, '+', "add");
  }

  // Blocks only this handler's thread (it runs concurrent): the others run meanwhile.
  void sleep_ms(std::int64_t ms) {
    auto busy = in_flight_.track();
    if (ms < 0 || ms > 600'000)
      throw bsonrpc::invalid_params("Invalid params", "sleep_ms: ms must be within 0..600000");
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  }

  std::nullptr_t fail(int code, const std::string& message, const std::optional<error_data>& data) {
    auto busy = in_flight_.track();
    if (data) throw bsonrpc::rpc_error(code, message, data->data);
    throw bsonrpc::rpc_error(code, message);
  }

  // Any other exception becomes -32000 "Server error" with its what() as data.
  std::nullptr_t throw_error(const std::string& message) {
    auto busy = in_flight_.track();
    throw std::runtime_error(message);
  }

  bsonrpc::value long_process(bsonrpc::Context& rpc, const bsonrpc::value& a,
                              const bsonrpc::value& b, const bsonrpc::value& c) {
    auto busy = in_flight_.track();
    const bsonrpc::value product = arithmetic(arithmetic(a, b, '*', "long_process"), c, '*',
                                              "long_process");
    rpc.notify("report_progress", "Stage 1");
    rpc.peer().n["report_progress"]("Stage 2");
    const auto swapped = rpc.call<std::string>("swapper", "TestinG");
    log(bsonrpc::log_level::info, rpc.connection_id(), "long_process: peer swapped to " + swapped);
    return product;
  }

  bool notify_back(bsonrpc::Context& rpc, const std::string& method, const bsonrpc::value& params) {
    auto busy = in_flight_.track();
    rpc.notify_value(method, checked_params(params, "notify_back"));
    return true;
  }

  // The peer's error propagates as an rpc_error, so the response carries the same code.
  bsonrpc::value call_back(bsonrpc::Context& rpc, const std::string& method,
                           const bsonrpc::value& params) {
    auto busy = in_flight_.track();
    return rpc.call_value(method, checked_params(params, "call_back"), rpc.default_timeout());
  }

  // record() runs in place, before the next message is read, but a record() inside a batch
  // runs with the batch, on another thread, and may still be queued: wait (at most a second,
  // enough for a busy machine) until as many notifications have been handled as had
  // arrived. Unknown notifications never reach us, hence the time limit.
  std::vector<bsonrpc::any_value> recorded(bsonrpc::Context& rpc) {
    auto busy = in_flight_.track();
    const std::uint64_t arrived = rpc.stats().notifications;
    std::unique_lock lock(mutex_);
    notification_done_.wait_for(lock, std::chrono::seconds(1),
                                [&] { return notifications_handled_ >= arrived; });
    return record_;
  }

  std::string close_after(bsonrpc::Context& rpc) {
    auto busy = in_flight_.track();
    rpc.close_after_response();
    return "bye";
  }

  bsonrpc::value stats(bsonrpc::Context& rpc) {
    auto busy = in_flight_.track();
    const auto s = rpc.stats();
    return bsonrpc::document{{"requests", static_cast<std::int64_t>(s.requests)},
                             {"notifications", static_cast<std::int64_t>(s.notifications)},
                             {"errors_sent", static_cast<std::int64_t>(s.errors_sent)}};
  }

  void record(const bsonrpc::any_value& value) {
    std::lock_guard lock(mutex_);
    record_.push_back(value);
    handled_one_notification();
  }

  void report_progress(bsonrpc::Context& rpc, const std::string& txt) {
    log(bsonrpc::log_level::info, rpc.connection_id(), "report_progress: " + txt);
    std::lock_guard lock(mutex_);
    handled_one_notification();
  }

 private:
  static constexpr std::uint64_t max_result_bytes = 64 * 1024 * 1024;

  static bsonrpc::value checked_params(const bsonrpc::value& params, const char* method) {
    if (!params.is_array() && !params.is_document())
      throw bsonrpc::invalid_params("Invalid params",
                                    std::string(method) + ": params must be an array");
    return params;
  }

  void handled_one_notification() {  // with mutex_ held
    ++notifications_handled_;
    notification_done_.notify_all();
  }

  void log(bsonrpc::log_level level, std::uint64_t connection, const std::string& line) const {
    if (log_) log_(level, connection, line);
  }

  in_flight_counter& in_flight_;
  bsonrpc::log_sink log_;
  std::mutex mutex_;
  std::condition_variable notification_done_;
  std::uint64_t notifications_handled_ = 0;  // under mutex_
  std::vector<bsonrpc::any_value> record_;    // under mutex_
};

// Where each handler runs (bsonrpc/execution.hpp): the ones that sleep, wait for the peer or
// wait for notifications are concurrent, so others run meanwhile; the rest answer in place,
// on the thread that read the request, with no hand-off to a pool.
using bsonrpc::execution;
BSONRPC_SERVICE(services,
                BSONRPC_REQUEST(echo, value).runs(execution::in_place),
                BSONRPC_REQUEST(swapper, txt).runs(execution::in_place),
                BSONRPC_REQUEST(echo_times, txt, n).runs(execution::in_place),
                BSONRPC_REQUEST(add, a, b).runs(execution::in_place),
                BSONRPC_REQUEST(sleep_ms, ms).runs(execution::concurrent),
                BSONRPC_REQUEST(fail, code, message, data).runs(execution::in_place),
                BSONRPC_REQUEST(throw_error, message).runs(execution::in_place),
                BSONRPC_RPC_REQUEST(long_process, a, b, c).runs(execution::concurrent),
                BSONRPC_RPC_REQUEST(notify_back, method, params).runs(execution::in_place),
                BSONRPC_RPC_REQUEST(call_back, method, params).runs(execution::concurrent),
                BSONRPC_RPC_REQUEST(recorded).runs(execution::concurrent),
                BSONRPC_RPC_REQUEST(close_after).runs(execution::in_place),
                BSONRPC_RPC_REQUEST(stats).runs(execution::in_place),
                BSONRPC_NOTIFICATION(record, value).runs(execution::in_place),
                BSONRPC_RPC_NOTIFICATION(report_progress, txt).runs(execution::in_place))

// The client side of the original README's scenario: what the server calls back.
class client_services {
 public:
  explicit client_services(std::ostream& out) : out_(out) {}

  std::string swapper(const std::string& txt) { return reverse_code_points(txt); }

  void report_progress(const std::string& txt) {
    std::lock_guard lock(mutex_);
    out_ << "Msg from server: " << txt << std::endl;
  }

 private:
  std::ostream& out_;
  std::mutex mutex_;
};

BSONRPC_SERVICE(client_services,
                BSONRPC_REQUEST(swapper, txt),
                BSONRPC_NOTIFICATION(report_progress, txt))

}  // namespace conformance
