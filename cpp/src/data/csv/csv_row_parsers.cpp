// Typed-columns and feature-matrix row parsers: see csv_row_parsers.h.
#include "data/csv/csv_row_parsers.h"

#include <algorithm>
#include <cstring>

#include "core/errors.h"

namespace ff::data::csv {

std::string missing_detail(std::string_view text, const std::string& na_value) {
  std::string s = "missing value " + quote_for_message(text) + " (empty";
  if (!na_value.empty()) s += " or equal to na_value " + quote_for_message(na_value);
  s += ") and the column has no default; pass column_defaults to fill missing values";
  return s;
}

std::string parse_failure_detail(ParseStatus st, ColumnType t, std::string_view text) {
  if (st == ParseStatus::OutOfRange)
    return quote_for_message(text) + " is out of range for " + column_type_name(t);
  if (st == ParseStatus::NotFinite)
    return quote_for_message(text) + " is not a finite number: NaN and infinite values are " +
           "refused (one of them turns every weight of a model trained on it into NaN); if it " +
           "means a missing value, pass na_value=" + quote_for_message(text) +
           " and a column_defaults value to fill it";
  return "expected " + expected_description(t) + ", found " + quote_for_message(text);
}

// ---------------------------------------------------------------------------------------------

TypedRowsParser::TypedRowsParser(std::vector<TypedColumn> columns, std::string na_value)
    : columns_(std::move(columns)), na_value_(std::move(na_value)) {}

void TypedRowsParser::start(ParsedBlock& out) const {
  out.outputs.clear();
  out.outputs.resize(columns_.size());
  for (size_t i = 0; i < columns_.size(); ++i) out.outputs[i].type = columns_[i].type;
}

bool TypedRowsParser::parse(const std::vector<Field>& fields, ParsedBlock& out,
                            std::string& scratch, RowFailure& failure) const {
  for (size_t i = 0; i < columns_.size(); ++i) {
    const TypedColumn& c = columns_[i];
    ColumnOutput& o = out.outputs[i];
    const std::string_view t = field_text(fields[c.column], scratch);
    if (is_missing(t, na_value_)) {
      if (!c.default_value.present) {
        failure = {c.column, missing_detail(t, na_value_)};
        return false;
      }
      const DefaultValue& d = c.default_value;
      switch (c.type) {
        case ColumnType::Int32: o.i32.push_back(static_cast<int32_t>(d.i)); break;
        case ColumnType::Int64: o.i64.push_back(d.i); break;
        case ColumnType::Float32: o.f32.push_back(static_cast<float>(d.f)); break;
        case ColumnType::Float64: o.f64.push_back(d.f); break;
        case ColumnType::String: o.str.push_back(d.s); break;
      }
      continue;
    }
    ParseStatus st = ParseStatus::Ok;
    switch (c.type) {
      case ColumnType::Int32: {
        int32_t v = 0;
        st = parse_int32(t, v);
        if (st == ParseStatus::Ok) o.i32.push_back(v);
        break;
      }
      case ColumnType::Int64: {
        int64_t v = 0;
        st = parse_int64(t, v);
        if (st == ParseStatus::Ok) o.i64.push_back(v);
        break;
      }
      case ColumnType::Float32: {
        float v = 0;
        st = parse_float32(t, v);
        if (st == ParseStatus::Ok) o.f32.push_back(v);
        break;
      }
      case ColumnType::Float64: {
        double v = 0;
        st = parse_float64(t, v);
        if (st == ParseStatus::Ok) o.f64.push_back(v);
        break;
      }
      case ColumnType::String: {
        const size_t bad = invalid_utf8_at(t);
        if (bad != std::string_view::npos) {
          failure = {c.column, invalid_utf8_detail(t, bad)};
          return false;
        }
        o.str.emplace_back(t);
        break;
      }
    }
    if (st != ParseStatus::Ok) {
      failure = {c.column, parse_failure_detail(st, c.type, t)};
      return false;
    }
  }
  return true;
}

// ---------------------------------------------------------------------------------------------

FeaturesParser::FeaturesParser(std::vector<FeatureColumn> features, size_t width,
                               LabelColumn label, std::string na_value)
    : features_(std::move(features)), width_(width), label_(std::move(label)),
      na_value_(std::move(na_value)) {
  for (const auto& f : features_) {
    const size_t slots = f.kind == FeatureColumn::Kind::CategoricalOneHot
                             ? (f.vocabulary ? f.vocabulary->size() : 0)
                             : 1;
    if (f.kind != FeatureColumn::Kind::Numeric && !f.vocabulary)
      throw ValueError("internal: a categorical CSV column needs a vocabulary");
    if (f.offset + slots > width_)
      throw ValueError("internal: CSV feature slots exceed the feature width");
  }
  if (label_.present && label_.kind == LabelColumn::Kind::Categorical && !label_.vocabulary)
    throw ValueError("internal: a categorical CSV label needs a vocabulary");
  size_t n = label_.present ? label_.column + 1 : 0;
  for (const auto& f : features_) n = std::max(n, f.column + 1);
  by_column_.assign(n, -1);
  for (size_t i = 0; i < features_.size(); ++i) {
    if (by_column_[features_[i].column] != -1)
      throw ValueError("internal: a CSV column is used twice");
    by_column_[features_[i].column] = static_cast<int>(i);
  }
  if (label_.present) {
    if (by_column_[label_.column] != -1) throw ValueError("internal: the CSV label is also a feature");
    by_column_[label_.column] = kLabel;
  }
  // A numeric-looking na_value must be recognised as missing: only the general path does that.
  double dv;
  int64_t iv;
  fast_ok_ = na_value_.empty() || (parse_float64(na_value_, dv) != ParseStatus::Ok &&
                                   parse_int64(na_value_, iv) != ParseStatus::Ok);
}

void FeaturesParser::start(ParsedBlock& out) const {
  out.outputs.clear();
  out.outputs.resize(label_.present ? 2 : 1);
  out.outputs[0].type = ColumnType::Float32;
  out.outputs[0].width = static_cast<int64_t>(width_);
  out.outputs[0].vector = true;
  if (label_.present)
    out.outputs[1].type =
        label_.kind == LabelColumn::Kind::Float32 ? ColumnType::Float32 : ColumnType::Int64;
}

namespace {

std::string unknown_category(std::string_view t, const Vocabulary& v, bool label) {
  std::vector<std::pair<int64_t, const std::string*>> known;
  for (const auto& kv : v) known.emplace_back(kv.second, &kv.first);
  std::sort(known.begin(), known.end());
  std::string s = "unknown " + std::string(label ? "label class " : "category ") +
                  quote_for_message(t) + ": the schema (built from the training data) knows " +
                  std::to_string(v.size()) + (v.size() == 1 ? " value" : " values");
  for (size_t i = 0; i < known.size() && i < 8; ++i)
    s += (i ? ", " : ": ") + quote_for_message(*known[i].second, 30);
  if (known.size() > 8) s += ", ...";
  return s;
}

}  // namespace

namespace {

// Digits with an optional '-' from p: the value when the field is just that (then p is left at
// the field's end), else false with p at the field's end too (use the general parser).
inline bool scan_number(const char*& p, const char* e, char delim, bool& neg, uint64_t& v,
                        const char*& begin) {
  begin = p;
  neg = false;
  v = 0;
  if (p < e && *p == '-') {
    neg = true;
    ++p;
  }
  const char* digits = p;
  while (p < e) {
    const unsigned d = static_cast<unsigned char>(*p) - '0';
    if (d > 9) break;
    v = v * 10 + d;
    ++p;
  }
  const size_t nd = static_cast<size_t>(p - digits);
  if (nd > 0 && nd <= 15 && (p == e || *p == delim || *p == '\n' || *p == '\r')) return true;
  while (p < e && *p != delim && *p != '\n') ++p;
  return false;
}

// The end of a general (non-simple) field [begin, p): a CR before the record's LF is not text.
inline const char* field_end(const char* begin, const char* p, const char* e) {
  if (p > begin && p[-1] == '\r' && (p == e || *p == '\n')) return p - 1;
  return p;
}

}  // namespace

const char* FeaturesParser::parse_fast(const char* p, const char* e, const Dialect& d,
                                       size_t ncol, ParsedBlock& out) const {
  if (!fast_ok_) return nullptr;
  if (p < e && (*p == '\n' || (*p == '\r' && (p + 1 == e || p[1] == '\n'))))
    return nullptr;  // a blank line: skipped by the general path
  const char delim = d.delim;
  const bool quotes = d.use_quote;
  ColumnOutput& fo = out.outputs[0];
  const size_t base = fo.f32.size();
  fo.f32.resize(base + width_, 0.0f);
  float* row = fo.f32.data() + base;
  for (size_t c = 0; c < ncol; ++c) {
    const int role = c < by_column_.size() ? by_column_[c] : -1;
    const FeatureColumn* f = role >= 0 ? &features_[static_cast<size_t>(role)] : nullptr;
    const bool numeric = (f && f->kind == FeatureColumn::Kind::Numeric) ||
                         (role == kLabel && label_.kind != LabelColumn::Kind::Categorical);
    if (quotes && p < e && *p == '"') return nullptr;
    if (numeric) {
      bool neg;
      uint64_t v;
      const char* b;
      if (scan_number(p, e, delim, neg, v, b)) {
        if (f) {
          const float x = static_cast<float>(v);
          row[f->offset] = neg ? -x : x;
        } else if (label_.kind == LabelColumn::Kind::Int64) {
          out.outputs[1].i64.push_back(neg ? -static_cast<int64_t>(v) : static_cast<int64_t>(v));
        } else {
          const float x = static_cast<float>(v);
          out.outputs[1].f32.push_back(neg ? -x : x);
        }
      } else {
        const char* fe = field_end(b, p, e);
        if (fe == b) return nullptr;  // missing
        if (quotes && std::memchr(b, '"', static_cast<size_t>(fe - b))) return nullptr;
        const std::string_view t(b, static_cast<size_t>(fe - b));
        if (f || label_.kind == LabelColumn::Kind::Float32) {
          float x;
          if (parse_float32(t, x) != ParseStatus::Ok) return nullptr;
          if (f) row[f->offset] = x;
          else out.outputs[1].f32.push_back(x);
        } else {
          int64_t x;
          if (parse_int64(t, x) != ParseStatus::Ok) return nullptr;
          out.outputs[1].i64.push_back(x);
        }
      }
    } else {
      const char* b = p;
      while (p < e && *p != delim && *p != '\n') ++p;
      const char* fe = field_end(b, p, e);
      if (quotes && std::memchr(b, '"', static_cast<size_t>(fe - b))) return nullptr;
      if (role != -1) {
        const std::string_view t(b, static_cast<size_t>(fe - b));
        if (is_missing(t, na_value_)) return nullptr;
        const Vocabulary& vocab = f ? *f->vocabulary : *label_.vocabulary;
        const auto it = vocab.find(std::string(t));
        if (it == vocab.end()) return nullptr;
        if (!f) out.outputs[1].i64.push_back(it->second);
        else if (f->kind == FeatureColumn::Kind::CategoricalIndex) row[f->offset] = static_cast<float>(it->second);
        else row[f->offset + static_cast<size_t>(it->second)] = 1.0f;
      }
    }
    // The terminator: the delimiter between fields, LF / CRLF / the end after the last.
    if (c + 1 < ncol) {
      if (p >= e || *p != delim) return nullptr;
      ++p;
      continue;
    }
    if (p < e && *p == '\r') {
      if (p + 1 == e) return e;
      ++p;
      if (*p != '\n') return nullptr;
    }
    if (p == e) return e;
    if (*p != '\n') return nullptr;
    return p + 1;
  }
  return nullptr;
}

bool FeaturesParser::parse(const std::vector<Field>& fields, ParsedBlock& out,
                           std::string& scratch, RowFailure& failure) const {
  ColumnOutput& fo = out.outputs[0];
  const size_t base = fo.f32.size();
  fo.f32.resize(base + width_, 0.0f);
  float* row = fo.f32.data() + base;
  for (const FeatureColumn& c : features_) {
    std::string_view t = field_text(fields[c.column], scratch);
    if (is_missing(t, na_value_)) {
      if (!c.default_value.present) {
        failure = {c.column, missing_detail(t, na_value_)};
        return false;
      }
      if (c.kind == FeatureColumn::Kind::Numeric) {
        row[c.offset] = static_cast<float>(c.default_value.f);
        continue;
      }
      t = c.default_value.s;
    }
    if (c.kind == FeatureColumn::Kind::Numeric) {
      float v = 0;
      const ParseStatus st = parse_float32(t, v);
      if (st != ParseStatus::Ok) {
        failure = {c.column, parse_failure_detail(st, ColumnType::Float32, t) +
                                 " (the column is numeric in the schema)"};
        return false;
      }
      row[c.offset] = v;
      continue;
    }
    const auto it = c.vocabulary->find(std::string(t));
    if (it == c.vocabulary->end()) {
      const size_t bad = invalid_utf8_at(t);
      failure = {c.column, bad != std::string_view::npos
                               ? invalid_utf8_detail(t, bad)
                               : unknown_category(t, *c.vocabulary, false)};
      return false;
    }
    if (c.kind == FeatureColumn::Kind::CategoricalIndex)
      row[c.offset] = static_cast<float>(it->second);
    else
      row[c.offset + static_cast<size_t>(it->second)] = 1.0f;
  }
  if (label_.present) {
    ColumnOutput& lo = out.outputs[1];
    const std::string_view t = field_text(fields[label_.column], scratch);
    if (is_missing(t, na_value_)) {
      failure = {label_.column, "missing label " + quote_for_message(t) +
                                    " (every row needs its label)"};
      return false;
    }
    switch (label_.kind) {
      case LabelColumn::Kind::Int64: {
        int64_t v = 0;
        const ParseStatus st = parse_int64(t, v);
        if (st != ParseStatus::Ok) {
          failure = {label_.column, parse_failure_detail(st, ColumnType::Int64, t) +
                                        " (the label column is integer in the schema)"};
          return false;
        }
        lo.i64.push_back(v);
        break;
      }
      case LabelColumn::Kind::Float32: {
        float v = 0;
        const ParseStatus st = parse_float32(t, v);
        if (st != ParseStatus::Ok) {
          failure = {label_.column, parse_failure_detail(st, ColumnType::Float32, t) +
                                        " (the label column is numeric in the schema)"};
          return false;
        }
        lo.f32.push_back(v);
        break;
      }
      case LabelColumn::Kind::Categorical: {
        const auto it = label_.vocabulary->find(std::string(t));
        if (it == label_.vocabulary->end()) {
          const size_t bad = invalid_utf8_at(t);
          failure = {label_.column, bad != std::string_view::npos
                                        ? invalid_utf8_detail(t, bad)
                                        : unknown_category(t, *label_.vocabulary, true)};
          return false;
        }
        lo.i64.push_back(it->second);
        break;
      }
    }
  }
  return true;
}

}  // namespace ff::data::csv
