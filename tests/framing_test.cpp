// Tests for the framing policies: round trips, every way a stream can be split, malformed
// frames, early rejection of oversize frames, and a user-defined framing.
#include <bsonrpc/framing/bson.hpp>
#include <bsonrpc/framing/content_length.hpp>
#include <bsonrpc/framing/frameless.hpp>
#include <bsonrpc/framing/ndjson.hpp>
#include <bsonrpc/framing/netstring.hpp>
#include <bsonrpc/framing/rfc7464.hpp>

#include <catch2/catch.hpp>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

using namespace bsonrpc;
using namespace std::string_literals;

namespace {

constexpr std::size_t default_max = 1 << 20;

// Reads frames the way a connection does: append what arrives, extract, drop what is consumed.
template <class F>
struct reader {
  F framing;
  std::string buffer;
  std::vector<std::string> messages;
  std::size_t max_message_bytes = default_max;

  void feed(std::string_view bytes) {
    buffer.append(bytes);
    while (auto f = framing.extract(buffer, max_message_bytes)) {
      messages.emplace_back(f->message(buffer));
      buffer.erase(0, f->consumed);
    }
  }
  void feed_bytewise(std::string_view bytes) {
    for (char c : bytes) feed(std::string_view(&c, 1));
  }
};

template <class F>
std::string wrap_all(const std::vector<std::string>& messages) {
  std::string out;
  for (const auto& m : messages) F::wrap(m, out);
  return out;
}

// The code of the framing_error thrown while reading `stream`, or no error if none was thrown.
template <class F>
std::error_code read_error(std::string_view stream, std::size_t max = default_max) {
  reader<F> r;
  r.max_message_bytes = max;
  try {
    r.feed(stream);
  } catch (const framing_error& e) {
    return e.code();
  }
  return {};
}

// How many bytes, fed one at a time, it takes to get a message_too_large (0 if it never comes).
template <class F>
std::size_t bytes_until_too_large(std::string_view stream, std::size_t max) {
  reader<F> r;
  r.max_message_bytes = max;
  for (std::size_t i = 0; i < stream.size(); ++i) {
    try {
      r.feed(stream.substr(i, 1));
    } catch (const message_too_large&) {
      return i + 1;
    }
  }
  return 0;
}

template <class F>
void check_round_trip(const std::vector<std::string>& messages) {
  for (const auto& m : messages) {
    std::string wrapped;
    F::wrap(m, wrapped);
    F framing;
    const auto f = framing.extract(wrapped, default_max);
    REQUIRE(f);
    CHECK(f->message(wrapped) == m);
    CHECK(f->consumed == wrapped.size());
  }
}

template <class F>
void check_back_to_back(const std::vector<std::string>& messages) {
  reader<F> r;
  r.feed(wrap_all<F>(messages));
  CHECK(r.messages == messages);
  CHECK(r.buffer.empty());
}

template <class F>
void check_bytewise(const std::vector<std::string>& messages) {
  reader<F> r;
  r.feed_bytewise(wrap_all<F>(messages));
  CHECK(r.messages == messages);
  CHECK(r.buffer.empty());
}

template <class F>
void check_every_split(const std::string& first, const std::string& second) {
  const std::string stream = wrap_all<F>({first, second});
  for (std::size_t split = 0; split <= stream.size(); ++split) {
    CAPTURE(split);
    reader<F> r;
    r.feed(std::string_view(stream).substr(0, split));
    r.feed(std::string_view(stream).substr(split));
    REQUIRE(r.messages == std::vector<std::string>{first, second});
  }
}

// A BSON document whose only element is the string "s": `n` bytes long in all.
std::string bson_document(std::size_t n) {
  const std::size_t text = n - 13;  // length, type, "s\0", string length, string's 0x00, 0x00
  auto le32 = [](std::size_t v) {
    std::string s;
    for (int i = 0; i < 4; ++i) s.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
    return s;
  };
  return le32(n) + "\x02s\0"s + le32(text + 1) + std::string(text, 'x') + '\0' + '\0';
}

const std::vector<std::string> json_messages = {
    R"({"jsonrpc":"2.0","method":"add","params":[1,2],"id":1})", "[]", "{}",
    R"({"s":"héllo ✓ 😀","t":"}]{[","q":"\"","b":"a\\"})",
    R"([{"a":[[{}],{"b":[]}]},[[[]]]])"};
const std::vector<std::string> byte_messages = {"", "hello", "1:a,", std::string("\0\x1E\n,:", 5),
                                                std::string(300, 'z')};
const std::vector<std::string> bson_messages = {bson_document(13), "\x05\0\0\0\0"s,
                                                bson_document(300), bson_document(70000)};

}  // namespace

// ---- rfc7464

TEST_CASE("rfc7464: a wrapped message extracts to itself", "[framing][rfc7464]") {
  check_round_trip<Rfc7464>(json_messages);
}

