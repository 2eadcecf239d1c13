// CSV record tokenizer (RFC 4180): splits one record into fields without copying. Quoted fields
// may hold the delimiter, newlines and doubled quotes (""); records end at LF or CRLF. The same
// state machine decides where records end for the chunked reader (csv_reader.cpp) and for the
// parse workers, so a record split across read chunks is always seen whole.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ff::data::csv {

// How a file is written (make_csv_dataset's field_delim, use_quote_delim, na_value, header).
struct Dialect {
  char delim = ',';
  bool use_quote = true;  // '"' starts a quoted field; otherwise quotes are plain text
  std::string na_value;   // besides the empty field, this text also means "missing"
  bool header = true;     // the first record of every file holds the column names
};

// Raises ValueError when the delimiter cannot work (a quote, CR or LF).
void validate_dialect(const Dialect& d);

// One field of a record: [begin, end) is the text between the quotes for a quoted field, with
// doubled quotes still doubled when `escaped`.
struct Field {
  const char* begin = nullptr;
  const char* end = nullptr;
  bool quoted = false;
  bool escaped = false;
};

enum class SyntaxError : uint8_t {
  None,
  QuoteInUnquotedField,  // a"b
  TextAfterClosingQuote,  // "a"b
  UnterminatedQuote,      // "ab<end of file>
};

struct RecordScan {
  const char* next = nullptr;  // first byte of the next record
  bool complete = false;       // false: the buffer ended before the record did (read more)
  int64_t newlines = 0;        // LF bytes consumed, terminator included (for line numbers)
  SyntaxError error = SyntaxError::None;  // the first syntax error of the record
  size_t error_field = 0;                 // index of the field holding it
};

// Tokenizes the record that starts at `p`. `eof` says the buffer ends where the data ends (the
// end then terminates the record; otherwise a record reaching `end` is incomplete). Fields go
// into `fields` (cleared first).
RecordScan tokenize_record(const char* p, const char* end, bool eof, const Dialect& d,
                           std::vector<Field>& fields);

// The field's text with doubled quotes undone; `scratch` backs the result when needed.
std::string_view field_text(const Field& f, std::string& scratch);

// A blank line (no characters, or only a CR): skipped by the reader, as pandas does.
inline bool is_blank_record(const std::vector<Field>& fields) {
  return fields.size() == 1 && !fields[0].quoted && fields[0].begin == fields[0].end;
}

// For error messages: `text` quoted, control characters and bytes that are not valid UTF-8
// escaped (\xNN: the message itself is always valid UTF-8), cut to `max_chars` characters (never
// inside a multi-byte character).
std::string quote_for_message(std::string_view text, size_t max_chars = 60);

// The offset of the first byte of `s` that is not part of valid UTF-8 (an invalid lead byte, a
// truncated or overlong sequence, a surrogate, a code point past U+10FFFF), or npos when `s` is
// valid. CSV text is read as UTF-8; Python could not decode anything else.
size_t invalid_utf8_at(std::string_view s);
// "not valid UTF-8 text (byte 0xe9 at byte 3): "caf\xe9" ...": why a value was refused.
std::string invalid_utf8_detail(std::string_view s, size_t at);

}  // namespace ff::data::csv
