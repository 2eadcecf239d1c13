// Tests for data/csv/csv_reader.cpp and csv_row_parsers.cpp: chunk boundaries (every chunk size
// down to one byte gives the same table), thread-count independence of the order, headers
// (BOM, mismatch between files), every error message (file, line, column, offending text),
// ignore_errors counts, defaults, type inference over files, file order, the feature parser.
#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>

#include "core/errors.h"
#include "csv_test_util.h"

using namespace csv_test;
using csv::ColumnType;
using V = std::vector<std::string>;
using Rows = std::vector<std::vector<std::string>>;

namespace {

const std::string kTricky =
    "\xEF\xBB\xBFid,name,note\r\n"
    "1,plain,x\r\n"
    "2,\"with,comma\",\"multi\r\nline\"\r\n"
    "\n"
    "3,\"quote \"\"q\"\"\",\"\"\"\"\n"
    "4,last,\"end\"";

const Rows kTrickyRows = {{"1", "plain", "x"},
                          {"2", "with,comma", "multi\r\nline"},
                          {"3", "quote \"q\"", "\""},
                          {"4", "last", "end"}};

std::string catch_message(const std::function<void()>& f) {
  try {
    f();
  } catch (const ff::ValueError& e) {
    return e.what();
  }
  return "(no ValueError)";
}

}  // namespace

TEST_CASE("csv reader: every chunk size gives the same rows", "[data][csv]") {
  for (size_t chunk = 1; chunk <= kTricky.size() + 1; ++chunk) {
    INFO("chunk size " << chunk);
    auto t = run(make_plan({kTricky}, {"id", "name", "note"}, all_columns(3), {}, chunk));
    CHECK(t.cells == kTrickyRows);
  }
}

TEST_CASE("csv reader: rows come out in file order whatever the thread count", "[data][csv]") {
  std::string a = "v,s\n", b = "v,s\n";
  Rows want;
  for (int i = 0; i < 500; ++i) {
    const std::string s = i % 7 ? "plain" : "\"q,\n" + std::to_string(i) + "\"";
    a += std::to_string(i) + "," + s + "\n";
    want.push_back({std::to_string(i), i % 7 ? "plain" : "q,\n" + std::to_string(i)});
  }
  for (int i = 500; i < 800; ++i) {
    b += std::to_string(i) + ",b\n";
    want.push_back({std::to_string(i), "b"});
  }
  for (int threads : {1, 2, 3, 8}) {
    for (size_t chunk : {size_t(7), size_t(64), size_t(1000), size_t(1) << 20}) {
      INFO("threads " << threads << " chunk " << chunk);
      auto t = run(make_plan({a, b}, {"v", "s"}, all_columns(2), {}, chunk), threads);
      CHECK(t.cells == want);
    }
  }
}

TEST_CASE("csv reader: typed columns, selection, defaults and na_value", "[data][csv]") {
  std::vector<csv::TypedColumn> cols = {
      {0, ColumnType::Int32, {}}, {2, ColumnType::Float32, {}}, {3, ColumnType::String, {}}};
  cols[1].default_value.present = true;
  cols[1].default_value.f = -1.0;
  cols[2].default_value.present = true;
  cols[2].default_value.s = "none";
  auto parser = std::make_shared<csv::TypedRowsParser>(cols, "NA");
  auto t = run(make_plan({"a,skip,b,c\n1,zz,2.5,x\n2,zz,NA,\n3,,,\"\"\n"}, {"a", "skip", "b", "c"}, parser));
  CHECK(t.cells == Rows{{"1", "2.5", "x"}, {"2", "-1", "none"}, {"3", "-1", "none"}});
}