TEST_CASE("rfc7464: messages back to back in one buffer are all extracted", "[framing][rfc7464]") {
  check_back_to_back<Rfc7464>(json_messages);
}

TEST_CASE("rfc7464: messages fed one byte at a time are reassembled", "[framing][rfc7464]") {
  check_bytewise<Rfc7464>(json_messages);
}

TEST_CASE("rfc7464: a two-message stream split at every byte boundary is reassembled",
          "[framing][rfc7464]") {
  check_every_split<Rfc7464>(json_messages[0], json_messages[3]);
}

TEST_CASE("rfc7464: a text cut short by an RS is returned and the next text still read",
          "[framing][rfc7464]") {
  reader<Rfc7464> r;
  r.feed("\x1E{\"a\":\x1E{}\n");
  CHECK(r.messages == std::vector<std::string>{"{\"a\":", "{}"});
  CHECK(r.buffer.empty());
}

TEST_CASE("rfc7464: consecutive RS bytes are skipped, even across reads", "[framing][rfc7464]") {
  reader<Rfc7464> r;
  r.feed("\x1E\x1E");
  r.feed("\x1E[1]\n\x1E\x1E{}\n");
  CHECK(r.messages == std::vector<std::string>{"[1]", "{}"});
}

TEST_CASE("rfc7464: malformed frames are framing errors", "[framing][rfc7464]") {
  SECTION("a byte other than RS at the start of the stream") {
    REQUIRE_THROWS_AS(Rfc7464{}.extract("{}\n", default_max), framing_error);
    CHECK(read_error<Rfc7464>("{}\n") == errc::framing_error);
  }
  SECTION("a byte other than RS after a complete frame") {
    CHECK(read_error<Rfc7464>("\x1E{}\nx\x1E{}\n") == errc::framing_error);
  }
  SECTION("a run of RS longer than the maximum message") {
    CHECK(read_error<Rfc7464>(std::string(10, '\x1E'), 8) == errc::message_too_large);
  }
}

TEST_CASE("rfc7464: a text of exactly the maximum size is accepted", "[framing][rfc7464]") {
  reader<Rfc7464> r;
  r.max_message_bytes = 8;
  r.feed("\x1E" + std::string(8, 'a') + "\n");
  CHECK(r.messages == std::vector<std::string>{std::string(8, 'a')});
}

TEST_CASE("rfc7464: an oversize text is rejected before its LF arrives", "[framing][rfc7464]") {
  Rfc7464 framing;
  const std::string at_limit = "\x1E" + std::string(1000, 'a');
  CHECK_FALSE(framing.extract(at_limit, 1000));
  REQUIRE_THROWS_AS(framing.extract(at_limit + "a", 1000), message_too_large);
  CHECK(bytes_until_too_large<Rfc7464>(at_limit + "aaaa\n", 1000) == 1002);
}

TEST_CASE("rfc7464: a 4 MiB message fed byte by byte is found without rescanning",
          "[framing][rfc7464]") {
  const std::string big = "\x1E[\"" + std::string(4 << 20, 'x') + "\"]\n";
  reader<Rfc7464> r;
  r.max_message_bytes = 8 << 20;
  r.feed_bytewise(big);
  REQUIRE(r.messages.size() == 1);
  CHECK(r.messages[0].size() == big.size() - 2);
}

// ---- netstring

TEST_CASE("netstring: a wrapped message extracts to itself", "[framing][netstring]") {
  check_round_trip<Netstring>(byte_messages);
  std::string out;
  Netstring::wrap("hello", out);
  CHECK(out == "5:hello,");
}

TEST_CASE("netstring: messages back to back in one buffer are all extracted",
          "[framing][netstring]") {
  check_back_to_back<Netstring>(byte_messages);
}

TEST_CASE("netstring: messages fed one byte at a time are reassembled", "[framing][netstring]") {
  check_bytewise<Netstring>(byte_messages);
}

TEST_CASE("netstring: a two-message stream split at every byte boundary is reassembled",
          "[framing][netstring]") {
  check_every_split<Netstring>(byte_messages[3], byte_messages[4]);
}

TEST_CASE("netstring: malformed frames are framing errors", "[framing][netstring]") {
  SECTION("a non-digit where the length starts") {
    REQUIRE_THROWS_AS(Netstring{}.extract("x:a,", default_max), framing_error);
    CHECK(read_error<Netstring>("-1:a,") == errc::framing_error);
    CHECK(read_error<Netstring>(" 1:a,") == errc::framing_error);
  }
  SECTION("an empty length") { CHECK(read_error<Netstring>(":a,") == errc::framing_error); }
  SECTION("a non-digit inside the length") {
    CHECK(read_error<Netstring>("1x:a,") == errc::framing_error);
  }
  SECTION("a leading zero") {
    CHECK(read_error<Netstring>("01:a,") == errc::framing_error);
    CHECK(read_error<Netstring>("00:,") == errc::framing_error);
  }
  SECTION("a missing ',' terminator") {
    CHECK(read_error<Netstring>("1:ab") == errc::framing_error);
    CHECK(read_error<Netstring>("1:a,2:bc;") == errc::framing_error);
  }
}

