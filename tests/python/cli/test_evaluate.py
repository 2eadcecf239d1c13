"""``forgeflow evaluate`` (python/forgeflow/cli/evaluate.py): the loss and metrics of the
trained model on labelled CSV rows or class folders, as the Python API computes them."""
import json
import shutil

import numpy as np
import pytest

import forgeflow as ff

from ._helpers import cli, run_main


def _printed(out):
    values = {}
    for line in out.splitlines():
        name, sep, value = line.partition(": ")
        if sep and name.strip() in ("loss", "accuracy", "mae"):
            values[name.strip()] = float(value)
    return values


def test_evaluate_csv_classifier(cli_data, iris_model):
    r = cli("evaluate", iris_model, "--csv", cli_data["iris_test"])
    assert r.returncode == 0, r.stderr
    assert "━" in r.stdout  # the progress bar
    printed = _printed(r.stdout)
    model = ff.models.load_model(str(iris_model))
    logs = model.evaluate(ff.data.csv_dataset(str(cli_data["iris_test"]), shuffle=False,
                                              schema=model._data_schema),
                          verbose=0, return_dict=True)
    assert set(printed) == {"loss", "accuracy"}
    assert printed["loss"] == pytest.approx(logs["loss"], abs=1e-4)
    assert printed["accuracy"] == pytest.approx(logs["accuracy"], abs=1e-4)
    assert printed["accuracy"] >= 0.8


def test_evaluate_csv_regression_json(cli_data, diabetes_model, capsys):
    code, out, err = run_main(capsys, "evaluate", diabetes_model, "--csv",
                              cli_data["diabetes_test"], "--json")
    assert code == 0, err
    results = json.loads(out)
    assert set(results) == {"loss", "mae"}
    test = np.loadtxt(cli_data["diabetes_test"], delimiter=",", skiprows=1, dtype=np.float32)
    pred = ff.models.load_model(str(diabetes_model)).predict(test[:, :-1], verbose=0)[:, 0]
    assert results["mae"] == pytest.approx(np.abs(pred - test[:, -1]).mean(), rel=1e-4)
    assert results["loss"] == pytest.approx(((pred - test[:, -1]) ** 2).mean(), rel=1e-4)


def test_evaluate_images(cli_data, image_model, tmp_path, capsys):
    code, out, err = run_main(capsys, "evaluate", image_model, "--images",
                              cli_data["images_test"])
    assert code == 0, err
    full = _printed(out)
    assert full["accuracy"] >= 0.6  # chance: 0.25
    # A folder with some of the classes: labels still numbered as at training time.
    part = tmp_path / "part"
    for name in ("trouser", "tshirt"):
        shutil.copytree(cli_data["images_test"] / name, part / name)
    code, out, err = run_main(capsys, "evaluate", image_model, "--images", part, "--json")
    assert code == 0, err
    accuracy = json.loads(out)["accuracy"]
    code, out, err = run_main(capsys, "predict", image_model, "--images", part)
    rows = [line.split(",") for line in out.splitlines()[1:]]
    expected = np.mean([cls == f.split("/")[0] for f, cls, _ in rows])
    assert accuracy == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize("case", ["no_label", "unknown_class_folder", "loose_images",
                                  "not_a_model"])
def test_evaluate_errors_are_one_line(cli_data, iris_model, image_model, tmp_path, capsys, case):
    if case == "no_label":
        args, expected = [iris_model, "--csv", cli_data["iris_new"]], "has no label column"
    elif case == "unknown_class_folder":
        shutil.copytree(cli_data["images_test"] / "bag", tmp_path / "f" / "bag")
        shutil.copytree(cli_data["images_test"] / "bag", tmp_path / "f" / "boot")
        args, expected = [image_model, "--images", tmp_path / "f"], "['boot'] that are not classes"
    elif case == "loose_images":
        shutil.copytree(cli_data["images_test"] / "bag", tmp_path / "f")
        args, expected = [image_model, "--images", tmp_path / "f"], "outside class sub-folders"
    else:
        shutil.copy(cli_data["iris_test"], tmp_path / "m.ff")
        args, expected = [tmp_path / "m.ff", "--csv", cli_data["iris_test"]], "not a forgeflow"
    code, out, err = run_main(capsys, "evaluate", *args)
    assert code == 1
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("forgeflow: error: ") and expected in lines[0]
