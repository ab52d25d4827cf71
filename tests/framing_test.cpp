// Tests for the framing policies: round trips, every way a stream can be split, malformed
// frames, early rejection of oversize frames, and a user-defined framing.
#include <bsonrpc/framing/bson.hpp>
#include <bsonrpc/framing/frameless.hpp>
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
