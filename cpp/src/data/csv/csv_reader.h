// The streamed CSV reader. Files are read in chunks (never whole): a BlockReader cuts the byte
// stream into blocks of complete records (quoted newlines respected, a record split across
// chunks carried over), a RowParser turns a block into typed columns, and a BlockPipeline runs
// the parsing on `num_threads` worker threads while returning blocks in file order, so the rows
// come out in the same order whatever the thread count. At most a few blocks per thread are in
// memory at once, so a file larger than memory streams through.
//
// A malformed row raises ValueError naming the file, the line, the column and the offending
// text; with ignore_errors the row is skipped and counted per file instead.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "data/csv/csv_tokenizer.h"
#include "data/csv/csv_values.h"

namespace ff::data::csv {

// A stream of bytes (a file, or memory for tests and the fuzzer).
class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // Up to n bytes into buf; 0 at the end. Raises ValueError on a read error.
  virtual size_t read(char* buf, size_t n) = 0;
};
using SourceOpener = std::function<std::unique_ptr<ByteSource>(size_t file_index)>;
// Opens files by path (ValueError naming the file when it cannot be opened).
SourceOpener file_opener(std::vector<std::string> paths);
// Serves in-memory texts (tests, fuzzing).
SourceOpener memory_opener(std::vector<std::string> texts);

// Typed values of one output column of a block, `width` values per row.
struct ColumnOutput {
  ColumnType type = ColumnType::Float32;
  int64_t width = 1;
  bool vector = false;  // rows are vectors of `width` values (else scalars; width 1)
  std::vector<int32_t> i32;
  std::vector<int64_t> i64;
  std::vector<float> f32;
  std::vector<double> f64;
  std::vector<std::string> str;
  void truncate(int64_t rows);  // drops rows past `rows` (a rejected row)
  void reserve(int64_t rows);
};

struct ParsedBlock {
  size_t file = 0;  // index into ReadPlan::files
  int64_t rows = 0;
  int64_t skipped = 0;     // malformed rows skipped (ignore_errors)
  std::string first_skip;  // the message of the first of them
  std::vector<ColumnOutput> outputs;
};

// Why a row was rejected: the file column at fault and what was wrong with its text.
struct RowFailure {
  size_t column = 0;
  std::string detail;  // "expected an int32 integer, found \"abc\""
};

// Turns tokenized records into typed outputs. Implementations: csv_row_parsers.h.
class RowParser {
 public:
  virtual ~RowParser() = default;
  // Sets up `out.outputs` (types, widths) for a new block.
  virtual void start(ParsedBlock& out) const = 0;
  // Appends one record (already checked to have one field per column). On failure returns false
  // with `failure` filled; the caller then truncates the outputs back to out.rows.
  virtual bool parse(const std::vector<Field>& fields, ParsedBlock& out, std::string& scratch,
                     RowFailure& failure) const = 0;
  // Optional single-pass path for the common record (unquoted, no missing value, well formed):
  // parses the record at p and returns the first byte of the next one, or nullptr to have the
  // record parsed the general way (the caller then truncates the outputs back to out.rows).
  // Must give exactly what tokenize_record + parse would.
  virtual const char* parse_fast(const char* p, const char* end, const Dialect& d, size_t ncol,
                                 ParsedBlock& out) const {
    (void)p, (void)end, (void)d, (void)ncol, (void)out;
    return nullptr;
  }
};

// Everything a pass over the files needs.
struct ReadPlan {
  std::vector<std::string> files;  // names for messages (paths)
  SourceOpener open;
  Dialect dialect;
  std::vector<std::string> column_names;  // the columns of every file, in file order
  // With dialect.header: true when column_names came from the first file's header, so every
  // file's header must repeat them; false when the user named the columns (headers skipped,
  // only their field count checked).
  bool header_names_must_match = true;
  std::shared_ptr<const RowParser> parser;
  bool ignore_errors = false;
  size_t chunk_size = size_t(1) << 20;         // bytes per read
  size_t max_record_bytes = size_t(64) << 20;  // a longer record is an error (unterminated quote?)
  bool fast_path = true;  // use RowParser::parse_fast where it applies (tests turn it off)
};

