"""Tests for forgeflow.utils.progbar (Keras-3-style progress bar)."""

import io
import re
import sys
import types
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _load import load_module  # noqa: E402

progbar = load_module("utils/progbar.py")
Progbar = progbar.Progbar

BAR = "\u2501" * 20
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


class FakeClock:
    def __init__(self, t=1000.0):
        self.t = t

    def __call__(self):
        return self.t


@pytest.fixture
def clock(monkeypatch):
    c = FakeClock()
    monkeypatch.setattr(progbar, "_clock", c)
    return c


class TTYStringIO(io.StringIO):
    def isatty(self):
        return True


def test_format_helpers():
    assert progbar.format_eta(5.7) == "5s"
    assert progbar.format_eta(65) == "1:05"
    assert progbar.format_eta(3725) == "1:02:05"
    assert progbar.format_time_per_unit(0.015) == "15ms/step"
    assert progbar.format_time_per_unit(2.2) == "2s/step"
    assert progbar.format_time_per_unit(0.00012) == "120us/step"
    assert progbar.format_time_per_unit(0) == "0s/step"
    assert progbar.format_time_per_unit(0.5, "sample") == "500ms/sample"
    assert progbar.format_metric_value(0.49823) == "0.4982"
    assert progbar.format_metric_value(-1.5) == "-1.5000"
    assert progbar.format_metric_value(0.0001234) == "1.2340e-04"
    assert progbar.format_metric_value(0.0) == "0.0000e+00"
    assert progbar.sort_metric_names(["val_loss", "loss", "val_accuracy", "accuracy", "mae"]) == [
        "accuracy",
        "loss",
        "mae",
        "val_accuracy",
        "val_loss",
    ]


def test_non_dynamic_prints_only_final_line(clock):
    out = io.StringIO()
    bar = Progbar(25, file=out, dynamic=False)
    for step in range(1, 26):
        clock.t += 0.015
        bar.update(step, [("loss", 0.5), ("accuracy", 0.8785)], finalize=False)
        assert out.getvalue() == ""
    # epoch end: finalize with the epoch logs (metric order given is irrelevant)
    bar.update(25, [("val_loss", 0.0227), ("loss", 0.4982), ("val_accuracy", 1.0)], finalize=True)
    text = out.getvalue()
    assert text == (
        f"25/25 {BAR} 0s 15ms/step - accuracy: 0.8785 - loss: 0.4982"
        " - val_accuracy: 1.0000 - val_loss: 0.0227\n"
    )
    assert "\r" not in text and "\b" not in text and "\x1b" not in text
    # further updates after finalize are ignored (no duplicate line)
    bar.update(25, [("loss", 0.1)], finalize=True)
    assert out.getvalue() == text


def test_elapsed_seconds_and_counter_padding(clock):
    out = io.StringIO()
    bar = Progbar(100, file=out, dynamic=False)
    clock.t += 1.0
    bar.update(1)
    clock.t += 1.0
    bar.update(100, [("loss", 2.0)])  # finalize defaults to current >= target
    # first step is ignored for the per-step estimate: (1.0) / 99 steps
    assert out.getvalue() == f"100/100 {BAR} 2s 10ms/step - loss: 2.0000\n"

    out = io.StringIO()
    clock.t = 5000.0
    bar = Progbar(100, file=out, dynamic=True)
    clock.t += 0.5
    bar.update(7)
    assert out.getvalue().startswith("\r  7/100 ")


def test_dynamic_redraws_with_carriage_return_no_backspace(clock):
    out = io.StringIO()
    bar = Progbar(4, file=out, dynamic=True, interval=0.05)
    clock.t += 0.1
    bar.update(1, [("loss", 1.0)])
    clock.t += 0.1
    bar.update(2, [("loss", 0.9)])
    clock.t += 0.01  # within the interval: no redraw
    bar.update(3, [("loss", 0.8)])
    clock.t += 0.1
    bar.update(4, [("loss", 0.7)])
    text = out.getvalue()
    assert "\b" not in text
    assert "\x1b" not in text  # not a tty: no ANSI
    frames = text.split("\r")[1:]
    assert len(frames) == 3
    assert not any(f.endswith("\n") for f in frames[:-1])
    assert frames[-1].endswith("\n") and frames[-1].count("\n") == 1
    # while running: ETA, unfinished part drawn with the light line
    done, todo = "\u2501" * 5, "\u2500" * 15
    assert frames[0] == f"1/4 {done}{todo} 0s 100ms/step - loss: 1.0000"
    assert frames[1] == f"2/4 {done * 2}{todo[:10]} 0s 100ms/step - loss: 0.9000"
    # first step excluded from the estimate: (0.31 - 0.1) s / 3 steps
    assert frames[-1] == f"4/4 {BAR} 0s 70ms/step - loss: 0.7000\n"


