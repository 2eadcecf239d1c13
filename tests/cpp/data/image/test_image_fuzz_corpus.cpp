// Replays the image fuzzer's corpus (tests/fuzz/corpus/image) through the fuzz target: every file
// either decodes and resizes with the invariants holding, or raises ff::ValueError; nothing else
// escapes. The seed files (seed_*, valid images of every format) must all decode.
#include <catch2/catch.hpp>

#include <dirent.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "../../../fuzz/image_fuzz_body.h"

namespace {

std::vector<std::string> corpus_files() {
  const std::string dir = std::string(FORGEFLOW_SOURCE_DIR) + "/tests/fuzz/corpus/image";
  std::vector<std::string> files;
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* e = readdir(d))
      if (e->d_name[0] != '.') files.push_back(dir + "/" + e->d_name);
    closedir(d);
  }
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

TEST_CASE("image fuzz corpus replays: each file decodes or raises ValueError", "[image][fuzz]") {
  const auto files = corpus_files();
  REQUIRE(files.size() >= 20);
  int seeds = 0, decoded = 0;
  for (const auto& path : files) {
    std::ifstream f(path, std::ios::binary);
    std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    INFO(path);
    bool ok = false;
    REQUIRE_NOTHROW(ok = image_fuzz::run_one(bytes.data(), bytes.size()));
    decoded += ok;
    if (path.find("/seed_") != std::string::npos) {
      ++seeds;
      CHECK(ok);
    }
  }
  CHECK(seeds >= 20);
  CHECK(decoded >= seeds);
}
