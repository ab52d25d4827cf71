// bsonrpc/redact.hpp on its own: redact_members over hand-written lines, every cut of a line,
// and random documents in JSON and in libbson's Extended JSON.
#include <bsonrpc/log.hpp>
#include <bsonrpc/redact.hpp>

#include <bson/bson.h>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace {

const std::vector<std::string> secrets{"password", "token"};

std::string redact(std::string_view line) { return bsonrpc::redact_members(line, secrets); }

}  // namespace

TEST_CASE("log redactor: a named member's string value becomes \"***\", nothing else changes",
          "[log][redact]") {
  CHECK(redact(R"({"user":"ann","password":"hunter2","n":1})") ==
        R"({"user":"ann","password":"***","n":1})");
  CHECK(redact(R"(handler login threw: {"password":"hunter2"} refused)") ==
        R"(handler login threw: {"password":"***"} refused)");
  CHECK(redact(R"({"token":"a","password":"b"})") == R"({"token":"***","password":"***"})");
  CHECK(redact(R"({"user":"ann","note":"password"})") == R"({"user":"ann","note":"password"})");
}

TEST_CASE("log redactor: numbers, literals, objects and arrays are masked whole",
          "[log][redact]") {
  CHECK(redact(R"({"password":-12.5e3,"n":1})") == R"({"password":"***","n":1})");
  CHECK(redact(R"({"password":true})") == R"({"password":"***"})");
  CHECK(redact(R"({"password":null,"n":1})") == R"({"password":"***","n":1})");
  CHECK(redact(R"({"token":{"kind":"bearer","v":["x]",{"y":"}"}]},"n":1})") ==
        R"({"token":"***","n":1})");
  CHECK(redact(R"({"token":[1,[2,[3]],"]"],"n":1})") == R"({"token":"***","n":1})");
}

TEST_CASE("log redactor: an escaped quote or backslash inside the secret does not end it early",
          "[log][redact]") {
  CHECK(redact(R"({"password":"a\"b,\"n\":1","n":2})") == R"({"password":"***","n":2})");
  CHECK(redact(R"({"password":"ends with \\","n":2})") == R"({"password":"***","n":2})");
  CHECK(redact(R"({"password":"a\\\"b"})") == R"({"password":"***"})");
}

TEST_CASE("log redactor: keys match exactly, after decoding their escapes", "[log][redact]") {
  CHECK(redact(R"({"Password":"a","passwords":"b","pass":"c","xtoken":"d"})") ==
        R"({"Password":"a","passwords":"b","pass":"c","xtoken":"d"})");
  CHECK(redact(R"({"pass\u0077ord":"a"})") == R"({"pass\u0077ord":"***"})");
  CHECK(redact(R"({"\u0070\u0061\u0073\u0073\u0077\u006F\u0072\u0064":1})") ==
        R"({"\u0070\u0061\u0073\u0073\u0077\u006F\u0072\u0064":"***"})");
  CHECK(redact(R"({"pass\/word":"a","to\ken":"b"})") == R"({"pass\/word":"a","to\ken":"b"})");
  const std::vector<std::string> unicode{"mot de passe \xF0\x9F\x94\x91"};
  CHECK(bsonrpc::redact_members(R"({"mot de passe \ud83d\udd11":"a"})", unicode) ==
        R"({"mot de passe \ud83d\udd11":"***"})");
}

TEST_CASE("log redactor: a named member is masked at any depth", "[log][redact]") {
  std::string line;
  std::string expected;
  for (int i = 0; i < 2000; ++i) {
    line += R"({"a":[)";
    expected += R"({"a":[)";
  }
  line += R"({"password":"s3cret"})";
  expected += R"({"password":"***"})";
  for (int i = 0; i < 2000; ++i) {
    line += "]}";
    expected += "]}";
  }
  CHECK(redact(line) == expected);
}

TEST_CASE("log redactor: blanks around the colon and Extended JSON wrappers are handled",
          "[log][redact]") {
  CHECK(redact(R"({ "password" : "s3cret", "n" : 1 })") == R"({ "password" : "***", "n" : 1 })");
  CHECK(redact("{\n  \"password\":\n    \"s3cret\"\n}") == "{\n  \"password\":\n    \"***\"\n}");
  CHECK(redact(R"({ "password" : { "$numberInt" : "42" }, "n" : 1 })") ==
        R"({ "password" : "***", "n" : 1 })");
  CHECK(redact(R"({ "token" : { "$binary" : { "base64" : "c2VjcmV0", "subType" : "00" } } })") ==
        R"({ "token" : "***" })");
  CHECK(redact(R"({ "token" : ObjectId("5f1d 7f6e"), "n" : 1 })") ==
        R"({ "token" : "***", "n" : 1 })");
}

