// The CSV fuzz target, shared by the libFuzzer harness (csv_fuzzer.cpp) and the corpus replay in
// the normal test suite (tests/cpp/data/csv/test_csv_fuzz_corpus.cpp). The first two bytes pick
// the options (delimiter, quoting, header, ignore_errors, threads; chunk size), the rest is the
// file. It infers the column types, reads the rows typed and as a feature matrix, and checks
// that the result (table or error message) is the same with tiny chunks on several threads as
// with one big chunk on one thread. Anything but ff::ValueError escaping is a bug.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/errors.h"
#include "data/csv/csv_reader.h"
#include "data/csv/csv_row_parsers.h"

namespace csv_fuzz {

namespace csv = ff::data::csv;

#define CSV_FUZZ_CHECK(cond)                                                         \
  do {                                                                               \
    if (!(cond)) throw std::logic_error("csv fuzz invariant failed: " #cond);        \
  } while (0)

// Every value of a pass, flattened, or the error message.
inline std::string read_pass(const std::shared_ptr<csv::ReadPlan>& plan, int threads) {
  std::string out;
  try {
    csv::BlockPipeline pipe(plan, csv::file_order(plan->files.size(), false, 0, 0), threads);
    csv::ParsedBlock b;
    int64_t skipped = 0;
    while (pipe.next(b)) {
      skipped += b.skipped;
      for (const auto& o : b.outputs) {
        const size_t n = static_cast<size_t>(b.rows * o.width);
        size_t have = 0;
        switch (o.type) {
          case csv::ColumnType::Int32: have = o.i32.size(); break;
          case csv::ColumnType::Int64: have = o.i64.size(); break;
          case csv::ColumnType::Float32: have = o.f32.size(); break;
          case csv::ColumnType::Float64: have = o.f64.size(); break;
          case csv::ColumnType::String: have = o.str.size(); break;
        }
        CSV_FUZZ_CHECK(have == n);
      }
      // Row-major, so that the text does not depend on where blocks were cut.
      for (int64_t r = 0; r < b.rows; ++r) {
        for (const auto& o : b.outputs) {
          for (int64_t k = 0; k < o.width; ++k) {
            const size_t i = static_cast<size_t>(r * o.width + k);
            switch (o.type) {
              case csv::ColumnType::Int32: out += std::to_string(o.i32[i]); break;
              case csv::ColumnType::Int64: out += std::to_string(o.i64[i]); break;
              case csv::ColumnType::Float32: out += std::to_string(o.f32[i]); break;
              case csv::ColumnType::Float64: out += std::to_string(o.f64[i]); break;
              case csv::ColumnType::String: out += o.str[i]; break;
            }
            out += "\x1f";
          }
        }
        out += "\n";
      }
    }
    out += "skipped " + std::to_string(skipped);
  } catch (const ff::ValueError& e) {
    out = std::string("error: ") + e.what();
  }
  return out;
}

inline void fuzz_one(const uint8_t* data, size_t size) {
  if (size < 2) return;
  const uint8_t opt = data[0];
  static const char delims[4] = {',', ';', '\t', '|'};
  csv::Dialect d;
  d.delim = delims[opt & 3];
  d.use_quote = !(opt & 4);
  d.header = !(opt & 8);
  d.na_value = (opt & 16) ? "NA" : "";
  const bool ignore_errors = opt & 32;
  const int threads = (opt & 64) ? 3 : 1;
  const size_t chunk = 1 + data[1] % 64;
  std::string text(reinterpret_cast<const char*>(data) + 2, size - 2);
  auto open = csv::memory_opener({text});
  const std::vector<std::string> files = {"fuzz.csv"};

  std::vector<std::string> given;
  if (!d.header) given = {"a", "b", "c"};
  csv::Inspection ins;
  try {
    ins = csv::inspect(files, open, d, given, 20, ignore_errors, chunk);
  } catch (const ff::ValueError&) {
    return;
  }
  const size_t ncol = ins.column_names.size();
  CSV_FUZZ_CHECK(ins.types.size() == ncol && ins.seen.size() == ncol);

  auto make_plan = [&](size_t chunk_size) {
    auto plan = std::make_shared<csv::ReadPlan>();
    plan->files = files;
    plan->open = open;
    plan->dialect = d;
    plan->column_names = ins.column_names;
    plan->header_names_must_match = d.header;
    plan->ignore_errors = ignore_errors;
    plan->chunk_size = chunk_size;
    plan->max_record_bytes = 4096;
    return plan;
  };

  // 1. Typed rows (make_csv_dataset): inferred types, "" default for strings.
  std::vector<csv::TypedColumn> cols;
  for (size_t i = 0; i < ncol; ++i) {
    csv::TypedColumn c{i, ins.types[i], {}};
    if (c.type == csv::ColumnType::String) c.default_value.present = true;
    cols.push_back(c);
  }
  auto typed = std::make_shared<csv::TypedRowsParser>(cols, d.na_value);
  auto small = make_plan(chunk);
  small->parser = typed;
  auto big = make_plan(size_t(1) << 20);
  big->parser = typed;
  const std::string a = read_pass(small, threads);
  const std::string b = read_pass(big, 1);
  // A record longer than max_record_bytes may fail only with the small chunks.
  if (a.find("bytes starts here") == std::string::npos && a.find("header is longer") == std::string::npos)
    CSV_FUZZ_CHECK(a == b);

  // 2. Feature matrix (csv_dataset): strings one-hot over the values seen, last column label.
  std::vector<csv::FeatureColumn> features;
  size_t width = 0;
  for (size_t i = 0; i + 1 < ncol; ++i) {
    csv::FeatureColumn f;
    f.column = i;
    f.offset = width;
    if (ins.types[i] == csv::ColumnType::String) {
      auto v = std::make_shared<csv::Vocabulary>();
      (*v)["x"] = 0;
      (*v)["y"] = 1;
      f.vocabulary = v;
      f.kind = (i % 2) ? csv::FeatureColumn::Kind::CategoricalIndex
                       : csv::FeatureColumn::Kind::CategoricalOneHot;
      width += f.kind == csv::FeatureColumn::Kind::CategoricalOneHot ? 2 : 1;
    } else {
      f.default_value.present = (i % 2) == 0;
      width += 1;
    }
    features.push_back(f);
  }
  csv::LabelColumn label;
  if (ncol > 0) {
    label.present = true;
    label.column = ncol - 1;
    switch (ins.types[ncol - 1]) {
      case csv::ColumnType::Int32:
      case csv::ColumnType::Int64: label.kind = csv::LabelColumn::Kind::Int64; break;
      case csv::ColumnType::String: {
        label.kind = csv::LabelColumn::Kind::Categorical;
        auto v = std::make_shared<csv::Vocabulary>();
        (*v)["x"] = 0;
        label.vocabulary = v;
        break;
      }
      default: label.kind = csv::LabelColumn::Kind::Float32;
    }
  }
  auto fp = std::make_shared<csv::FeaturesParser>(features, width, label, d.na_value);
  small->parser = fp;
  big->parser = fp;
  const std::string c = read_pass(small, threads);
  big->fast_path = false;  // the general path must give exactly what the fast path gives
  const std::string e = read_pass(big, 1);
  if (c.find("bytes starts here") == std::string::npos && c.find("header is longer") == std::string::npos)
    CSV_FUZZ_CHECK(c == e);
}

}  // namespace csv_fuzz