def test_eta_display(clock):
    out = io.StringIO()
    bar = Progbar(1000, file=out, dynamic=True)
    clock.t += 2.0
    bar.update(1)
    clock.t += 2.0
    bar.update(2)
    last = out.getvalue().split("\r")[-1]
    # 998 steps * 2 s = 1996 s -> 33:16
    assert re.match(r"^   2/1000 \u2501{0}\u2500{20} 33:16 2s/step$", last), last


def test_tty_uses_ansi_dim_and_clear_eol(clock):
    out = TTYStringIO()
    bar = Progbar(10, file=out)  # dynamic auto-detected from isatty()
    clock.t += 0.2
    bar.update(5, [("loss", 0.25)])
    clock.t += 0.2
    bar.update(10, [("loss", 0.2)])
    text = out.getvalue()
    assert "\b" not in text
    frames = text.split("\r")[1:]
    assert len(frames) == 2
    assert "\x1b[2m" + "\u2501" * 10 + "\x1b[0m" in frames[0]
    assert frames[0].endswith("\x1b[K")
    assert frames[1].endswith("\x1b[K\n")
    assert ANSI.sub("", frames[1]) == f"10/10 {BAR} 0s 40ms/step - loss: 0.2000\n"


def test_jupyter_detection_plain_carriage_return(clock, monkeypatch):
    class OutStream(io.StringIO):  # stands for ipykernel.iostream.OutStream
        pass

    fake_iostream = types.ModuleType("ipykernel.iostream")
    fake_iostream.OutStream = OutStream
    monkeypatch.setitem(sys.modules, "ipykernel.iostream", fake_iostream)
    plain = io.StringIO()  # ipykernel imported, but not a kernel's stream: final line only
    Progbar(2, file=plain).update(2)
    assert "\r" not in plain.getvalue() and plain.getvalue().startswith("2/2 ")
    out = OutStream()
    bar = Progbar(2, file=out)
    clock.t += 0.1
    bar.update(1)
    clock.t += 0.1
    bar.update(2)
    text = out.getvalue()
    assert text.count("\r") == 2 and "\x1b" not in text and "\b" not in text
    assert text.endswith("\n")


def test_verbose_2_one_line(clock):
    out = io.StringIO()
    bar = Progbar(5000, file=out, verbose=2, dynamic=True)
    for s in (1, 2500):
        clock.t += 0.004 * (1 if s == 1 else 2499)
        bar.update(s, [("loss", 1.0)])
    assert out.getvalue() == ""
    clock.t += 0.004 * 2500
    bar.update(5000, [("val_mae", 0.5), ("loss", 0.12345)])
    assert out.getvalue() == "5000/5000 - 20s - 4ms/step - loss: 0.1235 - val_mae: 0.5000\n"


def test_verbose_0_silent(clock):
    out = io.StringIO()
    bar = Progbar(3, file=out, verbose=0, dynamic=True)
    for s in (1, 2, 3):
        clock.t += 1
        bar.update(s, [("loss", 1.0)])
    assert out.getvalue() == ""


def test_default_file_is_stdout_at_call_time(clock, capsys):
    bar = Progbar(2, dynamic=False)
    clock.t += 1
    bar.update(2, {"loss": 3.0})
    assert capsys.readouterr().out == f"2/2 {BAR} 1s 500ms/step - loss: 3.0000\n"


def test_unknown_target(clock):
    out = io.StringIO()
    bar = Progbar(None, file=out, dynamic=True)
    clock.t += 0.1
    bar.update(3)
    assert out.getvalue() == "\r      3/Unknown 0s 33ms/step"
    bar.target = 3
    bar.update(3, finalize=True)
    assert out.getvalue().endswith(f"\r3/3 {BAR} 0s 33ms/step\n")


def test_add(clock):
    out = io.StringIO()
    bar = Progbar(4, file=out, dynamic=False)
    bar.add(2)
    bar.add(2, [("x", 1.0)])
    assert out.getvalue().startswith(f"4/4 {BAR}")