TEST_CASE("log redactor: a line cut anywhere shows none of the secret", "[log][redact]") {
  const std::string line =
      R"(handler login threw: {"user":"ann","password":"s3\"cr\u0065t!","token":{"v":"t0k3n"},"n":1})";
  for (std::size_t cut = 0; cut <= line.size(); ++cut) {
    const std::string redacted = redact(line.substr(0, cut));
    INFO("cut at " << cut << ": " << redacted);
    CHECK(redacted.find("s3") == std::string::npos);
    CHECK(redacted.find("t0") == std::string::npos);
  }
}

TEST_CASE("log redactor: text that is not JSON passes unchanged and cannot derail the scan",
          "[log][redact]") {
  for (std::string_view plain :
       {"", "peer closed the connection", "read failed: End of file", "\"", "\"password\"",
        "\"password\":", "\"password\" :   ", "'password': 's3cret'", "password=s3cret",
        "\"unterminated \\", "\\\\\\\"", "{\"a\":", "}]}]\":\":\""})
    CHECK(redact(plain) == plain);
  // A stray quote in the prose before the JSON.
  CHECK(redact(R"(user said "hi {"password":"s3cret"})") == R"(user said "hi {"password":"***"})");
  CHECK(redact(R"(a " b " c "password":"s3cret")") == R"(a " b " c "password":"***")");
  // Arbitrary bytes: no crash, no hang, and bytes without a quote are left alone.
  std::mt19937 random(7);
  const std::string alphabet = "\"\\{}[]():, \n\tpasswordtoken\x01\xff" "u0123";
  for (int round = 0; round < 2000; ++round) {
    std::string junk;
    const int length = static_cast<int>(random() % 64);
    for (int i = 0; i < length; ++i) junk.push_back(alphabet[random() % alphabet.size()]);
    const std::string redacted = redact(junk);
    if (junk.find('"') == std::string::npos) CHECK(redacted == junk);
  }
}

TEST_CASE("log redactor: JSON logged inside a JSON string is redacted too", "[log][redact]") {
  CHECK(redact(R"({"data":"{\"password\":\"s3cret\",\"n\":1}"})") ==
        R"({"data":"{\"password\":\"***\",\"n\":1}"})");
  const std::string innermost = nlohmann::json({{"token", "s3cret"}}).dump();
  const nlohmann::json twice = {{"outer", nlohmann::json({{"inner", innermost}}).dump()}};
  const std::string redacted = redact(twice.dump());
  CHECK(redacted.find("s3cret") == std::string::npos);
  const auto inner = nlohmann::json::parse(
      nlohmann::json::parse(nlohmann::json::parse(redacted)["outer"].get<std::string>())["inner"]
          .get<std::string>());
  CHECK(inner == nlohmann::json({{"token", "***"}}));
}

TEST_CASE("log redactor: the input excerpt of a JSON parse error is masked", "[log][redact]") {
  // As the dispatcher logs a message whose secret holds a raw control character.
  const std::string line =
      "undecodable message: [json.exception.parse_error.101] parse error at line 1, column 74: "
      "syntax error while parsing value - invalid string: control character U+0001 (SOH) must "
      "be escaped to \\u0001; last read: '\"s3cret<U+0001>'";
  const std::string redacted = redact(line);
  CHECK(redacted.find("s3cret") == std::string::npos);
  CHECK(redacted.rfind("last read: '***'") == redacted.size() - 16);
  CHECK(redact("parse error; last read: '\"s3cr") == "parse error; last read: '***");
}

namespace {

// A random JSON value whose secrets (under "password") hold "SECRET"; nothing else does.
nlohmann::json random_json(std::mt19937& random, int depth, bool secret) {
  static const std::vector<std::string> keys{"user", "passwords", "Password", "n", "pass word",
                                             "tok\"en", "password", "a\\b", "\xc3\xa9t\xc3\xa9"};
  static const std::vector<std::string> texts{"plain", "quote\"inside", "back\\slash", "",
                                              "{\"password\":", "line\nbreak\x01", "]}),"};
  const auto text = [&] {
    std::string t = texts[random() % texts.size()];
    return secret ? t + "SECRET" : t;
  };
  const int kind = depth > 4 ? static_cast<int>(random() % 3) : static_cast<int>(random() % 6);
  switch (kind) {
    case 0: return secret ? nlohmann::json(text()) : nlohmann::json(static_cast<int>(random() % 1000) - 500);
    case 1: return text();
    case 2: return secret ? nlohmann::json(text()) : nlohmann::json(random() % 2 == 0);
    case 3: {
      nlohmann::json a = nlohmann::json::array();
      for (int i = static_cast<int>(random() % 4); i > 0; --i) a.push_back(random_json(random, depth + 1, secret));
      return a;
    }
    case 4: return nlohmann::json(random_json(random, depth + 1, secret).dump());  // JSON in a string
    default: {
      nlohmann::json o = nlohmann::json::object();
      for (int i = static_cast<int>(random() % 5); i > 0; --i) {
        const std::string& key = keys[random() % keys.size()];
        o[key] = random_json(random, depth + 1, secret || key == "password");
      }
      return o;
    }
  }
}

// `j` with every "password" member's value replaced by "***", inside JSON strings too.
nlohmann::json expected_redaction(const nlohmann::json& j) {
  if (j.is_object()) {
    nlohmann::json out = nlohmann::json::object();
    for (const auto& [key, v] : j.items())
      out[key] = key == "password" ? nlohmann::json("***") : expected_redaction(v);
    return out;
  }
  if (j.is_array()) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& v : j) out.push_back(expected_redaction(v));
    return out;
  }
  if (j.is_string()) {
    const auto inner = nlohmann::json::parse(j.get<std::string>(), nullptr, false);
    if (!inner.is_discarded() && (inner.is_structured() || inner.is_string()))
      return expected_redaction(inner).dump();
  }
  return j;
}

