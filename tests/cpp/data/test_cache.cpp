// Tests of cache: memory and file caches replay the first complete pass; an abandoned pass
// records nothing; a damaged cache file is reported.
#include <catch2/catch.hpp>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <fstream>

#include "core/errors.h"
#include "pipeline_util.h"

using namespace ff::data;

namespace {

// A dataset whose map counts how often it runs.
DatasetPtr counted(std::shared_ptr<std::atomic<int>> calls, int64_t n) {
  MapFn f = [calls](const Element& in, int64_t i, uint64_t s) {
    ++*calls;
    return fftest::times(1)(in, i, s);
  };
  return map(fftest::range_dataset(n), f, 1, "count");
}

}  // namespace

TEST_CASE("a memory cache runs its input once", "[data]") {
  auto calls = std::make_shared<std::atomic<int>>(0);
  auto d = cache(counted(calls, 10), "");
  {
    auto it = d->make_iterator();  // abandoned after 3 elements: records nothing
    Element e;
    for (int i = 0; i < 3; ++i) REQUIRE(it->next(e));
  }
  REQUIRE(fftest::drain(d) == fftest::iota(10));
  const int after_first = calls->load();
  REQUIRE(fftest::drain(d) == fftest::iota(10));
  REQUIRE(fftest::drain(d) == fftest::iota(10));
  REQUIRE(calls->load() == after_first);
}

TEST_CASE("a file cache is written on a complete pass and read back", "[data]") {
  const std::string path = "/tmp/ff_test_cache_" + std::to_string(::getpid());
  std::remove(path.c_str());
  auto calls = std::make_shared<std::atomic<int>>(0);
  auto d = cache(batch(counted(calls, 25), 4, false), path);
  {
    auto it = d->make_iterator();
    Element e;
    REQUIRE(it->next(e));
  }
  REQUIRE_FALSE(std::ifstream(path).good());  // abandoned: no file under the final name
  REQUIRE(fftest::drain(d) == fftest::iota(25));
  REQUIRE(std::ifstream(path).good());
  const int after = calls->load();
  REQUIRE(fftest::drain(d) == fftest::iota(25));
  REQUIRE(calls->load() == after);
  // A truncated cache file is an error naming it, not garbage.
  {
    std::ifstream in(path, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size() / 2));
  }
  REQUIRE_THROWS_WITH(fftest::drain(d), Catch::Contains("is damaged"));
  std::remove(path.c_str());
}
