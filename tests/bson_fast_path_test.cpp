// BSON on the fast path: large strings and binaries cross the dispatcher with one copy each
// way (decoding, encoding), arguments move out of the decoded message, and encoding reserves
// its output once.
#include <bsonrpc/codec/bson.hpp>
#include <bsonrpc/dispatcher.hpp>

#include "support/bson_corpus.hpp"
#include "support/test_context.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

using bsonrpc::array;
using bsonrpc::binary;
using bsonrpc::BsonCodec;
using bsonrpc::document;
using bsonrpc::value;

namespace fast_path {

// A string argument that counts how it was converted and copied.
struct tracked {
  std::string text;
  static inline int from_lvalue = 0;
  static inline int from_rvalue = 0;
  static inline int copies = 0;

  explicit tracked(std::string t) : text(std::move(t)) {}
  tracked(const tracked& other) : text(other.text) { ++copies; }
  tracked(tracked&&) = default;
  tracked& operator=(const tracked&) = delete;
  tracked& operator=(tracked&&) = default;

  static void reset() { from_lvalue = from_rvalue = copies = 0; }
};

struct service {
  std::string echo(const std::string& text) const { return text; }
  std::string keep(std::string text) { return text; }
  std::vector<std::uint8_t> bytes(std::vector<std::uint8_t> b) { return b; }
  binary raw(binary b) { return b; }
  std::size_t by_value(tracked t) { return t.text.size(); }
  std::size_t by_reference(const tracked& t) { return t.text.size(); }
  std::size_t maybe(std::optional<std::string> text) { return text ? text->size() : 0; }
  std::size_t total(std::vector<std::string> texts) {
    std::size_t n = 0;
    for (const auto& t : texts) n += t.size();
    return n;
  }
  int twice(int i) { return 2 * i; }
};

BSONRPC_SERVICE(service,
  BSONRPC_REQUEST(echo, text),
  BSONRPC_REQUEST(keep, text),
  BSONRPC_REQUEST(bytes, b),
  BSONRPC_REQUEST(raw, b),
  BSONRPC_REQUEST(by_value, t),
  BSONRPC_REQUEST(by_reference, t),
  BSONRPC_REQUEST(maybe, text),
  BSONRPC_REQUEST(total, texts),
  BSONRPC_REQUEST(twice, i))

}  // namespace fast_path

namespace bsonrpc {
template <>
struct converter<value, fast_path::tracked> {
  static value to_value(const fast_path::tracked& t) { return value(t.text); }
  static fast_path::tracked from_value(const value& v) {
    ++fast_path::tracked::from_lvalue;
    return fast_path::tracked(detail::bson_get<std::string>(v));
  }
  static fast_path::tracked from_value(value&& v) {
    ++fast_path::tracked::from_rvalue;
    detail::bson_get<std::string>(v);  // the type check
    return fast_path::tracked(std::move(v.get<std::string>()));
  }
};
}  // namespace bsonrpc

namespace {

using fast_path::tracked;

const std::string mebibyte_text = [] {
  std::string s(1024 * 1024, 'x');
  for (std::size_t i = 0; i < s.size(); i += 4099) s[i] = static_cast<char>('a' + i % 26);
  s.replace(1000, 2, "\xc3\xa9");  // some UTF-8 beyond ASCII
  return s;
}();

const std::vector<std::uint8_t> mebibyte_bytes = [] {
  std::vector<std::uint8_t> b(1024 * 1024);
  for (std::size_t i = 0; i < b.size(); ++i) b[i] = static_cast<std::uint8_t>(i * 7 + i / 256);
  return b;
}();

// A size_t result as the BSON converters write it (int32 while it fits).
value size_value(std::size_t n) { return bsonrpc::to_value<value>(n); }

std::string encode(const value& v) {
  std::string out;
  BsonCodec::encode(v, out);
  return out;
}

std::string request_bytes(const std::string& method, value params, value id = value(1)) {
  return encode(value(document{{"bsonrpc", value("2.0")},
                               {"method", value(method)},
                               {"params", std::move(params)},
                               {"id", std::move(id)}}));
}

struct fixture {
  fast_path::service service;
  bsonrpc::dispatcher<BsonCodec> engine;
  bsonrpc::test::recording_context context;

