// MongoDB's BSON corpus (../shared/bson-corpus) for the BSON codec and Extended JSON tests:
// where it is, its files, and the hex and BSON helpers its test cases need.
#pragma once

#include <bsonrpc/codec/bson.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bsonrpc::test {

// "0A1b" -> the bytes 0x0A 0x1B.
inline std::string hex_bytes(std::string_view hex) {
  std::string out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
    out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  return out;
}

// The BSON corpus folder: $BSONRPC_BSON_CORPUS_DIR, else the compile-time default.
inline std::optional<std::filesystem::path> corpus_dir() {
  std::string dir;
  if (const char* env = std::getenv("BSONRPC_BSON_CORPUS_DIR")) dir = env;
#ifdef BSONRPC_BSON_CORPUS_DIR
  if (dir.empty()) dir = BSONRPC_BSON_CORPUS_DIR;
#endif
  if (dir.empty() || !std::filesystem::is_directory(dir)) return std::nullopt;
  return std::filesystem::path(dir);
}

// Every *.json file of the folder, parsed, by file name.
inline std::vector<std::pair<std::string, nlohmann::json>> corpus_files(
    const std::filesystem::path& dir) {
  std::vector<std::pair<std::string, nlohmann::json>> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".json") continue;
    std::ifstream in(entry.path());
    files.emplace_back(entry.path().filename().string(), nlohmann::json::parse(in));
  }
  std::sort(files.begin(), files.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  return files;
}

inline std::string encode_bson(const value& v) {
  std::string out;
  BsonCodec::encode(v, out);
  return out;
}

}  // namespace bsonrpc::test