TEST_CASE("csv reader: headers", "[data][csv]") {
  auto p = all_columns(2);
  // Same columns in every file, BOM or not.
  CHECK(run(make_plan({"a,b\n1,2\n", "\xEF\xBB\xBF" "a,b\n3,4"}, {"a", "b"}, p)).cells ==
        Rows{{"1", "2"}, {"3", "4"}});
  // A second file with other columns names both files.
  auto msg = catch_message([&] { run(make_plan({"a,b\n1,2\n", "a,c\n3,4\n"}, {"a", "b"}, p)); });
  CHECK_THAT(msg, Catch::Contains("\"f1.csv\"") && Catch::Contains("column 2 is \"c\" there, \"b\" in \"f0.csv\""));
  // User-given names: the header is skipped, its field count checked.
  auto plan = make_plan({"x,y\n1,2\n"}, {"a", "b"}, p);
  plan->header_names_must_match = false;
  CHECK(run(plan).cells == Rows{{"1", "2"}});
  plan = make_plan({"x,y,z\n1,2\n"}, {"a", "b"}, p);
  plan->header_names_must_match = false;
  CHECK_THROWS_WITH(run(plan), Catch::Contains("3 fields, but 2 column_names"));
  CHECK_THROWS_WITH(run(make_plan({""}, {"a", "b"}, p)), Catch::Contains("\"f0.csv\" is empty"));
  // No header at all.
  csv::Dialect nh;
  nh.header = false;
  CHECK(run(make_plan({"1,2\n3,4"}, {"a", "b"}, p, nh)).cells == Rows{{"1", "2"}, {"3", "4"}});
  CHECK(run(make_plan({""}, {"a", "b"}, p, nh)).cells.empty());
  CHECK(csv::read_header("f", csv::memory_opener({"\xEF\xBB\xBF\"a,1\",b\r\n1,2"}), 0, {}, 2) ==
        V{"a,1", "b"});
}

TEST_CASE("csv reader: error messages name file, line, column and text", "[data][csv]") {
  std::vector<csv::TypedColumn> cols = {{0, ColumnType::Int32, {}}, {1, ColumnType::Float32, {}},
                                        {2, ColumnType::String, {}}};
  auto parser = std::make_shared<csv::TypedRowsParser>(cols, "");
  const V names = {"id", "price", "city"};
  auto err = [&](const std::string& body, size_t chunk = 1 << 20, int threads = 1) {
    return catch_message([&] {
      run(make_plan({"id,price,city\n1,2.5,\"a\nb\"\n" + body}, names, parser, {}, chunk), threads);
    });
  };
  // Lines: header 1, the quoted record spans 2-3, the body starts at line 4.
  CHECK_THAT(err("2,abc,x\n"), Catch::Contains("CSV file \"f0.csv\", line 4, column \"price\": "
                                               "expected a float32 number, found \"abc\"") &&
                                   Catch::Contains("ignore_errors=True"));
  CHECK_THAT(err("2,1,x\n1.5,1,x\n"), Catch::Contains("line 5, column \"id\": expected an int32 integer, found \"1.5\""));
  CHECK_THAT(err("9999999999,1,x\n"), Catch::Contains("column \"id\": \"9999999999\" is out of range for int32"));
  CHECK_THAT(err("2,,x\n"), Catch::Contains("line 4, column \"price\": missing value \"\"") &&
                                Catch::Contains("column_defaults"));
  CHECK_THAT(err("2,3\n"), Catch::Contains("line 4, column \"city\": the row ends before this column (2 fields, expected 3): \"2,3\""));
  CHECK_THAT(err("2,3,x,extra\n"), Catch::Contains("line 4: the row has 4 fields, expected 3; after the last column \"city\" comes \"extra\""));
  CHECK_THAT(err("2,3,\"open\nstill open\n"),
             Catch::Contains("line 4, column \"city\": unterminated quoted field") &&
                 Catch::Contains("\"\\\"open\\nstill open\\n\""));
  CHECK_THAT(err("2,3\"x,y\n"), Catch::Contains("line 4, column \"price\": a quote inside an unquoted field"));
  CHECK_THAT(err("2,3,\"x\"y\n"), Catch::Contains("line 4, column \"city\": text after the closing quote"));
  // The same errors through tiny chunks and several threads.
  CHECK_THAT(err("5,6,ok\n2,abc,x\n", 3, 3), Catch::Contains("line 5, column \"price\": expected a float32 number, found \"abc\""));
  // An error inside a multi-line record names the line of the field.
  CHECK_THAT(err("2,3,\"two\nlines\"x\n"), Catch::Contains("line 4, column \"city\": text after"));
  CHECK_THAT(err("\"a\nb\",3,x\n"), Catch::Contains("line 4, column \"id\": expected an int32 integer, found \"a\\nb\""));
}

