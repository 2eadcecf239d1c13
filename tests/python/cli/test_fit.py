"""``forgeflow fit`` (python/forgeflow/cli/fit.py, model_spec.py): trains on real CSV files and
PNG class folders, records the run, stores what predict needs in the model file, and turns bad
input into one line on stderr with exit code 1."""
import numpy as np
import pytest

import forgeflow as ff

from ._helpers import cli, run_main


def _layers(model):
    return [type(layer).__name__ for layer in model._layers]


def _accuracy(model, csv_path):
    ds = ff.data.csv_dataset(str(csv_path), shuffle=False, schema=model._data_schema)
    return model.evaluate(ds, verbose=0, return_dict=True)["accuracy"]


def test_fit_csv_classifier_end_to_end(cli_data, tmp_path, _tracking_database):
    out = tmp_path / "iris.ff"
    r = cli("fit", "--csv", cli_data["iris_train"], "--label", "species", "--epochs", "30",
            "--batch-size", "16", "--seed", "1", "--out", out, env_db=_tracking_database)
    assert r.returncode == 0, r.stderr
    assert "Task: classification (3 classes: setosa, versicolor, virginica)" in r.stdout
    assert 'Model: "iris"' in r.stdout and "Total params:" in r.stdout
    assert "Epoch 1/30" in r.stdout and "Epoch 30/30" in r.stdout
    assert "━" in r.stdout and "val_accuracy" in r.stdout  # the progress bar, with validation
    model = ff.models.load_model(str(out))
    meta = model._user_data["forgeflow_cli"]
    assert meta["task"] == "classification" and meta["data"] == "csv"
    assert meta["label"] == "species"
    assert meta["class_names"] == ["setosa", "versicolor", "virginica"]
    assert "--label species" in meta["command"]
    assert model._data_schema["label"] == "species"
    assert _layers(model) == ["Normalization", "Dense", "Dense", "Dense"]  # default: mlp
    assert _accuracy(model, cli_data["iris_test"]) >= 0.8  # chance: 1/3
    # The run is in the tracking database, with the saved file attached.
    runs = ff.tracking.list_runs(database=str(_tracking_database))
    assert len(runs) == 1 and runs[0]["status"] == "finished"
    assert runs[0]["model_name"] == "iris" and runs[0]["epochs"] == 30
    assert r.stdout.strip().endswith(f"(run {runs[0]['id']}).")
    run = ff.tracking.get_run(runs[0]["id"], database=str(_tracking_database))
    assert len(run["epoch_metrics"]) == 30
    assert any(a["path"] == str(out) and a["kind"] == "saved_model" for a in run["artifacts"])
    listed = cli("runs", "list", env_db=_tracking_database)
    assert runs[0]["id"] in listed.stdout and "finished" in listed.stdout


def test_fit_integer_classes_auto_and_forced_regression(cli_data, tmp_path, capsys):
    out = tmp_path / "wine.ff"
    code, stdout, err = run_main(capsys, "fit", "--csv", cli_data["wine"], "--label", "target",
                                 "--epochs", "15", "--seed", "2", "--out", out)
    assert code == 0, err
    assert "Task: classification (3 classes: 3, 4, 5)" in stdout
    model = ff.models.load_model(str(out))
    assert model._user_data["forgeflow_cli"]["class_names"] == ["3", "4", "5"]
    # the last 20% of the rows were held out, in file order (Keras's validation_split rule)
    logs = model.evaluate(ff.data.csv_dataset(str(cli_data["wine"]), shuffle=False,
                                              schema=model._data_schema),
                          verbose=0, return_dict=True)
    assert logs["accuracy"] >= 0.85
    code, stdout, err = run_main(capsys, "fit", "--csv", cli_data["wine"], "--label", "target",
                                 "--task", "regression", "--epochs", "1", "--verbose", "0",
                                 "--out", tmp_path / "wine_reg.ff")
    assert code == 0, err
    model = ff.models.load_model(str(tmp_path / "wine_reg.ff"))
    assert model._user_data["forgeflow_cli"]["task"] == "regression"
    assert model.predict(np.zeros((2, 13), np.float32), verbose=0).shape == (2, 1)


def test_fit_csv_regression_beats_the_mean(cli_data, diabetes_model):
    model = ff.models.load_model(str(diabetes_model))
    assert model._user_data["forgeflow_cli"]["task"] == "regression"
    assert _layers(model) == ["Normalization", "Dense", "Dense", "Dense", "Normalization"]
    test = np.loadtxt(cli_data["diabetes_test"], delimiter=",", skiprows=1)
    train = np.loadtxt(cli_data["diabetes_train"], delimiter=",", skiprows=1)
    pred = model.predict(test[:, :-1].astype(np.float32), verbose=0)[:, 0]
    mae = np.abs(pred - test[:, -1]).mean()
    baseline = np.abs(train[:, -1].mean() - test[:, -1]).mean()
    assert mae < 0.85 * baseline, (mae, baseline)


