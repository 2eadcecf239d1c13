// Replays the CSV fuzz corpus (tests/fuzz/corpus/csv, grown by tests/fuzz/run_csv_fuzzer.sh)
// through the fuzz target: every input either parses or raises ff::ValueError, with the same
// result for tiny chunks on several threads as for one chunk on one thread.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "../../../fuzz/csv_fuzz_body.h"

TEST_CASE("csv fuzz corpus replays cleanly", "[data][csv][fuzz]") {
  const std::filesystem::path dir = std::filesystem::path(FORGEFLOW_SOURCE_DIR) / "tests/fuzz/corpus/csv";
  REQUIRE(std::filesystem::is_directory(dir));
  size_t n = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    std::ifstream f(entry.path(), std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    INFO("corpus file " << entry.path().filename().string());
    CHECK_NOTHROW(csv_fuzz::fuzz_one(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
    ++n;
  }
  CHECK(n >= 10);
}