std::string to_libbson_extended_json(const nlohmann::json& j, bool canonical) {
  const std::string text = j.dump();
  bson_error_t error;
  bson_t* document = bson_new_from_json(reinterpret_cast<const std::uint8_t*>(text.data()),
                                        static_cast<ssize_t>(text.size()), &error);
  REQUIRE(document != nullptr);
  char* json = canonical ? bson_as_canonical_extended_json(document, nullptr)
                         : bson_as_relaxed_extended_json(document, nullptr);
  std::string out(json);
  bson_free(json);
  bson_destroy(document);
  return out;
}

}  // namespace

TEST_CASE("log redactor: random documents never show a secret, and stay the same JSON otherwise",
          "[log][redact]") {
  const std::vector<std::string> names{"password"};
  std::mt19937 random(20240607);
  for (int round = 0; round < 500; ++round) {
    nlohmann::json document = nlohmann::json::object();
    while (document.empty()) document = random_json(random, 0, false);
    if (!document.is_object()) document = {{"params", document}};
    for (int indent : {-1, 2}) {
      const std::string line = document.dump(indent);
      const std::string redacted = bsonrpc::redact_members(line, names);
      INFO(line << "\n  became\n" << redacted);
      CHECK(redacted.find("SECRET") == std::string::npos);
      CHECK(expected_redaction(nlohmann::json::parse(redacted)) == expected_redaction(document));
    }
    for (bool canonical : {false, true}) {
      const std::string line = to_libbson_extended_json(document, canonical);
      const std::string redacted = bsonrpc::redact_members(line, names);
      INFO(line << "\n  became\n" << redacted);
      CHECK(redacted.find("SECRET") == std::string::npos);
      CHECK(expected_redaction(nlohmann::json::parse(redacted)) ==
            expected_redaction(nlohmann::json::parse(line)));
    }
  }
}

TEST_CASE("log redactor: redact_params filters every line a logger passes to its sink",
          "[log][redact]") {
  std::vector<std::string> lines;
  bsonrpc::logger log([&](bsonrpc::log_level, std::uint64_t, std::string_view line) { lines.emplace_back(line); },
                      bsonrpc::redact_params({"password"}), 1);
  log(bsonrpc::log_level::debug, R"(sent {"method":"login","params":{"password":"s3cret"}})");
  log(bsonrpc::log_level::error, "handler login threw: no");
  REQUIRE(lines.size() == 2);
  CHECK(lines[0] == R"(sent {"method":"login","params":{"password":"***"}})");
  CHECK(lines[1] == "handler login threw: no");
  CHECK(bsonrpc::redact_params({})(bsonrpc::log_level::info, R"({"password":1})") == R"({"password":1})");
}
