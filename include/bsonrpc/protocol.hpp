// bsonrpc/protocol.hpp: protocol profiles, the cancellation and progress messages a connection
// sends and honours (Options::protocol).
//
//   none()  (the default) neither: every message is dispatched as it comes, at no cost.
//   lsp()   Language Server Protocol 3.17:
//             cancel    $/cancelRequest {"id": ID}; the request then answers
//                       -32800 "Request cancelled"
//             progress  $/progress {"token": T, "value": V}, T from the request's
//                       params.workDoneToken (else params.partialResultToken)
//   mcp()   Model Context Protocol (2025-06-18):
//             cancel    notifications/cancelled {"requestId": ID, "reason"?: text}; the
//                       request is then never answered
//             progress  notifications/progress {"progressToken": T, "progress": N,
//                       "total"?: N, "message"?: text}, T from params._meta.progressToken
//
// The templates in detail:: read and build those messages for any codec's value type.
#pragma once

#include <bsonrpc/codec/codec.hpp>
#include <bsonrpc/value.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

/// The protocols whose cancellation and progress messages a connection can speak
/// (Options::protocol).
namespace bsonrpc::protocol {

/// One protocol's cancellation and progress conventions; make one with none(), lsp() or mcp().
class profile {
 public:
  /// The protocols known.
  enum class kind {
    none,  ///< no cancellation or progress messages
    lsp,   ///< the Language Server Protocol's
    mcp    ///< the Model Context Protocol's
  };

  /// none().
  constexpr profile() noexcept = default;
  /// The profile of `k`.
  constexpr explicit profile(kind k) noexcept : kind_(k) {}

  /// Which protocol this is.
  constexpr kind which() const noexcept { return kind_; }
  /// Whether this is none().
  constexpr bool is_none() const noexcept { return kind_ == kind::none; }
  /// The notification that cancels a request, or "" for none.
  constexpr std::string_view cancel_method() const noexcept {
    switch (kind_) {
      case kind::lsp: return "$/cancelRequest";
      case kind::mcp: return "notifications/cancelled";
      case kind::none: break;
    }
    return {};
  }
  /// The notification that reports progress, or "" for none.
  constexpr std::string_view progress_method() const noexcept {
    switch (kind_) {
      case kind::lsp: return "$/progress";
      case kind::mcp: return "notifications/progress";
      case kind::none: break;
    }
    return {};
  }
  /// Whether a cancelled request is still answered (LSP: with -32800), or not at all (MCP).
  constexpr bool answers_cancelled_requests() const noexcept { return kind_ == kind::lsp; }

  /// Equal when they are the same protocol.
  friend constexpr bool operator==(profile a, profile b) noexcept { return a.kind_ == b.kind_; }
  /// Not equal.
  friend constexpr bool operator!=(profile a, profile b) noexcept { return a.kind_ != b.kind_; }

 private:
  kind kind_ = kind::none;
};

/// No protocol: cancel and progress notifications are handled as any others (the default).
constexpr profile none() noexcept { return profile(profile::kind::none); }
/// LSP: $/cancelRequest and $/progress.
constexpr profile lsp() noexcept { return profile(profile::kind::lsp); }
/// MCP: notifications/cancelled and notifications/progress.
constexpr profile mcp() noexcept { return profile(profile::kind::mcp); }

/// LSP's code for a request the client cancelled (ErrorCodes.RequestCancelled).
inline constexpr int request_cancelled_code = -32800;

}  // namespace bsonrpc::protocol

