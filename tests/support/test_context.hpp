// A Context for tests without a socket: records what a handler sends to the peer and answers
// calls from a table of canned results.
#pragma once

#include <bsonrpc/context.hpp>

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace bsonrpc::test {

class recording_context : public Context {
 public:
  struct sent {
    std::string method;
    std::optional<value> params;
    bool is_call;
  };

  std::vector<sent> sent_messages;
  std::map<std::string, value> canned_results;
  bool aborted = false;
  bool closing = false;
  std::any info;
  asio::io_context io;

  value call_value(std::string_view method, std::optional<value> params,
                   timeout_type) override {
    sent_messages.push_back({std::string(method), std::move(params), true});
    auto it = canned_results.find(std::string(method));
    if (it == canned_results.end()) throw method_not_found();
    return it->second;
  }
  void notify_value(std::string_view method, std::optional<value> params) override {
    sent_messages.push_back({std::string(method), std::move(params), false});
  }
  std::int64_t start_call_value(std::string_view method, std::optional<value> params,
                                std::function<void(detail::call_outcome<value>)> done) override {
    detail::call_outcome<value> outcome;
    try {
      outcome.result = call_value(method, std::move(params), std::nullopt);
    } catch (...) {
      outcome.error = std::current_exception();
    }
    done(std::move(outcome));
    return 0;
  }
  void cancel_call(std::int64_t) override {}
  asio::any_io_executor get_executor() override { return io.get_executor(); }
  void abort() override { aborted = true; }
  void close_after_response() override { closing = true; }
  const std::any& client_info() const override { return info; }
  std::uint64_t connection_id() const override { return 7; }
  connection_stats stats() const override { return {}; }
};

}  // namespace bsonrpc::test
