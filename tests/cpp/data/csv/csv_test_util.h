// Helpers of the CSV reader tests: run in-memory CSV texts through the block pipeline and collect
// every output column as strings (so tests compare whole tables in one CHECK).
#pragma once
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "data/csv/csv_reader.h"
#include "data/csv/csv_row_parsers.h"

namespace csv_test {

namespace csv = ff::data::csv;

struct Table {
  std::vector<std::vector<std::string>> cells;  // rows x output values
  int64_t skipped = 0;
  std::vector<std::string> skip_messages;
  std::vector<size_t> block_files;
};

inline std::string cell(const csv::ColumnOutput& o, size_t i) {
  std::ostringstream s;
  switch (o.type) {
    case csv::ColumnType::Int32: s << o.i32[i]; break;
    case csv::ColumnType::Int64: s << o.i64[i]; break;
    case csv::ColumnType::Float32: s << o.f32[i]; break;
    case csv::ColumnType::Float64: s << o.f64[i]; break;
    case csv::ColumnType::String: return o.str[i];
  }
  return s.str();
}

inline std::shared_ptr<csv::ReadPlan> make_plan(std::vector<std::string> texts,
                                                std::vector<std::string> column_names,
                                                std::shared_ptr<const csv::RowParser> parser,
                                                csv::Dialect d = {}, size_t chunk = 1 << 20,
                                                bool ignore_errors = false) {
  auto plan = std::make_shared<csv::ReadPlan>();
  for (size_t i = 0; i < texts.size(); ++i) plan->files.push_back("f" + std::to_string(i) + ".csv");
  plan->open = csv::memory_opener(std::move(texts));
  plan->dialect = d;
  plan->column_names = std::move(column_names);
  plan->parser = std::move(parser);
  plan->chunk_size = chunk;
  plan->ignore_errors = ignore_errors;
  return plan;
}

inline Table run(std::shared_ptr<const csv::ReadPlan> plan, int threads = 1,
                 std::vector<size_t> order = {}) {
  if (order.empty()) order = csv::file_order(plan->files.size(), false, 0, 0);
  csv::BlockPipeline pipe(plan, order, threads);
  Table t;
  csv::ParsedBlock b;
  while (pipe.next(b)) {
    t.block_files.push_back(b.file);
    t.skipped += b.skipped;
    if (b.skipped) t.skip_messages.push_back(b.first_skip);
    for (int64_t r = 0; r < b.rows; ++r) {
      std::vector<std::string> row;
      for (const auto& o : b.outputs)
        for (int64_t k = 0; k < o.width; ++k) row.push_back(cell(o, static_cast<size_t>(r * o.width + k)));
      t.cells.push_back(row);
    }
  }
  return t;
}

// A parser of every column as a string (or all as `type`), no defaults.
inline std::shared_ptr<csv::TypedRowsParser> all_columns(size_t n,
                                                         csv::ColumnType type = csv::ColumnType::String,
                                                         std::string na = "") {
  std::vector<csv::TypedColumn> cols;
  for (size_t i = 0; i < n; ++i) cols.push_back({i, type, {}});
  return std::make_shared<csv::TypedRowsParser>(cols, na);
}

}  // namespace csv_test