TEST_CASE("csv reader: the first error in file order wins with several threads", "[data][csv]") {
  std::string text = "a\n";
  for (int i = 0; i < 2000; ++i) text += (i == 1500 || i == 1900 ? "bad" : std::to_string(i)) + "\n";
  for (int threads : {1, 2, 4}) {
    auto msg = catch_message([&] {
      run(make_plan({text}, {"a"}, all_columns(1, ColumnType::Int32), {}, 64), threads);
    });
    CHECK_THAT(msg, Catch::Contains("line 1502,"));
  }
}

TEST_CASE("csv reader: ignore_errors skips and counts malformed rows", "[data][csv]") {
  auto parser = all_columns(2, ColumnType::Int32);
  const std::string a = "x,y\n1,2\n3,oops\n4\n5,6\n\"7,8\n";  // last: unterminated to the end
  const std::string b = "x,y\n9,10\n1,2,3\n";
  for (size_t chunk : {size_t(1), size_t(5), size_t(1000)}) {
    auto t = run(make_plan({a, b}, {"x", "y"}, parser, {}, chunk, true), 2);
    CHECK(t.cells == Rows{{"1", "2"}, {"5", "6"}, {"9", "10"}});
    CHECK(t.skipped == 4);
    REQUIRE(!t.skip_messages.empty());
    CHECK_THAT(t.skip_messages.front(), Catch::Contains("\"f0.csv\", line 3, column \"y\""));
  }
}

TEST_CASE("csv reader: a runaway quoted field is stopped at max_record_bytes", "[data][csv]") {
  std::string text = "a\n\"" + std::string(5000, 'x') + "\n";
  auto plan = make_plan({text + text}, {"a"}, all_columns(1), {}, 100);
  plan->max_record_bytes = 1000;
  CHECK_THROWS_WITH(run(plan), Catch::Contains("line 2: a record longer than 1000 bytes"));
}

TEST_CASE("csv reader: files on disk", "[data][csv]") {
  const std::string path = "/tmp/ff_csv_test_reader_file.csv";
  {
    std::ofstream f(path, std::ios::binary);
    f << "a,b\n1,2\n3,4\n";
  }
  auto plan = make_plan({"unused"}, {"a", "b"}, all_columns(2, ColumnType::Int64));
  plan->files = {path};
  plan->open = csv::file_opener({path});
  CHECK(run(plan).cells == Rows{{"1", "2"}, {"3", "4"}});
  std::remove(path.c_str());
  CHECK_THROWS_WITH(run(plan), Catch::Contains("could not open CSV file \"" + path + "\": No such file"));
}

TEST_CASE("csv inspect infers types from the first rows across files", "[data][csv]") {
  auto open = csv::memory_opener({"i,big,f,d,s,empty\n1,1,1,1,a,\n2,2,2.5,1e39,2,\n",
                                  "i,big,f,d,s,empty\n3,3000000000,3,1,3,NA\n"});
  csv::Dialect d;
  d.na_value = "NA";
  auto ins = csv::inspect({"a.csv", "b.csv"}, open, d, {}, 100, false);
  CHECK(ins.column_names == V{"i", "big", "f", "d", "s", "empty"});
  CHECK(ins.types == std::vector<ColumnType>{ColumnType::Int32, ColumnType::Int64, ColumnType::Float32,
                                            ColumnType::Float64, ColumnType::String, ColumnType::String});
  CHECK(ins.seen == std::vector<bool>{true, true, true, true, true, false});
  // Only the first num_rows rows count.
  ins = csv::inspect({"a.csv", "b.csv"}, open, d, {}, 2, false);
  CHECK(ins.types[1] == ColumnType::Int32);
  CHECK_THROWS_WITH(csv::inspect({"a.csv"}, csv::memory_opener({"a,a\n1,2\n"}), d, {}, 10, false),
                    Catch::Contains("\"a\" appears twice"));
  CHECK_THROWS_WITH(csv::inspect({"a.csv"}, csv::memory_opener({"a,b\n1,2,3\n"}), d, {}, 10, false),
                    Catch::Contains("\"a.csv\", line 2: the row has 3 fields, expected 2") &&
                        Catch::Contains("inferring the column types"));
  csv::Dialect nh;
  nh.header = false;
  CHECK_THROWS_WITH(csv::inspect({"a.csv"}, open, nh, {}, 10, false), Catch::Contains("column_names must be given"));
  ins = csv::inspect({"a.csv"}, csv::memory_opener({"1,x\n"}), nh, {"n", "s"}, 10, false);
  CHECK(ins.types == std::vector<ColumnType>{ColumnType::Int32, ColumnType::String});
}

