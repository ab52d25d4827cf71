// Tests for the policy checks of codec/codec.hpp and framing/framing.hpp: every codec and framing
// the library ships, and a user's own, pass codec_static_asserts and framing_static_asserts;
// is_codec_v and is_framing_v reject what those asserts report. The rejections' messages are
// checked by the compile-fail tests (tests/compile_fail/bad_*.cpp).
#include <bsonrpc/codec/bson.hpp>
#include <bsonrpc/codec/json.hpp>
#include <bsonrpc/framing/auto.hpp>
#include <bsonrpc/framing/bson.hpp>
#include <bsonrpc/framing/content_length.hpp>
#include <bsonrpc/framing/frameless.hpp>
#include <bsonrpc/framing/ndjson.hpp>
#include <bsonrpc/framing/netstring.hpp>
#include <bsonrpc/framing/rfc7464.hpp>

#include <catch2/catch.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace concepts_test {

// Shaped as tests/custom_codec_test.cpp's CborCodec: decode has a default for its limits.
struct UserCodec {
  using value_type = nlohmann::json;
  static constexpr std::string_view protocol_key = "jsonrpc";
  static constexpr bool supports_batches = true;
  static value_type decode(std::string_view bytes, const bsonrpc::decode_limits& = {}) {
    return value_type::parse(bytes);
  }
  static void encode(const value_type& message, std::string& out) { out += message.dump(); }
};

struct NoEncode {
  using value_type = nlohmann::json;
  static constexpr std::string_view protocol_key = "jsonrpc";
  static constexpr bool supports_batches = true;
  static value_type decode(std::string_view bytes, const bsonrpc::decode_limits&);
};

// supports_batches must be a constant: the library branches on it with `if constexpr`.
struct RuntimeBatches : UserCodec {
  static inline bool supports_batches = true;
};

struct Text {};
struct TextCodec {
  using value_type = Text;
  static constexpr std::string_view protocol_key = "jsonrpc";
  static constexpr bool supports_batches = false;
  static Text decode(std::string_view bytes, const bsonrpc::decode_limits&);
  static void encode(const Text& message, std::string& out);
};

struct Framing {
  std::optional<bsonrpc::frame> extract(std::string_view buffer, std::size_t max_message_bytes);
  static void wrap(std::string_view message, std::string& out);
};
// Writes depending on what it read: wrap as a const member function.
struct StatefulWrap {
  std::optional<bsonrpc::frame> extract(std::string_view buffer, std::size_t max_message_bytes);
  void wrap(std::string_view message, std::string& out) const;
};
// A wrap that may change the framing is not allowed: writers run beside the reader.
struct MutatingWrap {
  std::optional<bsonrpc::frame> extract(std::string_view buffer, std::size_t max_message_bytes);
  void wrap(std::string_view message, std::string& out);
};
struct HintedFraming : Framing {
  std::size_t frame_size_hint(std::string_view buffer) const;
};
struct MutableHint : Framing {
  std::size_t frame_size_hint(std::string_view buffer);
};
struct BeginFrameOnly : Framing {
  static void begin_frame(std::string& out);
};
struct ResynchronisesAtRunTime : Framing {
  bool resynchronises = false;
};
// A misspelled optional member is just another member: found by no one, reported by no one.
struct MisspelledHint : Framing {
  std::size_t frame_size_hnt(std::string_view buffer);
};

template <class... F>
constexpr bool pass_framing_asserts() {
  return ((sizeof(bsonrpc::framing_static_asserts<F>) > 0) && ...);
}

}  // namespace concepts_test

static_assert(sizeof(bsonrpc::codec_static_asserts<bsonrpc::JsonCodec>));
static_assert(sizeof(bsonrpc::codec_static_asserts<bsonrpc::BsonCodec>));
static_assert(sizeof(bsonrpc::codec_static_asserts<concepts_test::UserCodec>));
static_assert(concepts_test::pass_framing_asserts<bsonrpc::AutoFraming, bsonrpc::BsonFraming,
                                                  bsonrpc::ContentLength,
                                                  bsonrpc::Frameless, bsonrpc::Ndjson,
                                                  bsonrpc::Netstring, bsonrpc::Rfc7464>());
static_assert(concepts_test::pass_framing_asserts<concepts_test::Framing,
                                                  concepts_test::HintedFraming,
                                                  concepts_test::MisspelledHint>());

TEST_CASE("concepts: every shipped codec and a user's own model the Codec concept",
          "[concepts][codec]") {
  CHECK(bsonrpc::is_codec_v<bsonrpc::JsonCodec>);
  CHECK(bsonrpc::is_codec_v<bsonrpc::BsonCodec>);
  CHECK(bsonrpc::is_codec_v<concepts_test::UserCodec>);
}

TEST_CASE("concepts: a codec missing a member, or with a run-time one, is not a codec",
          "[concepts][codec]") {
  CHECK_FALSE(bsonrpc::is_codec_v<concepts_test::NoEncode>);
  CHECK_FALSE(bsonrpc::is_codec_v<concepts_test::RuntimeBatches>);
  CHECK_FALSE(bsonrpc::is_codec_v<concepts_test::TextCodec>);  // no value_traits<Text>
  CHECK_FALSE(bsonrpc::is_codec_v<int>);
}

TEST_CASE("concepts: every shipped framing models the Framing concept", "[concepts][framing]") {
  CHECK(bsonrpc::is_framing_v<bsonrpc::AutoFraming>);
  CHECK(bsonrpc::is_framing_v<bsonrpc::BsonFraming>);
  CHECK(bsonrpc::is_framing_v<bsonrpc::ContentLength>);
  CHECK(bsonrpc::is_framing_v<bsonrpc::Frameless>);
  CHECK(bsonrpc::is_framing_v<bsonrpc::Ndjson>);
  CHECK(bsonrpc::is_framing_v<bsonrpc::Netstring>);
  CHECK(bsonrpc::is_framing_v<bsonrpc::Rfc7464>);
}

TEST_CASE("concepts: an optional framing member with the wrong signature is rejected",
          "[concepts][framing]") {
  CHECK(bsonrpc::is_framing_v<concepts_test::HintedFraming>);
  CHECK(bsonrpc::has_frame_size_hint<concepts_test::HintedFraming>::value);
  CHECK_FALSE(bsonrpc::is_framing_v<concepts_test::MutableHint>);
  CHECK_FALSE(bsonrpc::is_framing_v<concepts_test::BeginFrameOnly>);
  CHECK_FALSE(bsonrpc::is_framing_v<concepts_test::ResynchronisesAtRunTime>);
  CHECK(bsonrpc::framing_resynchronises<concepts_test::ResynchronisesAtRunTime>::value);
  CHECK_FALSE(bsonrpc::framing_resynchronises<bsonrpc::Frameless>::value);
}

TEST_CASE("concepts: a framing's wrap may be a const member function, not a mutating one",
          "[concepts][framing]") {
  CHECK(bsonrpc::is_framing_v<concepts_test::StatefulWrap>);
  CHECK_FALSE(bsonrpc::is_framing_v<concepts_test::MutatingWrap>);
}

TEST_CASE("concepts: a misspelled optional framing member cannot be detected",
          "[concepts][framing]") {
  CHECK(bsonrpc::is_framing_v<concepts_test::MisspelledHint>);
  CHECK_FALSE(bsonrpc::has_frame_size_hint<concepts_test::MisspelledHint>::value);
}
