// Bindings of the CSV sources (submodule _core.data): type inference (csv_inspect), vocabulary
// counting (csv_count_values), the row datasets behind make_csv_dataset (csv_rows_dataset) and
// csv_dataset (csv_features_dataset), the one-hot widening of csv_dataset's compact rows after
// batching (csv_expand_one_hot), and a one-call read into arrays (csv_read_features).
// Rows skipped under ignore_errors are reported as a Python warning at the end of each pass,
// posted with post_python_call (bind_data.cpp) because the pass ends on a pipeline thread
// without the GIL.
#include <cstring>
#include <thread>

#include "bindings.h"
#include "core/errors.h"
#include "data/csv/csv_dataset.h"
#include "data/csv/csv_one_hot.h"
#include "data/csv/csv_row_parsers.h"

namespace ff::bindings {
namespace {

namespace csv = data::csv;

// The dialect travels from Python as a tuple (field_delim, use_quote_delim, na_value, header).
using DialectArgs = py::tuple;

csv::Dialect dialect_of(const DialectArgs& a) {
  if (a.size() != 4) throw ValueError("internal: a CSV dialect is a 4-tuple");
  const auto delim = a[0].cast<std::string>();
  if (delim.size() != 1)
    throw ValueError("field_delim must be a single character, received \"" + delim + "\"");
  csv::Dialect d;
  d.delim = delim[0];
  d.use_quote = a[1].cast<bool>();
  d.na_value = a[2].cast<std::string>();
  d.header = a[3].cast<bool>();
  csv::validate_dialect(d);
  return d;
}

std::shared_ptr<csv::ReadPlan> plan_of(const std::vector<std::string>& files, const DialectArgs& dialect,
                                       const std::vector<std::string>& column_names,
                                       bool names_from_header, bool ignore_errors,
                                       size_t chunk_size) {
  auto plan = std::make_shared<csv::ReadPlan>();
  plan->files = files;
  plan->open = csv::file_opener(files);
  plan->dialect = dialect_of(dialect);
  plan->column_names = column_names;
  plan->header_names_must_match = names_from_header;
  plan->ignore_errors = ignore_errors;
  if (chunk_size == 0) throw ValueError("chunk_size must be positive");
  plan->chunk_size = chunk_size;
  return plan;
}

csv::DefaultValue default_of(const py::handle& v, csv::ColumnType t, const std::string& column) {
  csv::DefaultValue d;
  if (v.is_none()) return d;
  d.present = true;
  if (t == csv::ColumnType::String) {
    if (!py::isinstance<py::str>(v))
      throw TypeError("the default of string column \"" + column + "\" must be a str, received " +
                      py::repr(v).cast<std::string>());
    d.s = v.cast<std::string>();
  } else if (t == csv::ColumnType::Int32 || t == csv::ColumnType::Int64) {
    d.i = v.cast<int64_t>();
  } else {
    d.f = v.cast<double>();
  }
  return d;
}

std::shared_ptr<const csv::Vocabulary> vocabulary_of(const py::handle& tokens) {
  auto v = std::make_shared<csv::Vocabulary>();
  int64_t i = 0;
  for (auto t : tokens) (*v)[t.cast<std::string>()] = i++;
  return v;
}

// -------- skipped-rows warning
std::string skip_message(const csv::SkipReport& r) {
  return "ignore_errors=True: skipped " + std::to_string(r.skipped) + " malformed row" +
         (r.skipped == 1 ? "" : "s") + " of CSV file \"" + r.file + "\" in this pass. The first: " +
         r.first;
}

csv::PassReporter python_reporter() {
  return [](const std::vector<csv::SkipReport>& reports) {
    for (const auto& r : reports)
      post_python_call("forgeflow.data.csv", "_warn_skipped_rows", skip_message(r));
  };
}

// -------- arrays out
py::list skipped_to_py(const std::vector<csv::SkipReport>& s) {
  py::list out;
  for (const auto& r : s) out.append(py::make_tuple(r.file, r.skipped, r.first));
  return out;
}

// Features spec from Python: [(column, kind, offset, vocabulary or None, default or None)].
std::shared_ptr<csv::FeaturesParser> features_parser(const std::vector<std::string>& names,
                                                     const py::list& features, size_t width,
                                                     const py::object& label,
                                                     const std::string& na_value) {
  std::vector<csv::FeatureColumn> cols;
  for (auto item : features) {
    auto t = item.cast<py::tuple>();
    csv::FeatureColumn c;
    c.column = t[0].cast<size_t>();
    if (c.column >= names.size()) throw ValueError("internal: CSV feature column out of range");
    const auto kind = t[1].cast<std::string>();
    c.offset = t[2].cast<size_t>();
    if (kind == "numeric") {
      c.kind = csv::FeatureColumn::Kind::Numeric;
      c.default_value = default_of(t[4], csv::ColumnType::Float64, names[c.column]);
    } else {
      c.kind = kind == "one_hot" ? csv::FeatureColumn::Kind::CategoricalOneHot
                                 : csv::FeatureColumn::Kind::CategoricalIndex;
      if (kind != "one_hot" && kind != "int")
        throw ValueError("internal: unknown CSV feature kind " + kind);
      c.vocabulary = vocabulary_of(t[3]);
      c.default_value = default_of(t[4], csv::ColumnType::String, names[c.column]);
    }
    cols.push_back(std::move(c));
  }
  csv::LabelColumn l;
  if (!label.is_none()) {
    auto t = label.cast<py::tuple>();
    l.present = true;
    l.column = t[0].cast<size_t>();
    if (l.column >= names.size()) throw ValueError("internal: CSV label column out of range");
    const auto kind = t[1].cast<std::string>();
    if (kind == "int64") l.kind = csv::LabelColumn::Kind::Int64;
    else if (kind == "float32") l.kind = csv::LabelColumn::Kind::Float32;
    else if (kind == "categorical") {
      l.kind = csv::LabelColumn::Kind::Categorical;
      l.vocabulary = vocabulary_of(t[2]);
    } else {
      throw ValueError("internal: unknown CSV label kind " + kind);
    }
  }
  return std::make_shared<csv::FeaturesParser>(std::move(cols), width, std::move(l), na_value);
}

int threads_of(int64_t n) {
  if (n == data::kAutotune) {
    const unsigned hw = std::thread::hardware_concurrency();
    return hw ? static_cast<int>(hw) : 1;
  }
  if (n < 1) throw ValueError("num_parallel_reads must be >= 1 or AUTOTUNE, received " + std::to_string(n));
  return static_cast<int>(n);
}

}  // namespace

void init_data_csv(py::module_& m) {
  auto d = m.attr("data").cast<py::module_>();

  d.def(
      "csv_inspect",
      [](const std::vector<std::string>& files, DialectArgs dialect,
         const std::vector<std::string>& column_names, int64_t num_rows, bool ignore_errors,
         size_t chunk_size) {
        const csv::Dialect dl = dialect_of(dialect);
        csv::Inspection ins;
        {
          py::gil_scoped_release release;
          ins = csv::inspect(files, csv::file_opener(files), dl, column_names, num_rows,
                             ignore_errors, chunk_size);
        }
        std::vector<std::string> types, number_types;
        for (auto t : ins.types) types.push_back(csv::column_type_name(t));
        for (auto t : ins.number_types) number_types.push_back(csv::column_type_name(t));
        py::dict info;
        info["rows"] = ins.rows;
        info["numbers"] = ins.numbers;
        info["non_numbers"] = ins.non_numbers;
        info["number_types"] = number_types;
        info["first_non_number"] = ins.first_non_number;
        info["first_non_number_text"] = ins.first_non_number_text;
        return py::make_tuple(ins.column_names, types, ins.seen, info);
      },
      py::arg("files"), py::arg("dialect"), py::arg("column_names"), py::arg("num_rows"),
      py::arg("ignore_errors"), py::arg("chunk_size") = size_t(1) << 20,
      "Column names (header or given) and the types inferred from the first num_rows rows: "
      "(names, types, seen, info); info: rows read and, per column, the counts of numbers and "
      "non-numbers, the type of the numbers alone, and where the first non-number was.");

  d.def(
      "csv_count_values",
      [](const std::vector<std::string>& files, DialectArgs dialect,
         const std::vector<std::string>& column_names, bool names_from_header,
         const std::vector<size_t>& columns, int64_t num_threads, bool ignore_errors,
         size_t chunk_size) {
        auto plan = plan_of(files, dialect, column_names, names_from_header, ignore_errors, chunk_size);
        std::vector<std::unordered_map<std::string, int64_t>> counts;
        std::vector<csv::SkipReport> skipped;
        {
          py::gil_scoped_release release;
          counts = csv::count_values(plan, columns, threads_of(num_threads), &skipped);
        }
        return py::make_tuple(counts, skipped_to_py(skipped));
      },
      py::arg("files"), py::arg("dialect"), py::arg("column_names"), py::arg("names_from_header"),
      py::arg("columns"), py::arg("num_threads"), py::arg("ignore_errors"),
      py::arg("chunk_size") = size_t(1) << 20,
      "Counts of the values of the given columns over all rows: ([{value: count}], skipped).");

  d.def(
      "csv_rows_dataset",
      [](const std::vector<std::string>& files, DialectArgs dialect,
         const std::vector<std::string>& column_names, bool names_from_header,
         const py::list& columns, int64_t num_threads, bool ignore_errors, bool shuffle_files,
         uint64_t file_seed, size_t chunk_size) {
        auto plan = plan_of(files, dialect, column_names, names_from_header, ignore_errors, chunk_size);
        std::vector<csv::TypedColumn> cols;
        for (auto item : columns) {
          auto t = item.cast<py::tuple>();
          csv::TypedColumn c;
          c.column = t[0].cast<size_t>();
          if (c.column >= column_names.size()) throw ValueError("internal: CSV column out of range");
          c.type = csv::column_type_from_name(t[1].cast<std::string>());
          c.default_value = default_of(t[2], c.type, column_names[c.column]);
          cols.push_back(std::move(c));
        }
        plan->parser = std::make_shared<csv::TypedRowsParser>(std::move(cols), plan->dialect.na_value);
        csv::CsvSourceOptions o;
        o.plan = plan;
        o.num_threads = threads_of(num_threads);
        o.shuffle_files = shuffle_files;
        o.file_seed = file_seed;
        o.reporter = python_reporter();
        return csv::make_csv_dataset(std::move(o));
      },
      py::arg("files"), py::arg("dialect"), py::arg("column_names"), py::arg("names_from_header"),
      py::arg("columns"), py::arg("num_threads"), py::arg("ignore_errors"),
      py::arg("shuffle_files"), py::arg("file_seed"), py::arg("chunk_size") = size_t(1) << 20,
      "One element per row: a scalar per column of `columns` [(index, type, default)].");

  auto features_options = [](const std::vector<std::string>& files, DialectArgs dialect,
                             const std::vector<std::string>& column_names, bool names_from_header,
                             const py::list& features, size_t width, const py::object& label,
                             int64_t num_threads, bool ignore_errors, size_t chunk_size) {
    auto plan = plan_of(files, dialect, column_names, names_from_header, ignore_errors, chunk_size);
    plan->parser = features_parser(column_names, features, width, label, plan->dialect.na_value);
    csv::CsvSourceOptions o;
    o.plan = plan;
    o.num_threads = threads_of(num_threads);
    return o;
  };

  d.def(
      "csv_features_dataset",
      [features_options](const std::vector<std::string>& files, DialectArgs dialect,
                         const std::vector<std::string>& column_names, bool names_from_header,
                         const py::list& features, size_t width, const py::object& label,
                         int64_t num_threads, bool ignore_errors, size_t chunk_size) {
        auto o = features_options(files, dialect, column_names, names_from_header, features,
                                  width, label, num_threads, ignore_errors, chunk_size);
        o.reporter = python_reporter();
        return csv::make_csv_dataset(std::move(o));
      },
      py::arg("files"), py::arg("dialect"), py::arg("column_names"), py::arg("names_from_header"),
      py::arg("features"), py::arg("width"), py::arg("label"), py::arg("num_threads"),
      py::arg("ignore_errors"), py::arg("chunk_size") = size_t(1) << 20,
      "One element per row: the float32 feature vector (width,) and the label if any.");

  d.def(
      "csv_expand_one_hot",
      [](data::DatasetPtr in, size_t component, std::vector<int64_t> depths, int64_t parallel) {
        return data::map(std::move(in), csv::expand_one_hot(component, std::move(depths)),
                         parallel, "CsvOneHot");
      },
      py::arg("dataset"), py::arg("component"), py::arg("depths"), py::arg("num_parallel_calls"),
      "Widens compact CSV feature rows (a categorical column's slot holding its index) to one-hot "
      "slots: depths[i] is 0 for a slot copied as it is, else the one-hot size of slot i.");

  d.def(
      "csv_read_features",
      [features_options](const std::vector<std::string>& files, DialectArgs dialect,
                         const std::vector<std::string>& column_names, bool names_from_header,
                         const py::list& features, size_t width, const py::object& label,
                         int64_t num_threads, bool ignore_errors, size_t chunk_size) {
        auto o = features_options(files, dialect, column_names, names_from_header, features,
                                  width, label, num_threads, ignore_errors, chunk_size);
        csv::ReadResult r;
        {
          py::gil_scoped_release release;
          r = csv::read_all(o);
        }
        py::list arrays;
        for (const auto& c : r.columns) arrays.append(component_to_py(c));
        return py::make_tuple(arrays, skipped_to_py(r.skipped));
      },
      py::arg("files"), py::arg("dialect"), py::arg("column_names"), py::arg("names_from_header"),
      py::arg("features"), py::arg("width"), py::arg("label"), py::arg("num_threads"),
      py::arg("ignore_errors"), py::arg("chunk_size") = size_t(1) << 20,
      "The same rows as csv_features_dataset, in one pass, as whole arrays: ([x, y], skipped).");
}

}  // namespace ff::bindings