TEST_CASE("netstring: a zero length is the empty message", "[framing][netstring]") {
  reader<Netstring> r;
  r.feed("0:,0:,");
  CHECK(r.messages == std::vector<std::string>{"", ""});
}

TEST_CASE("netstring: a length of exactly the maximum size is accepted", "[framing][netstring]") {
  reader<Netstring> r;
  r.max_message_bytes = 10;
  r.feed("10:0123456789,");
  CHECK(r.messages == std::vector<std::string>{"0123456789"});
  CHECK(read_error<Netstring>("11:", 10) == errc::message_too_large);
}

TEST_CASE("netstring: an oversize length is rejected on its digits", "[framing][netstring]") {
  const std::string huge = "99999999999999999999:";
  REQUIRE_THROWS_AS(Netstring{}.extract(huge, default_max), message_too_large);
  // 1 MiB has 7 digits, so the 7th nine already proves the length too large.
  CHECK(bytes_until_too_large<Netstring>(huge, default_max) == 7);
  const auto no_limit = std::numeric_limits<std::size_t>::max();
  CHECK(bytes_until_too_large<Netstring>(huge, no_limit) == 20);
}

// ---- frameless

TEST_CASE("frameless: a wrapped message extracts to itself", "[framing][frameless]") {
  check_round_trip<Frameless>(json_messages);
}

TEST_CASE("frameless: messages back to back in one buffer are all extracted",
          "[framing][frameless]") {
  check_back_to_back<Frameless>(json_messages);
}

TEST_CASE("frameless: messages fed one byte at a time are reassembled", "[framing][frameless]") {
  check_bytewise<Frameless>(json_messages);
}

TEST_CASE("frameless: a two-message stream split at every byte boundary is reassembled",
          "[framing][frameless]") {
  check_every_split<Frameless>(json_messages[3], json_messages[4]);
}

TEST_CASE("frameless: brackets and quotes inside strings do not end the message",
          "[framing][frameless]") {
  const std::vector<std::string> tricky = {
      R"({"a":"}"})", R"({"a":"]\"}"})", R"(["a\\"])", R"({"a\\\\":"\\\"}"})",
      R"(["\u0022}"])", "{\"s\":\"héllo ✓ 😀\"}", R"({"a":[{"b":[[],{}]}],"c":{"d":[]}})"};
  check_back_to_back<Frameless>(tricky);
  check_bytewise<Frameless>(tricky);
}

TEST_CASE("frameless: whitespace before and between messages is consumed", "[framing][frameless]") {
  reader<Frameless> r;
  r.feed(" \t\r\n{}\n [1] \r\n\t");
  r.feed("{\"a\":1}");
  CHECK(r.messages == std::vector<std::string>{"{}", "[1]", "{\"a\":1}"});
  CHECK(r.buffer.empty());
  Frameless framing;
  const auto f = framing.extract("  \n{}", default_max);
  REQUIRE(f);
  CHECK(f->offset == 3);
  CHECK(f->consumed == 5);
}

TEST_CASE("frameless: malformed frames are framing errors", "[framing][frameless]") {
  SECTION("a bare scalar at the top level") {
    REQUIRE_THROWS_AS(Frameless{}.extract("1", default_max), framing_error);
    CHECK(read_error<Frameless>("\"str\"") == errc::framing_error);
    CHECK(read_error<Frameless>("  true") == errc::framing_error);
    CHECK(read_error<Frameless>("{}x") == errc::framing_error);
  }
  SECTION("a closing bracket at depth zero") {
    CHECK(read_error<Frameless>("}") == errc::framing_error);
    CHECK(read_error<Frameless>("{}]") == errc::framing_error);
  }
  SECTION("a mismatched closing bracket") {
    CHECK(read_error<Frameless>("{]") == errc::framing_error);
    CHECK(read_error<Frameless>("[}") == errc::framing_error);
    CHECK(read_error<Frameless>("{\"a\":[1}") == errc::framing_error);
  }
}

TEST_CASE("frameless: a message of exactly the maximum size is accepted", "[framing][frameless]") {
  reader<Frameless> r;
  r.max_message_bytes = 8;
  r.feed("\n[\"1234\"]");
  CHECK(r.messages == std::vector<std::string>{"[\"1234\"]"});
  CHECK(read_error<Frameless>("[\"12345\"]", 8) == errc::message_too_large);
}

