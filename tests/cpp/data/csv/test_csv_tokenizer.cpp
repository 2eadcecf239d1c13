// Tests for data/csv/csv_tokenizer.cpp: RFC-4180 fields (quotes, doubled quotes, delimiters and
// newlines inside quotes), LF and CRLF records, incomplete records at a buffer end, syntax
// errors, other delimiters and use_quote=false.
#include <catch2/catch.hpp>

#include "core/errors.h"
#include "data/csv/csv_tokenizer.h"

namespace csv = ff::data::csv;

namespace {

struct Tok {
  std::vector<std::string> fields;
  csv::RecordScan scan;
  size_t consumed = 0;
};

Tok tok(const std::string& s, bool eof = true, csv::Dialect d = {}) {
  std::vector<csv::Field> f;
  Tok t;
  t.scan = csv::tokenize_record(s.data(), s.data() + s.size(), eof, d, f);
  std::string scratch;
  for (const auto& x : f) t.fields.emplace_back(csv::field_text(x, scratch));
  if (t.scan.complete) t.consumed = static_cast<size_t>(t.scan.next - s.data());
  return t;
}

using V = std::vector<std::string>;

}  // namespace

TEST_CASE("csv tokenizer splits plain records at LF and CRLF", "[data][csv]") {
  auto t = tok("a,b,c\nnext");
  CHECK(t.fields == V{"a", "b", "c"});
  CHECK(t.scan.complete);
  CHECK(t.consumed == 6);
  CHECK(t.scan.newlines == 1);
  t = tok("1,2\r\n3,4\r\n");
  CHECK(t.fields == V{"1", "2"});
  CHECK(t.consumed == 5);
  t = tok("x,,\n");
  CHECK(t.fields == V{"x", "", ""});
  t = tok("last,row");  // no final newline: the end terminates it at eof
  CHECK(t.fields == V{"last", "row"});
  CHECK(t.scan.newlines == 0);
  t = tok("last\r");  // a final CR is a CRLF cut short
  CHECK(t.fields == V{"last"});
}

TEST_CASE("csv tokenizer handles quoted fields", "[data][csv]") {
  auto t = tok("\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\"\nrest");
  CHECK(t.fields == V{"a,b", "say \"hi\"", "two\nlines"});
  CHECK(t.scan.newlines == 2);
  CHECK(t.scan.error == csv::SyntaxError::None);
  t = tok("\"\",\"\"\"\"\r\n");
  CHECK(t.fields == V{"", "\""});
  CHECK(t.consumed == 9);
  t = tok("\"crlf\r\ninside\"\r\n");
  CHECK(t.fields == V{"crlf\r\ninside"});
}

TEST_CASE("csv tokenizer reports an incomplete record before the end of the data", "[data][csv]") {
  CHECK_FALSE(tok("a,b", false).scan.complete);
  CHECK_FALSE(tok("a,\"b\nc", false).scan.complete);
  CHECK_FALSE(tok("a,\"b\"", false).scan.complete);  // the next byte could be a second quote
  CHECK_FALSE(tok("a,b\r", false).scan.complete);
  CHECK(tok("a,b\n", false).scan.complete);
  CHECK(tok("a,\"b\"\n", false).scan.complete);
}

TEST_CASE("csv tokenizer flags syntax errors with the field index", "[data][csv]") {
  auto t = tok("a,b\"c,d\n");
  CHECK(t.scan.error == csv::SyntaxError::QuoteInUnquotedField);
  CHECK(t.scan.error_field == 1);
  CHECK(t.fields.size() == 3);  // the record still ends at the right place
  t = tok("\"a\"x,b\nnext");
  CHECK(t.scan.error == csv::SyntaxError::TextAfterClosingQuote);
  CHECK(t.scan.error_field == 0);
  CHECK(t.consumed == 7);
  t = tok("a,\"never closed\nmore");
  CHECK(t.scan.error == csv::SyntaxError::UnterminatedQuote);
  CHECK(t.scan.error_field == 1);
  CHECK(t.scan.complete);
}

TEST_CASE("csv tokenizer: other delimiters and quotes as plain text", "[data][csv]") {
  csv::Dialect d;
  d.delim = ';';
  CHECK(tok("1,5;2\n", true, d).fields == V{"1,5", "2"});
  d.delim = '\t';
  CHECK(tok("a b\t\"c\td\"\n", true, d).fields == V{"a b", "c\td"});
  csv::Dialect nq;
  nq.use_quote = false;
  auto t = tok("\"a\",b\"c\n", true, nq);
  CHECK(t.fields == V{"\"a\"", "b\"c"});
  CHECK(t.scan.error == csv::SyntaxError::None);
  csv::Dialect bad;
  bad.delim = '"';
  CHECK_THROWS_AS(csv::validate_dialect(bad), ff::ValueError);
  bad.delim = '\n';
  CHECK_THROWS_WITH(csv::validate_dialect(bad), Catch::Contains("field_delim"));
}

TEST_CASE("csv tokenizer: blank lines and message quoting", "[data][csv]") {
  std::vector<csv::Field> f;
  std::string s = "\n";
  csv::tokenize_record(s.data(), s.data() + 1, true, {}, f);
  CHECK(csv::is_blank_record(f));
  s = "\"\"\n";
  csv::tokenize_record(s.data(), s.data() + s.size(), true, {}, f);
  CHECK_FALSE(csv::is_blank_record(f));  // an explicit empty quoted field is a value
  CHECK(csv::quote_for_message("a\"b\nc") == "\"a\\\"b\\nc\"");
  CHECK(csv::quote_for_message("abcdef", 3) == "\"abc...\"");
}

TEST_CASE("csv text: UTF-8 validation, and messages that are always valid UTF-8", "[data][csv]") {
  auto at = [](std::string_view s) {
    const size_t i = csv::invalid_utf8_at(s);
    return i == std::string_view::npos ? std::string("valid") : std::to_string(i);
  };
  CHECK(at("plain") == "valid");
  CHECK(at("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80") == "valid");  // é, €, an emoji
  CHECK(at("caf\xE9") == "3");                  // Latin-1 é
  CHECK(at("ab\xC3") == "2");                   // truncated sequence
  CHECK(at("\xC0\xAF") == "0");                 // overlong '/'
  CHECK(at("x\xED\xA0\x80") == "1");            // a UTF-16 surrogate
  CHECK(at("\xF4\x90\x80\x80") == "0");         // past U+10FFFF
  CHECK(at("\xFF\xFE") == "0");
  // Bytes that are not UTF-8 are escaped: Python can decode any message (it raised a bare
  // UnicodeDecodeError instead of the ValueError).
  CHECK(csv::quote_for_message("caf\xE9") == "\"caf\\xe9\"");
  CHECK(csv::quote_for_message("caf\xC3\xA9") == "\"caf\xC3\xA9\"");
  // The cut never splits a character: 3 characters of "ééé" are 6 bytes.
  CHECK(csv::quote_for_message("\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9", 3) == "\"\xC3\xA9\xC3\xA9\xC3\xA9...\"");
  CHECK(csv::invalid_utf8_detail("caf\xE9", 3).find("not valid UTF-8 text (byte 0xe9 at byte 3 of "
                                                    "the value): \"caf\\xe9\"") == 0);
}
