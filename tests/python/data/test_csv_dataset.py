"""ff.data.csv_dataset: feature matrices and labels from CSV files, the schema (vocabularies,
JSON round trip, re-use on new files, rebind), strict errors naming file/line/column/value,
ignore_errors with its warning, thread-count independence, Fashion-MNIST written as a CSV
trained through csv_dataset to the accuracy reached from arrays, and the adversarial inputs of
issue 12: a high-cardinality one-hot column (memory per batch, not per file), 20,000 columns
(linear schema building), stray values in a numeric column, nan/inf text, bytes that are not
UTF-8, a header-only file."""
import json
import os
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest

import forgeflow as ff
from forgeflow.data.csv import CsvSchema, SkippedRowsWarning, rebind


def write(path, text):
    path.write_text(text)
    return str(path)


def collect(ds):
    """All batches of a dataset concatenated: (x, y) or x."""
    parts = list(ds)
    if isinstance(parts[0], tuple):
        return tuple(np.concatenate([p[i] for p in parts]) for i in range(len(parts[0])))
    return np.concatenate(parts)


HOUSES = ("size,city,rooms,price\n"
          "50.5,Paris,2,100.0\n"
          "80,Lyon,3,150.5\n"
          "30,Paris,1,80\n"
          "120,Nice,5,300\n"
          "60,Paris,2,120\n")


def test_numeric_and_one_hot_features_with_a_float_label(tmp_path):
    path = write(tmp_path / "houses.csv", HOUSES)
    ds = ff.data.csv_dataset(path, label="price", batch_size=2, shuffle=False)
    x, y = collect(ds)
    s = ds.schema
    assert s.feature_names == ["size", "city", "rooms"]
    # Vocabulary: most frequent first, ties sorted (Keras's adapt order).
    assert s.columns[1]["vocabulary"] == ["Paris", "Lyon", "Nice"]
    assert s.num_features == 5 and s.feature_slices == {"size": (0, 1), "city": (1, 4), "rooms": (4, 5)}
    assert s.label == "price" and s.label_dtype == "float32" and s.class_names is None
    assert x.dtype == np.float32 and y.dtype == np.float32
    np.testing.assert_array_equal(x, [[50.5, 1, 0, 0, 2], [80, 0, 1, 0, 3], [30, 1, 0, 0, 1],
                                      [120, 0, 0, 1, 5], [60, 1, 0, 0, 2]])
    np.testing.assert_array_equal(y, [100.0, 150.5, 80, 300, 120])
    assert [b[0].shape[0] for b in ds] == [2, 2, 1]


def test_int_encoding_string_and_integer_labels_and_no_label(tmp_path):
    path = write(tmp_path / "h.csv", HOUSES)
    x, y = collect(ff.data.csv_dataset(path, label="city", batch_size=4, shuffle=False,
                                       categorical_encoding="int"))
    ds = ff.data.csv_dataset(path, label="city", shuffle=False)
    assert ds.schema.class_names == ["Lyon", "Nice", "Paris"]  # sorted, like class folders
    assert y.dtype == np.int64
    np.testing.assert_array_equal(y, [2, 0, 2, 1, 2])
    assert x.shape == (5, 3)
    _, y = collect(ff.data.csv_dataset(path, label="rooms", shuffle=False))
    assert y.dtype == np.int64 and y.tolist() == [2, 3, 1, 5, 2]
    # categorical= makes a numeric-looking column categorical; "int" gives its index.
    x, _ = collect(ff.data.csv_dataset(path, label="price", shuffle=False, categorical=["rooms"],
                                       categorical_encoding="int", select_columns=["rooms"]))
    assert x[:, 0].tolist() == [0, 2, 1, 3, 0]  # "2" most frequent, then "1" < "3" < "5"
    x = np.stack(list(ff.data.csv_dataset(path, shuffle=False, batch_size=None)))
    assert x.shape == (5, 6)  # all four columns are features: 1 + 3 + 1 + 1