TEST_CASE("frameless: an oversize message is rejected before its end arrives",
          "[framing][frameless]") {
  const std::string open = "{\"a\":\"" + std::string(1000, 'x');
  REQUIRE_THROWS_AS(Frameless{}.extract(open, 1000), message_too_large);
  CHECK(bytes_until_too_large<Frameless>(open, 1000) == 1001);
  CHECK(read_error<Frameless>(std::string(1001, ' '), 1000) == errc::message_too_large);
}

TEST_CASE("frameless: a 4 MiB message fed byte by byte is found without rescanning",
          "[framing][frameless]") {
  const std::string big = "[\"" + std::string(4 << 20, 'x') + "\"]";
  reader<Frameless> r;
  r.max_message_bytes = 8 << 20;
  r.feed_bytewise(big);
  REQUIRE(r.messages.size() == 1);
  CHECK(r.messages[0].size() == big.size());
}

// ---- bson

TEST_CASE("bson: a wrapped document extracts to itself", "[framing][bson]") {
  check_round_trip<BsonFraming>(bson_messages);
}

TEST_CASE("bson: documents back to back in one buffer are all extracted", "[framing][bson]") {
  check_back_to_back<BsonFraming>(bson_messages);
}

TEST_CASE("bson: documents fed one byte at a time are reassembled", "[framing][bson]") {
  check_bytewise<BsonFraming>(bson_messages);
}

TEST_CASE("bson: a two-document stream split at every byte boundary is reassembled",
          "[framing][bson]") {
  check_every_split<BsonFraming>(bson_messages[0], bson_messages[2]);
}

TEST_CASE("bson: a length below the empty document is a framing error", "[framing][bson]") {
  SECTION("a length of 4") {
    REQUIRE_THROWS_AS(BsonFraming::extract("\x04\0\0\0"s, default_max), framing_error);
    CHECK(read_error<BsonFraming>("\x04\0\0\0"s) == errc::framing_error);
  }
  SECTION("a length of 0") {
    CHECK(read_error<BsonFraming>("\0\0\0\0\0"s) == errc::framing_error);
  }
  SECTION("a negative length") {
    CHECK(read_error<BsonFraming>("\xFF\xFF\xFF\xFF") == errc::framing_error);
    CHECK(read_error<BsonFraming>("\x00\x00\x00\x80"s) == errc::framing_error);
  }
}

TEST_CASE("bson: an oversize document is rejected on its 4 header bytes", "[framing][bson]") {
  CHECK_FALSE(BsonFraming::extract("\xFF\xFF\xFF", default_max));
  REQUIRE_THROWS_AS(BsonFraming::extract("\xFF\xFF\xFF\x7F", default_max), message_too_large);
  CHECK(bytes_until_too_large<BsonFraming>(bson_document(301), 300) == 4);
  reader<BsonFraming> r;
  r.max_message_bytes = 300;
  r.feed(bson_document(300));
  CHECK(r.messages.size() == 1);
}

// ---- a user-defined framing

namespace {

// A 4-byte big-endian length, then the message: what a user might plug in for their protocol.
struct BigEndianLength {
  static constexpr std::string_view name = "be32";

  std::optional<frame> extract(std::string_view buffer, std::size_t max_message_bytes) {
    if (buffer.size() < 4) return std::nullopt;
    std::size_t length = 0;
    for (int i = 0; i < 4; ++i) length = length << 8 | static_cast<unsigned char>(buffer[i]);
    if (length > max_message_bytes) throw message_too_large("be32: message too large");
    if (buffer.size() - 4 < length) return std::nullopt;
    return frame{4, length, 4 + length};
  }

  static void wrap(std::string_view message, std::string& out) {
    for (int shift = 24; shift >= 0; shift -= 8)
      out.push_back(static_cast<char>((message.size() >> shift) & 0xFF));
    out.append(message);
  }
};

struct ExtractOnly {
  std::optional<frame> extract(std::string_view, std::size_t) { return std::nullopt; }
};

struct WrapOnly {
  static void wrap(std::string_view, std::string&) {}
};

}  // namespace

static_assert(is_framing_v<BigEndianLength>);
static_assert(!is_framing_v<ExtractOnly>, "a framing without wrap() is not a framing");
static_assert(!is_framing_v<WrapOnly>, "a framing without extract() is not a framing");

TEST_CASE("custom framing: a user-defined framing round-trips through the same reader",
          "[framing][custom]") {
  check_round_trip<BigEndianLength>(byte_messages);
  check_back_to_back<BigEndianLength>(byte_messages);
  check_every_split<BigEndianLength>(byte_messages[1], byte_messages[4]);
  CHECK(BigEndianLength::name == "be32");
}

static_assert(!frames_in_place<BigEndianLength>::value && !has_frame_size_hint<BigEndianLength>::value,
              "begin_frame/end_frame and frame_size_hint are optional");

// ---- the optional members: framing in place and the size hint

