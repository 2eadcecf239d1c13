"""``forgeflow summary`` (python/forgeflow/cli/summary.py): the model's summary() table and
what forgeflow fit stored with it."""
import io

import numpy as np

import forgeflow as ff

from ._helpers import cli, run_main


def test_summary_of_a_fit_model(iris_model):
    r = cli("summary", iris_model)
    assert r.returncode == 0, r.stderr
    model = ff.models.load_model(str(iris_model))
    table = io.StringIO()
    model.summary(print_fn=lambda line, **_: table.write(line + "\n"))
    for line in table.getvalue().splitlines():
        assert line in r.stdout
    assert f"Total params: {model.count_params():,}" in r.stdout
    assert "Task:" in r.stdout and "classification" in r.stdout
    assert "3: setosa, versicolor, virginica" in r.stdout
    assert "Label:" in r.stdout and "species" in r.stdout
    assert "sparse_categorical_crossentropy" in r.stdout
    assert "Trained by:" in r.stdout and "--label species" in r.stdout


def test_summary_of_images_model(image_model, capsys):
    code, out, err = run_main(capsys, "summary", image_model)
    assert code == 0, err
    assert "conv2d (Conv2D)" in out and "images 28x28 grayscale" in out


def test_summary_of_a_python_saved_model(tmp_path, capsys):
    model = ff.Sequential([ff.layers.Dense(3, activation="relu", input_shape=(5,)),
                           ff.layers.Dense(2)], name="handmade")
    model.compile("adam", "mse")
    model.save(str(tmp_path / "m.ff"))
    code, out, err = run_main(capsys, "summary", tmp_path / "m.ff")
    assert code == 0, err
    assert 'Model: "handmade"' in out and "Total params: 26" in out


def test_summary_errors(tmp_path, capsys):
    model = ff.Sequential([ff.layers.Dense(2, input_shape=(3,))])
    model.save_weights(str(tmp_path / "w.ff"))
    (tmp_path / "text.ff").write_text("x" * 100)
    for path, expected in ((tmp_path / "w.ff", "holds weights only"),
                           (tmp_path / "text.ff", "not a forgeflow file"),
                           (tmp_path / "nope.ff", "does not exist"),
                           (tmp_path, "is a directory")):
        code, out, err = run_main(capsys, "summary", path)
        assert code == 1
        lines = err.splitlines()
        assert len(lines) == 1 and expected in lines[0], err