  explicit fixture(bsonrpc::Options options = {}) : engine(std::move(options)) {
    engine.add_service(service);
  }

  // The decoded reply to `request`.
  value reply(const std::string& request) {
    std::string out;
    REQUIRE(engine.handle(request, context, out));
    return BsonCodec::decode(out);
  }
  value result(const std::string& request) {
    const value r = reply(request);
    const value* result = r.find("result");
    REQUIRE(result);
    return *result;
  }
  std::int64_t error_code(const std::string& request) {
    const value r = reply(request);
    const value* error = r.find("error");
    REQUIRE(error);
    return bsonrpc::value_traits<value>::as_integer(*error->find("code"));
  }
};

}  // namespace

TEST_CASE("bson codec: the size reserved before encoding is exactly the size written",
          "[bson][fast]") {
  using bsonrpc::detail::bson_wire::document_size;
  document many;
  array long_array;
  for (int i = 0; i < 123; ++i) long_array.push_back(value(i));
  many.emplace_back("array", value(long_array));
  many.emplace_back("old binary", value(binary{2, {1, 2, 3}}));
  many.emplace_back("binary", value(binary{0, mebibyte_bytes}));
  many.emplace_back("text", value(mebibyte_text));
  many.emplace_back("code", value(bsonrpc::javascript_with_scope{"x", document{{"y", value(1)}}}));
  many.emplace_back("regex", value(bsonrpc::regex{"a.*b", "i"}));
  many.emplace_back("pointer", value(bsonrpc::db_pointer{"c", {}}));
  CHECK(encode(value(many)).size() == document_size(many));

  const auto dir = bsonrpc::test::corpus_dir();
  if (!dir) {
    WARN("BSON corpus folder not found: corpus part skipped");
    return;
  }
  std::size_t checked = 0;
  for (const auto& [file, suite] : bsonrpc::test::corpus_files(*dir)) {
    for (const auto& test : suite.value("valid", nlohmann::json::array())) {
      INFO(file << ": " << test["description"].get<std::string>());
      const std::string canonical =
          bsonrpc::test::hex_bytes(test["canonical_bson"].get<std::string>());
      const value decoded = BsonCodec::decode(canonical);
      CHECK(document_size(decoded.get<document>()) == canonical.size());
      ++checked;
    }
  }
  CHECK(checked == 728);
}

TEST_CASE("bson codec: encoding appends to what the output already holds, growing it as before",
          "[bson][fast]") {
  const value small(document{{"a", value(1)}});
  std::string out = "prefix";
  std::string expected = "prefix";
  for (int i = 0; i < 1000; ++i) {
    BsonCodec::encode(small, out);
    expected += encode(small);
  }
  CHECK(out == expected);
}

TEST_CASE("bson codec: a 1 MiB string and a 1 MiB binary round-trip unchanged", "[bson][fast]") {
  const value message(document{{"text", value(mebibyte_text)},
                               {"bytes", value(binary{0, mebibyte_bytes})},
                               {"old", value(binary{2, mebibyte_bytes})}});
  const std::string bytes = encode(message);
  CHECK(BsonCodec::decode(bytes) == message);
  CHECK(encode(BsonCodec::decode(bytes)) == bytes);
}

TEST_CASE("bson converters: strings and binaries move out of an rvalue value, not copied",
          "[bson][convert][fast]") {
  using bsonrpc::from_value;
  using bsonrpc::to_value;
  value text(mebibyte_text);
  const char* text_data = text.get<std::string>().data();
  const std::string moved_text = from_value<std::string>(std::move(text));
  CHECK(moved_text.data() == text_data);

  value bytes(binary{0, mebibyte_bytes});
  const std::uint8_t* bytes_data = bytes.get<binary>().bytes.data();
  const auto moved_bytes = from_value<std::vector<std::uint8_t>>(std::move(bytes));
  CHECK(moved_bytes.data() == bytes_data);

  value raw(binary{4, mebibyte_bytes});
  const std::uint8_t* raw_data = raw.get<binary>().bytes.data();
  const auto moved_raw = from_value<binary>(std::move(raw));
  CHECK(moved_raw.bytes.data() == raw_data);
  CHECK(moved_raw.subtype == 4);

  value maybe(mebibyte_text);
  const char* maybe_data = maybe.get<std::string>().data();
  const auto moved_maybe = from_value<std::optional<std::string>>(std::move(maybe));
  REQUIRE(moved_maybe);
  CHECK(moved_maybe->data() == maybe_data);

  value list(array{value(mebibyte_text), value("short")});
  const char* first_data = list.get<array>()[0].get<std::string>().data();
  const auto moved_list = from_value<std::vector<std::string>>(std::move(list));
  REQUIRE(moved_list.size() == 2);
  CHECK(moved_list[0].data() == first_data);
  CHECK(moved_list[1] == "short");

  std::vector<std::uint8_t> out_bytes = mebibyte_bytes;
  const std::uint8_t* out_data = out_bytes.data();
  const value written = to_value<value>(std::move(out_bytes));
  CHECK(written.get<binary>().bytes.data() == out_data);

  // From an lvalue, the value keeps what it holds.
  const value kept(mebibyte_text);
  CHECK(from_value<std::string>(kept) == mebibyte_text);
  CHECK(kept.get<std::string>() == mebibyte_text);
}

