// bsonrpc/log.hpp: a pluggable log sink. Errors for unexpected events (undecodable input,
// unknown response ids, handler exceptions), info for dispatcher events, as in the original.
#pragma once

#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>
#include <string_view>

namespace bsonrpc {

/// How much a log line matters, least first.
enum class log_level {
  debug,    ///< routine detail: the peer hung up, a cancel for no pending request was ignored
  info,     ///< worth noting: a method not found, a handler aborting its connection
  warning,  ///< (for sinks and filters; the library itself logs none at this level)
  error     ///< a failure: an invalid or undecodable message, a handler or hook that threw
};

/// The level's name: "debug", "info", "warning" or "error".
inline const char* to_string(log_level level) {
  switch (level) {
    case log_level::debug: return "debug";
    case log_level::info: return "info";
    case log_level::warning: return "warning";
    case log_level::error: return "error";
  }
  return "?";
}

/// Receives every log line with its level and the connection it concerns. Empty: discard.
using log_sink = std::function<void(log_level, std::uint64_t connection_id, std::string_view)>;

/// Rewrites a line before it reaches the sink, e.g. to redact secrets (the original's planned
/// "log sanitizer"). Empty: lines pass unchanged.
using log_filter = std::function<std::string(log_level, std::string_view)>;

/// A ready sink writing "bsonrpc[<connection>] <level>: <message>" lines to stderr.
inline log_sink stderr_log_sink(log_level threshold = log_level::info) {
  return [threshold](log_level level, std::uint64_t connection_id, std::string_view message) {
    if (level < threshold) return;
    std::fprintf(stderr, "bsonrpc[%llu] %s: %.*s\n", static_cast<unsigned long long>(connection_id),
                 to_string(level), static_cast<int>(message.size()), message.data());
  };
}

/// The sink and filter of one connection, bound to its id.
class logger {
 public:
  /// Discards every line.
  logger() = default;
  /// Lines go through `filter` (if any) to `sink`, tagged with `connection_id`.
  logger(log_sink sink, log_filter filter, std::uint64_t connection_id)
      : sink_(std::move(sink)), filter_(std::move(filter)), connection_id_(connection_id) {}

  /// Whether lines go anywhere (a sink is set).
  bool enabled() const noexcept { return static_cast<bool>(sink_); }

  /// Logs `message` at `level`.
  void operator()(log_level level, std::string_view message) const {
    if (!sink_) return;
    if (filter_) sink_(level, connection_id_, filter_(level, message));
    else sink_(level, connection_id_, message);
  }

 private:
  log_sink sink_;
  log_filter filter_;
  std::uint64_t connection_id_ = 0;
};

}  // namespace bsonrpc