def test_fit_model_spec(cli_data, tmp_path, capsys):
    out = tmp_path / "spec.ff"
    code, _, err = run_main(capsys, "fit", "--csv", cli_data["iris_train"], "--label", "species",
                            "--model", "dense:16:tanh, dropout:0.25, batchnorm, dense:8",
                            "--epochs", "1", "--verbose", "0", "--out", out)
    assert code == 0, err
    model = ff.models.load_model(str(out))
    assert _layers(model) == ["Normalization", "Dense", "Dropout", "BatchNormalization", "Dense",
                              "Dense"]
    hidden = model._layers[1].get_config()
    assert hidden["units"] == 16 and hidden["activation"] == "tanh"
    assert model._layers[2].get_config()["rate"] == 0.25
    assert model._layers[4].get_config()["activation"] == "relu"
    code, _, err = run_main(capsys, "fit", "--csv", cli_data["iris_train"], "--label", "species",
                            "--model", "linear", "--epochs", "1", "--verbose", "0", "--out", out)
    assert code == 0, err
    assert _layers(ff.models.load_model(str(out))) == ["Normalization", "Dense"]


def test_fit_images(cli_data, image_model):
    model = ff.models.load_model(str(image_model))
    meta = model._user_data["forgeflow_cli"]
    assert meta["data"] == "images" and meta["task"] == "classification"
    assert meta["class_names"] == ["bag", "sneaker", "trouser", "tshirt"]
    assert meta["image_size"] == [28, 28] and meta["color_mode"] == "grayscale"
    # conv, pool, conv, pool, flatten from the spec; Rescaling in front, the head behind
    assert _layers(model) == ["Rescaling", "Conv2D", "MaxPooling2D", "Conv2D", "MaxPooling2D",
                              "Flatten", "Dense"]
    test = ff.utils.image_dataset_from_directory(
        str(cli_data["images_test"]), image_size=(28, 28), color_mode="grayscale",
        shuffle=False, verbose=False)
    assert test.class_names == meta["class_names"]
    acc = model.evaluate(test, verbose=0, return_dict=True)["accuracy"]
    assert acc >= 0.6, acc  # chance: 0.25


def test_fit_images_default_model_and_split(cli_data, tmp_path, capsys):
    out = tmp_path / "cnn.ff"
    code, stdout, err = run_main(capsys, "fit", "--images", cli_data["images_train"],
                                 "--image-size", "16", "16", "--epochs", "1", "--seed", "5",
                                 "--validation-split", "0.25", "--out", out)
    assert code == 0, err
    assert "Found 240 files belonging to 4 classes." in stdout
    assert "Using 180 files for training." in stdout and "Using 60 files for validation." in stdout
    model = ff.models.load_model(str(out))
    assert model._user_data["forgeflow_cli"]["color_mode"] == "rgb"
    assert model.predict(np.zeros((1, 16, 16, 3), np.float32), verbose=0).shape == (1, 4)
    # small-cnn: a Flatten after the last pooling, then dense:64 and the head
    assert _layers(model) == ["Rescaling", "Conv2D", "MaxPooling2D", "Conv2D", "MaxPooling2D",
                              "Conv2D", "MaxPooling2D", "Flatten", "Dense", "Dense"]


def test_fit_flatten_inserted_before_dense(cli_data, tmp_path, capsys):
    code, _, err = run_main(capsys, "fit", "--images", cli_data["images_train"], "--image-size",
                            "8", "8", "--color-mode", "grayscale", "--model", "conv:2,dense:4",
                            "--epochs", "1", "--verbose", "0", "--validation-split", "0",
                            "--out", tmp_path / "f.ff")
    assert code == 0, err
    model = ff.models.load_model(str(tmp_path / "f.ff"))
    assert _layers(model) == ["Rescaling", "Conv2D", "Flatten", "Dense", "Dense"]


def test_fit_same_seed_same_weights(cli_data, tmp_path, capsys):
    weights = []
    for name in ("a", "b"):
        code, _, err = run_main(capsys, "fit", "--csv", cli_data["iris_train"], "--label",
                                "species", "--epochs", "2", "--seed", "11", "--verbose", "0",
                                "--out", tmp_path / f"{name}.ff")
        assert code == 0, err
        weights.append(ff.models.load_model(str(tmp_path / f"{name}.ff")).get_weights())
    for a, b in zip(*weights):
        np.testing.assert_array_equal(a, b)


