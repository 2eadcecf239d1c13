"""ff.data.transforms: built-in C++ map transforms, picked by position or key, in parallel with
the same results as one worker, and their strict errors surfacing in Python."""
import numpy as np
import pytest

import forgeflow as ff
from forgeflow.data import Dataset
from forgeflow.data.transforms import Cast, OneHot, Rescale


def test_rescale_and_one_hot_on_x_and_y():
    x = np.arange(12, dtype=np.uint8).reshape(6, 2)
    y = np.array([0, 1, 2, 0, 1, 2], dtype=np.int32)
    ds = Dataset.from_tensor_slices((x, y)).map(Rescale(0.5)).map(OneHot(3)).batch(6)
    bx, by = next(iter(ds))
    assert bx.dtype == np.float32 and by.dtype == np.float32
    np.testing.assert_allclose(bx, x * 0.5)
    np.testing.assert_array_equal(by, np.eye(3, dtype=np.float32)[y])


def test_transforms_pick_dict_entries_and_keep_order_in_parallel():
    a = np.arange(1000, dtype=np.int64)
    ds = Dataset.from_tensor_slices(({"a": a, "b": a * 2}, a))
    one = [e[0]["b"] for e in ds.map(Cast("float32", key="b"), num_parallel_calls=1)]
    many = [e[0]["b"] for e in ds.map(Cast("float32", key="b"), num_parallel_calls=4)]
    assert one == many and one[3] == 6.0 and isinstance(one[3], np.float32)
    with pytest.raises(ValueError, match="keys"):
        ds.map(Rescale(2.0, key="c"))


def test_cast_refuses_truncation_with_the_element():
    ds = Dataset.from_tensor_slices(np.array([1.0, 2.0, 2.5])).map(Cast("int64"),
                                                                   num_parallel_calls=2)
    with pytest.raises(ValueError, match="2.5.*element 2.*not a whole number"):
        list(ds)


def test_fit_from_a_uint8_pipeline_with_built_in_transforms():
    (x, y), _ = ff.datasets.fashion_mnist_small.load_data()
    ds = (Dataset.from_tensor_slices((x[:1024], y[:1024]))
          .map(Rescale(1 / 255), num_parallel_calls=ff.data.AUTOTUNE).map(OneHot(10)).batch(128))
    ff.utils.set_random_seed(0)
    model = ff.Sequential([ff.layers.Input(shape=(28, 28)), ff.layers.Flatten(),
                           ff.layers.Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    loss = model.fit(ds, epochs=3, verbose=0).history["loss"]
    assert loss[2] < loss[0]