namespace {

// What begin_frame + the message + end_frame leave in `out`, after what was already there.
template <class F>
std::string framed_in_place(std::string_view message, std::string out = "prefix") {
  F::begin_frame(out);
  const std::size_t start = out.size();
  out.append(message);
  F::end_frame(out, start);
  return out;
}

template <class F>
void check_in_place_matches_wrap(const std::vector<std::string>& messages) {
  static_assert(frames_in_place<F>::value);
  for (const auto& m : messages) {
    std::string wrapped = "prefix";
    F::wrap(m, wrapped);
    CHECK(framed_in_place<F>(m) == wrapped);
  }
}

// Feeds `stream` (one frame) a byte at a time; after each byte that leaves the frame incomplete,
// the hint must be 0 or exactly the frame's size, and it must be exact from `exact_from` bytes on.
template <class F>
void check_size_hint(const std::string& stream, std::size_t exact_from) {
  static_assert(has_frame_size_hint<F>::value);
  F framing;
  for (std::size_t n = 1; n < stream.size(); ++n) {
    CAPTURE(n);
    const std::string_view buffer = std::string_view(stream).substr(0, n);
    REQUIRE_FALSE(framing.extract(buffer, default_max));
    const std::size_t hint = framing.frame_size_hint(buffer);
    if (n >= exact_from) {
      REQUIRE(hint == stream.size());
    } else {
      REQUIRE((hint == 0 || hint == stream.size()));
    }
  }
  REQUIRE(framing.extract(stream, default_max));
}

}  // namespace

TEST_CASE("in-place framing: begin_frame, the message and end_frame give exactly wrap's bytes",
          "[framing][in-place]") {
  check_in_place_matches_wrap<Rfc7464>(json_messages);
  check_in_place_matches_wrap<Frameless>(json_messages);
  check_in_place_matches_wrap<BsonFraming>(bson_messages);
  static_assert(!frames_in_place<Netstring>::value, "a netstring's header needs the length first");
}

TEST_CASE("size hint: a netstring's hint is its whole frame as soon as its length is read",
          "[framing][netstring][size-hint]") {
  std::string stream;
  Netstring::wrap(std::string(70000, 'n'), stream);
  check_size_hint<Netstring>(stream, std::string("70000:").size());
  stream.clear();
  Netstring::wrap("", stream);
  check_size_hint<Netstring>(stream, 2);
}

TEST_CASE("size hint: a BSON document's hint is its length as soon as its 4 bytes are in",
          "[framing][bson][size-hint]") {
  check_size_hint<BsonFraming>(bson_document(70000), 4);
  check_size_hint<BsonFraming>(bson_document(13), 4);
  CHECK(BsonFraming::frame_size_hint("\x10\0\0") == 0);
}

// ---- content-length

namespace {

std::string content_length_frame(std::string_view message) {
  std::string out;
  ContentLength::wrap(message, out);
  return out;
}

}  // namespace

TEST_CASE("content-length: a wrapped message extracts to itself", "[framing][content-length]") {
  check_round_trip<ContentLength>(byte_messages);
  check_round_trip<ContentLength>(json_messages);
  CHECK(content_length_frame("hello") == "Content-Length: 5\r\n\r\nhello");
  CHECK(content_length_frame("") == "Content-Length: 0\r\n\r\n");
}

TEST_CASE("content-length: messages back to back in one buffer are all extracted",
          "[framing][content-length]") {
  check_back_to_back<ContentLength>(byte_messages);
}

TEST_CASE("content-length: messages fed one byte at a time are reassembled",
          "[framing][content-length]") {
  check_bytewise<ContentLength>(byte_messages);
}

TEST_CASE("content-length: a two-message stream split at every byte boundary is reassembled",
          "[framing][content-length]") {
  check_every_split<ContentLength>(byte_messages[3], json_messages[3]);
}

TEST_CASE("content-length: header names are case-insensitive and other headers are ignored",
          "[framing][content-length]") {
  reader<ContentLength> r;
  r.feed("Content-Length: 2\r\nContent-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n{}");
  r.feed("content-type:x\r\nCONTENT-LENGTH:3\r\n\r\n[1]");
  r.feed("cOnTeNt-LeNgTh: \t 4\t \r\nX-Empty:\r\nX-Odd: !#$%&'*+-.^_`|~ \x80\xFF\r\n\r\n\"ab\"");
  CHECK(r.messages == std::vector<std::string>{"{}", "[1]", "\"ab\""});
  CHECK(r.buffer.empty());
}

TEST_CASE("content-length: a repeated Content-Length with the same value is accepted",
          "[framing][content-length]") {
  reader<ContentLength> r;
  r.feed("Content-Length: 2\r\ncontent-length: 002\r\n\r\n{}");
  CHECK(r.messages == std::vector<std::string>{"{}"});
}