// Formats "CSV file "f", line 7, column "age": <detail>".
std::string location(const std::string& file, int64_t line, const std::string& column);

// Raw records of one file region: whole records only.
struct RawBlock {
  size_t file = 0;
  int64_t first_line = 1;  // line number of the block's first byte
  std::string bytes;
};

// Reads the plan's files in the given order and cuts them into RawBlocks (single-threaded).
class BlockReader {
 public:
  BlockReader(std::shared_ptr<const ReadPlan> plan, std::vector<size_t> file_order);
  ~BlockReader();
  bool next(RawBlock& out);  // false after the last file

 private:
  bool fill();  // reads one chunk into buf_; false at end of file
  void open_next();
  void take_header();

  std::shared_ptr<const ReadPlan> plan_;
  std::vector<size_t> order_;
  size_t pos_ = 0;  // index into order_ of the open file
  std::unique_ptr<ByteSource> src_;
  bool open_ = false, eof_ = false, at_start_ = true, header_done_ = false;
  size_t file_ = 0;
  int64_t line_ = 1;
  std::string buf_;
  std::vector<Field> fields_;
};

// Parses a raw block (throws ValueError at the first malformed row unless plan.ignore_errors).
ParsedBlock parse_block(const RawBlock& raw, const ReadPlan& plan);

// Parsed blocks in file order, parsed on num_threads workers (<= 1: in the caller's thread).
class BlockPipeline {
 public:
  BlockPipeline(std::shared_ptr<const ReadPlan> plan, std::vector<size_t> file_order, int num_threads);
  ~BlockPipeline();
  BlockPipeline(const BlockPipeline&) = delete;
  BlockPipeline& operator=(const BlockPipeline&) = delete;
  // The next block (blocks with no rows are passed on too, for their skip counts); false at
  // the end. A worker's error is rethrown here, in order, with its message.
  bool next(ParsedBlock& out);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// The identity order 0..n-1, or a permutation drawn from (seed, pass) (make_csv_dataset's file
// shuffle; deterministic, independent of threads and platform).
std::vector<size_t> file_order(size_t n, bool shuffle, uint64_t seed, uint64_t pass);

// What make_csv_dataset learns before building the pipeline: the column names (header of the
// first file or the given ones) and the types inferred from the first `num_rows` records,
// read across the files in order. A column with no value in those rows is a string column
// (TensorFlow's rule). `types[i]` are the inferred types; `seen[i]` whether any value was seen.
// So that a mostly-numeric column with a few stray values is not silently read as text, it also
// counts, per column, the values (missing ones aside) that are numbers and those that are not,
// infers the type of the numbers alone, and keeps where the first non-number was.
struct Inspection {
  std::vector<std::string> column_names;
  std::vector<ColumnType> types;
  std::vector<bool> seen;
  int64_t rows = 0;  // data records read (at most num_rows; 0 for a header-only file)
  std::vector<int64_t> numbers, non_numbers;
  std::vector<ColumnType> number_types;  // the ladder over the numbers only (Int32 when none)
  // "CSV file "f", line 7, column "age": "oops" is not a number" (empty when there is none),
  // and that value as quote_for_message writes it ("\"oops\"").
  std::vector<std::string> first_non_number, first_non_number_text;
};

// Why `text` (not missing) is not a number: "\"oops\" is not a number", "... is out of range
// for float64", "... is not a finite number", or the UTF-8 error.
std::string non_number_detail(std::string_view text);
Inspection inspect(const std::vector<std::string>& files, const SourceOpener& open,
                   const Dialect& d, const std::vector<std::string>& column_names,
                   int64_t num_rows, bool ignore_errors, size_t chunk_size = size_t(1) << 20);

// Reads just the header record of one source (names as written, quotes removed).
std::vector<std::string> read_header(const std::string& file, const SourceOpener& open,
                                     size_t file_index, const Dialect& d,
                                     size_t chunk_size = size_t(1) << 20);

}  // namespace ff::data::csv
