// The two ways a CSV row becomes values (RowParser implementations, see csv_reader.h):
// - TypedRowsParser (make_csv_dataset): one typed output per selected column (int32, int64,
//   float32, float64, string), missing values filled from the column default or rejected.
// - FeaturesParser (csv_dataset): one float32 feature row per record (numeric columns as
//   numbers, categorical columns as a vocabulary index or one-hot), plus the label (int64 for an
//   integer or categorical label, float32 for a numeric one). An unknown category is an error.
#pragma once
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "data/csv/csv_reader.h"
#include "data/csv/csv_values.h"

namespace ff::data::csv {

struct TypedColumn {
  size_t column = 0;  // index in the file's columns
  ColumnType type = ColumnType::Float32;
  DefaultValue default_value;  // absent: a missing value is an error
};

class TypedRowsParser : public RowParser {
 public:
  TypedRowsParser(std::vector<TypedColumn> columns, std::string na_value);
  void start(ParsedBlock& out) const override;
  bool parse(const std::vector<Field>& fields, ParsedBlock& out, std::string& scratch,
             RowFailure& failure) const override;

 private:
  std::vector<TypedColumn> columns_;
  std::string na_value_;
};

using Vocabulary = std::unordered_map<std::string, int64_t>;

struct FeatureColumn {
  enum class Kind { Numeric, CategoricalIndex, CategoricalOneHot };
  size_t column = 0;  // index in the file's columns
  Kind kind = Kind::Numeric;
  size_t offset = 0;  // first slot in the feature row (one-hot: vocabulary-size slots)
  std::shared_ptr<const Vocabulary> vocabulary;  // categorical kinds
  DefaultValue default_value;                    // numeric: .f; categorical: .s
};

struct LabelColumn {
  enum class Kind { Int64, Float32, Categorical };
  bool present = false;
  size_t column = 0;
  Kind kind = Kind::Float32;
  std::shared_ptr<const Vocabulary> vocabulary;  // Categorical
};

// Every file column is either a feature or the label: a column missing from the spec is an
// error of the caller (the schema says what to do with every column).
class FeaturesParser : public RowParser {
 public:
  FeaturesParser(std::vector<FeatureColumn> features, size_t width, LabelColumn label,
                 std::string na_value);
  void start(ParsedBlock& out) const override;
  bool parse(const std::vector<Field>& fields, ParsedBlock& out, std::string& scratch,
             RowFailure& failure) const override;
  const char* parse_fast(const char* p, const char* end, const Dialect& d, size_t ncol,
                         ParsedBlock& out) const override;
  size_t width() const { return width_; }
  const LabelColumn& label() const { return label_; }

 private:
  std::vector<FeatureColumn> features_;
  size_t width_;
  LabelColumn label_;
  std::string na_value_;
  // The fast path's view: what each file column is (-1: skipped; >= 0: index into features_;
  // kLabel: the label), and whether na_value could be mistaken for a number.
  static constexpr int kLabel = -2;
  std::vector<int> by_column_;
  bool fast_ok_ = true;
};

// "missing value (...) and the column has no default: ..." etc., shared by both parsers.
std::string missing_detail(std::string_view text, const std::string& na_value);
std::string parse_failure_detail(ParseStatus st, ColumnType t, std::string_view text);

}  // namespace ff::data::csv