TEST_CASE("content-length: a zero length is the empty message", "[framing][content-length]") {
  reader<ContentLength> r;
  r.feed("Content-Length: 0\r\n\r\nContent-Length: 0\r\n\r\n");
  CHECK(r.messages == std::vector<std::string>{"", ""});
}

TEST_CASE("content-length: malformed headers are framing errors", "[framing][content-length]") {
  const auto error = [](const std::string& headers) {
    return read_error<ContentLength>(headers + "{}");
  };
  SECTION("no Content-Length header") {
    REQUIRE_THROWS_AS(ContentLength{}.extract("\r\n{}", default_max), framing_error);
    CHECK(error("Content-Type: text/plain\r\n\r\n") == errc::framing_error);
    CHECK(error("Content-Length-X: 2\r\n\r\n") == errc::framing_error);
    CHECK(error("Content-Lengt: 2\r\n\r\n") == errc::framing_error);
  }
  SECTION("a value that is not decimal digits") {
    CHECK(error("Content-Length: \r\n\r\n") == errc::framing_error);
    CHECK(error("Content-Length: -2\r\n\r\n") == errc::framing_error);
    CHECK(error("Content-Length: +2\r\n\r\n") == errc::framing_error);
    CHECK(error("Content-Length: 0x2\r\n\r\n") == errc::framing_error);
    CHECK(error("Content-Length: 2a\r\n\r\n") == errc::framing_error);
    CHECK(error("Content-Length: 1 1\r\n\r\n") == errc::framing_error);
    CHECK(error("Content-Length: 2, 2\r\n\r\n") == errc::framing_error);
  }
  SECTION("two Content-Length headers that disagree") {
    CHECK(error("Content-Length: 2\r\nContent-Length: 3\r\n\r\n") == errc::framing_error);
  }
  SECTION("a line not ended by CR LF") {
    CHECK(error("Content-Length: 2\n\n") == errc::framing_error);
    CHECK(error("Content-Length: 2\r\n\n") == errc::framing_error);
    CHECK(error("Content-Length: 2\rX\r\n\r\n") == errc::framing_error);
    CHECK(error("Content-Length: 2\r\n\rX") == errc::framing_error);
  }
  SECTION("a header name that is not a token, or not followed directly by ':'") {
    CHECK(error(": 2\r\nContent-Length: 2\r\n\r\n") == errc::framing_error);
    CHECK(error("Content-Length : 2\r\n\r\n") == errc::framing_error);
    CHECK(error("Content Length: 2\r\n\r\n") == errc::framing_error);
    CHECK(error("Content-Length\r\n\r\n") == errc::framing_error);
    CHECK(error("{\"jsonrpc\":\"2.0\"}") == errc::framing_error);
  }
  SECTION("a continuation line") {
    CHECK(error("Content-Length: 2\r\n X: 1\r\n\r\n") == errc::framing_error);
    CHECK(error("Content-Length: 2\r\n\tX: 1\r\n\r\n") == errc::framing_error);
  }
  SECTION("a control byte in a value") {
    CHECK(error("Content-Length: 2\r\nX: a\x01\r\n\r\n") == errc::framing_error);
    CHECK(error("Content-Length: 2\r\nX: a\x7F\r\n\r\n") == errc::framing_error);
    CHECK(error("Content-Length: 2\r\nX: a"s + '\0' + "\r\n\r\n") == errc::framing_error);
  }
  SECTION("a header block longer than max_header_bytes, refused on its first byte too many") {
    const std::string long_header =
        "Content-Length: 2\r\nX: " + std::string(ContentLength::max_header_bytes, 'x');
    CHECK(read_error<ContentLength>(long_header) == errc::framing_error);
    reader<ContentLength> r;
    r.feed(long_header.substr(0, ContentLength::max_header_bytes - 1));
    REQUIRE_THROWS_AS(r.feed("x"), framing_error);
    // Exactly max_header_bytes, empty line included, is still accepted.
    const std::string filler(ContentLength::max_header_bytes - 26, 'x');
    reader<ContentLength> fits;
    fits.feed("Content-Length: 2\r\nX: " + filler + "\r\n\r\n{}");
    CHECK(fits.messages == std::vector<std::string>{"{}"});
  }
}

TEST_CASE("content-length: a length of exactly the maximum size is accepted",
          "[framing][content-length]") {
  reader<ContentLength> r;
  r.max_message_bytes = 10;
  r.feed("Content-Length: 10\r\n\r\n0123456789");
  CHECK(r.messages == std::vector<std::string>{"0123456789"});
  CHECK(read_error<ContentLength>("Content-Length: 11\r\n", 10) == errc::message_too_large);
}