TEST_CASE("csv file order: identity or a seeded permutation per pass", "[data][csv]") {
  CHECK(csv::file_order(4, false, 1, 0) == std::vector<size_t>{0, 1, 2, 3});
  auto a = csv::file_order(10, true, 42, 0);
  CHECK(a == csv::file_order(10, true, 42, 0));
  auto sorted = a;
  std::sort(sorted.begin(), sorted.end());
  CHECK(sorted == csv::file_order(10, false, 0, 0));
  CHECK(a != csv::file_order(10, true, 42, 1));
  CHECK(a != csv::file_order(10, true, 43, 0));
}

TEST_CASE("csv feature parser: numeric, index and one-hot columns, labels", "[data][csv]") {
  auto colors = std::make_shared<csv::Vocabulary>(csv::Vocabulary{{"red", 0}, {"green", 1}, {"blue", 2}});
  auto classes = std::make_shared<csv::Vocabulary>(csv::Vocabulary{{"no", 0}, {"yes", 1}});
  std::vector<csv::FeatureColumn> f(3);
  f[0].column = 0;  // numeric, default 7
  f[0].offset = 0;
  f[0].default_value.present = true;
  f[0].default_value.f = 7;
  f[1].column = 1;
  f[1].kind = csv::FeatureColumn::Kind::CategoricalOneHot;
  f[1].offset = 1;
  f[1].vocabulary = colors;
  f[2].column = 2;
  f[2].kind = csv::FeatureColumn::Kind::CategoricalIndex;
  f[2].offset = 4;
  f[2].vocabulary = colors;
  csv::LabelColumn label;
  label.present = true;
  label.column = 3;
  label.kind = csv::LabelColumn::Kind::Categorical;
  label.vocabulary = classes;
  auto parser = std::make_shared<csv::FeaturesParser>(f, 5, label, "");
  const V names = {"x", "c1", "c2", "y"};
  auto t = run(make_plan({"x,c1,c2,y\n1.5,green,blue,yes\n,red,red,no\n"}, names, parser));
  CHECK(t.cells == Rows{{"1.5", "0", "1", "0", "2", "1"}, {"7", "1", "0", "0", "0", "0"}});
  auto msg = catch_message([&] { run(make_plan({"x,c1,c2,y\n1,pink,red,no\n"}, names, parser)); });
  CHECK_THAT(msg, Catch::Contains("line 2, column \"c1\": unknown category \"pink\"") &&
                      Catch::Contains("3 values: \"red\", \"green\", \"blue\""));
  msg = catch_message([&] { run(make_plan({"x,c1,c2,y\n1,red,red,maybe\n"}, names, parser)); });
  CHECK_THAT(msg, Catch::Contains("column \"y\": unknown label class \"maybe\""));
  msg = catch_message([&] { run(make_plan({"x,c1,c2,y\n1,red,red,\n"}, names, parser)); });
  CHECK_THAT(msg, Catch::Contains("column \"y\": missing label"));
  msg = catch_message([&] { run(make_plan({"x,c1,c2,y\nabc,red,red,no\n"}, names, parser)); });
  CHECK_THAT(msg, Catch::Contains("column \"x\": expected a float32 number, found \"abc\" (the column is numeric in the schema)"));
  // A failed row leaves nothing behind (ignore_errors).
  t = run(make_plan({"x,c1,c2,y\n1,red,red,maybe\n2,red,blue,no\n"}, names, parser, {}, 1 << 20, true));
  CHECK(t.cells == Rows{{"2", "1", "0", "0", "2", "0"}});
  CHECK(t.skipped == 1);
  // Integer and float labels.
  label.column = 1;
  label.kind = csv::LabelColumn::Kind::Int64;
  std::vector<csv::FeatureColumn> one(1);
  auto p2 = std::make_shared<csv::FeaturesParser>(one, 1, label, "");
  CHECK(run(make_plan({"a,b\n1,3\n"}, {"a", "b"}, p2)).cells == Rows{{"1", "3"}});
  CHECK_THROWS_WITH(run(make_plan({"a,b\n1,3.5\n"}, {"a", "b"}, p2)),
                    Catch::Contains("expected an int64 integer, found \"3.5\" (the label column is integer"));
  label.kind = csv::LabelColumn::Kind::Float32;
  auto p3 = std::make_shared<csv::FeaturesParser>(one, 1, label, "");
  CHECK(run(make_plan({"a,b\n1,3.5\n"}, {"a", "b"}, p3)).cells == Rows{{"1", "3.5"}});
}

