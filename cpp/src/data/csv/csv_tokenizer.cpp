// CSV record tokenizer: see csv_tokenizer.h.
#include "data/csv/csv_tokenizer.h"

#include <algorithm>
#include <cstring>

#include "core/errors.h"

namespace ff::data::csv {

void validate_dialect(const Dialect& d) {
  if (d.delim == '\n' || d.delim == '\r' || (d.use_quote && d.delim == '"'))
    throw ValueError("field_delim cannot be a newline, a carriage return or (with use_quote_delim=True) "
                     "the quote character; received " +
                     quote_for_message(std::string_view(&d.delim, 1)));
}

namespace {

// Scans an unquoted field from p; stops at the delimiter or LF (or end). Notes a quote inside.
inline const char* scan_unquoted(const char* p, const char* end, char delim, bool use_quote,
                                 bool& saw_quote) {
  if (!use_quote) {
    while (p < end && *p != delim && *p != '\n') ++p;
    return p;
  }
  while (p < end) {
    const char c = *p;
    if (c == delim || c == '\n') break;
    if (c == '"') saw_quote = true;
    ++p;
  }
  return p;
}

}  // namespace

RecordScan tokenize_record(const char* p, const char* end, bool eof, const Dialect& d,
                           std::vector<Field>& fields) {
  fields.clear();
  RecordScan r;
  const char delim = d.delim;
  auto note_error = [&](SyntaxError e) {
    if (r.error == SyntaxError::None) {
      r.error = e;
      r.error_field = fields.size();
    }
  };
  // Ends the record after the field just pushed, at the terminator `p` points to (LF or end).
  while (true) {
    Field f;
    if (d.use_quote && p < end && *p == '"') {
      f.quoted = true;
      f.begin = ++p;
      while (true) {
        const char* q = static_cast<const char*>(std::memchr(p, '"', static_cast<size_t>(end - p)));
        if (!q) {
          if (!eof) return r;  // incomplete
          note_error(SyntaxError::UnterminatedQuote);
          f.end = end;
          r.newlines += std::count(f.begin, f.end, '\n');
          fields.push_back(f);
          r.next = end;
          r.complete = true;
          return r;
        }
        if (q + 1 == end && !eof) return r;  // could be the first half of ""
        if (q + 1 < end && q[1] == '"') {
          f.escaped = true;
          p = q + 2;
          continue;
        }
        f.end = q;
        p = q + 1;
        break;
      }
      r.newlines += std::count(f.begin, f.end, '\n');
      if (p == end) {
        if (!eof) return r;
        fields.push_back(f);
        r.next = end;
        r.complete = true;
        return r;
      }
      if (*p == delim) {
        fields.push_back(f);
        ++p;
        continue;
      }
      if (*p == '\r') {
        if (p + 1 == end && !eof) return r;
        if (p + 1 == end || p[1] == '\n') {  // CRLF (or a final CR) ends the record
          fields.push_back(f);
          if (p + 1 < end) {
            ++r.newlines;
            r.next = p + 2;
          } else {
            r.next = end;
          }
          r.complete = true;
          return r;
        }
      }
      if (*p == '\n') {
        fields.push_back(f);
        ++r.newlines;
        r.next = p + 1;
        r.complete = true;
        return r;
      }
      // "abc"x: an error; the rest up to the next delimiter or LF belongs to this field.
      note_error(SyntaxError::TextAfterClosingQuote);
      bool ignored = false;
      p = scan_unquoted(p, end, delim, false, ignored);
      f.end = p;
    } else {
      f.begin = p;
      bool saw_quote = false;
      p = scan_unquoted(p, end, delim, d.use_quote, saw_quote);
      f.end = p;
      if (saw_quote) note_error(SyntaxError::QuoteInUnquotedField);
    }
    // Unquoted field (or the tail of a bad quoted one): p is at the delimiter, LF or end.
    if (p == end) {
      if (!eof) return r;
      if (!f.quoted && f.end > f.begin && f.end[-1] == '\r') --f.end;
      fields.push_back(f);
      r.next = end;
      r.complete = true;
      return r;
    }
    if (*p == delim) {
      fields.push_back(f);
      ++p;
      continue;
    }
    // LF
    if (!f.quoted && f.end > f.begin && f.end[-1] == '\r') --f.end;
    fields.push_back(f);
    ++r.newlines;
    r.next = p + 1;
    r.complete = true;
    return r;
  }
}

std::string_view field_text(const Field& f, std::string& scratch) {
  if (!f.escaped) return std::string_view(f.begin, static_cast<size_t>(f.end - f.begin));
  scratch.clear();
  for (const char* p = f.begin; p < f.end; ++p) {
    scratch.push_back(*p);
    if (*p == '"' && p + 1 < f.end && p[1] == '"') ++p;
  }
  return scratch;
}

std::string quote_for_message(std::string_view text, size_t max_chars) {
  std::string out = "\"";
  size_t n = 0;
  for (char c : text) {
    if (n++ == max_chars) {
      out += "...";
      break;
    }
    switch (c) {
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          static const char* hex = "0123456789abcdef";
          out += "\\x";
          out += hex[(c >> 4) & 0xf];
          out += hex[c & 0xf];
        } else {
          out += c;
        }
    }
  }
  out += "\"";
  return out;
}

}  // namespace ff::data::csv