TEST_CASE("content-length: an oversize length is rejected on its digits, before the body",
          "[framing][content-length]") {
  const std::string huge = "Content-Length: 99999999999999999999\r\n\r\n";
  REQUIRE_THROWS_AS(ContentLength{}.extract(huge, default_max), message_too_large);
  const std::size_t prefix = std::string("Content-Length: ").size();
  // 1 MiB has 7 digits, so the 7th nine already proves the length too large.
  CHECK(bytes_until_too_large<ContentLength>(huge, default_max) == prefix + 7);
  const auto no_limit = std::numeric_limits<std::size_t>::max();
  CHECK(bytes_until_too_large<ContentLength>(huge, no_limit) == prefix + 20);
  // A second, disagreeing header cannot sneak a larger length past the limit either.
  CHECK(read_error<ContentLength>("Content-Length: 5\r\nContent-Length: 6\r\n", 5) ==
        errc::message_too_large);
}

TEST_CASE("content-length: a 4 MiB message fed byte by byte is found without rescanning",
          "[framing][content-length]") {
  const std::string big = content_length_frame("[\"" + std::string(4 << 20, 'x') + "\"]");
  reader<ContentLength> r;
  r.max_message_bytes = 8 << 20;
  r.feed_bytewise(big);
  REQUIRE(r.messages.size() == 1);
  CHECK(r.messages[0].size() == (4u << 20) + 4);
}

TEST_CASE("size hint: a content-length frame's hint is its whole frame once its header block is in",
          "[framing][content-length][size-hint]") {
  const std::string header = "Content-Length: 70000\r\nContent-Type: x\r\n\r\n";
  check_size_hint<ContentLength>(header + std::string(70000, 'c'), header.size());
  check_size_hint<ContentLength>(content_length_frame("{}"), std::string("Content-Length: 2\r\n\r\n").size());
  static_assert(!frames_in_place<ContentLength>::value, "the header needs the length first");
}

// ---- ndjson

TEST_CASE("ndjson: a wrapped message extracts to itself", "[framing][ndjson]") {
  check_round_trip<Ndjson>(json_messages);
  std::string out;
  Ndjson::wrap("{}", out);
  CHECK(out == "{}\n");
}

TEST_CASE("ndjson: messages back to back in one buffer are all extracted", "[framing][ndjson]") {
  check_back_to_back<Ndjson>(json_messages);
}

TEST_CASE("ndjson: messages fed one byte at a time are reassembled", "[framing][ndjson]") {
  check_bytewise<Ndjson>(json_messages);
}

TEST_CASE("ndjson: a two-message stream split at every byte boundary is reassembled",
          "[framing][ndjson]") {
  check_every_split<Ndjson>(json_messages[0], json_messages[3]);
}

TEST_CASE("ndjson: CRLF line ends are accepted and the CR dropped", "[framing][ndjson]") {
  reader<Ndjson> r;
  r.feed("{}\r\n[1]\r");
  r.feed("\n{\"a\":\"\\r\"}\n");
  CHECK(r.messages == std::vector<std::string>{"{}", "[1]", "{\"a\":\"\\r\"}"});
  CHECK(r.buffer.empty());
  // CRs right before the LF are line end (so every message read wraps back to the same line);
  // any other is the codec's to judge.
  reader<Ndjson> inner;
  inner.feed("{}\r\r\n\r{}\n");
  CHECK(inner.messages == std::vector<std::string>{"{}", "\r{}"});
}

TEST_CASE("ndjson: blank and whitespace-only lines are skipped, even across reads",
          "[framing][ndjson]") {
  reader<Ndjson> r;
  r.feed("\n\r\n \t \n");
  CHECK(r.messages.empty());
  r.feed("  {}\n\n\n");
  r.feed("\r\n[1]\n  \r\n");
  CHECK(r.messages == std::vector<std::string>{"  {}", "[1]"});
  Ndjson framing;
  const auto f = framing.extract("\n\r\n{}\n", default_max);
  REQUIRE(f);
  CHECK(f->offset == 3);
  CHECK(f->consumed == 6);
}

TEST_CASE("ndjson: a line that is not JSON is still a frame, and the next line is read",
          "[framing][ndjson]") {
  static_assert(framing_resynchronises<Ndjson>::value);
  reader<Ndjson> r;
  r.feed("{\"a\":\n"s + "\x1E\0\xFF"s + "\n{}\n");
  CHECK(r.messages == std::vector<std::string>{"{\"a\":", "\x1E\0\xFF"s, "{}"});
}

TEST_CASE("ndjson: a message holding a raw newline is refused, not sent as two lines",
          "[framing][ndjson]") {
  std::string out = "before";
  REQUIRE_THROWS_AS(Ndjson::wrap("{\"a\":\n1}", out), encoding_error);
  CHECK(out == "before");
  std::string in_place = "before";
  Ndjson::begin_frame(in_place);
  const std::size_t start = in_place.size();
  in_place.append("[1,\n2]");
  REQUIRE_THROWS_AS(Ndjson::end_frame(in_place, start), encoding_error);
  CHECK(in_place == "before");
  try {
    Ndjson::wrap("\n", out);
  } catch (const encoding_error& e) {
    CHECK(e.code() == errc::encoding_error);
  }
}

