"""Tests for forgeflow.debugging_shapes.assert_shapes."""

import re
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _load import load_module  # noqa: E402

assert_shapes = load_module("debugging_shapes.py").assert_shapes


def test_passes_with_consistent_symbols():
    x = np.zeros((32, 28, 28, 1))
    y = np.zeros((32,))
    w = np.zeros((5, 7))
    assert assert_shapes([(x, ("N", 28, 28, 1)), (y, ("N",)), (w, (None, "C")), (w, (".", 7))]) is None
    assert_shapes([(np.float32(3.0), ())])
    assert_shapes([([[1, 2, 3], [4, 5, 6]], ("R", 3))])


def test_rank_mismatch_message_exact():
    x = np.zeros((32, 28, 28))
    with pytest.raises(ValueError) as e:
        assert_shapes([(x, ("N", 28, 28, 1))])
    assert str(e.value) == (
        "Shape of tensor 0 (shape (32, 28, 28)) is incompatible with the expected "
        "rank 4 of ('N', 28, 28, 1)"
    )


def test_dimension_mismatch_names_everything():
    x = np.zeros((32, 28, 28, 3))
    with pytest.raises(ValueError) as e:
        assert_shapes([(x, ["N", 28, 28, 1])])
    assert str(e.value) == (
        "Shape of tensor 0 (shape (32, 28, 28, 3)) is incompatible with "
        "('N', 28, 28, 1): dimension 3 has size 3 but expected 1"
    )


def test_symbol_mismatch_names_fixing_tensor():
    x = np.zeros((32, 28, 28, 1))
    y = np.zeros((16,))
    with pytest.raises(ValueError) as e:
        assert_shapes([(x, ("N", 28, 28, 1)), (y, ("N",))])
    assert str(e.value) == (
        "Shape of tensor 1 (shape (16,)) is incompatible with ('N',): dimension 0 "
        "('N') has size 16, but 'N' was fixed to 32 by tensor 0 (shape (32, 28, 28, 1))"
    )
    # the same symbol twice in one tensor
    with pytest.raises(ValueError, match=r"'D' was fixed to 3 by tensor 0"):
        assert_shapes([(np.zeros((3, 4)), ("D", "D"))])


def test_leading_ellipsis():
    assert_shapes([(np.zeros((2, 3, 4, 5)), ("...", 4, "K")), (np.zeros(5), ("*", "K"))])
    assert_shapes([(np.zeros((4, 5)), ("...", 4, 5))])  # zero leading dims
    with pytest.raises(ValueError, match=re.escape(
        "Shape of tensor 0 (shape (5,)) is incompatible with the expected rank at least 2 of ('...', 4, 5)"
    )):
        assert_shapes([(np.zeros(5), ("...", 4, 5))])
    with pytest.raises(ValueError, match=r"dimension 2 has size 4 but expected 5"):
        assert_shapes([(np.zeros((1, 2, 4)), ("...", 5))])
    with pytest.raises(ValueError, match="only allowed as the first entry"):
        assert_shapes([(np.zeros((1, 2)), (1, "..."))])


def test_dict_form_and_shape_attribute():
    class Fake:
        shape = (None, 10)  # unknown batch size is not checked

    assert_shapes({Fake(): ("B", 10)})
    with pytest.raises(ValueError, match="dimension 1 has size 10 but expected 11"):
        assert_shapes({Fake(): ("B", 11)})


def test_message_name_and_data():
    with pytest.raises(ValueError) as e:
        assert_shapes([(np.zeros(3), (4,))], message="bad input", name="check", data=["extra info"])
    msg = str(e.value)
    assert msg.startswith("[check] bad input Shape of tensor 0")
    assert msg.endswith("\nextra info")


def test_bad_specs():
    with pytest.raises(TypeError, match="must be a tuple or list"):
        assert_shapes([(np.zeros(3), "N")])
    with pytest.raises(TypeError, match="entry 0 must be"):
        assert_shapes([(np.zeros(3), (2.5,))])
    with pytest.raises(TypeError, match="pairs"):
        assert_shapes([np.zeros(3)])