def test_schema_json_round_trip_and_reuse_on_a_file_without_label(tmp_path):
    train = write(tmp_path / "train.csv", HOUSES)
    # Columns in another order, no label, categories in another frequency order.
    new = write(tmp_path / "new.csv", "rooms,city,size\n4,Nice,70\n1,Nice,20\n2,Lyon,55\n")
    schema = ff.data.csv_dataset(train, label="price").schema
    config = json.loads(json.dumps(schema.to_config()))
    restored = CsvSchema.from_config(config)
    assert restored == schema
    x = collect(ff.data.csv_dataset(new, schema=restored, shuffle=False))
    np.testing.assert_array_equal(x, [[70, 0, 0, 1, 4], [20, 0, 0, 1, 1], [55, 0, 1, 0, 2]])
    # A fresh dataset over the new file learns other encodings; rebind puts the training ones back.
    fresh = ff.data.csv_dataset(new, shuffle=False)
    assert fresh.schema != schema
    bound = rebind(fresh, schema)
    np.testing.assert_array_equal(collect(bound), x)
    assert rebind(bound, schema) is bound
    assert collect(rebind(fresh, config)).shape == (3, 5)  # a config dict works too
    # With the label column present, the label comes back.
    _, y = collect(ff.data.csv_dataset(train, schema=schema, shuffle=False))
    assert y.tolist() == [100.0, 150.5, 80, 300, 120]


def test_schema_reuse_errors_name_file_line_column_and_value(tmp_path):
    schema = ff.data.csv_dataset(write(tmp_path / "t.csv", HOUSES), label="price").schema
    bad = write(tmp_path / "bad.csv", "size,city,rooms\n10,Paris,1\n20,Rome,2\n")
    with pytest.raises(ValueError, match=r'"[^"]*bad.csv", line 3, column "city": unknown category '
                                         r'"Rome": .* 3 values: "Paris", "Lyon", "Nice"'):
        list(ff.data.csv_dataset(bad, schema=schema, shuffle=False))
    missing = write(tmp_path / "missing.csv", "size,rooms\n10,1\n")
    with pytest.raises(ValueError, match=r"missing.csv' lacks the column 'city'"):
        ff.data.csv_dataset(missing, schema=schema)
    extra = write(tmp_path / "extra.csv", "size,city,rooms,owner\n10,Paris,1,me\n")
    with pytest.raises(ValueError, match=r"has a column 'owner' that the schema does not know"):
        ff.data.csv_dataset(extra, schema=schema)
    with pytest.raises(ValueError, match="differs from the schema's label"):
        ff.data.csv_dataset(bad, schema=schema, label="size")
    with pytest.raises(ValueError, match="cannot be combined with schema"):
        ff.data.csv_dataset(bad, schema=schema, select_columns=["size"])


def test_malformed_rows_raise_with_location(tmp_path):
    path = write(tmp_path / "m.csv", "a,b,y\n1,2,0\n3,oops,1\n")
    with pytest.raises(ValueError, match=r'm.csv", line 3, column "b": expected a float32 number, '
                                         r'found "oops" \(the column is numeric in the schema\)'):
        list(ff.data.csv_dataset(path, label="y", shuffle=False, num_rows_for_inference=1))
    path = write(tmp_path / "n.csv", "a,b,y\n1,2,0\n3,,1\n")
    with pytest.raises(ValueError, match=r'line 3, column "b": missing value "" \(empty\) and the '
                                         r'column has no default'):
        list(ff.data.csv_dataset(path, label="y", shuffle=False))
    x, _ = collect(ff.data.csv_dataset(path, label="y", shuffle=False, column_defaults={"b": -1}))
    assert x[:, 1].tolist() == [2, -1]
    path = write(tmp_path / "q.csv", 'a,b,y\n1,"2,0\n')
    with pytest.raises(ValueError, match=r'line 2, column "b": unterminated quoted field'):
        ff.data.csv_dataset(path, label="y")
    with pytest.raises(ValueError, match=r"label 'price' is not a column of .*: the columns are a, b, y"):
        ff.data.csv_dataset(str(tmp_path / "m.csv"), label="price")
    with pytest.raises(ValueError, match="No files match"):
        ff.data.csv_dataset(str(tmp_path / "nothing*.csv"))


def test_lone_cr_line_endings_are_named_not_misread(tmp_path):
    # Classic Mac OS line endings: without the check, the whole file reads as one header line.
    path = tmp_path / "mac.csv"
    path.write_bytes(b"a,b,label\r1,2,0\r3,4,1\r")
    for make in (lambda: ff.data.csv_dataset(str(path), label="label"),
                 lambda: ff.data.experimental.make_csv_dataset(str(path), batch_size=2,
                                                               label_name="label")):
        with pytest.raises(ValueError, match=r'mac.csv", line 1 \(the header\): .*lone-CR line '
                                             r"endings \(classic Mac OS\).*LF and CRLF"):
            make()
    # CRLF and a final CR without LF still read.
    path.write_bytes(b"a,b,label\r\n1,2,0\r\n3,4,1\r")
    x, y = collect(ff.data.csv_dataset(str(path), label="label", shuffle=False))
    assert x.tolist() == [[1, 2], [3, 4]] and y.tolist() == [0, 1]