TEST_CASE("ndjson: a message that would not read back unchanged (final CR, blank) is refused",
          "[framing][ndjson]") {
  std::string out = "before";
  REQUIRE_THROWS_AS(Ndjson::wrap("{}\r", out), encoding_error);  // the reader drops a CR
  REQUIRE_THROWS_AS(Ndjson::wrap("", out), encoding_error);       // blank lines are skipped
  REQUIRE_THROWS_AS(Ndjson::wrap(" \t", out), encoding_error);
  CHECK(out == "before");
  Ndjson::wrap(" {}", out);  // leading blanks are part of the line and read back
  reader<Ndjson> r;
  r.feed(out.substr(6));
  CHECK(r.messages == std::vector<std::string>{" {}"});
}

TEST_CASE("ndjson: a line of exactly the maximum size is accepted", "[framing][ndjson]") {
  reader<Ndjson> r;
  r.max_message_bytes = 8;
  r.feed("[\"1234\"]\n[\"5678\"]\r\n");
  CHECK(r.messages == std::vector<std::string>{"[\"1234\"]", "[\"5678\"]"});
  CHECK(read_error<Ndjson>("[\"12345\"]\n", 8) == errc::message_too_large);
  CHECK(read_error<Ndjson>("[\"12345\"]\r\n", 8) == errc::message_too_large);
}

TEST_CASE("ndjson: an oversize line is rejected before its newline arrives", "[framing][ndjson]") {
  const std::string at_limit(1000, 'a');
  Ndjson framing;
  CHECK_FALSE(framing.extract(at_limit, 1000));
  REQUIRE_THROWS_AS(framing.extract(at_limit + "a", 1000), message_too_large);
  CHECK(bytes_until_too_large<Ndjson>(at_limit + "aaaa\n", 1000) == 1001);
  // A CR one past the limit may still be the line's end: the byte after it decides.
  CHECK(bytes_until_too_large<Ndjson>(at_limit + "\r\n", 1000) == 0);
  CHECK(bytes_until_too_large<Ndjson>(at_limit + "\ra", 1000) == 1002);
  const auto no_limit = std::numeric_limits<std::size_t>::max();
  CHECK(bytes_until_too_large<Ndjson>(at_limit + "\n", no_limit) == 0);
}

TEST_CASE("ndjson: blank lines are bounded like a message", "[framing][ndjson]") {
  CHECK(read_error<Ndjson>(std::string(1001, '\n'), 1000) == errc::message_too_large);
  CHECK(read_error<Ndjson>(std::string(1001, ' '), 1000) == errc::message_too_large);
  CHECK(read_error<Ndjson>(std::string(1000, '\n'), 1000) == std::error_code());
}

TEST_CASE("ndjson: a 4 MiB message fed byte by byte is found without rescanning",
          "[framing][ndjson]") {
  const std::string big = "[\"" + std::string(4 << 20, 'x') + "\"]\n";
  reader<Ndjson> r;
  r.max_message_bytes = 8 << 20;
  r.feed_bytewise(big);
  REQUIRE(r.messages.size() == 1);
  CHECK(r.messages[0].size() == big.size() - 1);
}

TEST_CASE("in-place framing: ndjson's begin_frame, message and end_frame give exactly wrap's bytes",
          "[framing][ndjson][in-place]") {
  check_in_place_matches_wrap<Ndjson>(json_messages);
}

// ---- between messages: what only separates messages does not count as one under way

TEST_CASE("between messages: frameless whitespace and NDJSON blank lines are not a message under way",
          "[framing][frameless][ndjson]") {
  SECTION("frameless") {
    Frameless framing;
    CHECK(framing.between_messages());
    const std::string stream = "{\"a\":1}\n \t\r\n";
    auto f = framing.extract(stream, default_max);
    REQUIRE(f);
    const std::string rest = stream.substr(f->consumed);
    CHECK_FALSE(framing.extract(rest, default_max));
    CHECK(framing.between_messages());
    CHECK_FALSE(framing.extract(rest + "{\"b\"", default_max));
    CHECK_FALSE(framing.between_messages());
  }
  SECTION("ndjson") {
    Ndjson framing;
    CHECK(framing.between_messages());
    CHECK_FALSE(framing.extract("\r\n  \n\t", default_max));
    CHECK(framing.between_messages());
    CHECK_FALSE(framing.extract("\r\n  \n\t{\"a\"", default_max));
    CHECK_FALSE(framing.between_messages());
  }
  static_assert(!has_between_messages<Rfc7464>::value && !has_between_messages<Netstring>::value,
                "every byte of these framings belongs to a frame");
}
