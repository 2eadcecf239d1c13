"""What fit / evaluate / predict print: Keras 3's progress bar with verbose=1 (one final line
per epoch when the output is not a terminal, never a backspace), one line per epoch with
verbose=2, nothing with verbose=0."""

import io
import re
import sys

import numpy as np
import pytest

import forgeflow as ff

L = ff.layers
BAR = "\u2501" * 20
FINAL_LINE = re.compile(
    r"^(\d+)/(\d+) ━{20} \d+s \d+(ms|us|s)/step - accuracy: \d\.\d{4} - loss: \d\.\d{4}")
VAL_SUFFIX = re.compile(r" - val_accuracy: \d\.\d{4} - val_loss: \d\.\d{4}$")
VERBOSE2_LINE = re.compile(
    r"^(\d+)/(\d+) - \d+s - \d+(ms|us|s)/step - accuracy: \d\.\d{4} - loss: \d\.\d{4}")


@pytest.fixture(autouse=True)
def fresh_session():
    ff.utils.clear_session()
    ff.utils.set_random_seed(8)
    yield


def _data(n=40, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4)).astype(np.float32)
    # noisy labels keep the loss well above 1e-3, so it prints as %.4f
    y = ((x[:, 0] + rng.normal(size=n)) > 0).astype(np.int64)
    return x, y


def _model():
    model = ff.Sequential([L.Dense(8, activation="relu", input_shape=(4,)), L.Dense(2)])
    model.compile("adam", ff.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    return model


def _lines(text):
    return [l for l in text.split("\n") if l]


def test_verbose1_one_final_line_per_epoch_with_epoch_headers(capsys):
    x, y = _data(40)
    _model().fit(x, y, epochs=3, batch_size=10, validation_split=0.25, verbose=1)
    out = capsys.readouterr().out
    assert "\b" not in out and "\r" not in out and "\x1b" not in out
    lines = _lines(out)
    assert len(lines) == 6
    for epoch in range(3):
        assert lines[2 * epoch] == f"Epoch {epoch + 1}/3"
        line = lines[2 * epoch + 1]
        m = FINAL_LINE.match(line)
        assert m, line
        assert m.group(1) == m.group(2) == "3"  # 30 training samples in batches of 10
        assert VAL_SUFFIX.search(line), line


def test_verbose1_single_epoch_has_no_epoch_header(capsys):
    x, y = _data(40)
    _model().fit(x, y, epochs=1, batch_size=32, verbose=1)
    lines = _lines(capsys.readouterr().out)
    assert len(lines) == 1
    assert not lines[0].startswith("Epoch")
    m = FINAL_LINE.match(lines[0])
    assert m and m.group(1) == m.group(2) == "2", lines[0]
    assert "val_" not in lines[0]


def test_verbose_auto_is_1(capsys):
    x, y = _data(40)
    _model().fit(x, y, epochs=1)
    lines = _lines(capsys.readouterr().out)
    assert len(lines) == 1 and FINAL_LINE.match(lines[0])


def test_metrics_sorted_and_values_are_the_history_values(capsys):
    x, y = _data(40)
    model = ff.Sequential([L.Dense(8, activation="relu", input_shape=(4,)), L.Dense(2)])
    model.compile("adam", ff.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["sparse_categorical_accuracy", "accuracy"])
    history = model.fit(x, y, epochs=2, validation_split=0.25, verbose=1)
    lines = [l for l in _lines(capsys.readouterr().out) if not l.startswith("Epoch")]
    assert len(lines) == 2
    for epoch, line in enumerate(lines):
        names = re.findall(r" - ([a-z_]+): ", line)
        assert names == ["accuracy", "loss", "sparse_categorical_accuracy", "val_accuracy",
                         "val_loss", "val_sparse_categorical_accuracy"]
        for name in names:
            shown = re.search(rf" - {name}: (\S+)", line).group(1)
            assert shown == f"{history.history[name][epoch]:.4f}"


def test_verbose2_one_line_per_epoch_without_bar(capsys):
    x, y = _data(40)
    _model().fit(x, y, epochs=2, batch_size=10, validation_split=0.25, verbose=2)
    out = capsys.readouterr().out
    assert "\b" not in out and "\r" not in out
    assert "\u2501" not in out and "\u2500" not in out
    lines = _lines(out)
    assert lines[0] == "Epoch 1/2" and lines[2] == "Epoch 2/2"
    for line in (lines[1], lines[3]):
        m = VERBOSE2_LINE.match(line)
        assert m and m.group(1) == m.group(2) == "3", line
        assert VAL_SUFFIX.search(line), line
    assert len(lines) == 4


def test_verbose0_prints_nothing(capsys):
    x, y = _data(40)
    model = _model()
    model.fit(x, y, epochs=2, validation_split=0.25, verbose=0)
    model.evaluate(x, y, verbose=0)
    model.predict(x, verbose=0)
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == ""


def test_evaluate_prints_bar_with_verbose1(capsys):
    x, y = _data(40)
    model = _model()
    loss, acc = model.evaluate(x, y, batch_size=8, verbose=1)
    lines = _lines(capsys.readouterr().out)
    assert len(lines) == 1
    m = FINAL_LINE.match(lines[0])
    assert m and m.group(1) == m.group(2) == "5", lines[0]
    assert f"accuracy: {acc:.4f}" in lines[0] and f"loss: {loss:.4f}" in lines[0]
    assert "val_" not in lines[0]
    model.evaluate(x, y, verbose=0)
    assert capsys.readouterr().out == ""


def test_predict_prints_bar_without_metrics_with_verbose1(capsys):
    x, _ = _data(40)
    model = _model()
    model.predict(x, batch_size=16, verbose=1)
    lines = _lines(capsys.readouterr().out)
    assert len(lines) == 1
    assert re.fullmatch(r"3/3 ━{20} \d+s \d+(ms|us|s)/step", lines[0]), lines[0]
    model.predict(x, verbose=0)
    assert capsys.readouterr().out == ""


def test_validation_during_fit_has_no_bar_of_its_own(capsys):
    x, y = _data(40)
    _model().fit(x, y, epochs=1, batch_size=5, validation_split=0.5, verbose=1)
    lines = _lines(capsys.readouterr().out)
    assert len(lines) == 1 and lines[0].startswith("4/4 ")


class _FakeTTY(io.StringIO):
    def isatty(self):
        return True


def test_terminal_output_redraws_in_place_without_backspaces(monkeypatch):
    fake = _FakeTTY()
    monkeypatch.setattr(sys, "stdout", fake)
    x, y = _data(40)
    _model().fit(x, y, epochs=2, batch_size=10, verbose=1)
    out = fake.getvalue()
    assert "\b" not in out
    assert out.count("\n") == 4  # two "Epoch" headers and two finished bars
    # the final redraw of each epoch ends its line
    bars = [seg for seg in out.split("\r") if seg.startswith("4/4") and seg.endswith("\n")]
    assert len(bars) == 2
    for seg in bars:
        plain = re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", seg).strip()
        assert FINAL_LINE.match(plain), plain
