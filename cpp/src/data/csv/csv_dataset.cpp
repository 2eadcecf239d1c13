// CSV files as a Dataset source (see csv_dataset.h).
#include "data/csv/csv_dataset.h"

#include <cstring>
#include <map>

#include "core/errors.h"
#include "data/csv/csv_row_parsers.h"

namespace ff::data::csv {

namespace {

ValueType value_type(ColumnType t) {
  switch (t) {
    case ColumnType::Int32: return ValueType::Int32;
    case ColumnType::Int64: return ValueType::Int64;
    case ColumnType::Float32: return ValueType::Float32;
    case ColumnType::Float64: return ValueType::Float64;
    case ColumnType::String: return ValueType::String;
  }
  return ValueType::Float32;
}

template <typename T>
Component numeric_component(ValueType type, const Shape& shape, const std::vector<T>& values) {
  void* dst = nullptr;
  Component c = Component::make(type, shape, &dst);
  if (!values.empty()) std::memcpy(dst, values.data(), values.size() * sizeof(T));
  return c;
}

Component to_component(ColumnOutput& o, int64_t rows) {
  Shape shape = o.vector ? Shape{rows, o.width} : Shape{rows};
  switch (o.type) {
    case ColumnType::Int32: return numeric_component(ValueType::Int32, shape, o.i32);
    case ColumnType::Int64: return numeric_component(ValueType::Int64, shape, o.i64);
    case ColumnType::Float32: return numeric_component(ValueType::Float32, shape, o.f32);
    case ColumnType::Float64: return numeric_component(ValueType::Float64, shape, o.f64);
    case ColumnType::String: return Component::make_strings(shape, std::move(o.str));
  }
  return {};
}

// Skip counts of one pass, per file index, in order of first appearance.
class SkipTally {
 public:
  void add(const ParsedBlock& b) {
    if (!b.skipped) return;
    auto it = index_.find(b.file);
    if (it == index_.end()) {
      index_[b.file] = reports_.size();
      files_.push_back(b.file);
      reports_.push_back({"", b.skipped, b.first_skip});
    } else {
      reports_[it->second].skipped += b.skipped;
    }
  }
  std::vector<SkipReport> take(const ReadPlan& plan) {
    for (size_t i = 0; i < reports_.size(); ++i) reports_[i].file = plan.files[files_[i]];
    return std::move(reports_);
  }

 private:
  std::map<size_t, size_t> index_;
  std::vector<size_t> files_;
  std::vector<SkipReport> reports_;
};

class CsvIterator : public Iterator {
 public:
  CsvIterator(const CsvSourceOptions& o, uint64_t pass)
      : options_(o),
        pipeline_(o.plan,
                  file_order(o.plan->files.size(), o.shuffle_files, o.file_seed, pass),
                  o.num_threads) {}

  bool next(Element& out) override {
    while (row_ >= rows_) {
      if (done_) return false;
      ParsedBlock b;
      if (!pipeline_.next(b)) {
        done_ = true;
        auto reports = tally_.take(*options_.plan);
        if (!reports.empty() && options_.reporter) options_.reporter(reports);
        return false;
      }
      tally_.add(b);
      rows_ = b.rows;
      row_ = 0;
      block_ = block_components(b);
    }
    out.clear();
    out.reserve(block_.size());
    for (const Component& c : block_) out.push_back(c.row(row_));
    ++row_;
    return true;
  }

 private:
  const CsvSourceOptions& options_;  // owned by the dataset, which outlives its iterators
  BlockPipeline pipeline_;
  SkipTally tally_;
  Element block_;
  int64_t rows_ = 0, row_ = 0;
  bool done_ = false;
};

// Keeps the dataset alive as long as the iterator.
class OwningIterator : public Iterator {
 public:
  OwningIterator(std::shared_ptr<const CsvDataset> ds, uint64_t pass)
      : ds_(std::move(ds)), it_(ds_->options(), pass) {}
  bool next(Element& out) override { return it_.next(out); }

