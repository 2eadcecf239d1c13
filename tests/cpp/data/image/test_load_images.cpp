// load_images: paths to resized float32 images through ff::data::map (1 and 3 workers give the
// same order and values), labels passed through, channels_first, the error raised for an
// undecodable file, on_decode_error="skip" with its exact count over complete passes, and the
// decode memory budget (its peak stays under the capacity whatever the number of workers).
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "core/errors.h"
#include "data/image/image_encoders.h"
#include "data/image/load_images.h"
#include "data/ops.h"

using namespace ff::data;
using namespace ff::data::image;
using fftest::img::Bytes;

namespace {

// A folder of 2x2 gray PNGs whose pixels all equal 10 * i, plus a broken file at `bad_at`.
std::vector<std::string> make_files(const std::string& dir, int n, int bad_at = -1) {
  std::string cmd = "mkdir -p " + dir;
  REQUIRE(std::system(cmd.c_str()) == 0);
  std::vector<std::string> paths;
  for (int i = 0; i < n; ++i) {
    std::string p = dir + "/img" + std::to_string(i) + ".png";
    if (i == bad_at) {
      fftest::img::write_file(p, Bytes{'n', 'o', 'p', 'e'});
    } else {
      fftest::img::PngSpec s;
      s.width = 2;
      s.height = 2;
      s.color_type = PNG_COLOR_TYPE_GRAY;
      fftest::img::write_file(p, fftest::img::encode_png(s, Bytes(4, static_cast<uint8_t>(10 * i))));
    }
    paths.push_back(p);
  }
  return paths;
}

DatasetPtr paths_and_labels(const std::vector<std::string>& paths) {
  Element e;
  e.push_back(Component::make_strings({static_cast<int64_t>(paths.size())}, paths));
  void* raw = nullptr;
  e.push_back(Component::make(ValueType::Int32, {static_cast<int64_t>(paths.size())}, &raw));
  for (size_t i = 0; i < paths.size(); ++i) static_cast<int32_t*>(raw)[i] = static_cast<int32_t>(i);
  return from_tensor_slices(std::move(e));
}

std::vector<Element> drain(const DatasetPtr& ds) {
  std::vector<Element> out;
  auto it = ds->make_iterator();
  Element e;
  while (it->next(e)) out.push_back(e);
  return out;
}

}  // namespace

TEST_CASE("load_images decodes and resizes in input order for any worker count", "[image][load_images]") {
  fftest::img::TempDir tmp;
  auto paths = make_files(tmp.path + "/a", 7);
  LoadOptions o;
  o.height = 3;
  o.width = 4;
  o.channels = 3;
  for (int64_t workers : {1, 3}) {
    auto ds = batch(load_images(paths_and_labels(paths), o, workers, nullptr, nullptr), 4, false);
    auto batches = drain(ds);
    REQUIRE(batches.size() == 2);
    REQUIRE(batches[0].size() == 2);
    CHECK(batches[0][0].type == ValueType::Float32);
    CHECK(batches[0][0].shape == ff::Shape{4, 3, 4, 3});
    CHECK(batches[1][0].shape == ff::Shape{3, 3, 4, 3});
    for (int b = 0; b < 2; ++b) {
      const float* img = static_cast<const float*>(batches[b][0].data());
      const int32_t* lab = static_cast<const int32_t*>(batches[b][1].data());
      for (int64_t k = 0; k < batches[b][0].shape[0]; ++k) {
        const int i = b * 4 + static_cast<int>(k);
        CHECK(lab[k] == i);
        for (int j = 0; j < 36; ++j) CHECK(img[k * 36 + j] == Approx(10.0f * i));
      }
    }
  }
}

TEST_CASE("load_images channels_first puts channels before height and width", "[image][load_images]") {
  fftest::img::PngSpec s;
  s.width = 1;
  s.height = 1;
  fftest::img::TempDir tmp;
  std::string dir = tmp.path + "/cf";
  REQUIRE(std::system(("mkdir -p " + dir).c_str()) == 0);
  fftest::img::write_file(dir + "/x.png", fftest::img::encode_png(s, {1, 2, 3}));
  LoadOptions o;
  o.height = 2;
  o.width = 2;
  o.channels_first = true;
  Component c = load_image(dir + "/x.png", o);
  CHECK(c.shape == ff::Shape{3, 2, 2});
  const float* v = static_cast<const float*>(c.data());
  for (int ch = 0; ch < 3; ++ch)
    for (int i = 0; i < 4; ++i) CHECK(v[ch * 4 + i] == Approx(ch + 1));
}