TEST_CASE("bson converters: an rvalue of the wrong type is refused like an lvalue",
          "[bson][convert][fast]") {
  using bsonrpc::conversion_error;
  using bsonrpc::from_value;
  CHECK_THROWS_AS(from_value<std::string>(value(1)), conversion_error);
  CHECK_THROWS_AS(from_value<std::vector<std::uint8_t>>(value("text")), conversion_error);
  CHECK_THROWS_AS(from_value<binary>(value("text")), conversion_error);
  CHECK_THROWS_AS(from_value<std::vector<std::string>>(value(array{value(1)})),
                  conversion_error);
  CHECK_THROWS_AS(from_value<std::optional<std::string>>(value(true)), conversion_error);
}

TEST_CASE("bson dispatcher: a 1 MiB string and a 1 MiB binary are echoed intact",
          "[bson][dispatcher][fast]") {
  fixture f;
  CHECK(f.result(request_bytes("echo", value(array{value(mebibyte_text)}))) ==
        value(mebibyte_text));
  CHECK(f.result(request_bytes("keep", value(document{{"text", value(mebibyte_text)}}))) ==
        value(mebibyte_text));
  CHECK(f.result(request_bytes("bytes", value(array{value(binary{0, mebibyte_bytes})}))) ==
        value(binary{0, mebibyte_bytes}));
  CHECK(f.result(request_bytes("raw", value(array{value(binary{5, mebibyte_bytes})}))) ==
        value(binary{5, mebibyte_bytes}));
  CHECK(f.result(request_bytes("maybe", value(array{value(mebibyte_text)}))) ==
        size_value(mebibyte_text.size()));
  CHECK(f.result(request_bytes("maybe", value(array{}))) == value(0));
  CHECK(f.result(request_bytes("total", value(array{value(array{value(mebibyte_text),
                                                                  value("ab")})}))) ==
        size_value(mebibyte_text.size() + 2));
}

TEST_CASE("bson dispatcher: arguments move out of the decoded request into the handler",
          "[bson][dispatcher][fast]") {
  fixture f;
  tracked::reset();
  CHECK(f.result(request_bytes("by_value", value(array{value(mebibyte_text)}))) ==
        size_value(mebibyte_text.size()));
  CHECK(tracked::from_rvalue == 1);
  CHECK(tracked::from_lvalue == 0);
  CHECK(tracked::copies == 0);  // and into the by-value parameter, moved too

  tracked::reset();
  CHECK(f.result(request_bytes("by_reference", value(document{{"t", value("abc")}}))) ==
        value(3));
  CHECK(tracked::from_rvalue == 1);
  CHECK(tracked::copies == 0);
}

TEST_CASE("bson dispatcher: a request the caller still owns is converted from a copy",
          "[bson][dispatcher][fast]") {
  // process() takes a message classified by the caller: its params stay as they were.
  fixture f;
  const value request = BsonCodec::decode(request_bytes("by_value", value(array{value("kept")})));
  tracked::reset();
  const auto m = bsonrpc::detail::classify<BsonCodec>(request);
  REQUIRE(m.kind == bsonrpc::detail::message_kind::request);
  const auto reply = f.engine.process(m, f.context);
  REQUIRE(reply);
  CHECK(*reply->find("result") == value(4));
  CHECK(tracked::from_lvalue == 1);
  CHECK(tracked::from_rvalue == 0);
  CHECK(request.find("params")->get<array>()[0] == value("kept"));
}