 private:
  std::shared_ptr<const CsvDataset> ds_;
  CsvIterator it_;
};

void check_options(const CsvSourceOptions& o) {
  if (!o.plan || !o.plan->parser || !o.plan->open)
    throw ValueError("internal: a CSV dataset needs a read plan with a parser and an opener");
  if (o.plan->files.empty()) throw ValueError("a CSV dataset needs at least one file");
  validate_dialect(o.plan->dialect);
}

}  // namespace

CsvDataset::CsvDataset(CsvSourceOptions options) : options_(std::move(options)) {
  check_options(options_);
}

std::unique_ptr<Iterator> CsvDataset::make_iterator() const {
  const uint64_t pass = passes_.fetch_add(1);
  auto self = std::static_pointer_cast<const CsvDataset>(shared_from_this());
  return std::make_unique<OwningIterator>(std::move(self), pass);
}

DatasetPtr make_csv_dataset(CsvSourceOptions options) {
  return std::make_shared<CsvDataset>(std::move(options));
}

Element block_components(ParsedBlock& block) {
  Element e;
  e.reserve(block.outputs.size());
  for (ColumnOutput& o : block.outputs) e.push_back(to_component(o, block.rows));
  return e;
}

ReadResult read_all(const CsvSourceOptions& options) {
  check_options(options);
  const ReadPlan& plan = *options.plan;
  BlockPipeline pipeline(options.plan, file_order(plan.files.size(), false, 0, 0),
                         options.num_threads);
  std::vector<ParsedBlock> blocks;
  SkipTally tally;
  ParsedBlock b;
  int64_t rows = 0;
  while (pipeline.next(b)) {
    tally.add(b);
    rows += b.rows;
    blocks.push_back(std::move(b));
  }
  // The column layout without rows, for an empty result.
  ParsedBlock proto;
  plan.parser->start(proto);
  ReadResult result;
  for (size_t c = 0; c < proto.outputs.size(); ++c) {
    const ColumnOutput& p = proto.outputs[c];
    const Shape shape = p.vector ? Shape{rows, p.width} : Shape{rows};
    if (p.type == ColumnType::String) {
      std::vector<std::string> all;
      all.reserve(static_cast<size_t>(rows));
      for (auto& blk : blocks)
        for (auto& s : blk.outputs[c].str) all.push_back(std::move(s));
      result.columns.push_back(Component::make_strings(shape, std::move(all)));
      continue;
    }
    void* dst = nullptr;
    Component comp = Component::make(value_type(p.type), shape, &dst);
    char* w = static_cast<char*>(dst);
    for (auto& blk : blocks) {
      const ColumnOutput& o = blk.outputs[c];
      const void* src = nullptr;
      size_t bytes = 0;
      switch (o.type) {
        case ColumnType::Int32: src = o.i32.data(); bytes = o.i32.size() * 4; break;
        case ColumnType::Int64: src = o.i64.data(); bytes = o.i64.size() * 8; break;
        case ColumnType::Float32: src = o.f32.data(); bytes = o.f32.size() * 4; break;
        case ColumnType::Float64: src = o.f64.data(); bytes = o.f64.size() * 8; break;
        case ColumnType::String: break;
      }
      if (bytes) std::memcpy(w, src, bytes);
      w += bytes;
    }
    result.columns.push_back(std::move(comp));
  }
  result.skipped = tally.take(plan);
  return result;
}

std::vector<std::unordered_map<std::string, int64_t>> count_values(
    std::shared_ptr<ReadPlan> plan, const std::vector<size_t>& columns, int num_threads,
    std::vector<SkipReport>* skipped) {
  std::vector<TypedColumn> cols;
  for (size_t c : columns) {
    if (c >= plan->column_names.size())
      throw ValueError("internal: CSV column index " + std::to_string(c) + " out of range");
    TypedColumn t{c, ColumnType::String, {}};
    t.default_value.present = true;  // missing values pass through and are not counted
    cols.push_back(t);
  }
  plan->parser = std::make_shared<TypedRowsParser>(cols, plan->dialect.na_value);
  std::vector<std::unordered_map<std::string, int64_t>> counts(columns.size());
  BlockPipeline pipeline(plan, file_order(plan->files.size(), false, 0, 0), num_threads);
  SkipTally tally;
  ParsedBlock b;
  while (pipeline.next(b)) {
    tally.add(b);
    for (size_t c = 0; c < columns.size(); ++c)
      for (const std::string& s : b.outputs[c].str)
        if (!is_missing(s, plan->dialect.na_value)) ++counts[c][s];
  }
  if (skipped) *skipped = tally.take(*plan);
  return counts;
}

}  // namespace ff::data::csv