TEST_CASE("load_images raises naming the undecodable file", "[image][load_images][errors]") {
  fftest::img::TempDir tmp;
  auto paths = make_files(tmp.path + "/bad", 4, 2);
  LoadOptions o;
  o.height = 2;
  o.width = 2;
  auto ds = load_images(paths_and_labels(paths), o, 2, nullptr, nullptr);
  auto it = ds->make_iterator();
  Element e;
  CHECK(it->next(e));
  CHECK(it->next(e));
  FF_CHECK_THROWS(it->next(e), ff::ValueError,
                  Catch::Contains(tmp.path + "/bad/img2.png") &&
                      Catch::Contains("not a JPEG, PNG, GIF or BMP file") &&
                      Catch::Contains("on_decode_error=\"skip\""));
}

TEST_CASE("load_images skip mode drops failures and counts every pass exactly", "[image][load_images]") {
  fftest::img::TempDir tmp;
  auto paths = make_files(tmp.path + "/skip", 6, 4);
  paths.push_back(tmp.path + "/skip/missing.png");  // cannot be opened
  LoadOptions o;
  o.height = 2;
  o.width = 2;
  o.skip_errors = true;
  auto report = std::make_shared<DecodeReport>();
  int hook_calls = 0;
  DecodePass hooked;
  auto ds = load_images(paths_and_labels(paths), o, 2, report, [&](const DecodePass& p) {
    ++hook_calls;
    hooked = p;
  });
  CHECK(ds->cardinality() == kUnknownCardinality);
  for (int pass = 1; pass <= 2; ++pass) {
    auto got = drain(ds);
    REQUIRE(got.size() == 5);
    std::vector<int32_t> labels;
    for (auto& e : got) labels.push_back(*static_cast<const int32_t*>(e[1].data()));
    CHECK(labels == std::vector<int32_t>{0, 1, 2, 3, 5});
    CHECK(report->passes() == pass);
    DecodePass p = report->last();
    CHECK(p.read == 5);
    CHECK(p.skipped == 2);
    CHECK(p.read + p.skipped == static_cast<int64_t>(paths.size()));
    REQUIRE(p.skipped_files.size() == 2);
    CHECK(p.skipped_files[0].first == paths[4]);
    CHECK_THAT(p.skipped_files[0].second, Catch::Contains("not a JPEG, PNG, GIF or BMP"));
    CHECK(p.skipped_files[1].first == paths[6]);
    CHECK_THAT(p.skipped_files[1].second, Catch::Contains("No such file"));
    CHECK(hook_calls == pass);
  }
  CHECK_THAT(skip_warning_message(hooked), Catch::Contains("skipped 2 of 7 image files") &&
                                               Catch::Contains("img4.png"));
  // An abandoned pass publishes nothing.
  {
    auto it = ds->make_iterator();
    Element e;
    CHECK(it->next(e));
  }
  CHECK(report->passes() == 2);
  CHECK(hook_calls == 2);
}

TEST_CASE("load_images option errors", "[image][load_images][errors]") {
  LoadOptions o;
  o.height = 0;
  FF_CHECK_THROWS(check_load_options(o), ff::ValueError, Catch::Contains("image_size"));
  o.height = 5;
  o.channels = 2;
  FF_CHECK_THROWS(check_load_options(o), ff::ValueError, Catch::Contains("channels must be 1"));
}

