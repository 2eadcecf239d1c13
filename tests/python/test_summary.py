"""Tests for forgeflow.utils.summary (Keras 3 model.summary() table)."""

import io
import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _load import load_module  # noqa: E402

summary = load_module("utils/summary.py")

ROWS = [
    ("conv2d", "Conv2D", (None, 26, 26, 32), 320),
    ("dense", "Dense", (None, 1), 129),
]

# Exactly the table in KERAS-NOTES.md (Keras 3 rendered it at 76 columns).
EXPECTED_76 = """\
Model: "sequential"
┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━┓
┃ Layer (type)                    ┃ Output Shape           ┃       Param # ┃
┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━┩
│ conv2d (Conv2D)                 │ (None, 26, 26, 32)     │           320 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ dense (Dense)                   │ (None, 1)              │           129 │
└─────────────────────────────────┴────────────────────────┴───────────────┘
 Total params: 1,845,364 (7.04 MB)
 Trainable params: 1,845,364 (7.04 MB)
 Non-trainable params: 0 (0.00 B)"""

EXPECTED_88 = """\
Model: "my_model"
┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━┓
┃ Layer (type)                         ┃ Output Shape                ┃         Param # ┃
┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━┩
│ conv2d (Conv2D)                      │ (None, 26, 26, 32)          │             320 │
├──────────────────────────────────────┼─────────────────────────────┼─────────────────┤
│ dense (Dense)                        │ (None, 1)                   │             129 │
├──────────────────────────────────────┼─────────────────────────────┼─────────────────┤
│ a_very_long_layer_name_that_does_not │ ?                           │     0 (unbuilt) │
│ _fit (BatchNormalization)            │                             │                 │
├──────────────────────────────────────┼─────────────────────────────┼─────────────────┤
│ big (Dense)                          │ (None, 1000)                │       1,001,000 │
└──────────────────────────────────────┴─────────────────────────────┴─────────────────┘
 Total params: 1,001,449 (3.82 MB)
 Trainable params: 1,001,441 (3.82 MB)
 Non-trainable params: 8 (32.00 B)"""


@pytest.fixture(autouse=True)
def not_a_tty(monkeypatch):
    # Make the default width independent of how pytest is run.
    monkeypatch.setattr(sys, "stdout", io.StringIO())


def test_matches_keras_notes_table_at_76_columns():
    text = summary.format_summary("sequential", ROWS, 1845364, 0, line_length=76)
    assert text == EXPECTED_76
    assert all(len(line) == 76 for line in text.splitlines()[1:8])


def test_default_width_88_wrapping_unbuilt_and_separators():
    rows = ROWS + [
        ("a_very_long_layer_name_that_does_not_fit", "BatchNormalization", None, None),
        ("big", "Dense", (None, 1000), 1001000),
    ]
    text = summary.format_summary("my_model", rows, 1001441, 8)
    assert text == EXPECTED_88
    for line in text.splitlines()[1:-3]:
        assert len(line) == 88


def test_column_widths_follow_rich_reduction():
    # Keras asks 0.45/0.80/1.0 of the width; rich adds padding + borders and
    # takes the excess back evenly.
    assert summary.compute_column_widths(88, [0.45, 0.80, 1.0]) == [36, 27, 15]
    assert summary.compute_column_widths(76, [0.45, 0.80, 1.0]) == [31, 22, 13]
    with pytest.raises(ValueError, match="Insufficient width"):
        summary.compute_column_widths(10, [0.45, 0.80, 1.0])


def test_format_shape():
    assert summary.format_shape((None, 26, 26, 32)) == "(None, 26, 26, 32)"
    assert summary.format_shape((None, 1)) == "(None, 1)"
    assert summary.format_shape([None, 3]) == "(None, 3)"
    assert summary.format_shape(None) == "?"
    assert summary.format_shape([(None, 3), (None, 4)]) == "[(None, 3), (None, 4)]"


def test_readable_memory_size():
    assert summary.readable_memory_size(0) == "0.00 B"
    assert summary.readable_memory_size(1023) == "1023.00 B"
    assert summary.readable_memory_size(1024) == "1.00 KB"
    assert summary.readable_memory_size(1845364 * 4) == "7.04 MB"
    assert summary.readable_memory_size(3 * 1024**3) == "3.00 GB"


def test_built_layer_without_shape_keeps_param_count():
    text = summary.format_summary("m", [("d", "Dense", None, 10)], 10, 0, line_length=76)
    assert "│ d (Dense)                       │ ?                      │            10 │" in text


def test_connected_to_column_and_optimizer_params():
    rows = [
        ("input_layer", "InputLayer", (None, 4), 0, []),
        ("dense", "Dense", (None, 2), 10, ["input_layer[0][0]"]),
    ]
    text = summary.format_summary("functional", rows, 10, 0, optimizer_params=21)
    lines = text.splitlines()
    assert len(lines[1]) == 108
    assert lines[2].startswith("┃ Layer (type)") and lines[2].rstrip("┃ ").endswith("Connected to")
    assert lines[4].endswith("│ -                          │")
    assert "│ input_layer[0][0]          │" in lines[6]
    assert lines[-4:] == [
        " Total params: 31 (124.00 B)",
        " Trainable params: 10 (40.00 B)",
        " Non-trainable params: 0 (0.00 B)",
        " Optimizer params: 21 (84.00 B)",
    ]


def test_tty_caps_width_to_terminal(monkeypatch):
    class TTY(io.StringIO):
        def isatty(self):
            return True

    monkeypatch.setattr(sys, "stdout", TTY())
    monkeypatch.setattr(summary.shutil, "get_terminal_size", lambda *a, **k: os.terminal_size((80, 24)))
    text = summary.format_summary("sequential", ROWS, 1845364, 0)
    assert text == EXPECTED_76
    monkeypatch.setattr(summary.shutil, "get_terminal_size", lambda *a, **k: os.terminal_size((200, 24)))
    assert len(summary.format_summary("s", ROWS, 0, 0).splitlines()[1]) == 88


def test_print_summary(capsys, monkeypatch):
    got = []
    summary.print_summary("sequential", ROWS, 1845364, 0, line_length=76, print_fn=got.append)
    assert got == [EXPECTED_76]
    out = io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    summary.print_summary("sequential", ROWS, 1845364, 0, line_length=76)
    assert out.getvalue() == EXPECTED_76 + "\n"


def test_bad_positions():
    with pytest.raises(ValueError, match="positions must have 3 entries"):
        summary.format_summary("m", ROWS, 0, 0, positions=[0.5, 1.0])