TEST_CASE("csv feature parser: the fast path gives what the general path gives", "[data][csv]") {
  auto vocab = std::make_shared<csv::Vocabulary>(csv::Vocabulary{{"a", 0}, {"b", 1}});
  std::vector<csv::FeatureColumn> f(3);
  f[0].column = 0;
  f[1].column = 2;
  f[1].offset = 1;
  f[1].kind = csv::FeatureColumn::Kind::CategoricalOneHot;
  f[1].vocabulary = vocab;
  f[2].column = 3;
  f[2].offset = 3;
  f[2].default_value.present = true;
  f[2].default_value.f = 0.5;
  csv::LabelColumn l;
  l.present = true;
  l.column = 4;
  l.kind = csv::LabelColumn::Kind::Int64;
  const std::vector<std::string> names = {"x", "skip", "c", "z", "y"};
  const std::string text =
      "x,skip,c,z,y\r\n"
      "1,,a,2,3\r\n"
      "-0,s,b,-7,-4\n"
      "\n"
      "007,\"q\",a,+5,+6\n"
      " 8 ,s,b,1e3,9\n"
      "12345678901234567,s,a,.5,10\n"
      "1.5,s,a,,11\n"
      "NA,s,a,2,12\r\n"
      "3,s,\"b\",4,13\r";
  for (const std::string na : {"", "NA", "-7"}) {
    auto parser = std::make_shared<csv::FeaturesParser>(f, 4, l, na);
    auto fast = make_plan({text}, names, parser, {}, 1 << 20, true);
    auto slow = make_plan({text}, names, parser, {}, 1 << 20, true);
    slow->fast_path = false;
    INFO("na_value " << na);
    const auto a = run(fast), b = run(slow);
    CHECK(a.cells == b.cells);
    CHECK(a.skipped == b.skipped);
    CHECK(a.cells.size() >= 7);
  }
}

TEST_CASE("csv inspect counts numbers and non-numbers and keeps the first non-number", "[data][csv]") {
  // A mostly-numeric column with a stray value used to become a string column without a word.
  auto open = csv::memory_opener({"a,b,c\n1,x,\n2,y,1e400\n\"3\",3,4\n4,z,5\n"});
  auto ins = csv::inspect({"m.csv"}, open, {}, {}, 100, false);
  CHECK(ins.rows == 4);
  CHECK(ins.types == std::vector<ColumnType>{ColumnType::Int32, ColumnType::String, ColumnType::String});
  CHECK(ins.numbers == std::vector<int64_t>{4, 1, 2});
  CHECK(ins.non_numbers == std::vector<int64_t>{0, 3, 1});
  CHECK(ins.number_types[2] == ColumnType::Int32);  // the numbers alone: 4 and 5
  CHECK(ins.first_non_number[0].empty());
  CHECK(ins.first_non_number[1] == "CSV file \"m.csv\", line 2, column \"b\": \"x\" is not a number");
  CHECK(ins.first_non_number[2] ==
        "CSV file \"m.csv\", line 3, column \"c\": \"1e400\" is out of range for float64");
  CHECK(ins.first_non_number_text[2] == "\"1e400\"");
  // The line of a value after a quoted newline.
  ins = csv::inspect({"q.csv"}, csv::memory_opener({"s,n\n\"a\nb\",1\nc,nan\n"}), {}, {}, 100, false);
  CHECK(ins.first_non_number[1] ==
        "CSV file \"q.csv\", line 4, column \"n\": \"nan\" is not a finite number (NaN and "
        "infinite values are refused)");
  // A header-only file: no rows (what csv_dataset reports, instead of "no value").
  ins = csv::inspect({"h.csv"}, csv::memory_opener({"a,b\n"}), {}, {}, 100, false);
  CHECK(ins.rows == 0);
  CHECK(ins.seen == std::vector<bool>{false, false});
}

