// bsonrpc/hooks/allow_methods.hpp: a message hook letting only listed methods through.
//
//   options.hooks.push_back(bsonrpc::hooks::allow_methods({"add", "echo"}));
//   options.hooks.push_back(bsonrpc::hooks::allow_methods({"status"}, -32001, "Unauthorized"));
#pragma once

#include <bsonrpc/errors.hpp>
#include <bsonrpc/hooks.hpp>

#include <functional>
#include <set>
#include <string>
#include <utility>
#include <vector>

/// Ready-made hooks for Options::hooks.
namespace bsonrpc::hooks {

/// Lets incoming requests and notifications through only when their method is listed. Any
/// other request is answered with the error `code` and `message` (by default -32601 Method not
/// found, so a peer cannot tell an unlisted method from a missing one) and never reaches a
/// handler, nor the hooks after this one; any other notification is dropped. Responses, and
/// everything this side sends, pass untouched. In a batch, each entry is checked on its own.
class allow_methods {
 public:
  /// Lets through exactly `methods`; refuses other requests with `code` and `message`.
  explicit allow_methods(std::vector<std::string> methods,
                         int code = static_cast<int>(errc::method_not_found),
                         std::string message = "Method not found")
      : allowed_(std::make_move_iterator(methods.begin()), std::make_move_iterator(methods.end())),
        code_(code),
        message_(std::move(message)) {}

  /// Runs the check on one message (the hook itself).
  template <class V>
  void operator()(hook_message<V>& m) const {
    if (!m.is_incoming()) return;
    if (m.kind() != hook_kind::request && m.kind() != hook_kind::notification) return;
    if (allowed_.find(m.method()) == allowed_.end()) m.reject(code_, message_);
  }

  /// Whether `method` is listed.
  bool allows(std::string_view method) const { return allowed_.find(method) != allowed_.end(); }

 private:
  std::set<std::string, std::less<>> allowed_;
  int code_;
  std::string message_;
};

}  // namespace bsonrpc::hooks