def test_ignore_errors_skips_rows_and_warns_at_the_end_of_each_pass(tmp_path):
    path = write(tmp_path / "e.csv", "a,y\n1,0\nx,1\n2,1\n3\n4,0\n")
    ds = ff.data.csv_dataset(path, label="y", shuffle=False, ignore_errors=True,
                             num_rows_for_inference=1)
    for _ in range(2):
        with pytest.warns(SkippedRowsWarning) as record:
            x, y = collect(ds)
            _ = [i for i in range(3)]  # let the interpreter run the pending warning call
        assert x[:, 0].tolist() == [1, 2, 4] and y.tolist() == [0, 1, 0]
        messages = [str(w.message) for w in record if w.category is SkippedRowsWarning]
        assert len(messages) == 1
        assert "skipped 2 malformed rows" in messages[0] and "e.csv" in messages[0]
        assert 'line 3, column "a": expected a float32 number, found "x"' in messages[0]


def test_row_order_does_not_depend_on_threads_or_chunks(tmp_path):
    rng = np.random.default_rng(0)
    cities = np.array(["a", "b,c", 'q"uote', "new\nline"])
    lines = ["v,c,y"]
    for i in range(400):
        c = cities[rng.integers(4)]
        c = '"' + c.replace('"', '""') + '"' if any(ch in c for ch in ',"\n') else c
        lines.append(f"{rng.normal():.6f},{c},{i % 3}")
    path = write(tmp_path / "o.csv", "\r\n".join(lines) + "\r\n")
    ref = collect(ff.data.csv_dataset(path, label="y", shuffle=False, num_parallel_reads=1))
    for threads, chunk in ((2, 37), (3, 5), (4, 1 << 20)):
        got = collect(ff.data.csv_dataset(path, label="y", shuffle=False,
                                          num_parallel_reads=threads, _chunk_size=chunk))
        np.testing.assert_array_equal(got[0], ref[0])
        np.testing.assert_array_equal(got[1], ref[1])
    # Shuffled: a seed fixes the order, whatever the thread count; the rows are the same.
    a = collect(ff.data.csv_dataset(path, label="y", seed=3, num_parallel_reads=1))
    b = collect(ff.data.csv_dataset(path, label="y", seed=3, num_parallel_reads=3, _chunk_size=64))
    np.testing.assert_array_equal(a[0], b[0])
    assert not np.array_equal(a[0], ref[0])
    np.testing.assert_array_equal(np.sort(a[1]), np.sort(ref[1]))


def test_several_files_by_pattern_must_share_columns(tmp_path):
    write(tmp_path / "p1.csv", "a,y\n1,0\n2,1\n")
    write(tmp_path / "p2.csv", "a,y\n3,1\n")
    x, y = collect(ff.data.csv_dataset(str(tmp_path / "p*.csv"), label="y", shuffle=False))
    assert x[:, 0].tolist() == [1, 2, 3] and y.tolist() == [0, 1, 1]
    write(tmp_path / "p3.csv", "a,z\n3,1\n")
    with pytest.raises(ValueError, match=r'p3.csv", line 1 \(the header\): the columns differ'):
        list(ff.data.csv_dataset(str(tmp_path / "p*.csv"), label="y", shuffle=False))


def test_header_less_files_with_column_names(tmp_path):
    path = write(tmp_path / "nh.csv", "1;x;0\n2;y;1\n")
    ds = ff.data.csv_dataset(path, label="t", header=False, column_names=["v", "c", "t"],
                             field_delim=";", shuffle=False)
    x, y = collect(ds)
    assert x.tolist() == [[1, 1, 0], [2, 0, 1]] and y.tolist() == [0, 1]
    # The schema re-used on header-less files names the columns itself.
    x2, _ = collect(ff.data.csv_dataset(path, schema=ds.schema, header=False, field_delim=";",
                                        shuffle=False))
    np.testing.assert_array_equal(x2, x)


def _fashion_csv(path, x, y):
    data = np.concatenate([y[:, None].astype(np.int64), x.reshape(len(x), -1).astype(np.int64)], axis=1)
    header = "label," + ",".join(f"pixel{i}" for i in range(1, 785))
    np.savetxt(path, data, fmt="%d", delimiter=",", header=header, comments="")


