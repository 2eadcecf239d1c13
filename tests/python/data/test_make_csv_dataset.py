"""ff.data.experimental.make_csv_dataset: TensorFlow's signature and output (batches of
(OrderedDict of columns, label)), type inference, column_defaults / select_columns /
column_names / header / field_delim / na_value / quotes, num_epochs and drop_remainder,
deterministic shuffling whatever num_parallel_reads, strict errors and ignore_errors."""
import inspect

import numpy as np
import pytest

import forgeflow as ff
from forgeflow.data.csv import SkippedRowsWarning

make_csv_dataset = ff.data.experimental.make_csv_dataset

TITANIC = ('survived,sex,age,fare,class\n'
           '0,male,22.0,7.25,Third\n'
           '1,female,38.0,71.2833,First\n'
           '1,female,26.0,7.925,"Third, rear"\n'
           '1,female,35.0,53.1,First\n'
           '0,male,35.0,8.05,Third\n')


def write(path, text):
    path.write_text(text)
    return str(path)


def test_signature_is_tensorflows():
    params = inspect.signature(make_csv_dataset).parameters
    assert list(params) == [
        "file_pattern", "batch_size", "column_names", "column_defaults", "label_name",
        "select_columns", "field_delim", "use_quote_delim", "na_value", "header", "num_epochs",
        "shuffle", "shuffle_buffer_size", "shuffle_seed", "prefetch_buffer_size",
        "num_parallel_reads", "sloppy", "num_rows_for_inference", "compression_type",
        "ignore_errors", "encoding"]
    defaults = {k: p.default for k, p in params.items() if p.default is not inspect.Parameter.empty}
    assert defaults == {"column_names": None, "column_defaults": None, "label_name": None,
                        "select_columns": None, "field_delim": ",", "use_quote_delim": True,
                        "na_value": "", "header": True, "num_epochs": None, "shuffle": True,
                        "shuffle_buffer_size": 10000, "shuffle_seed": None,
                        "prefetch_buffer_size": None, "num_parallel_reads": None,
                        "sloppy": False, "num_rows_for_inference": 100,
                        "compression_type": None, "ignore_errors": False, "encoding": "utf-8"}


def test_batches_of_feature_dicts_and_labels_with_inferred_types(tmp_path):
    path = write(tmp_path / "titanic.csv", TITANIC)
    ds = make_csv_dataset(path, batch_size=2, label_name="survived", num_epochs=1, shuffle=False)
    batches = list(ds)
    assert len(batches) == 3
    features, label = batches[0]
    assert list(features) == ["sex", "age", "fare", "class"]  # file order, label removed
    assert label.dtype == np.int32 and label.tolist() == [0, 1]
    assert features["age"].dtype == np.float32 and features["age"].tolist() == [22.0, 38.0]
    assert features["sex"].dtype.kind == "U" and features["sex"].tolist() == ["male", "female"]
    assert batches[1][0]["class"].tolist() == ["Third, rear", "First"]
    assert batches[2][1].shape == (1,)  # the last, partial batch (num_epochs=1 keeps it)
    np.testing.assert_allclose(batches[1][0]["fare"], [7.925, 53.1], rtol=1e-6)


def test_num_epochs_none_repeats_with_full_batches(tmp_path):
    path = write(tmp_path / "t.csv", TITANIC)
    ds = make_csv_dataset(path, batch_size=2, label_name="survived", shuffle=False)
    labels = [b[1].tolist() for b, _ in zip(ds, range(5))]
    assert labels == [[0, 1], [1, 1], [0, 0], [1, 1], [1, 0]]  # 5 rows cycling, drop_remainder
    ds = make_csv_dataset(path, batch_size=4, label_name="survived", num_epochs=2, shuffle=False)
    assert [len(b[1]) for b in ds] == [4, 4, 2]


def test_column_defaults_select_columns_and_na_value(tmp_path):
    path = write(tmp_path / "d.csv", "a,b,c,d\n1,NA,x,2.5\n2,7,,\n")
    ds = make_csv_dataset(path, batch_size=5, num_epochs=1, shuffle=False, na_value="NA",
                          select_columns=["d", "a", "b"], column_defaults=[0, -1, 9.5])
    (features,) = list(ds)
    assert list(features) == ["a", "b", "d"]  # selected columns come in file order
    assert features["a"].dtype == np.int32 and features["b"].tolist() == [-1, 7]
    assert features["d"].dtype == np.float32 and features["d"].tolist() == [2.5, 9.5]
    # Defaults may be dtypes (required columns) or one-element lists; indices select too.
    ds = make_csv_dataset(path, batch_size=5, num_epochs=1, shuffle=False,
                          select_columns=[0, 2], column_defaults=[np.int64, ["none"]])
    (features,) = list(ds)
    assert features["a"].dtype == np.int64 and features["c"].tolist() == ["x", "none"]
    with pytest.raises(ValueError, match="column_defaults has 3 items but 2 columns are selected"):
        make_csv_dataset(path, 1, select_columns=[0, 2], column_defaults=[0, 0, 0])
    with pytest.raises(ValueError, match=r"`label_name` provided must be one of the columns: a, c"):
        make_csv_dataset(path, 1, select_columns=[0, 2], label_name="b")
    with pytest.raises(ValueError, match="select_columns names 'zz'"):
        make_csv_dataset(path, 1, select_columns=["zz"])


