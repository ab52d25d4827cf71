// bsonrpc/detail/detached_context.hpp: the Context of a dispatcher used without a connection.
#pragma once

#include <bsonrpc/context.hpp>
#include <bsonrpc/errors.hpp>

#include <asio.hpp>

#include <any>
#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>

namespace bsonrpc::detail {

// The Context of a dispatcher used without a connection: there is no peer to call.
class detached_context final : public Context {
 public:
  value call_value(std::string_view, std::optional<value>, timeout_type) override {
    throw connection_closed("no peer: the dispatcher is used without a connection");
  }
  void notify_value(std::string_view, std::optional<value>) override {
    throw connection_closed("no peer: the dispatcher is used without a connection");
  }
  std::int64_t start_call_value(std::string_view, std::optional<value>,
                                std::function<void(detail::call_outcome<value>)>) override {
    throw connection_closed("no peer: the dispatcher is used without a connection");
  }
  void cancel_call(std::int64_t) override {}
  asio::any_io_executor get_executor() override { return io_.get_executor(); }
  void abort() override {}
  void close_after_response() override {}
  const std::any& client_info() const override { return info_; }
  std::uint64_t connection_id() const override { return 0; }
  connection_stats stats() const override { return {}; }

 private:
  std::any info_;
  asio::io_context io_;
};

}  // namespace bsonrpc::detail