namespace {

// `n` RGB PNGs of width x height, image i filled with the value 10 + i (or all with 10).
std::vector<std::string> make_large(const std::string& dir, int n, uint32_t width, uint32_t height,
                                    bool same = false) {
  REQUIRE(std::system(("mkdir -p " + dir).c_str()) == 0);
  fftest::img::PngSpec s;
  s.width = width;
  s.height = height;
  std::vector<std::string> paths;
  for (int i = 0; i < n; ++i) {
    std::string p = dir + "/big" + std::to_string(i) + ".png";
    const uint8_t v = static_cast<uint8_t>(10 + (same ? 0 : i));
    fftest::img::write_file(p, fftest::img::encode_png(s, Bytes(size_t(width) * height * 3, v)));
    paths.push_back(p);
  }
  return paths;
}

// What one load_image of `path` reserves at its peak, on a budget of its own.
int64_t single_peak(const std::string& path, LoadOptions o) {
  o.budget = std::make_shared<ByteBudget>(int64_t(1) << 40);
  load_image(path, o);
  CHECK(o.budget->in_use() == 0);
  return o.budget->peak();
}

void check_values(const std::vector<Element>& got, const std::vector<int>& expected_values) {
  REQUIRE(got.size() == expected_values.size());
  for (size_t i = 0; i < got.size(); ++i) {
    const float* v = static_cast<const float*>(got[i][0].data());
    CHECK(v[0] == Approx(expected_values[i]));
    CHECK(*static_cast<const int32_t*>(got[i][1].data()) == static_cast<int32_t>(i));
  }
}

}  // namespace

TEST_CASE("load_images keeps the decode memory of all workers under the budget", "[image][load_images][budget]") {
  fftest::img::TempDir tmp;
  auto paths = make_large(tmp.path + "/big", 12, 400, 300);
  LoadOptions o;
  o.height = 8;
  o.width = 8;
  const int64_t one = single_peak(paths[0], o);
  CHECK(one >= 400 * 300 * 3);  // at least the decoded pixels
  // Room for two images at a time, six workers.
  const int64_t capacity = one * 5 / 2;
  o.budget = std::make_shared<ByteBudget>(capacity);
  std::vector<int> expected;
  for (int i = 0; i < 12; ++i) expected.push_back(10 + i);
  for (int pass = 0; pass < 2; ++pass) {
    check_values(drain(load_images(paths_and_labels(paths), o, 6, nullptr, nullptr)), expected);
    CHECK(o.budget->peak() <= capacity);
    CHECK(o.budget->peak() >= one);
    CHECK(o.budget->in_use() == 0);
  }
}

TEST_CASE("an image larger than the whole budget is decoded alone", "[image][load_images][budget]") {
  fftest::img::TempDir tmp;
  auto paths = make_large(tmp.path + "/huge", 8, 300, 200, /*same=*/true);
  LoadOptions o;
  o.height = 4;
  o.width = 4;
  const int64_t one = single_peak(paths[0], o);
  o.budget = std::make_shared<ByteBudget>(one / 2);  // every image is over the capacity
  check_values(drain(load_images(paths_and_labels(paths), o, 4, nullptr, nullptr)),
               std::vector<int>(8, 10));
  CHECK(o.budget->peak() == one);  // never two at once
  CHECK(o.budget->in_use() == 0);
}

TEST_CASE("a worker that cannot add its decode's share waits holding nothing, then rereads", "[image][load_images][budget]") {
  fftest::img::TempDir tmp;
  auto paths = make_large(tmp.path + "/wait", 1, 200, 100);
  LoadOptions o;
  o.height = 2;
  o.width = 2;
  const int64_t one = single_peak(paths[0], o);
  struct stat st;
  REQUIRE(stat(paths[0].c_str(), &st) == 0);
  const int64_t first = st.st_size + 2 * 2 * 3 * 4;  // the file and the output, reserved first
  auto budget = std::make_shared<ByteBudget>(one + one / 2);
  o.budget = budget;
  // Leave exactly room for the first reservation, not for the decode.
  ByteReservation other(*budget);
  other.acquire(budget->capacity() - first);
  Component result;
  std::thread worker([&] { result = load_image(paths[0], o); });
  while (budget->waiting() < 1) std::this_thread::yield();
  CHECK(budget->peak() == budget->capacity());  // the worker held its first reservation...
  CHECK(budget->in_use() == budget->capacity() - first);  // ...and gave it back to wait
  other.release();
  worker.join();
  CHECK(static_cast<const float*>(result.data())[0] == Approx(10));
  CHECK(budget->peak() <= budget->capacity());
  CHECK(budget->in_use() == 0);
}