TEST_CASE("bson dispatcher: with a hook installed, the hook sees params and the handler gets them",
          "[bson][dispatcher][hooks][fast]") {
  std::size_t seen = 0;
  bsonrpc::Options options;
  options.hooks = {[&seen](bsonrpc::hook_message<value>& m) {
    if (m.is_incoming() && m.params())
      seen = m.params()->get<array>()[0].get<std::string>().size();
  }};
  fixture f(std::move(options));
  tracked::reset();
  CHECK(f.result(request_bytes("by_value", value(array{value(mebibyte_text)}))) ==
        size_value(mebibyte_text.size()));
  CHECK(seen == mebibyte_text.size());
  CHECK(f.result(request_bytes("echo", value(array{value(mebibyte_text)}))) ==
        value(mebibyte_text));
}

TEST_CASE("bson dispatcher: params of the wrong type get -32602, never a crash",
          "[bson][dispatcher][fast]") {
  fixture f;
  CHECK(f.error_code(request_bytes("echo", value(array{value(1)}))) == -32602);
  CHECK(f.error_code(request_bytes("bytes", value(array{value(mebibyte_text)}))) == -32602);
  CHECK(f.error_code(request_bytes("keep", value(array{value(binary{0, mebibyte_bytes})}))) ==
        -32602);
  CHECK(f.error_code(request_bytes("total", value(array{value(array{value(1)})}))) == -32602);
  CHECK(f.error_code(request_bytes("twice", value(array{value(mebibyte_text)}))) == -32602);
  CHECK(f.error_code(request_bytes("echo", value(array{}))) == -32602);
  CHECK(f.error_code(request_bytes("echo", value(array{value("a"), value("b")}))) == -32602);
  CHECK(f.error_code(request_bytes("echo", value(document{{"other", value("a")}}))) == -32602);
  // The failed conversion left the handler unrun; the next request is served as usual.
  CHECK(f.result(request_bytes("echo", value(array{value("fine")}))) == value("fine"));
}

TEST_CASE("bson dispatcher: a truncated or corrupted large request gets -32700, never a crash",
          "[bson][dispatcher][fast]") {
  fixture f;
  const std::string whole = request_bytes("echo", value(array{value(mebibyte_text)}));
  for (const std::size_t cut : {std::size_t{5}, std::size_t{100}, whole.size() / 2,
                                whole.size() - 1}) {
    INFO("cut at " << cut);
    std::string truncated = whole.substr(0, cut);
    CHECK(f.error_code(truncated) == -32700);
  }
  std::string bad_length = whole;
  bad_length[0] = static_cast<char>(bad_length[0] + 1);  // announces a byte it does not have
  CHECK(f.error_code(bad_length) == -32700);
  std::string bad_utf8 = whole;
  bad_utf8[whole.size() / 2] = '\xff';  // inside the string
  CHECK(f.error_code(bad_utf8) == -32700);
  std::string bad_string_length = whole;
  const auto at = whole.find(mebibyte_text.substr(0, 16)) - 4;  // the string's int32 length
  bad_string_length[at + 3] = '\x7f';
  CHECK(f.error_code(bad_string_length) == -32700);
}

TEST_CASE("bson codec: UTF-8 is checked wherever a byte sits in the 32-byte ASCII blocks",
          "[bson][fast]") {
  using bsonrpc::detail::is_valid_utf8;
  const std::string ascii(70, 'a');
  for (std::size_t at = 0; at + 1 < ascii.size(); ++at) {
    INFO("at " << at);
    std::string s = ascii;
    s[at] = '\0';
    CHECK(is_valid_utf8(s, true));
    CHECK_FALSE(is_valid_utf8(s, false));
    s = ascii;
    s[at] = '\x80';  // a continuation byte with no lead
    CHECK_FALSE(is_valid_utf8(s, true));
    s = ascii;
    s.replace(at, 2, "\xc3\xa9");
    CHECK(is_valid_utf8(s, false));
    s = ascii;
    s.replace(at, 2, "\xc0\x80");  // overlong NUL
    CHECK_FALSE(is_valid_utf8(s, true));
  }
}