TEST_CASE("csv inspect checks 100,000 column names for duplicates in linear time", "[data][csv]") {
  // The check was quadratic (100,000 columns: minutes); the result is what this test checks.
  std::string header, row;
  for (int i = 0; i < 100000; ++i) {
    header += (i ? ",c" : "c") + std::to_string(i);
    row += (i ? ",": "") + std::to_string(i % 7);
  }
  auto ins = csv::inspect({"w.csv"}, csv::memory_opener({header + "\n" + row + "\n"}), {}, {}, 10, false);
  CHECK(ins.column_names.size() == 100000);
  CHECK(ins.column_names[99999] == "c99999");
  CHECK(ins.rows == 1);
  CHECK_THROWS_WITH(csv::inspect({"w.csv"}, csv::memory_opener({header + ",c5\n"}), {}, {}, 10, false),
                    Catch::Contains("the column name \"c5\" appears twice"));
}

TEST_CASE("csv reader: text that is not UTF-8 is an error naming file, line and column", "[data][csv]") {
  // Python raised a bare UnicodeDecodeError with no location.
  auto msg = catch_message([] { run(make_plan({"a,s\n1,ok\n2,caf\xE9\n"}, {"a", "s"}, all_columns(2))); });
  CHECK_THAT(msg, Catch::Contains("CSV file \"f0.csv\", line 3, column \"s\": not valid UTF-8 text "
                                  "(byte 0xe9 at byte 3 of the value): \"caf\\xe9\"") &&
                      Catch::Contains("iconv"));
  msg = catch_message([] {
    csv::read_header("h.csv", csv::memory_opener({"a,\xFF" "b\n1,2\n"}), 0, {});
  });
  CHECK_THAT(msg, Catch::Contains("CSV file \"h.csv\", line 1 (the header), field 2: the column "
                                  "name is not valid UTF-8 text (byte 0xff at byte 0"));
  // An unknown category that is not UTF-8 says so (and the message is valid UTF-8).
  auto vocab = std::make_shared<csv::Vocabulary>(csv::Vocabulary{{"caf\xC3\xA9", 0}});
  std::vector<csv::FeatureColumn> f(1);
  f[0].kind = csv::FeatureColumn::Kind::CategoricalIndex;
  f[0].vocabulary = vocab;
  auto parser = std::make_shared<csv::FeaturesParser>(f, 1, csv::LabelColumn{}, "");
  CHECK(run(make_plan({"c\ncaf\xC3\xA9\n"}, {"c"}, parser)).cells == Rows{{"0"}});
  msg = catch_message([&] { run(make_plan({"c\ncaf\xE9\n"}, {"c"}, parser)); });
  CHECK_THAT(msg, Catch::Contains("line 2, column \"c\": not valid UTF-8 text"));
}

TEST_CASE("csv feature parser: nan and inf in a numeric column are errors unless na_value", "[data][csv]") {
  // They became NaN/Inf features silently, and the model's weights all NaN.
  std::vector<csv::FeatureColumn> f(1);
  f[0].default_value.present = true;
  f[0].default_value.f = -1;
  csv::LabelColumn l;
  l.present = true;
  l.column = 1;
  l.kind = csv::LabelColumn::Kind::Float32;
  auto parser = std::make_shared<csv::FeaturesParser>(f, 1, l, "");
  for (const std::string text : {"nan", "inf", "-Infinity"}) {
    for (bool fast : {true, false}) {
      auto plan = make_plan({"x,y\n1,2\n" + text + ",3\n"}, {"x", "y"}, parser);
      plan->fast_path = fast;
      CHECK_THAT(catch_message([&] { run(plan); }),
                 Catch::Contains("line 3, column \"x\": \"" + text + "\" is not a finite number") &&
                     Catch::Contains("pass na_value=\"" + text + "\""));
      plan = make_plan({"x,y\n1," + text + "\n"}, {"x", "y"}, parser);
      plan->fast_path = fast;
      CHECK_THAT(catch_message([&] { run(plan); }),
                 Catch::Contains("line 2, column \"y\": \"" + text + "\" is not a finite number"));
    }
  }
  // Named as na_value, it is a missing value: the default fills it.
  auto with_na = std::make_shared<csv::FeaturesParser>(f, 1, l, "nan");
  CHECK(run(make_plan({"x,y\nnan,2\n"}, {"x", "y"}, with_na)).cells == Rows{{"-1", "2"}});
  // make_csv_dataset's typed columns refuse them too.
  CHECK_THAT(catch_message([] { run(make_plan({"v\ninf\n"}, {"v"}, all_columns(1, ColumnType::Float64))); }),
             Catch::Contains("line 2, column \"v\": \"inf\" is not a finite number"));
}