namespace bsonrpc::detail {

// The id a cancel notification's params name (LSP "id", MCP "requestId"): a string or an
// integer, else nullptr (a cancel with a missing or ill-typed id is ignored).
template <class V>
const V* cancelled_request_id(protocol::profile p, const V* params) {
  using traits = value_traits<V>;
  if (p.is_none() || !params || !traits::is_object(*params)) return nullptr;
  const V* id = traits::find(*params, p.which() == protocol::profile::kind::lsp ? "id" : "requestId");
  if (!id || !(traits::is_string(*id) || traits::is_integer(*id))) return nullptr;
  return id;
}

// A request's progress token (LSP params.workDoneToken, else params.partialResultToken; MCP
// params._meta.progressToken): a string or an integer, else nullptr.
template <class V>
const V* progress_token_of(protocol::profile p, const V* params) {
  using traits = value_traits<V>;
  if (p.is_none() || !params || !traits::is_object(*params)) return nullptr;
  auto usable = [](const V* token) {
    return token && (traits::is_string(*token) || traits::is_integer(*token)) ? token : nullptr;
  };
  if (p.which() == protocol::profile::kind::lsp) {
    if (const V* token = usable(traits::find(*params, "workDoneToken"))) return token;
    return usable(traits::find(*params, "partialResultToken"));
  }
  const V* meta = traits::find(*params, "_meta");
  if (!meta || !traits::is_object(*meta)) return nullptr;
  return usable(traits::find(*meta, "progressToken"));
}

// The key under which a request id (string or integer) is filed: the two kinds never collide.
template <class V>
std::string id_key(const V& id) {
  using traits = value_traits<V>;
  if (traits::is_integer(id)) return "i" + std::to_string(traits::as_integer(id));
  return "s" + std::string(traits::as_string(id));
}

// The params of the cancel notification for our call `id`.
template <class V>
V cancel_params(protocol::profile p, std::int64_t id) {
  using traits = value_traits<V>;
  V params = traits::make_object();
  if (p.which() == protocol::profile::kind::lsp) {
    traits::add_member(params, "id", traits::make_integer(id));
  } else {
    traits::add_member(params, "requestId", traits::make_integer(id));
    traits::add_member(params, "reason", traits::make_string("cancelled by the caller"));
  }
  return params;
}

// The params of a progress notification under `token`. LSP: {token, value: report}. MCP: the
// members of `report` (an object: progress, total?, message?; a number is the progress)
// after progressToken.
template <class V>
V progress_params(protocol::profile p, const V& token, V report) {
  using traits = value_traits<V>;
  V params = traits::make_object();
  if (p.which() == protocol::profile::kind::lsp) {
    traits::add_member(params, "token", token);
    traits::add_member(params, "value", std::move(report));
    return params;
  }
  traits::add_member(params, "progressToken", token);
  if (traits::is_object(report)) {
    traits::for_each_member(report, [&](std::string_view key, const V& member) {
      if (key != "progressToken") traits::add_member(params, key, member);
    });
  } else {
    traits::add_member(params, "progress", std::move(report));
  }
  return params;
}

// A progress notification's token, and what the caller's progress callback receives (LSP:
// the value; MCP: the whole params), or nullopt when it carries no usable token.
template <class V>
std::optional<std::pair<const V*, const V*>> read_progress(protocol::profile p, const V* params) {
  using traits = value_traits<V>;
  if (p.is_none() || !params || !traits::is_object(*params)) return std::nullopt;
  const bool lsp = p.which() == protocol::profile::kind::lsp;
  const V* token = traits::find(*params, lsp ? "token" : "progressToken");
  if (!token || !(traits::is_string(*token) || traits::is_integer(*token))) return std::nullopt;
  if (!lsp) return std::make_pair(token, params);
  const V* report = traits::find(*params, "value");
  if (!report) return std::nullopt;
  return std::make_pair(token, report);
}

// `params` with the progress token `token` attached (LSP: workDoneToken; MCP:
// _meta.progressToken). No params make an object; params that are not an object cannot carry
// a token: false, and `params` is left alone.
template <class V>
bool attach_progress_token(protocol::profile p, std::optional<V>& params, const V& token) {
  using traits = value_traits<V>;
  if (p.is_none()) return false;
  if (params && !traits::is_object(*params)) return false;
  const bool lsp = p.which() == protocol::profile::kind::lsp;
  V out = traits::make_object();
  bool has_meta = false;
  if (params) {
    traits::for_each_member(*params, [&](std::string_view key, const V& member) {
      if (lsp && key == "workDoneToken") return;
      if (!lsp && key == "_meta") {
        if (!traits::is_object(member)) return;  // replaced by one carrying the token
        has_meta = true;
        V meta = traits::make_object();
        traits::for_each_member(member, [&](std::string_view k, const V& m) {
          if (k != "progressToken") traits::add_member(meta, k, m);
        });
        traits::add_member(meta, "progressToken", token);
        traits::add_member(out, key, std::move(meta));
        return;
      }
      traits::add_member(out, key, member);
    });
  }
  if (lsp) {
    traits::add_member(out, "workDoneToken", token);
  } else if (!has_meta) {
    V meta = traits::make_object();
    traits::add_member(meta, "progressToken", token);
    traits::add_member(out, "_meta", std::move(meta));
  }
  params = std::move(out);
  return true;
}

}  // namespace bsonrpc::detail
