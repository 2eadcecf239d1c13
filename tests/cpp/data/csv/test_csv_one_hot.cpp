// Tests for data/csv/csv_one_hot.cpp: csv_dataset's one-hot columns stay compact (one slot
// holding the index) through the parse blocks and the shuffle buffer, and are widened to their
// one-hot slots per batch; the widening itself (slot order, single rows, its checks).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstring>

#include "csv_test_util.h"
#include "data/csv/csv_dataset.h"
#include "data/csv/csv_one_hot.h"
#include "data/ops.h"

using namespace csv_test;
namespace data = ff::data;

TEST_CASE("csv one-hot columns stay compact through the pipeline and widen per batch", "[data][csv]") {
  // 20,000 distinct values: the parse blocks used to hold dense one-hot rows (rows x 20,000
  // floats: 3.1 GB before the first batch; 200,000 values: std::bad_alloc).
  const int n = 20000;
  std::string text = "c,x\n";
  auto vocab = std::make_shared<csv::Vocabulary>();
  for (int i = 0; i < n; ++i) {
    text += "v" + std::to_string(i) + "," + std::to_string(i % 3) + "\n";
    (*vocab)["v" + std::to_string(i)] = i;
  }
  std::vector<csv::FeatureColumn> f(2);
  f[0].kind = csv::FeatureColumn::Kind::CategoricalIndex;  // compact: the index in one slot
  f[0].vocabulary = vocab;
  f[1].column = 1;
  f[1].offset = 1;
  csv::CsvSourceOptions o;
  o.plan = make_plan({text}, {"c", "x"}, std::make_shared<csv::FeaturesParser>(f, 2, csv::LabelColumn{}, ""));
  auto source = csv::make_csv_dataset(o);
  // What the shuffle buffer holds: rows that are views of compact parse blocks (2 slots a row).
  {
    auto it = source->make_iterator();
    data::Element row;
    REQUIRE(it->next(row));
    CHECK(row[0].describe() == "float32 (2,)");
    CHECK(row[0].bytes->bytes() <= size_t(n) * 2 * sizeof(float));
  }
  auto batches = data::map(data::batch(data::shuffle(source, 1000, 5, true), 8, false),
                           csv::expand_one_hot(0, {n, 0}), 1, "CsvOneHot");
  auto it = batches->make_iterator();
  data::Element b;
  int64_t rows = 0;
  std::vector<bool> seen(n, false);
  while (it->next(b)) {
    REQUIRE(b[0].shape.size() == 2);
    REQUIRE(b[0].shape[1] == n + 1);
    CHECK(b[0].bytes->bytes() == static_cast<size_t>(b[0].shape[0] * (n + 1)) * sizeof(float));
    const float* x = static_cast<const float*>(b[0].data());
    for (int64_t r = 0; r < b[0].shape[0]; ++r, x += n + 1) {
      int hot = -1, ones = 0;
      for (int k = 0; k < n; ++k)
        if (x[k] != 0.0f) ++ones, hot = k;
      REQUIRE(ones == 1);
      CHECK(x[hot] == 1.0f);
      CHECK(x[n] == static_cast<float>(hot % 3));  // the numeric slot after the one-hot ones
      seen[static_cast<size_t>(hot)] = true;
      ++rows;
    }
  }
  CHECK(rows == n);
  CHECK(std::count(seen.begin(), seen.end(), true) == n);
}

TEST_CASE("csv one-hot widening: single rows, slot order, and its checks", "[data][csv]") {
  void* dst = nullptr;
  data::Element e{data::Component::make(data::ValueType::Float32, {2, 3}, &dst)};
  const float in[] = {1.5f, 2.0f, 0.0f, -4.0f, 0.0f, 1.0f};
  std::memcpy(dst, in, sizeof(in));
  CHECK(csv::expanded_width({0, 3, 2}) == 6);
  const auto fn = csv::expand_one_hot(0, {0, 3, 2});
  const data::Element out = fn(e, 0, 0);
  REQUIRE(out[0].describe() == "float32 (2, 6)");
  const float* o = static_cast<const float*>(out[0].data());
  CHECK(std::vector<float>(o, o + 12) ==
        std::vector<float>{1.5f, 0, 0, 1, 1, 0, -4.0f, 1, 0, 0, 0, 1});
  const data::Element one = fn({e[0].row(1)}, 0, 0);  // batch_size=None: one row
  CHECK(one[0].describe() == "float32 (6,)");
  const float bad[] = {0, 3, 0, 0, 0, 0};  // index 3 of depth 3
  std::memcpy(dst, bad, sizeof(bad));
  CHECK_THROWS_WITH(fn(e, 4, 0), Catch::Contains("index 3.000000 of slot 1 in element 4 is outside [0, 3)"));
  CHECK_THROWS_WITH(csv::expand_one_hot(0, {2})(e, 0, 0), Catch::Contains("expects float32 rows of 1"));
}