def test_strict_where_tensorflow_fills_zero(tmp_path):
    path = write(tmp_path / "s.csv", "a,b\n1,x\n,y\n")
    ds = make_csv_dataset(path, batch_size=2, num_epochs=1, shuffle=False)
    with pytest.raises(ValueError, match=r's.csv", line 3, column "a": missing value "" \(empty\) '
                                         r"and the column has no default; pass column_defaults"):
        list(ds)
    path = write(tmp_path / "t.csv", "a,b\n1,x\n2.5,y\n")
    ds = make_csv_dataset(path, batch_size=2, num_epochs=1, shuffle=False,
                          num_rows_for_inference=1)
    with pytest.raises(ValueError, match=r'line 3, column "a": expected an int32 integer, found "2.5"'):
        list(ds)
    # Inferred over both rows, the column is float32.
    (f,) = list(make_csv_dataset(path, batch_size=2, num_epochs=1, shuffle=False))
    assert f["a"].dtype == np.float32
    with pytest.raises(ValueError, match="compression_type='GZIP' is not supported"):
        make_csv_dataset(path, 1, compression_type="GZIP")
    with pytest.raises(ValueError, match="No files match file_pattern"):
        make_csv_dataset(str(tmp_path / "none*.csv"), 1)


def test_ignore_errors_counts_and_warns(tmp_path):
    path = write(tmp_path / "bad.csv", "a,b\n1,2\n3\n4,5\n\"6,7\n")
    ds = make_csv_dataset(path, batch_size=10, num_epochs=1, shuffle=False, ignore_errors=True,
                          column_defaults=[0, 0])
    with pytest.warns(SkippedRowsWarning, match=r"skipped 2 malformed rows of CSV file .*bad.csv"):
        (features,) = list(ds)
        _ = [i for i in range(3)]
    assert features["a"].tolist() == [1, 4]


def test_headerless_files_other_delimiters_and_quotes(tmp_path):
    path = write(tmp_path / "h.tsv", '1\t"a\tb"\n2\t"say ""hi"""\r\n')
    ds = make_csv_dataset(path, batch_size=2, num_epochs=1, shuffle=False, header=False,
                          column_names=["n", "s"], field_delim="\t")
    (f,) = list(ds)
    assert f["n"].tolist() == [1, 2] and f["s"].tolist() == ["a\tb", 'say "hi"']
    path = write(tmp_path / "q.csv", 'n,s\n1,"x"\n')
    (f,) = list(make_csv_dataset(path, batch_size=2, num_epochs=1, shuffle=False,
                                 use_quote_delim=False))
    assert f["s"].tolist() == ['"x"']


def test_shuffle_is_seeded_and_independent_of_num_parallel_reads(tmp_path):
    for k in range(4):
        rows = "".join(f"{k * 100 + i},{i % 2}\n" for i in range(100))
        write(tmp_path / f"part{k}.csv", "v,y\n" + rows)
    pattern = str(tmp_path / "part*.csv")

    def order(**kw):
        ds = make_csv_dataset(pattern, batch_size=50, label_name="y", num_epochs=2,
                              shuffle_buffer_size=64, **kw)
        return np.concatenate([f["v"] for f, _ in ds])

    a = order(shuffle_seed=5, num_parallel_reads=1)
    b = order(shuffle_seed=5, num_parallel_reads=3)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, order(shuffle_seed=6))
    # Each epoch holds every row once; the second epoch has another order.
    assert sorted(a[:400].tolist()) == list(range(400)) == sorted(a[400:].tolist())
    assert not np.array_equal(a[:400], a[400:])
    unshuffled = make_csv_dataset(pattern, batch_size=400, label_name="y", num_epochs=1,
                                  shuffle=False, num_parallel_reads=4)
    assert next(iter(unshuffled))[0]["v"].tolist() == list(range(400))


def test_trains_a_model_on_dict_features_stacked(tmp_path):
    """make_csv_dataset's dict batches feed fit once mapped to one matrix (no dict inputs yet)."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 2)).astype(np.float32)
    y = (x[:, 0] > x[:, 1]).astype(np.int64)
    path = write(tmp_path / "train.csv",
                 "x0,x1,y\n" + "".join(f"{a:.6f},{b:.6f},{c}\n" for (a, b), c in zip(x, y)))
    ds = make_csv_dataset(path, batch_size=20, label_name="y", num_epochs=1, shuffle_seed=1)
    ds = ds.map(lambda f, label: (np.stack([f["x0"], f["x1"]], axis=1), label.astype(np.int64)))
    ff.utils.set_random_seed(0)
    model = ff.Sequential([ff.layers.Input(shape=(2,)), ff.layers.Dense(2)])
    model.compile(optimizer=ff.optimizers.Adam(0.05),
                  loss=ff.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        history = model.fit(ds, epochs=15, verbose=0)
    assert history.history["accuracy"][-1] > 0.9