def _mlp(seed):
    ff.utils.set_random_seed(seed)
    model = ff.Sequential([ff.layers.Input(shape=(784,)), ff.layers.Rescaling(1.0 / 255),
                           ff.layers.Dense(64, activation="relu"), ff.layers.Dense(10)])
    model.compile(optimizer="adam",
                  loss=ff.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    return model


def test_fashion_mnist_csv_trains_like_arrays(tmp_path):
    (x_train, y_train), (x_test, y_test) = ff.datasets.fashion_mnist_small.load_data()
    train_csv, test_csv = tmp_path / "fm_train.csv", tmp_path / "fm_test.csv"
    _fashion_csv(train_csv, x_train, y_train)
    _fashion_csv(test_csv, x_test, y_test)

    arrays = _mlp(0)
    arrays.fit(x_train.reshape(-1, 784).astype(np.float32), y_train.astype(np.int64),
               batch_size=32, epochs=3, verbose=0)
    _, acc_arrays = arrays.evaluate(x_test.reshape(-1, 784).astype(np.float32),
                                    y_test.astype(np.int64), verbose=0)

    train = ff.data.csv_dataset(str(train_csv), label="label", batch_size=32, seed=0)
    assert train.schema.num_features == 784 and train.schema.label_dtype == "int64"
    model = _mlp(0)
    model.fit(train, epochs=3, verbose=0)
    test = ff.data.csv_dataset(str(test_csv), label="label", shuffle=False,
                               schema=train.schema)
    _, acc_csv = model.evaluate(test, verbose=0)
    assert acc_arrays > 0.75
    assert abs(acc_csv - acc_arrays) < 0.03, (acc_csv, acc_arrays)
    # The CSV rows are exactly the arrays' rows.
    x, y = collect(test)
    np.testing.assert_array_equal(x, x_test.reshape(-1, 784).astype(np.float32))
    np.testing.assert_array_equal(y, y_test)
    # predict on the test file without its labels, re-using the schema.
    unlabeled = tmp_path / "fm_unlabeled.csv"
    with open(test_csv) as src, open(unlabeled, "w") as dst:
        for line in src:
            dst.write(line.split(",", 1)[1])
    pred = model.predict(ff.data.csv_dataset(str(unlabeled), schema=train.schema, shuffle=False),
                         verbose=0)
    np.testing.assert_allclose(pred, model.predict(x, verbose=0), rtol=1e-5, atol=1e-5)


# ------------------------------------------------------------------ issue 12: adversarial CSVs
def test_high_cardinality_one_hot_memory_is_per_batch_not_per_file(tmp_path):
    # 200,000 distinct values: the reader built dense one-hot rows per 1 MB parse block
    # (std::bad_alloc); 20,000 took 3.1 GB before the first batch. Now the rows stay compact
    # (an index) through the shuffle buffer and only the batch is widened.
    path = tmp_path / "ids.csv"
    n = 200_000
    with open(path, "w") as f:
        f.write("id,x,y\n")
        for i in range(n):
            f.write(f"u{i},{i % 7},{i % 2}\n")
    script = textwrap.dedent(f"""
        import resource, warnings
        import numpy as np
        import forgeflow as ff
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            ds = ff.data.csv_dataset({str(path)!r}, label="y", batch_size=4, seed=0)
        x, y = next(iter(ds))
        assert x.shape == (4, {n} + 1) and x.dtype == np.float32, x.shape
        assert (x[:, :{n}].sum(axis=1) == 1).all() and (x[:, {n}] < 7).all()
        print("maxrss_kb", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
        assert [w.category.__name__ for w in caught] == ["LikelyMistakeWarning"], caught
        assert "column 'id'" in str(caught[0].message)
        assert 'categorical_encoding="int"' in str(caught[0].message)
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=600, env=dict(os.environ))
    assert "maxrss_kb" in out.stdout, out.stderr[-3000:]
    maxrss_mb = int(out.stdout.split("maxrss_kb")[1]) / 1024
    # Dense rows would be 800 KB each (160 GB a file); the process stays far below that.
    assert maxrss_mb < 1500, maxrss_mb
    assert out.returncode == 0, out.stderr[-3000:]


def test_one_hot_after_batching_gives_the_dense_rows(tmp_path):
    # The compact path (index through the pipeline, widened per batch) gives what the dense
    # reader gives, whatever the batch size, shuffled or not.
    path = write(tmp_path / "h.csv", HOUSES)
    (dense, _), _ = ff.data.csv._read_arrays(path, label="price")
    for batch_size in (1, 2, 5):
        x, _ = collect(ff.data.csv_dataset(path, label="price", batch_size=batch_size,
                                           shuffle=False))
        np.testing.assert_array_equal(x, dense)
    rows = list(ff.data.csv_dataset(path, label="price", batch_size=None, shuffle=False))
    np.testing.assert_array_equal(np.stack([x for x, _ in rows]), dense)
    x, _ = collect(ff.data.csv_dataset(path, label="price", batch_size=2, seed=4))
    np.testing.assert_array_equal(np.sort(x, axis=0), np.sort(dense, axis=0))
    # The warning threshold: above ONE_HOT_WARNING_CARDINALITY values, one-hot only.
    many = tmp_path / "many.csv"
    k = ff.data.csv.ONE_HOT_WARNING_CARDINALITY + 1
    many.write_text("c,y\n" + "".join(f"v{i},{i % 2}\n" for i in range(k)))
    with pytest.warns(ff.LikelyMistakeWarning, match=rf"column 'c' of .* has {k} distinct values"):
        ff.data.csv_dataset(str(many), label="y")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ff.data.csv_dataset(str(many), label="y", categorical_encoding="int")
        ff.data.csv_dataset(str(many), label="c")  # a label is an index, never one-hot


def test_schema_of_20000_columns_is_built_in_linear_time(tmp_path):
    # Quadratic in columns: 20,000 columns took over a minute (100,000 did not finish in 120 s).
    n = 20_000
    path = tmp_path / "wide.csv"
    with open(path, "w") as f:
        f.write(",".join(f"c{i}" for i in range(n)) + "\n")
        for r in range(3):
            f.write(",".join(str((i + r) % 10) for i in range(n)) + "\n")
    ds = ff.data.csv_dataset(str(path), label="c0", batch_size=3, shuffle=False)
    assert ds.schema.num_features == n - 1 and ds.schema.feature_names[-1] == f"c{n - 1}"
    x, y = next(iter(ds))
    assert x.shape == (3, n - 1) and y.tolist() == [0, 1, 2]
    assert x[2, -1] == (n - 1 + 2) % 10
    ds = ff.data.csv_dataset(str(path), label="c0", select_columns=[f"c{i}" for i in range(n - 1, 0, -2)],
                             categorical=["c1", "c3"])
    assert ds.schema.feature_names[:2] == ["c1", "c3"] and len(ds.schema.ignored) == n // 2 - 1


STRAY_VALUES = ["oops", "1e400", "0x10", "1_000", '"2,5"', "\u0661\u0662", "nan", "inf",
                "-Infinity"]


@pytest.mark.parametrize("stray", STRAY_VALUES)
def test_a_stray_value_in_a_numeric_column_is_an_error_not_a_categorical_column(tmp_path, stray):
    # One bad value among the first 1,000 rows silently made the column categorical (one-hot),
    # and the schema was saved with the model. nan/inf became NaN/Inf features.
    rows = [f"{i % 5},{i * 0.5},{i % 2}" for i in range(40)]
    rows[17] = f"{17 % 5},{stray},1"
    path = write(tmp_path / "s.csv", "a,b,y\n" + "\n".join(rows) + "\n")
    text = stray.strip('"')
    with pytest.raises(ValueError) as e:
        ff.data.csv_dataset(path, label="y")
    msg = str(e.value)
    assert msg.startswith(f'CSV file "{path}", line 19, column "b": "{text}" '), msg
    assert "39 of the 40 values of column 'b' in the first 40 rows are numbers" in msg
    assert f'na_value="{text}"' in msg and "ignore_errors=True" in msg
    assert "categorical=['b']" in msg
    # The explicit choices: skip those rows (a numeric column) ...
    with pytest.warns(SkippedRowsWarning, match=r'skipped 1 malformed row .*line 19, column "b"'):
        ds = ff.data.csv_dataset(path, label="y", ignore_errors=True, shuffle=False)
        x, y = collect(ds)
        _ = [i for i in range(3)]
    assert ds.schema.columns[1]["kind"] == "numeric" and x.shape == (39, 2)
    assert np.isfinite(x).all()
    # ... or read it as categorical, or name it as the missing-value marker.
    ds = ff.data.csv_dataset(path, label="y", categorical=["b"])
    assert ds.schema.columns[1]["kind"] == "categorical"
    x, _ = collect(ff.data.csv_dataset(path, label="y", na_value=text, shuffle=False,
                                       column_defaults={"b": -1.0}))
    assert x[17, 1] == -1.0 and x[18, 1] == 9.0
    # TensorFlow's make_csv_dataset made it a string column; here it is the same error.
    with pytest.raises(ValueError, match=r'line 19, column "b": .*39 of the 40 values.*string '
                                         r"dtype in column_defaults"):
        ff.data.experimental.make_csv_dataset(path, batch_size=4, num_epochs=1)


def test_columns_of_text_with_a_few_numbers_stay_categorical(tmp_path):
    path = write(tmp_path / "t.csv", "size,y\nS,0\nM,1\nL,0\n10,1\nXL,0\n")
    ds = ff.data.csv_dataset(path, label="y", shuffle=False)
    assert ds.schema.columns[0]["kind"] == "categorical"
    assert sorted(ds.schema.columns[0]["vocabulary"]) == ["10", "L", "M", "S", "XL"]


def test_nan_and_inf_after_the_inference_rows_name_line_and_column(tmp_path):
    for text in ("nan", "inf", "-Infinity"):
        path = write(tmp_path / "n.csv", f"a,y\n1.5,0\n2.5,1\n{text},1\n")
        ds = ff.data.csv_dataset(path, label="y", num_rows_for_inference=2, shuffle=False)
        with pytest.raises(ValueError, match=rf'n.csv", line 4, column "a": "{text}" is not a '
                                             r"finite number: NaN and infinite values are refused"):
            list(ds)
        rows = ff.data.experimental.make_csv_dataset(
            path, batch_size=3, num_epochs=1, shuffle=False, num_rows_for_inference=2)
        with pytest.raises(ValueError, match=rf'line 4, column "a": "{text}" is not a finite'):
            list(rows)
        # As a label too.
        path = write(tmp_path / "l.csv", f"a,y\n1,0.5\n2,{text}\n")
        with pytest.raises(ValueError, match=rf'line 3, column "y": "{text}" is not a finite'):
            list(ff.data.csv_dataset(path, label="y", num_rows_for_inference=1, shuffle=False))


def test_bytes_that_are_not_utf8_are_an_error_with_file_line_and_column(tmp_path):
    # They gave a bare UnicodeDecodeError with no file, line or column.
    path = tmp_path / "latin1.csv"
    path.write_bytes("city,y\nLyon,0\nOrl\u00e9ans,1\n".encode("latin-1"))
    pattern = (r'latin1.csv", line 3, column "city": not valid UTF-8 text \(byte 0xe9 at byte 3 '
               r'of the value\): "Orl\\xe9ans"')
    with pytest.raises(ValueError, match=pattern):
        ff.data.csv_dataset(str(path), label="y")
    with pytest.raises(ValueError, match=pattern):
        list(ff.data.experimental.make_csv_dataset(str(path), batch_size=2, num_epochs=1))
    # A schema learned from UTF-8 data, then a Latin-1 file: the same message, not "unknown".
    good = write(tmp_path / "utf8.csv", "city,y\nLyon,0\nOrl\u00e9ans,1\n")
    schema = ff.data.csv_dataset(good, label="y").schema
    with pytest.raises(ValueError, match=pattern):
        list(ff.data.csv_dataset(str(path), schema=schema, shuffle=False))
    header = tmp_path / "header.csv"
    header.write_bytes(b"a,b\xff,y\n1,2,0\n")
    with pytest.raises(ValueError, match=r'header.csv", line 1 \(the header\), field 2: the column '
                                         r"name is not valid UTF-8 text \(byte 0xff at byte 1"):
        ff.data.csv_dataset(str(header), label="y")


def test_a_header_only_file_says_it_has_no_rows(tmp_path):
    # It said "column 'a' ... is categorical but has no value in the training data".
    path = write(tmp_path / "empty.csv", "a,b,y\n")
    with pytest.raises(ValueError, match=r"CSV file '.*empty.csv' has no data rows, only the "
                                         r"header: csv_dataset learns the column types"):
        ff.data.csv_dataset(path, label="y")
    with pytest.raises(ValueError, match=r"empty.csv' has no data rows, so the column types "
                                         r"cannot be inferred"):
        ff.data.experimental.make_csv_dataset(path, batch_size=2)
    # With a schema (e.g. a trained model's) an empty file is just an empty dataset.
    schema = ff.data.csv_dataset(write(tmp_path / "t.csv", "a,b,y\n1,2,0\n"), label="y").schema
    assert list(ff.data.csv_dataset(path, schema=schema)) == []
