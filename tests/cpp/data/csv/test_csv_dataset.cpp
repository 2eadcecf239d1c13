// Tests for data/csv/csv_dataset.cpp: the CSV Dataset source yields one element per row (scalar
// components for typed columns; a (F,) float32 vector plus the label for features), in the same
// order for any thread count, a new file order per pass when shuffling files, the skip report
// at the end of a complete pass, and read_all / count_values.
#include <catch2/catch.hpp>

#include "core/errors.h"
#include "csv_test_util.h"
#include "data/csv/csv_dataset.h"
#include "data/ops.h"

using namespace csv_test;
using csv::ColumnType;
namespace data = ff::data;

namespace {

std::vector<std::string> drain(const data::DatasetPtr& ds) {
  auto it = ds->make_iterator();
  std::vector<std::string> out;
  data::Element e;
  while (it->next(e)) {
    std::string row;
    for (const auto& c : e) {
      row += c.describe() + ":";
      for (int64_t i = 0; i < c.numel(); ++i) {
        if (c.type == data::ValueType::String) row += c.string_at(i);
        else if (c.type == data::ValueType::Int32) row += std::to_string(static_cast<const int32_t*>(c.data())[i]);
        else if (c.type == data::ValueType::Int64) row += std::to_string(static_cast<const int64_t*>(c.data())[i]);
        else if (c.type == data::ValueType::Float32) row += std::to_string(static_cast<const float*>(c.data())[i]);
        row += " ";
      }
      row += ";";
    }
    out.push_back(row);
  }
  return out;
}

}  // namespace

TEST_CASE("csv dataset yields typed scalar rows in order for any thread count", "[data][csv]") {
  std::string text = "n,s\n";
  for (int i = 0; i < 300; ++i) text += std::to_string(i) + ",\"r" + std::to_string(i) + "\"\n";
  std::vector<std::string> first;
  for (int threads : {1, 2, 4}) {
    csv::CsvSourceOptions o;
    o.plan = make_plan({text}, {"n", "s"},
                       std::make_shared<csv::TypedRowsParser>(
                           std::vector<csv::TypedColumn>{{0, ColumnType::Int32, {}}, {1, ColumnType::String, {}}}, ""),
                       {}, 50);
    o.num_threads = threads;
    auto rows = drain(csv::make_csv_dataset(o));
    REQUIRE(rows.size() == 300);
    CHECK(rows[7] == "int32 ():7 ;str ():r7 ;");
    if (first.empty()) first = rows;
    CHECK(rows == first);
  }
}

TEST_CASE("csv dataset features: (F,) float32 vectors and the label, batches", "[data][csv]") {
  std::vector<csv::FeatureColumn> f(2);
  f[0].column = 0;
  f[1].column = 2;
  f[1].offset = 1;
  csv::LabelColumn l;
  l.present = true;
  l.column = 1;
  l.kind = csv::LabelColumn::Kind::Int64;
  csv::CsvSourceOptions o;
  o.plan = make_plan({"a,y,b\n1,0,2\n3,1,4\n5,1,6\n"}, {"a", "y", "b"},
                     std::make_shared<csv::FeaturesParser>(f, 2, l, ""));
  auto ds = csv::make_csv_dataset(o);
  CHECK(ds->cardinality() == data::kUnknownCardinality);
  CHECK(ds->name() == "CsvDataset");
  CHECK(drain(ds) == std::vector<std::string>{"float32 (2,):1.000000 2.000000 ;int64 ():0 ;",
                                              "float32 (2,):3.000000 4.000000 ;int64 ():1 ;",
                                              "float32 (2,):5.000000 6.000000 ;int64 ():1 ;"});
  auto batched = drain(data::batch(ds, 2, false));
  CHECK(batched == std::vector<std::string>{"float32 (2, 2):1.000000 2.000000 3.000000 4.000000 ;int64 (2,):0 1 ;",
                                            "float32 (1, 2):5.000000 6.000000 ;int64 (1,):1 ;"});
  auto all = csv::read_all(o);
  REQUIRE(all.columns.size() == 2);
  CHECK(all.columns[0].describe() == "float32 (3, 2)");
  CHECK(all.columns[1].describe() == "int64 (3,)");
  CHECK(static_cast<const float*>(all.columns[0].data())[5] == 6.0f);
}

TEST_CASE("csv dataset shuffles the file order per pass, deterministically", "[data][csv]") {
  std::vector<std::string> texts;
  for (int f = 0; f < 6; ++f) texts.push_back("v\n" + std::to_string(f) + "\n");
  csv::CsvSourceOptions o;
  o.plan = make_plan(texts, {"v"}, all_columns(1, ColumnType::Int32));
  o.shuffle_files = true;
  o.file_seed = 7;
  auto a = csv::make_csv_dataset(o);
  auto b = csv::make_csv_dataset(o);
  const auto a0 = drain(a), a1 = drain(a);
  CHECK(a0 == drain(b));  // same seed, same first pass
  CHECK(a1 == drain(b));  // and the same second pass
  CHECK(a0 != a1);        // a new order each pass
  auto sorted0 = a0, sorted1 = a1;
  std::sort(sorted0.begin(), sorted0.end());
  std::sort(sorted1.begin(), sorted1.end());
  CHECK(sorted0 == sorted1);
}

TEST_CASE("csv dataset reports skipped rows once per complete pass", "[data][csv]") {
  csv::CsvSourceOptions o;
  o.plan = make_plan({"v\n1\nx\n2\n", "v\ny\n"}, {"v"}, all_columns(1, ColumnType::Int32), {}, 4, true);
  std::vector<std::vector<csv::SkipReport>> calls;
  o.reporter = [&](const std::vector<csv::SkipReport>& r) { calls.push_back(r); };
  auto ds = csv::make_csv_dataset(o);
  CHECK(drain(ds).size() == 2);
  REQUIRE(calls.size() == 1);
  REQUIRE(calls[0].size() == 2);
  CHECK(calls[0][0].file == "f0.csv");
  CHECK(calls[0][0].skipped == 1);
  CHECK_THAT(calls[0][0].first, Catch::Contains("line 3, column \"v\": expected an int32 integer, found \"x\""));
  CHECK(calls[0][1].file == "f1.csv");
  // A pass abandoned early reports nothing.
  {
    auto it = ds->make_iterator();
    data::Element e;
    it->next(e);
  }
  CHECK(calls.size() == 1);
  drain(ds);
  CHECK(calls.size() == 2);
}

TEST_CASE("csv dataset: errors reach the consumer with their message, count_values", "[data][csv]") {
  csv::CsvSourceOptions o;
  o.plan = make_plan({"v\n1\n2\nbad\n"}, {"v"}, all_columns(1, ColumnType::Int32), {}, 3);
  o.num_threads = 2;
  auto ds = csv::make_csv_dataset(o);
  auto it = ds->make_iterator();
  data::Element e;
  CHECK(it->next(e));
  CHECK(it->next(e));
  CHECK_THROWS_WITH(it->next(e), Catch::Contains("\"f0.csv\", line 4, column \"v\""));

  auto plan = make_plan({"c,d\nx,1\ny,2\nx,\nNA,3\n"}, {"c", "d"}, nullptr);
  plan->dialect.na_value = "NA";
  auto counts = csv::count_values(plan, {0, 1}, 2);
  CHECK(counts[0] == std::unordered_map<std::string, int64_t>{{"x", 2}, {"y", 1}});
  CHECK(counts[1] == std::unordered_map<std::string, int64_t>{{"1", 1}, {"2", 1}, {"3", 1}});
}
