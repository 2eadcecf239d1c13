// The streamed CSV reader: chunked block splitting, block parsing with exact error locations,
// the ordered multi-threaded block pipeline, and make_csv_dataset's type inference. See
// csv_reader.h.
#include "data/csv/csv_reader.h"

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <deque>
#include <exception>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_set>

#include "core/errors.h"

namespace ff::data::csv {

// ---------------------------------------------------------------------------------------------
// Byte sources

namespace {

class FileSource : public ByteSource {
 public:
  FileSource(const std::string& path) : path_(path) {
    f_ = std::fopen(path.c_str(), "rb");
    if (!f_)
      throw ValueError("could not open CSV file \"" + path + "\": " + std::strerror(errno));
  }
  ~FileSource() override {
    if (f_) std::fclose(f_);
  }
  size_t read(char* buf, size_t n) override {
    const size_t got = std::fread(buf, 1, n, f_);
    if (got < n && std::ferror(f_))
      throw ValueError("error reading CSV file \"" + path_ + "\": " + std::strerror(errno));
    return got;
  }

 private:
  std::string path_;
  std::FILE* f_ = nullptr;
};

class MemorySource : public ByteSource {
 public:
  explicit MemorySource(std::shared_ptr<const std::string> text) : text_(std::move(text)) {}
  size_t read(char* buf, size_t n) override {
    const size_t k = std::min(n, text_->size() - pos_);
    std::memcpy(buf, text_->data() + pos_, k);
    pos_ += k;
    return k;
  }

