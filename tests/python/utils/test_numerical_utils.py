"""ff.utils.to_categorical: Keras 3's shapes (a trailing axis of 1 dropped, classes last),
float32 output, and the errors for labels Keras would silently mangle (negative, >= num_classes,
fractional floats), each naming the value and where it is."""
import numpy as np
import pytest

import forgeflow as ff


def test_keras_example_and_float32():
    out = ff.utils.to_categorical([0, 1, 2, 3], num_classes=4)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, np.eye(4, dtype=np.float32))


def test_num_classes_inferred_from_the_largest_label():
    out = ff.utils.to_categorical(np.array([2, 0, 1, 2], dtype=np.uint8))
    assert out.shape == (4, 3)
    np.testing.assert_array_equal(out.argmax(-1), [2, 0, 1, 2])


def test_trailing_axis_of_one_is_dropped_and_other_shapes_kept():
    assert ff.utils.to_categorical(np.array([[1], [0], [2]])).shape == (3, 3)
    y = np.array([[0, 1], [2, 1]])
    out = ff.utils.to_categorical(y, num_classes=5)
    assert out.shape == (2, 2, 5)
    np.testing.assert_array_equal(out.argmax(-1), y)
    assert ff.utils.to_categorical(np.zeros((2, 3, 1), dtype=int), 2).shape == (2, 3, 2)
    # a scalar gives one row; a single (1,) label stays a batch of one
    np.testing.assert_array_equal(ff.utils.to_categorical(2, 3), [0, 0, 1])
    assert ff.utils.to_categorical([1], 2).shape == (1, 2)


def test_whole_number_floats_and_booleans_are_labels():
    np.testing.assert_array_equal(ff.utils.to_categorical(np.array([1.0, 0.0])), [[0, 1], [1, 0]])
    np.testing.assert_array_equal(ff.utils.to_categorical([True, False]), [[0, 1], [1, 0]])


def test_empty_labels_need_num_classes():
    assert ff.utils.to_categorical(np.array([], dtype=int), num_classes=3).shape == (0, 3)
    with pytest.raises(ValueError, match="cannot infer the number of classes: pass num_classes"):
        ff.utils.to_categorical([])


def test_negative_label_is_an_error_naming_it():
    with pytest.raises(ValueError, match=r"labels must be >= 0; received -1 at index 2"):
        ff.utils.to_categorical([0, 1, -1, 2])


def test_label_at_or_above_num_classes_is_an_error_naming_it():
    # Keras: IndexError for the numpy path, or a silent all-zero row in one_hot
    with pytest.raises(ValueError, match=r"labels must be < num_classes=3; received 3 at index "
                                         r"\(1, 0\) \(the largest label is 3: pass "
                                         r"num_classes=4"):
        ff.utils.to_categorical(np.array([[0, 1], [3, 2]]), num_classes=3)


def test_fractional_floats_are_refused_not_truncated():
    # Keras casts to int64: 0.9 silently becomes class 0
    with pytest.raises(ValueError, match=r"not whole numbers, e\.g\. 0\.9 at index 1\. Keras would "
                                         r"truncate them"):
        ff.utils.to_categorical(np.array([1.0, 0.9, 2.0]))
    with pytest.raises(ValueError, match="including nan at index 0"):
        ff.utils.to_categorical([np.nan, 1.0])


def test_non_numeric_labels_and_bad_num_classes():
    with pytest.raises(TypeError, match="received an array of dtype <U3"):
        ff.utils.to_categorical(["cat", "dog"])
    for bad in (0, -2, 2.5, True):
        with pytest.raises(ValueError, match=r"`num_classes` must be a positive integer or None"):
            ff.utils.to_categorical([0, 1], num_classes=bad)
    assert ff.utils.to_categorical([0, 1], num_classes=np.int64(3)).shape == (2, 3)


def test_version_is_the_package_version():
    assert ff.version() == ff.__version__
    assert isinstance(ff.version(), str) and ff.version()
