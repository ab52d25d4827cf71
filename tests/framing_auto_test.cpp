// Tests for AutoFraming and detect_framing: every framing's first bytes, whole and one byte at a
// time; replies written in the detected framing; BSON and garbage refused with a clear message.
#include <bsonrpc/framing/auto.hpp>
#include <bsonrpc/framing/bson.hpp>
#include <bsonrpc/framing/content_length.hpp>
#include <bsonrpc/framing/frameless.hpp>
#include <bsonrpc/framing/ndjson.hpp>
#include <bsonrpc/framing/netstring.hpp>
#include <bsonrpc/framing/rfc7464.hpp>

#include <catch2/catch.hpp>

#include <string>
#include <string_view>
#include <vector>

using namespace std::string_literals;
using bsonrpc::AutoFraming;
using bsonrpc::detected_framing;

namespace auto_test {

constexpr std::size_t max_bytes = 1 << 20;
const std::string request = R"({"jsonrpc":"2.0","method":"add","params":[1,2],"id":1})";
const std::string notification = R"({"jsonrpc":"2.0","method":"log","params":["x"]})";

// A BSON document {"a": 1} (int32).
const std::string bson_document = "\x0c\x00\x00\x00\x10\x61\x00\x01\x00\x00\x00\x00"s;

// Two messages framed by F, as a client using F sends them.
template <class F>
std::string framed_by() {
  std::string out;
  F::wrap(request, out);
  F::wrap(notification, out);
  return out;
}

struct case_ {
  const char* name;
  std::string stream;
  detected_framing expected;
};

std::vector<case_> every_text_framing() {
  return {
      {"rfc7464", framed_by<bsonrpc::Rfc7464>(), detected_framing::rfc7464},
      {"netstring", framed_by<bsonrpc::Netstring>(), detected_framing::netstring},
      {"content-length", framed_by<bsonrpc::ContentLength>(), detected_framing::content_length},
      {"content-length, lower case and another header first",
       "content-type: application/vscode-jsonrpc; charset=utf-8\r\ncontent-length: " +
           std::to_string(request.size()) + "\r\n\r\n" + request +
           "CONTENT-LENGTH: " + std::to_string(notification.size()) + "\r\n\r\n" + notification,
       detected_framing::content_length},
      {"ndjson", framed_by<bsonrpc::Ndjson>(), detected_framing::json_text},
      {"frameless", framed_by<bsonrpc::Frameless>(), detected_framing::json_text},
      {"ndjson after blank lines", "\r\n\n" + framed_by<bsonrpc::Ndjson>(),
       detected_framing::json_text},
      {"frameless batch", "[" + request + "," + notification + "]" + notification,
       detected_framing::json_text},
  };
}

// Reads `stream` as a connection does, `step` bytes per read.
struct reader {
  AutoFraming framing;
  std::string buffer;
  std::vector<std::string> messages;