 private:
  std::shared_ptr<const std::string> text_;
  size_t pos_ = 0;
};

std::string row_text(const char* begin, const char* end) {
  while (end > begin && (end[-1] == '\n' || end[-1] == '\r')) --end;
  return std::string(begin, end);
}

constexpr const char* kBom = "\xEF\xBB\xBF";

}  // namespace

SourceOpener file_opener(std::vector<std::string> paths) {
  auto p = std::make_shared<const std::vector<std::string>>(std::move(paths));
  return [p](size_t i) -> std::unique_ptr<ByteSource> {
    return std::make_unique<FileSource>(p->at(i));
  };
}

SourceOpener memory_opener(std::vector<std::string> texts) {
  std::vector<std::shared_ptr<const std::string>> t;
  for (auto& s : texts) t.push_back(std::make_shared<const std::string>(std::move(s)));
  auto p = std::make_shared<const decltype(t)>(std::move(t));
  return [p](size_t i) -> std::unique_ptr<ByteSource> {
    return std::make_unique<MemorySource>(p->at(i));
  };
}

void ColumnOutput::truncate(int64_t rows) {
  const size_t n = static_cast<size_t>(rows * width);
  switch (type) {
    case ColumnType::Int32: i32.resize(std::min(i32.size(), n)); break;
    case ColumnType::Int64: i64.resize(std::min(i64.size(), n)); break;
    case ColumnType::Float32: f32.resize(std::min(f32.size(), n)); break;
    case ColumnType::Float64: f64.resize(std::min(f64.size(), n)); break;
    case ColumnType::String: str.resize(std::min(str.size(), n)); break;
  }
}

void ColumnOutput::reserve(int64_t rows) {
  const size_t n = static_cast<size_t>(rows * width);
  switch (type) {
    case ColumnType::Int32: i32.reserve(n); break;
    case ColumnType::Int64: i64.reserve(n); break;
    case ColumnType::Float32: f32.reserve(n); break;
    case ColumnType::Float64: f64.reserve(n); break;
    case ColumnType::String: str.reserve(n); break;
  }
}

std::string location(const std::string& file, int64_t line, const std::string& column) {
  std::string s = "CSV file \"" + file + "\", line " + std::to_string(line);
  if (!column.empty()) s += ", column \"" + column + "\"";
  return s;
}

namespace {

std::string syntax_detail(SyntaxError e, const Field& f, const Dialect& d) {
  const char* raw_begin = f.quoted ? f.begin - 1 : f.begin;
  const std::string_view raw(raw_begin, static_cast<size_t>(f.end - raw_begin));
  switch (e) {
    case SyntaxError::QuoteInUnquotedField:
      return "a quote inside an unquoted field (quote the whole field and double the quotes "
             "inside it, or pass use_quote_delim=False): " +
             quote_for_message(raw);
    case SyntaxError::TextAfterClosingQuote:
      return "text after the closing quote of a quoted field (expected " +
             quote_for_message(std::string_view(&d.delim, 1)) +
             " or the end of the line; a quote inside a quoted field is written twice): " +
             quote_for_message(raw);
    case SyntaxError::UnterminatedQuote:
      return "unterminated quoted field (no closing quote before the end of the file): " +
             quote_for_message(raw);
    case SyntaxError::None: break;
  }
  return "";
}

// The header's names, or a ValueError for a malformed header.
std::vector<std::string> header_names(const std::vector<Field>& fields, const RecordScan& r,
                                      const std::string& file, const Dialect& d) {
  if (r.error != SyntaxError::None) {
    const Field& f = fields[r.error_field];
    throw ValueError(location(file, 1, "") + " (the header), field " +
                     std::to_string(r.error_field + 1) + ": " + syntax_detail(r.error, f, d));
  }
  std::vector<std::string> names;
  std::string scratch;
  for (const Field& f : fields) {
    // A CR inside an unquoted header field ends no record: the file's lines end with lone CRs.
    if (!f.quoted && std::find(f.begin, f.end, '\r') != f.end)
      throw ValueError(location(file, 1, "") + " (the header): it holds a carriage return (\\r) "
                       "that no line feed follows, so the file seems to use lone-CR line endings "
                       "(classic Mac OS). forgeflow reads LF and CRLF line endings only: convert "
                       "the file first (e.g. tr '\\r' '\\n' < in.csv > out.csv).");
    const std::string_view name = field_text(f, scratch);
    const size_t bad = invalid_utf8_at(name);
    if (bad != std::string_view::npos)
      throw ValueError(location(file, 1, "") + " (the header), field " +
                       std::to_string(names.size() + 1) + ": the column name is " +
                       invalid_utf8_detail(name, bad));
    names.emplace_back(name);
  }
  return names;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// BlockReader

BlockReader::BlockReader(std::shared_ptr<const ReadPlan> plan, std::vector<size_t> file_order)
    : plan_(std::move(plan)), order_(std::move(file_order)) {
  validate_dialect(plan_->dialect);
  if (plan_->chunk_size == 0) throw ValueError("CSV chunk size must be positive");
}

BlockReader::~BlockReader() = default;

void BlockReader::open_next() {
  file_ = order_[pos_];
  src_ = plan_->open(file_);
  open_ = true;
  eof_ = false;
  at_start_ = true;
  header_done_ = !plan_->dialect.header;
  line_ = 1;
  buf_.clear();
}

bool BlockReader::fill() {
  const size_t chunk = plan_->chunk_size;
  do {
    const size_t old = buf_.size();
    buf_.resize(old + chunk);
    const size_t n = src_->read(&buf_[old], chunk);
    buf_.resize(old + n);
    if (n == 0) eof_ = true;
  } while (at_start_ && !eof_ && buf_.size() < 3);
  if (at_start_) {
    if (buf_.compare(0, 3, kBom) == 0) buf_.erase(0, 3);
    at_start_ = false;
  }
  return !eof_;
}

void BlockReader::take_header() {
  const ReadPlan& plan = *plan_;
  const std::string& file = plan.files[file_];
  const char* b = buf_.data();
  const RecordScan r = tokenize_record(b, b + buf_.size(), eof_, plan.dialect, fields_);
  std::vector<std::string> names = header_names(fields_, r, file, plan.dialect);
  const auto& want = plan.column_names;
  if (plan.header_names_must_match) {
    if (names != want) {
      std::string detail;
      for (size_t i = 0; i < std::max(names.size(), want.size()); ++i) {
        const std::string a = i < want.size() ? "\"" + want[i] + "\"" : "nothing";
        const std::string h = i < names.size() ? "\"" + names[i] + "\"" : "nothing";
        if (a != h) {
          detail = "column " + std::to_string(i + 1) + " is " + h + " there, " + a + " in \"" +
                   plan.files[0] + "\"";
          break;
        }
      }
      throw ValueError(location(file, line_, "") + " (the header): the columns differ from " +
                       "the first file's (every file of a CSV dataset must have the same " +
                       "columns): " + detail);
    }
  } else if (names.size() != want.size()) {
    throw ValueError(location(file, line_, "") + " (the header): it has " +
                     std::to_string(names.size()) + " fields, but " +
                     std::to_string(want.size()) + " column_names were given");
  }
  line_ += r.newlines;
  buf_.erase(0, static_cast<size_t>(r.next - b));
  header_done_ = true;
}

bool BlockReader::next(RawBlock& out) {
  const ReadPlan& plan = *plan_;
  for (;;) {
    if (!open_) {
      if (pos_ >= order_.size()) return false;
      open_next();
      fill();
    }
    if (!header_done_) {
      if (buf_.empty() && eof_)
        throw ValueError("CSV file \"" + plan.files[file_] +
                         "\" is empty: expected a header line with the column names (pass "
                         "header=False if the file has none)");
      const char* b = buf_.data();
      const RecordScan r = tokenize_record(b, b + buf_.size(), eof_, plan.dialect, fields_);
      if (r.complete) {
        take_header();
        continue;
      }
      if (buf_.size() > plan.max_record_bytes)
        throw ValueError(location(plan.files[file_], 1, "") +
                         ": the header is longer than " + std::to_string(plan.max_record_bytes) +
                         " bytes (an unterminated quote?)");
      fill();
      continue;
    }
    // Cut the buffer after its last complete record.
    size_t cut = 0;
    const char* b = buf_.data();
    const size_t n = buf_.size();
    if (eof_) {
      cut = n;
    } else if (n > 0) {
      if (!plan.dialect.use_quote || !std::memchr(b, '"', n)) {
        const void* nl = memrchr(b, '\n', n);
        cut = nl ? static_cast<size_t>(static_cast<const char*>(nl) - b) + 1 : 0;
      } else {
        const char* p = b;
        const char* e = b + n;
        while (p < e) {
          const RecordScan r = tokenize_record(p, e, false, plan.dialect, fields_);
          if (!r.complete) break;
          p = r.next;
        }
        cut = static_cast<size_t>(p - b);
      }
    }
    if (cut > 0) {
      out.file = file_;
      out.first_line = line_;
      out.bytes.swap(buf_);
      buf_.assign(out.bytes.data() + cut, n - cut);
      out.bytes.resize(cut);
      line_ += std::count(out.bytes.begin(), out.bytes.end(), '\n');
      return true;
    }
    if (eof_) {  // nothing left in this file
      src_.reset();
      open_ = false;
      ++pos_;
      continue;
    }
    if (n > plan.max_record_bytes)
      throw ValueError(location(plan.files[file_], line_, "") + ": a record longer than " +
                       std::to_string(plan.max_record_bytes) +
                       " bytes starts here (an unterminated quoted field?)");
    fill();
  }
}

// ---------------------------------------------------------------------------------------------
// Block parsing

ParsedBlock parse_block(const RawBlock& raw, const ReadPlan& plan) {
  ParsedBlock out;
  out.file = raw.file;
  plan.parser->start(out);
  const Dialect& d = plan.dialect;
  const auto& names = plan.column_names;
  const size_t ncol = names.size();
  const std::string& file = plan.files[raw.file];
  const char* p = raw.bytes.data();
  const char* const e = p + raw.bytes.size();
  int64_t line = raw.first_line;
  std::vector<Field> fields;
  fields.reserve(ncol + 1);
  std::string scratch;
  RowFailure fail;
  const bool fast = plan.fast_path;
  while (p < e) {
    if (fast) {
      const char* q = plan.parser->parse_fast(p, e, d, ncol, out);
      if (q) {
        if (++out.rows == 1) {  // size the outputs for the whole block from the first row
          const int64_t est = static_cast<int64_t>(static_cast<double>(e - p) / static_cast<double>(q - p) * 1.05) + 1;
          for (auto& o : out.outputs) o.reserve(est);
        }
        ++line;  // a record taken by the fast path has no newline but its terminator
        p = q;
        continue;
      }
      for (auto& o : out.outputs) o.truncate(out.rows);
    }
    const char* rec = p;
    const RecordScan r = tokenize_record(p, e, true, d, fields);
    std::string msg;
    auto field_line = [&](const Field& f) {
      return line + std::count(rec, f.begin, '\n');
    };
    auto column_name = [&](size_t i) {
      return i < ncol ? names[i] : "field " + std::to_string(i + 1);
    };
    if (is_blank_record(fields)) {
      // skipped
    } else if (r.error != SyntaxError::None) {
      const Field& f = fields[r.error_field];
      msg = location(file, field_line(f), column_name(r.error_field)) + ": " +
            syntax_detail(r.error, f, d);
    } else if (fields.size() < ncol) {
      msg = location(file, line, names[fields.size()]) + ": the row ends before this column (" +
            std::to_string(fields.size()) + " fields, expected " + std::to_string(ncol) +
            "): " + quote_for_message(row_text(rec, r.next), 120);
    } else if (fields.size() > ncol) {
      const Field& f = fields[ncol];
      msg = location(file, line, "") + ": the row has " + std::to_string(fields.size()) +
            " fields, expected " + std::to_string(ncol) + "; after the last column \"" +
            names.back() + "\" comes " +
            quote_for_message(std::string_view(f.begin, static_cast<size_t>(f.end - f.begin))) +
            " in " + quote_for_message(row_text(rec, r.next), 120);
    } else if (!plan.parser->parse(fields, out, scratch, fail)) {
      for (auto& o : out.outputs) o.truncate(out.rows);
      msg = location(file, field_line(fields[fail.column]), names[fail.column]) + ": " +
            fail.detail;
    } else {
      ++out.rows;
    }
    if (!msg.empty()) {
      if (!plan.ignore_errors)
        throw ValueError(msg + " (pass ignore_errors=True to skip malformed rows)");
      if (out.skipped++ == 0) out.first_skip = msg;
    }
    line += r.newlines;
    p = r.next;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// BlockPipeline

struct BlockPipeline::State {
  std::shared_ptr<const ReadPlan> plan;
  BlockReader reader;
  bool threaded = false;
  bool failed = false;

  std::mutex mu;
  std::condition_variable cv_task, cv_result, cv_space;
  std::deque<std::pair<uint64_t, RawBlock>> tasks;
  std::map<uint64_t, std::pair<ParsedBlock, std::exception_ptr>> results;
  uint64_t produced = 0, consumed = 0;
  uint64_t max_in_flight = 4;
  bool producer_done = false, stop = false;
  std::thread producer;
  std::vector<std::thread> workers;

  State(std::shared_ptr<const ReadPlan> p, std::vector<size_t> order)
      : plan(p), reader(p, std::move(order)) {}

  void produce() {
    try {
      for (;;) {
        {
          std::unique_lock<std::mutex> lk(mu);
          cv_space.wait(lk, [&] { return stop || produced - consumed < max_in_flight; });
          if (stop) break;
        }
        RawBlock raw;
        if (!reader.next(raw)) break;
        std::lock_guard<std::mutex> lk(mu);
        tasks.emplace_back(produced++, std::move(raw));
        cv_task.notify_one();
      }
    } catch (...) {
      std::lock_guard<std::mutex> lk(mu);
      results[produced++] = {ParsedBlock{}, std::current_exception()};
    }
    std::lock_guard<std::mutex> lk(mu);
    producer_done = true;
    cv_task.notify_all();
    cv_result.notify_all();
  }

  void work() {
    for (;;) {
      std::pair<uint64_t, RawBlock> task;
      {
        std::unique_lock<std::mutex> lk(mu);
        cv_task.wait(lk, [&] { return stop || !tasks.empty() || producer_done; });
        if (stop || tasks.empty()) return;
        task = std::move(tasks.front());
        tasks.pop_front();
      }
      ParsedBlock pb;
      std::exception_ptr err;
      try {
        pb = parse_block(task.second, *plan);
      } catch (...) {
        err = std::current_exception();
      }
      std::lock_guard<std::mutex> lk(mu);
      results[task.first] = {std::move(pb), err};
      cv_result.notify_all();
    }
  }
};

BlockPipeline::BlockPipeline(std::shared_ptr<const ReadPlan> plan, std::vector<size_t> order,
                             int num_threads)
    : state_(std::make_unique<State>(std::move(plan), std::move(order))) {
  if (num_threads > 1) {
    State& s = *state_;
    s.threaded = true;
    s.max_in_flight = static_cast<uint64_t>(2 * num_threads + 2);
    s.producer = std::thread([&s] { s.produce(); });
    for (int i = 0; i < num_threads; ++i) s.workers.emplace_back([&s] { s.work(); });
  }
}

BlockPipeline::~BlockPipeline() {
  State& s = *state_;
  if (!s.threaded) return;
  {
    std::lock_guard<std::mutex> lk(s.mu);
    s.stop = true;
  }
  s.cv_task.notify_all();
  s.cv_space.notify_all();
  s.cv_result.notify_all();
  if (s.producer.joinable()) s.producer.join();
  for (auto& w : s.workers) w.join();
}

bool BlockPipeline::next(ParsedBlock& out) {
  State& s = *state_;
  if (s.failed) return false;
  if (!s.threaded) {
    RawBlock raw;
    try {
      if (!s.reader.next(raw)) return false;
      out = parse_block(raw, *s.plan);
    } catch (...) {
      s.failed = true;
      throw;
    }
    return true;
  }
  std::unique_lock<std::mutex> lk(s.mu);
  s.cv_result.wait(lk, [&] {
    return s.results.count(s.consumed) || (s.producer_done && s.consumed == s.produced);
  });
  auto it = s.results.find(s.consumed);
  if (it == s.results.end()) return false;
  auto result = std::move(it->second);
  s.results.erase(it);
  ++s.consumed;
  lk.unlock();
  s.cv_space.notify_one();
  if (result.second) {
    s.failed = true;
    std::rethrow_exception(result.second);
  }
  out = std::move(result.first);
  return true;
}

// ---------------------------------------------------------------------------------------------
// File order, header, inference

std::vector<size_t> file_order(size_t n, bool shuffle, uint64_t seed, uint64_t pass) {
  std::vector<size_t> order(n);
  for (size_t i = 0; i < n; ++i) order[i] = i;
  if (!shuffle || n < 2) return order;
  uint64_t state = seed * 0x9E3779B97F4A7C15ull + pass * 0xD1B54A32D192ED03ull + 0x5851F42D4C957F2Dull;
  auto next = [&state] {  // splitmix64
    uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  };
  for (size_t i = n - 1; i > 0; --i) std::swap(order[i], order[next() % (i + 1)]);
  return order;
}

std::vector<std::string> read_header(const std::string& file, const SourceOpener& open,
                                     size_t file_index, const Dialect& d, size_t chunk_size) {
  validate_dialect(d);
  auto src = open(file_index);
  std::string buf;
  bool eof = false, start = true;
  std::vector<Field> fields;
  for (;;) {
    if (!buf.empty() || eof) {
      if (buf.empty())
        throw ValueError("CSV file \"" + file +
                         "\" is empty: expected a header line with the column names (pass "
                         "header=False and column_names if the file has none)");
      const RecordScan r = tokenize_record(buf.data(), buf.data() + buf.size(), eof, d, fields);
      if (r.complete) return header_names(fields, r, file, d);
    }
    if (buf.size() > (size_t(64) << 20))
      throw ValueError(location(file, 1, "") + ": the header is longer than 64 MiB");
    const size_t old = buf.size();
    buf.resize(old + chunk_size);
    const size_t n = src->read(&buf[old], chunk_size);
    buf.resize(old + n);
    if (n == 0) eof = true;
    if (start && (buf.size() >= 3 || eof)) {
      if (buf.compare(0, 3, kBom) == 0) buf.erase(0, 3);
      start = false;
    }
  }
}

Inspection inspect(const std::vector<std::string>& files, const SourceOpener& open,
                   const Dialect& d, const std::vector<std::string>& column_names,
                   int64_t num_rows, bool ignore_errors, size_t chunk_size) {
  validate_dialect(d);
  if (files.empty()) throw ValueError("no CSV files to read");
  Inspection ins;
  auto plan = std::make_shared<ReadPlan>();
  plan->files = files;
  plan->open = open;
  plan->dialect = d;
  plan->chunk_size = chunk_size;
  plan->ignore_errors = ignore_errors;
  if (column_names.empty()) {
    if (!d.header)
      throw ValueError("column_names must be given when the CSV files have no header (header=False)");
    plan->column_names = read_header(files[0], open, 0, d, chunk_size);
    plan->header_names_must_match = true;
  } else {
    plan->column_names = column_names;
    plan->header_names_must_match = false;
  }
  {
    std::unordered_set<std::string_view> seen_names;
    seen_names.reserve(plan->column_names.size());
    for (const auto& n : plan->column_names)
      if (!seen_names.insert(n).second)
        throw ValueError("CSV file \"" + files[0] + "\": the column name " + quote_for_message(n) +
                         " appears twice (column names must be unique)");
  }
  const size_t ncol = plan->column_names.size();
  ins.column_names = plan->column_names;
  std::vector<std::optional<ColumnType>> types(ncol), number_types(ncol);
  ins.numbers.assign(ncol, 0);
  ins.non_numbers.assign(ncol, 0);
  ins.first_non_number.assign(ncol, "");
  ins.first_non_number_text.assign(ncol, "");
  if (num_rows > 0) {
    std::vector<size_t> order(files.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    BlockReader reader(plan, order);
    RawBlock raw;
    std::vector<Field> fields;
    std::string scratch;
    int64_t rows = 0;
    while (rows < num_rows && reader.next(raw)) {
      const char* p = raw.bytes.data();
      const char* e = p + raw.bytes.size();
      int64_t line = raw.first_line;
      while (p < e && rows < num_rows) {
        const char* rec = p;
        const RecordScan r = tokenize_record(p, e, true, d, fields);
        std::string msg;
        if (is_blank_record(fields)) {
        } else if (r.error != SyntaxError::None) {
          const Field& f = fields[r.error_field];
          msg = location(files[raw.file], line + std::count(rec, f.begin, '\n'),
                         r.error_field < ncol ? ins.column_names[r.error_field] : "") +
                ": " + syntax_detail(r.error, f, d);
        } else if (fields.size() != ncol) {
          msg = location(files[raw.file], line, "") + ": the row has " +
                std::to_string(fields.size()) + " fields, expected " + std::to_string(ncol) +
                ": " + quote_for_message(row_text(rec, r.next), 120);
        } else {
          for (size_t c = 0; c < ncol; ++c) {
            const std::string_view t = field_text(fields[c], scratch);
            if (is_missing(t, d.na_value)) continue;
            const bool was_text = types[c] == ColumnType::String;
            types[c] = infer_type(t, types[c]);
            // Below String the ladder takes every number, so only text needs the extra test.
            if (was_text ? is_number(t) : *types[c] != ColumnType::String) {
              ++ins.numbers[c];
              number_types[c] = was_text ? infer_type(t, number_types[c]) : *types[c];
            } else if (ins.non_numbers[c]++ == 0) {
              ins.first_non_number[c] =
                  location(files[raw.file], line + std::count(rec, fields[c].begin, '\n'),
                           ins.column_names[c]) +
                  ": " + non_number_detail(t);
              ins.first_non_number_text[c] = quote_for_message(t, 200);
            }
          }
          ++rows;
        }
        if (!msg.empty() && !ignore_errors)
          throw ValueError(msg + " (found while inferring the column types from the first " +
                           std::to_string(num_rows) +
                           " rows; pass ignore_errors=True to skip malformed rows)");
        line += r.newlines;
        p = r.next;
      }
    }
    ins.rows = rows;
  }
  for (size_t c = 0; c < ncol; ++c) {
    ins.types.push_back(types[c].value_or(ColumnType::String));
    ins.seen.push_back(types[c].has_value());
    ins.number_types.push_back(number_types[c].value_or(ColumnType::Int32));
  }
  return ins;
}

std::string non_number_detail(std::string_view text) {
  const size_t bad = invalid_utf8_at(text);
  if (bad != std::string_view::npos) return invalid_utf8_detail(text, bad);
  double v;
  switch (parse_float64(text, v)) {
    case ParseStatus::OutOfRange:
      return quote_for_message(text) + " is out of range for float64";
    case ParseStatus::NotFinite:
      return quote_for_message(text) + " is not a finite number (NaN and infinite values are "
             "refused)";
    default: break;
  }
  return quote_for_message(text) + " is not a number";
}

}  // namespace ff::data::csv
