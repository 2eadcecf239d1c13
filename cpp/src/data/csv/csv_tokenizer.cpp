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

namespace {

// The length of the valid UTF-8 sequence starting at p (1 for ASCII), or 0 when the bytes from p
// are not one (RFC 3629: no overlong forms, no surrogates, nothing past U+10FFFF).
inline size_t utf8_sequence(const unsigned char* p, const unsigned char* e) {
  const unsigned c = p[0];
  if (c < 0x80) return 1;
  size_t n;
  unsigned lo = 0x80, hi = 0xBF;  // the allowed range of the second byte
  if (c >= 0xC2 && c <= 0xDF) n = 2;
  else if (c == 0xE0) n = 3, lo = 0xA0;
  else if (c >= 0xE1 && c <= 0xEC) n = 3;
  else if (c == 0xED) n = 3, hi = 0x9F;
  else if (c >= 0xEE && c <= 0xEF) n = 3;
  else if (c == 0xF0) n = 4, lo = 0x90;
  else if (c >= 0xF1 && c <= 0xF3) n = 4;
  else if (c == 0xF4) n = 4, hi = 0x8F;
  else return 0;
  if (static_cast<size_t>(e - p) < n) return 0;
  if (p[1] < lo || p[1] > hi) return 0;
  for (size_t i = 2; i < n; ++i)
    if (p[i] < 0x80 || p[i] > 0xBF) return 0;
  return n;
}

inline void append_hex_byte(std::string& out, unsigned char c) {
  static const char* hex = "0123456789abcdef";
  out += "\\x";
  out += hex[c >> 4];
  out += hex[c & 0xf];
}

}  // namespace

size_t invalid_utf8_at(std::string_view s) {
  const auto* b = reinterpret_cast<const unsigned char*>(s.data());
  const auto* e = b + s.size();
  const auto* p = b;
  while (p < e) {
    if (*p < 0x80) {  // ASCII runs: the common case
      ++p;
      continue;
    }
    const size_t n = utf8_sequence(p, e);
    if (n == 0) return static_cast<size_t>(p - b);
    p += n;
  }
  return std::string_view::npos;
}

std::string invalid_utf8_detail(std::string_view s, size_t at) {
  std::string byte;
  append_hex_byte(byte, static_cast<unsigned char>(s[at]));
  return "not valid UTF-8 text (byte 0" + byte.substr(1) + " at byte " + std::to_string(at) +
         " of the value): " + quote_for_message(s) +
         ". CSV files are read as UTF-8: convert the file first (e.g. iconv -f latin1 -t utf-8 "
         "in.csv > out.csv, or pandas' read_csv(encoding=...) then to_csv)";
}

std::string quote_for_message(std::string_view text, size_t max_chars) {
  std::string out = "\"";
  size_t n = 0;
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const auto* e = p + text.size();
  while (p < e) {
    if (n++ == max_chars) {
      out += "...";
      break;
    }
    const unsigned char c = *p;
    switch (c) {
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          append_hex_byte(out, c);
        } else if (c >= 0x80) {
          const size_t k = utf8_sequence(p, e);
          if (k == 0) {
            append_hex_byte(out, c);  // not UTF-8: escaped, so the message stays valid UTF-8
          } else {
            out.append(reinterpret_cast<const char*>(p), k);
            p += k;
            continue;
          }
        } else {
          out += static_cast<char>(c);
        }
    }
    ++p;
  }
  out += "\"";
  return out;
}

}  // namespace ff::data::csv