  void feed(std::string_view stream, std::size_t step) {
    for (std::size_t i = 0; i < stream.size(); i += step) {
      buffer.append(stream.substr(i, step));
      while (auto f = framing.extract(buffer, max_bytes)) {
        messages.emplace_back(f->message(buffer));
        buffer.erase(0, f->consumed);
      }
    }
  }
};

std::string framing_error_of(std::string_view stream, std::size_t step) {
  reader r;
  try {
    r.feed(stream, step);
  } catch (const bsonrpc::framing_error& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace auto_test

TEST_CASE("auto framing: each framing's first bytes are detected, whole or one byte at a time",
          "[framing][auto]") {
  using namespace auto_test;  // in each test: a unity batch shares the file scope
  for (const auto& c : every_text_framing()) {
    for (std::size_t step : {std::size_t{1}, std::size_t{2}, std::size_t{1024}}) {
      INFO(c.name << ", " << step << "-byte reads");
      reader r;
      r.feed(c.stream, step);
      CHECK(r.framing.detected() == c.expected);
      REQUIRE(r.messages.size() == 2);
      CHECK(r.messages[0].find(R"("method":"add")") != std::string::npos);
      CHECK(r.messages[1].find(R"("method":"log")") != std::string::npos);
      CHECK(r.buffer.find_first_not_of(" \t\r\n") == std::string::npos);
    }
  }
}

TEST_CASE("auto framing: detect_framing decides on the fewest bytes that tell framings apart",
          "[framing][auto]") {
  using namespace auto_test;  // in each test: a unity batch shares the file scope
  using bsonrpc::detect_framing;
  CHECK(detect_framing("") == detected_framing::undecided);
  CHECK(detect_framing("\x1E{") == detected_framing::undecided);  // could be a 30-byte BSON doc
  CHECK(detect_framing("\x1E{\"j") == detected_framing::rfc7464);
  CHECK(detect_framing("{}") == detected_framing::json_text);
  CHECK(detect_framing("[]") == detected_framing::json_text);
  CHECK(detect_framing("{\"a") == detected_framing::undecided);
  CHECK(detect_framing("{\"ab") == detected_framing::json_text);
  CHECK(detect_framing("  \n{") == detected_framing::json_text);
  CHECK(detect_framing("1234") == detected_framing::undecided);
  CHECK(detect_framing("1234:") == detected_framing::netstring);
  CHECK(detect_framing("12a4") == detected_framing::unknown);
  CHECK(detect_framing(std::string(21, '9')) == detected_framing::unknown);
  CHECK(detect_framing("Content-Len") == detected_framing::undecided);
  CHECK(detect_framing("CONTENT-LENGTH:") == detected_framing::content_length);
  CHECK(detect_framing("Content-Type:") == detected_framing::content_length);
  CHECK(detect_framing("Content-Lentil") == detected_framing::unknown);
  CHECK(detect_framing(bson_document.substr(0, 4)) == detected_framing::undecided);
  CHECK(detect_framing(bson_document.substr(0, 5)) == detected_framing::bson);
  CHECK(detect_framing("\x05\x00\x00\x00\x00"s) == detected_framing::bson);  // {}
  // A BSON document of 123 bytes starts with '{': its NUL bytes say it is no text.
  CHECK(detect_framing("{\x00\x00\x00\x02"s) == detected_framing::bson);
  CHECK(detect_framing("\x04\x00\x00\x00\x02"s) == detected_framing::unknown);  // length < 5
  CHECK(detect_framing("\x0c\x00\x00\x00\x42"s) == detected_framing::unknown);  // no such type
  CHECK(detect_framing("GET / HTTP/1.1\r\n") == detected_framing::unknown);
  CHECK(bsonrpc::to_string(detected_framing::json_text) == "json-text");
}

TEST_CASE("auto framing: replies are written in the framing the peer uses, and read back by it",
          "[framing][auto]") {
  using namespace auto_test;  // in each test: a unity batch shares the file scope
  const std::string reply = R"({"jsonrpc":"2.0","result":3,"id":1})";
  auto round_trip = [&](const std::string& first_bytes) {
    reader r;
    r.feed(first_bytes, 1);
    std::string out;
    r.framing.wrap(reply, out);
    return out;
  };
  SECTION("rfc7464, netstring and content-length write as those framings do") {
    std::string expected;
    bsonrpc::Rfc7464::wrap(reply, expected);
    CHECK(round_trip(framed_by<bsonrpc::Rfc7464>()) == expected);
    expected.clear();
    bsonrpc::Netstring::wrap(reply, expected);
    CHECK(round_trip(framed_by<bsonrpc::Netstring>()) == expected);
    expected.clear();
    bsonrpc::ContentLength::wrap(reply, expected);
    CHECK(round_trip(framed_by<bsonrpc::ContentLength>()) == expected);
  }
  SECTION("JSON texts end with LF, which an NDJSON and a frameless reader both accept") {
    const std::string out = round_trip(framed_by<bsonrpc::Frameless>());
    CHECK(out == reply + "\n");
    bsonrpc::Ndjson ndjson;
    auto f = ndjson.extract(out, max_bytes);
    REQUIRE(f);
    CHECK(f->message(out) == reply);
    bsonrpc::Frameless frameless;
    f = frameless.extract(out, max_bytes);
    REQUIRE(f);
    CHECK(f->message(out) == reply);
  }
  SECTION("before detection nothing can be written") {
    AutoFraming framing;
    std::string out;
    CHECK_THROWS_AS(framing.wrap(reply, out), bsonrpc::encoding_error);
    CHECK(out.empty());
  }
}

TEST_CASE("auto framing: BSON is recognised and refused, in one clear message", "[framing][auto]") {
  using namespace auto_test;  // in each test: a unity batch shares the file scope
  for (std::size_t step : {std::size_t{1}, std::size_t{64}}) {
    const std::string what = framing_error_of(bson_document, step);
    CHECK(what.find("auto: the peer sends BSON") != std::string::npos);
    CHECK(what.find("BsonRpc") != std::string::npos);
  }
}

TEST_CASE("auto framing: bytes that match no framing are a framing error naming them",
          "[framing][auto]") {
  using namespace auto_test;  // in each test: a unity batch shares the file scope
  for (const std::string& garbage : {"GET / HTTP/1.1\r\nHost: x\r\n\r\n"s, "12x:"s, "hello"s,
                                    "\x16\x03\x01\x02\x00"s /* a TLS ClientHello */}) {
    for (std::size_t step : {std::size_t{1}, std::size_t{64}}) {
      INFO(garbage << ", " << step << "-byte reads");
      const std::string what = framing_error_of(garbage, step);
      CHECK(what.find("auto: the first bytes match no framing") != std::string::npos);
    }
  }
  CHECK(framing_error_of("GET ", 64).find("first bytes 47 45 54 20") != std::string::npos);
}

TEST_CASE("auto framing: an oversize message is refused as its detected framing refuses it",
          "[framing][auto]") {
  using namespace auto_test;  // in each test: a unity batch shares the file scope
  AutoFraming framing;
  CHECK_THROWS_AS(framing.extract("99999999:", 1000), bsonrpc::message_too_large);
}
