// Every way of calling the peer, each reduced to one line of text saying how the call ended,
// so one expectation checks them all: "rpc_error -32004 'no such blob' data={...}",
// "timeout_error 4", "connection_closed 5", "code bsonrpc:-32004" (forms that report an
// error_code), "reply error -32004 'no such blob' data={...}" (reply<T> holding the peer's
// error), or "result 7". Every wait is bounded by `bound`.
#pragma once

#include <bsonrpc/bsonrpc.hpp>

#include <asio.hpp>
#include <asio/experimental/deferred.hpp>

#include <chrono>
#include <condition_variable>
#include <exception>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

namespace bsonrpc::test {

// The longest any form waits for its call to end.
constexpr std::chrono::seconds bound{5};
inline const std::string no_completion = "no completion within the bound";

// A value as compact JSON-like text (integers the same whatever their width).
inline std::string to_text(const value& v) {
  if (v.is_null()) return "null";
  if (const auto* b = v.get_if<bool>()) return *b ? "true" : "false";
  if (const auto* i = v.get_if<std::int32_t>()) return std::to_string(*i);
  if (const auto* i = v.get_if<std::int64_t>()) return std::to_string(*i);
  if (const auto* s = v.get_if<std::string>()) return "\"" + *s + "\"";
  std::string out;
  if (const auto* a = v.get_if<array>()) {
    for (const auto& e : *a) out += (out.empty() ? "" : ",") + to_text(e);
    return "[" + out + "]";
  }
  if (const auto* d = v.get_if<document>()) {
    for (const auto& [k, e] : *d) out += (out.empty() ? "\"" : ",\"") + k + "\":" + to_text(e);
    return "{" + out + "}";
  }
  return "?";
}

inline std::string describe(const rpc_error& e) {
  return std::to_string(e.code().value()) + " '" + e.message() + "'" +
         (e.has_data() ? " data=" + to_text(e.data()) : "");
}

// How a failure that arrived as an exception looks.
inline std::string describe(const std::exception_ptr& failure) {
  if (!failure) return "no failure";
  try {
    std::rethrow_exception(failure);
  } catch (const rpc_error& e) {
    return "rpc_error " + describe(e);
  } catch (const timeout_error& e) {
    return "timeout_error " + std::to_string(e.code().value());
  } catch (const connection_closed& e) {
    return "connection_closed " + std::to_string(e.code().value());
  } catch (const error& e) {
    return "error " + std::to_string(e.code().value()) + " '" + e.what() + "'";
  } catch (const std::system_error& e) {
    return std::string("system_error ") + e.code().category().name() + ":" +
           std::to_string(e.code().value());
  } catch (const std::exception& e) {
    return std::string("exception '") + e.what() + "'";
  }
}

// How a failure that arrived as an error_code looks.
inline std::string describe(std::error_code ec) {
  if (!ec) return "no failure";
  return std::string("code ") + ec.category().name() + ":" + std::to_string(ec.value());
}

template <class T>
std::string describe_result(const T& result) {
  return "result " + to_text(to_value<value>(result));
}
template <class T>
std::string describe_result(const reply<T>& r) {
  if (const rpc_error* e = r.error()) return "reply error " + describe(*e);
  if (!r.ok()) return "reply empty";
  return "reply result " + to_text(to_value<value>(r.value()));
}

// One completion's text, set once by whichever thread completes the call.
class outcome {
 public:
  void set(std::string text) { promise_->set_value(std::move(text)); }
  std::string wait() {
    if (future_.wait_for(bound) != std::future_status::ready) return no_completion;
    return future_.get();
  }
  // A callback void(Failure, R) recording the failure, or the result when there is none.
  template <class R>
  auto callback_with_error_code() {
    return [promise = promise_](std::error_code ec, R r) {
      promise->set_value(ec ? describe(ec) : describe_result(r));
    };
  }
  template <class R>
  auto callback_with_exception() {
    return [promise = promise_](std::exception_ptr e, R r) {
      promise->set_value(e ? describe(e) : describe_result(r));
    };
  }

