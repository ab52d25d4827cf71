// bsonrpc/batch.hpp: Batch, a builder of requests and notifications sent as one JSON-RPC
// batch, and batch_result, one request's outcome (the original's BatchBuilder).
//
//   bsonrpc::Batch batch;
//   batch.request("echo_times", "-hello-", 2).request("echo_times", "-world-", 1);
//   for (const auto& r : rpc.batch_call(batch)) std::cout << r.get<std::string>() << "\n";
#pragma once

#include <bsonrpc/context.hpp>
#include <bsonrpc/errors.hpp>
#include <bsonrpc/value.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace bsonrpc {

/// Requests and notifications to send as one JSON-RPC batch (Rpc::batch_call), the original's
/// BatchBuilder: `Batch().request("add", 1, 2).notify("log", "x")`.
class Batch {
 public:
  /// One message of the batch.
  struct entry {
    std::string method;           ///< the method to call
    std::optional<value> params;  ///< the packed arguments; nullopt for none
    bool is_request;              ///< a request (answered), else a notification
  };

  /// Adds a request; its outcome comes back in batch_call's result, in request order.
  template <class... Args>
  Batch& request(std::string method, const Args&... args) {
    entries_.push_back({std::move(method), detail::pack_params(args...), true});
    return *this;
  }

  /// Adds a notification: sent with the batch, never answered.
  template <class... Args>
  Batch& notify(std::string method, const Args&... args) {
    entries_.push_back({std::move(method), detail::pack_params(args...), false});
    return *this;
  }

  /// The messages added so far, in order.
  const std::vector<entry>& entries() const noexcept { return entries_; }
  /// Whether nothing was added.
  bool empty() const noexcept { return entries_.empty(); }
  /// How many messages were added.
  std::size_t size() const noexcept { return entries_.size(); }
  /// Removes every message, to build another batch.
  void clear() noexcept { entries_.clear(); }

 private:
  std::vector<entry> entries_;
};

/// One request's outcome in a batch: its result, or the error the peer answered with.
class batch_result {
 public:
  /// A result.
  explicit batch_result(value result) : result_(std::move(result)) {}
  /// The peer's error.
  explicit batch_result(rpc_error error) : error_(std::move(error)) {}

  /// Whether the request succeeded.
  bool ok() const noexcept { return !error_; }
  /// The error object; precondition: !ok().
  const rpc_error& error() const { return *error_; }
  /// The result as a dynamic value; throws the peer's error if the request failed.
  const value& result() const {
    if (error_) detail::throw_peer_error(error_->code_value(), error_->message(), error_->data(),
                                         error_->has_data());
    return result_;
  }
  /// The result converted to T; throws the peer's error, or decoding_error if T does not fit.
  template <class T>
  T get() const {
    const value& v = result();
    try {
      return from_value<T>(v);
    } catch (const conversion_error& e) {
      throw decoding_error(std::string("batch result: ") + e.what());
    }
  }

 private:
  value result_;
  std::optional<rpc_error> error_;
};

}  // namespace bsonrpc
