// The service and the reply checks shared by fuzz_dispatcher_json and fuzz_dispatcher_bson.
#pragma once

#include "check.hpp"

#include <bsonrpc/define_type.hpp>
#include <bsonrpc/dispatcher.hpp>
#include <bsonrpc/service.hpp>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

namespace fuzz_service {

struct point {
  int x = 0;
  int y = 0;
  std::string label;
};
// Checked member by member: nlohmann's own get_to(int) would cast a float such as 1.7e43 into
// the int, which UBSan reports as undefined behaviour (regression: float_into_int_member).
BSONRPC_DEFINE_TYPE(point, x, y, label)

// One method per kind of parameter and result the library converts, plus failing ones.
struct service {
  int add(int a, int b) const {  // wraps around rather than overflowing
    return static_cast<int>(static_cast<unsigned>(a) + static_cast<unsigned>(b));
  }
  std::string greet(const std::string& name, std::optional<std::string> greeting) const {
    return greeting.value_or("hello") + " " + name;
  }
  std::size_t count(const std::vector<std::string>& words) const { return words.size(); }
  double mean(const std::vector<double>& xs) const {
    double sum = 0;
    for (double x : xs) sum += x;
    return xs.empty() ? 0 : sum / static_cast<double>(xs.size());
  }
  point mirror(const point& p) const { return {p.y, p.x, p.label}; }
  std::map<std::string, std::int64_t> tally(const std::map<std::string, std::int64_t>& m) const {
    return m;
  }
  std::tuple<int, std::string> pair(std::tuple<int, std::string> t) const { return t; }
  bsonrpc::value echo(const bsonrpc::value& v) const { return v; }
  std::uint64_t huge(std::uint64_t u) const { return u; }  // beyond int64: not encodable in BSON
  std::string not_utf8() const { return "\xff\xfe"; }      // never encodable: Internal error
  void fail(int code, const std::string& message, std::optional<bsonrpc::value> data) const {
    if (data) throw bsonrpc::rpc_error(code, message, *data);
    throw bsonrpc::rpc_error(code, message);
  }
  void crash(const std::string& what) const { throw std::runtime_error(what); }
  void throw_int() const { throw 42; }
  std::string ask_peer(bsonrpc::Context& rpc) const { return rpc.call<std::string>("name"); }
  void note(const std::string& text) { notes += text.size(); }
  void note_crash() { throw std::runtime_error("notification failed"); }

  std::size_t notes = 0;
};

BSONRPC_SERVICE(service,
  BSONRPC_REQUEST(add, a, b),
  BSONRPC_REQUEST(greet, name, greeting),
  BSONRPC_REQUEST(count, words),
  BSONRPC_REQUEST(mean, xs),
  BSONRPC_REQUEST(mirror, p),
  BSONRPC_REQUEST(tally, m),
  BSONRPC_REQUEST(pair, t),
  BSONRPC_REQUEST(echo, v),
  BSONRPC_REQUEST(huge, u),
  BSONRPC_REQUEST(not_utf8),
  BSONRPC_REQUEST(fail, code, message, data),
  BSONRPC_REQUEST(crash, what),
  BSONRPC_REQUEST(throw_int),
  BSONRPC_RPC_REQUEST(ask_peer),
  BSONRPC_NOTIFICATION(note, text),
  BSONRPC_NOTIFICATION(note_crash))

}  // namespace fuzz_service

namespace bsonrpc_fuzz {

// Feeds `bytes` to a dispatcher serving fuzz_service::service and checks its reply: nothing
// when handle() says so, else one response, or for a batch an array of them.
template <class Codec>
void check_dispatcher(std::string_view bytes) {
  using traits = bsonrpc::value_traits<typename Codec::value_type>;
  static fuzz_service::service service;
  static bsonrpc::dispatcher<Codec> engine = [] {
    bsonrpc::dispatcher<Codec> d(bsonrpc::Options{});
    d.add_service(service);
    // What connection::complete_call does with an error response, on the I/O thread, where
    // nothing may escape.
    d.set_response_handler([](const typename bsonrpc::dispatcher<Codec>::message& m) {
      if (!m.error) return;
      const bsonrpc::rpc_error e = bsonrpc::detail::error_from_response(*m.error);
      try {
        bsonrpc::detail::throw_peer_error(e.code_value(), e.message(), e.data(), e.has_data());
      } catch (const bsonrpc::rpc_error&) {
      }
    });
    return d;
  }();

  std::string out;
  if (!engine.handle(bytes, out)) {
    check(out.empty());
    return;
  }
  check(!out.empty());
  const auto reply = Codec::decode(out, bsonrpc::decode_limits{});
  const auto is_response = [](const typename Codec::value_type& v) {
    using kind = bsonrpc::detail::message_kind;
    const auto m = bsonrpc::detail::classify<Codec>(v);
    return m.kind == kind::response || m.kind == kind::error_response;
  };
  if (traits::is_array(reply)) {
    check(Codec::supports_batches && traits::size(reply) > 0);
    for (std::size_t i = 0; i < traits::size(reply); ++i) check(is_response(traits::at(reply, i)));
  } else {
    check(is_response(reply));
  }
}

}  // namespace bsonrpc_fuzz