 private:
  std::shared_ptr<std::promise<std::string>> promise_ =
      std::make_shared<std::promise<std::string>>();
  std::future<std::string> future_ = promise_->get_future();
};

template <class T>
std::string settle(std::future<T>& future) {
  if (future.wait_for(bound) != std::future_status::ready) return no_completion;
  try {
    return describe_result(future.get());
  } catch (...) {
    return describe(std::current_exception());
  }
}

// Under ThreadSanitizer the forms that hand a failure to the test thread through a
// std::future are left out. The completing thread keeps a reference to the exception until
// after it has set the promise (std::promise::set_exception copies it), and the two threads'
// reference counts are libstdc++'s atomics, which TSan does not see (libstdc++ is not
// instrumented): whichever thread drops the last reference "races" with the other's reads.
// They run in the plain and ASan+UBSan builds.
#if defined(__SANITIZE_THREAD__)
inline constexpr bool tsan_blind_to_futures = true;
#else
inline constexpr bool tsan_blind_to_futures = false;
#endif

// A call form: a name, whether it reports failures as the exception itself (`whole`, else as
// an error_code), and how to call `method` (no arguments) with it and wait for the outcome.
template <class Endpoint>
struct call_form {
  std::string name;
  bool whole;
  std::function<std::string(Endpoint&, const std::string&)> run;
};

// The forms calling for R, on an Rpc or a caller (a handler's Context).
template <class Endpoint, class R>
std::vector<call_form<Endpoint>> call_forms() {
  std::vector<call_form<Endpoint>> forms;
  if constexpr (!is_reply<R>::value) {
    forms.push_back({"blocking call", true, [](Endpoint& e, const std::string& m) {
                       try {
                         return describe_result(e.template call<R>(m));
                       } catch (...) {
                         return describe(std::current_exception());
                       }
                     }});
  }
  forms.push_back({"callback (std::error_code, R)", false, [](Endpoint& e, const std::string& m) {
                     outcome o;
                     e.template async_call<R>(m, o.callback_with_error_code<R>());
                     return o.wait();
                   }});
  forms.push_back({"callback (std::exception_ptr, R)", true, [](Endpoint& e, const std::string& m) {
                     outcome o;
                     e.template async_call<R>(m, o.callback_with_exception<R>());
                     return o.wait();
                   }});
  if (!tsan_blind_to_futures) {
    forms.push_back({"asio::use_future", true, [](Endpoint& e, const std::string& m) {
                       std::future<R> f = e.template async_call<R>(m, asio::use_future);
                       return settle(f);
                     }});
  }
  forms.push_back({"asio::experimental::deferred", false, [](Endpoint& e, const std::string& m) {
                     outcome o;
                     auto op = e.template async_call<R>(m, asio::experimental::deferred);
                     std::move(op)(o.callback_with_error_code<R>());
                     return o.wait();
                   }});
  if constexpr (!std::is_base_of_v<Context, Endpoint>) {
    if (tsan_blind_to_futures) return forms;
    forms.push_back({"future without a token", true, [](Endpoint& e, const std::string& m) {
                       std::future<R> f = e.template async_call<R>(m);
                       return settle(f);
                     }});
  }
  return forms;
}

// What a form reports when the call fails with `whole_text` (forms that get the exception) or
// with an error_code `code`.
template <class Endpoint>
std::string expected(const call_form<Endpoint>& form, const std::string& whole_text,
                     std::error_code code) {
  return form.whole ? whole_text : describe(code);
}

// A text handed from a handler to the test thread.
class mailbox {
 public:
  void put(std::string text) {
    std::lock_guard lock(mutex_);
    text_ = std::move(text);
    changed_.notify_all();
  }
  std::string take() {
    std::unique_lock lock(mutex_);
    if (!changed_.wait_for(lock, bound + std::chrono::seconds(1), [&] { return text_.has_value(); }))
      return no_completion;
    std::string out = std::move(*text_);
    text_.reset();
    return out;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::optional<std::string> text_;
};

// A gate a stalling handler waits behind (at most `bound`); open it before the pair goes.
class gate {
 public:
  void wait() {
    std::unique_lock lock(mutex_);
    changed_.wait_for(lock, bound, [&] { return open_; });
  }
  void open() {
    std::lock_guard lock(mutex_);
    open_ = true;
    changed_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  bool open_ = false;
};

}  // namespace bsonrpc::test
