// CSV files as an ff::data::Dataset source: one element per row, streamed through the block
// pipeline of csv_reader.h (parsed on num_threads workers, rows in file order whatever the
// thread count). With a TypedRowsParser (make_csv_dataset) an element is one scalar component
// per selected column; with a FeaturesParser (csv_dataset) it is a float32 feature vector (F,)
// and, when the plan has a label, the label scalar (int64 or float32).
//
// With ignore_errors, malformed rows are skipped and, at the end of every complete pass, the
// dataset's reporter is called with the number skipped per file (the bindings turn that into a
// Python warning).
#pragma once
#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "data/csv/csv_reader.h"
#include "data/dataset.h"

namespace ff::data::csv {

struct SkipReport {
  std::string file;
  int64_t skipped = 0;
  std::string first;  // the message of the first row skipped
};
using PassReporter = std::function<void(const std::vector<SkipReport>&)>;

struct CsvSourceOptions {
  std::shared_ptr<const ReadPlan> plan;
  int num_threads = 1;
  bool shuffle_files = false;  // a new file order every pass, drawn from (file_seed, pass)
  uint64_t file_seed = 0;
  PassReporter reporter;  // may be empty
};

class CsvDataset : public Dataset {
 public:
  explicit CsvDataset(CsvSourceOptions options);
  std::unique_ptr<Iterator> make_iterator() const override;
  int64_t cardinality() const override { return kUnknownCardinality; }
  std::string name() const override { return "CsvDataset"; }
  const CsvSourceOptions& options() const { return options_; }

 private:
  CsvSourceOptions options_;
  mutable std::atomic<uint64_t> passes_{0};
};

DatasetPtr make_csv_dataset(CsvSourceOptions options);

// A parsed block's outputs as components whose leading dimension is the block's rows.
Element block_components(ParsedBlock& block);

// One pass over the files into whole-file components (rows stacked): what a dataset would
// yield, without the per-row elements. Used to read a CSV into arrays in one call.
struct ReadResult {
  Element columns;
  std::vector<SkipReport> skipped;
};
ReadResult read_all(const CsvSourceOptions& options);

// Counts the values of the given columns over every row of the files (missing values, empty
// or na_value, are not counted): the vocabularies of csv_dataset's categorical columns.
std::vector<std::unordered_map<std::string, int64_t>> count_values(
    std::shared_ptr<ReadPlan> plan, const std::vector<size_t>& columns, int num_threads,
    std::vector<SkipReport>* skipped = nullptr);

}  // namespace ff::data::csv
