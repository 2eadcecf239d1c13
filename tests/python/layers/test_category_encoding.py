"""CategoryEncoding (python/forgeflow/layers/category_encoding.py): Keras's documented examples
called on arrays, the same encodings inside a model on an int64 input, output shapes, the errors
naming the layer and the value, and the config round trip."""
import numpy as np
import pytest

import forgeflow as ff


def test_keras_examples_on_arrays():
    one_hot = ff.layers.CategoryEncoding(num_tokens=4, output_mode="one_hot")
    np.testing.assert_array_equal(one_hot([3, 2, 0, 1]), np.eye(4)[[3, 2, 0, 1]])
    multi = ff.layers.CategoryEncoding(num_tokens=4, output_mode="multi_hot")
    np.testing.assert_array_equal(multi([[0, 1], [0, 0], [1, 2], [3, 1]]),
                                  [[1, 1, 0, 0], [1, 0, 0, 0], [0, 1, 1, 0], [0, 1, 0, 1]])
    count = ff.layers.CategoryEncoding(num_tokens=4, output_mode="count")
    np.testing.assert_array_equal(count([[0, 1], [0, 0], [1, 2], [3, 1]]),
                                  [[1, 1, 0, 0], [2, 0, 0, 0], [0, 1, 1, 0], [0, 1, 0, 1]])
    assert ff.layers.CategoryEncoding(num_tokens=3).output_mode == "multi_hot"  # Keras default


@pytest.mark.parametrize("mode", ["one_hot", "multi_hot", "count"])
def test_in_a_model_matches_the_eager_encoding(mode):
    inp = ff.Input(shape=(2,), name="codes", dtype="int64")
    layer = ff.layers.CategoryEncoding(num_tokens=5, output_mode=mode)
    out = layer(inp)
    assert out.shape == ((None, 2, 5) if mode == "one_hot" else (None, 5))
    model = ff.Model(inp, out)
    x = np.array([[0, 4], [3, 3], [2, 1]], dtype=np.int64)
    np.testing.assert_array_equal(model.predict(x, verbose=0), layer(x))


def test_one_hot_replaces_a_last_axis_of_one():
    inp = ff.Input(shape=(1,), dtype="int64")
    out = ff.layers.CategoryEncoding(num_tokens=3, output_mode="one_hot")(inp)
    assert out.shape == (None, 3)
    model = ff.Model(inp, out)
    np.testing.assert_array_equal(model.predict(np.array([2, 0]), verbose=0),
                                  [[0, 0, 1], [1, 0, 0]])


def test_out_of_range_and_fractional_values_are_errors():
    layer = ff.layers.CategoryEncoding(num_tokens=3, output_mode="one_hot", name="colour_code")
    with pytest.raises(ValueError, match=r'"colour_code".*value 3.*\[0, 3\)'):
        layer([0, 3])
    with pytest.raises(ValueError, match="value -1"):
        layer([-1])
    inp = ff.Input(shape=(1,), name="code")
    model = ff.Model(inp, layer(inp))
    with pytest.raises(ValueError, match=r'"colour_code".*1\.5'):
        model.predict(np.array([[1.5]], dtype=np.float32), verbose=0)
    with pytest.raises(ValueError, match="num_tokens must be set"):
        ff.layers.CategoryEncoding()
    with pytest.raises(ValueError, match="num_tokens"):
        ff.layers.CategoryEncoding(num_tokens=0)
    with pytest.raises(ValueError, match="output_mode"):
        ff.layers.CategoryEncoding(num_tokens=2, output_mode="tf_idf")
    with pytest.raises(TypeError, match="StringLookup"):
        ff.layers.CategoryEncoding(num_tokens=2)(ff.Input(shape=(1,), dtype="string"))


def test_trains_without_gradient_to_the_indices_and_round_trips_config():
    inp = ff.Input(shape=(1,), dtype="int64")
    h = ff.layers.CategoryEncoding(num_tokens=4, output_mode="one_hot")(inp)
    model = ff.Model(inp, ff.layers.Dense(4, activation="softmax")(h))
    model.compile(optimizer=ff.optimizers.Adam(0.1), loss="sparse_categorical_crossentropy")
    x = np.array([0, 1, 2, 3] * 16, dtype=np.int64)
    y = (x + 1) % 4  # a fixed permutation: learnable only through the encoding
    model.fit(x, y, epochs=30, verbose=0)
    assert (model.predict(x, verbose=0).argmax(-1) == y).all()
    layer = ff.layers.CategoryEncoding(num_tokens=7, output_mode="count")
    clone = ff.layers.CategoryEncoding.from_config(layer.get_config())
    assert (clone.num_tokens, clone.output_mode) == (7, "count")
