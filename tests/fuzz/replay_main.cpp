// Runs a fuzz target without libFuzzer: feeds LLVMFuzzerTestOneInput every file named on the
// command line, and every file in each directory named (a missing directory is skipped, so a
// target without regressions needs no empty folder). A failing input traps or aborts, as under
// the fuzzer; the name of the input is printed first so that the log says which one.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

void replay(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  const std::vector<char> bytes{std::istreambuf_iterator<char>(in),
                                std::istreambuf_iterator<char>()};
  std::printf("replaying %s (%zu bytes)\n", file.string().c_str(), bytes.size());
  std::fflush(stdout);
  LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
}

}  // namespace

int main(int argc, char** argv) {
  namespace fs = std::filesystem;
  std::size_t replayed = 0;
  for (int i = 1; i < argc; ++i) {
    const fs::path path = argv[i];
    if (fs::is_directory(path)) {
      std::vector<fs::path> files;
      for (const auto& entry : fs::directory_iterator(path))
        if (entry.is_regular_file()) files.push_back(entry.path());
      std::sort(files.begin(), files.end());
      for (const auto& file : files) replay(file);
      replayed += files.size();
    } else if (fs::is_regular_file(path)) {
      replay(path);
      ++replayed;
    } else {
      std::printf("%s: no such file or directory, skipped\n", argv[i]);
    }
  }
  std::printf("%zu inputs replayed without failure\n", replayed);
  return 0;
}