ERRORS = [
    (["--csv", "{missing}", "--label", "x"], "CSV file", "does not exist"),
    (["--csv", "{iris_train}", "--label", "price"], "label 'price' is not a column of",
     "species"),
    (["--csv", "{iris_train}"], "--csv needs --label", ""),
    (["--csv", "{iris_train}", "--label", "species", "--model", "dense:8,dens:4"],
     "--model entry 2 ('dens:4'): unknown layer 'dens'", "presets: mlp, small-cnn"),
    (["--csv", "{iris_train}", "--label", "species", "--model", "dense:many"],
     "units must be a positive integer, received 'many'", ""),
    (["--csv", "{iris_train}", "--label", "species", "--model", "dropout:1.5"],
     "dropout rate must be a number in [0, 1)", ""),
    (["--csv", "{iris_train}", "--label", "species", "--model", "dense:8:wiggle"],
     "Unknown activation function: 'wiggle'", ""),
    (["--csv", "{iris_train}", "--label", "species", "--model", "conv:8"],
     "conv works on images", "--csv data is a flat feature vector"),
    (["--csv", "{iris_train}", "--label", "species", "--model", "dense:8,"],
     "--model entry 2 is empty", ""),
    (["--csv", "{iris_train}", "--label", "species", "--task", "regression"],
     "--task regression needs a numeric label", "'setosa'"),
    (["--images", "{missing}"], "image folder", "does not exist"),
    (["--images", "{empty_classes}"], "No images found in directory", ""),
    (["--images", "{flat_folder}"], "has no sub-folders", "one per class"),
    (["--csv", "{iris_train}", "--label", "species", "--epochs", "0"],
     "--epochs must be at least 1", ""),
    (["--images", "{images_train}", "--image-size", "4", "4"],
     "--model 'small-cnn' does not fit 4x4 images", "max_pooling2d"),
    (["--images", "{images_train}", "--image-size", "100000", "100000"],
     "--image-size must be two positive integers up to 8192, at most 16777216 pixels in all",
     "[100000, 100000]"),
    (["--images", "{images_train}", "--image-size", "8192", "4096"],
     "--image-size must be two positive integers up to 8192", "[8192, 4096]"),
]


@pytest.mark.parametrize("argv, first, second", ERRORS,
                         ids=[" ".join(e[0][2:]) or e[0][0] for e in ERRORS])
def test_fit_errors_are_one_line(cli_data, tmp_path, capsys, argv, first, second):
    (tmp_path / "empty" / "a").mkdir(parents=True)
    (tmp_path / "flat").mkdir()
    (tmp_path / "flat" / "x.png").write_bytes(b"not really")
    names = dict(missing=tmp_path / "nope", empty_classes=tmp_path / "empty",
                 flat_folder=tmp_path / "flat", **cli_data)
    out = tmp_path / "out.ff"
    code, stdout, err = run_main(capsys, "fit", *[a.format(**names) for a in argv],
                                 "--out", out)
    assert code == 1
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("forgeflow: error: "), err
    assert first in lines[0] and second in lines[0]
    assert not out.exists()


def test_fit_error_from_the_console(cli_data, tmp_path):
    r = cli("fit", "--csv", cli_data["iris_train"], "--label", "price", "--out",
            tmp_path / "m.ff")
    assert r.returncode == 1
    assert r.stderr.splitlines() == [r.stderr.strip()] and "Traceback" not in r.stderr
    assert "label 'price' is not a column" in r.stderr
    r = cli("fit", "--csv", cli_data["iris_train"], "--label", "species", "--out",
            tmp_path / "no" / "m.ff")
    assert r.returncode == 1 and "does not exist" in r.stderr
    r = cli("fit", "--label", "species", "--out", tmp_path / "m.ff")  # neither --csv nor --images
    assert r.returncode == 2 and "one of the arguments --csv --images is required" in r.stderr


def test_fit_records_in_the_database_option(cli_data, tmp_path, capsys, _tracking_database):
    other = tmp_path / "other.db"
    code, _, err = run_main(capsys, "--database", other, "fit", "--csv", cli_data["iris_train"],
                            "--label", "species", "--epochs", "1", "--verbose", "0", "--name",
                            "flowers", "--out", tmp_path / "m.ff")
    assert code == 0, err
    runs = ff.tracking.list_runs(database=str(other))
    assert [r["model_name"] for r in runs] == ["flowers"]
    assert not _tracking_database.exists()  # not in FORGEFLOW_TRACKING's database
