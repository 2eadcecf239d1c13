"""Tests for the resizing layers' Python API (forgeflow.layers.reshaping): UpSampling2D and
Cropping2D with Keras 3's names, defaults, argument forms and messages, values against NumPy
(np.repeat, slicing) and TensorFlow's known half-pixel bilinear result, gradients reaching the
layers before them (a model trains through them), and config round trips. The finite-difference
gradient checks are the C++ tests (tests/cpp/layers/test_up_sampling2d.cpp,
test_cropping2d.cpp)."""
import numpy as np
import pytest

import forgeflow as ff

L = ff.layers


@pytest.fixture(autouse=True)
def fresh_session():
    ff.utils.clear_session()
    ff.utils.set_random_seed(3)
    yield
    ff.utils.clear_session()


def _apply(layer, x):
    return ff.Sequential([ff.Input(shape=x.shape[1:]), layer]).predict(x, verbose=0)


def _rand(shape, seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, size=shape).astype(np.float32)


def test_names_defaults_and_argument_forms():
    up, crop = L.UpSampling2D(), L.Cropping2D()
    assert (up.name, crop.name) == ("up_sampling2d", "cropping2d")
    assert up.get_config()["size"] == (2, 2) and up.get_config()["interpolation"] == "nearest"
    assert crop.get_config()["cropping"] == ((0, 0), (0, 0))
    assert L.UpSampling2D(3).size == (3, 3)
    assert L.UpSampling2D(interpolation="BILINEAR").interpolation == "bilinear"
    assert L.Cropping2D(2).cropping == ((2, 2), (2, 2))
    assert L.Cropping2D((1, 3)).cropping == ((1, 1), (3, 3))
    assert L.Cropping2D(((0, 1), (2, 3))).cropping == ((0, 1), (2, 3))
    for layer in (L.UpSampling2D((2, 3), interpolation="bilinear"), L.Cropping2D(((1, 0), (2, 1)))):
        clone = type(layer).from_config(layer.get_config())
        assert clone.get_config() == {**layer.get_config(), "name": layer.name}


def test_values():
    x = _rand((2, 3, 4, 2))
    want = np.repeat(np.repeat(x, 2, axis=1), 3, axis=2)
    np.testing.assert_array_equal(_apply(L.UpSampling2D((2, 3)), x), want)
    np.testing.assert_array_equal(_apply(L.Cropping2D(((1, 0), (1, 2))), x), x[:, 1:, 1:2, :])
    # tf.image.resize([[1, 2], [3, 4]], (4, 4), "bilinear"), as Keras's UpSampling2D computes.
    img = np.array([[1, 2], [3, 4]], dtype=np.float32).reshape(1, 2, 2, 1)
    tf_result = np.array([[1.0, 1.25, 1.75, 2.0], [1.5, 1.75, 2.25, 2.5],
                          [2.5, 2.75, 3.25, 3.5], [3.0, 3.25, 3.75, 4.0]], dtype=np.float32)
    got = _apply(L.UpSampling2D(interpolation="bilinear"), img)
    np.testing.assert_allclose(got[0, :, :, 0], tf_result, rtol=1e-6)


def test_errors():
    with pytest.raises(ValueError, match="interpolation='bicubic' is not supported; the "
                                         "supported ones are 'nearest' and 'bilinear'"):
        L.UpSampling2D(interpolation="bicubic")
    with pytest.raises(ValueError, match="The `size` argument must be a tuple of 2 integers"):
        L.UpSampling2D(size=(2, 0))
    with pytest.raises(ValueError, match="only data_format='channels_last'"):
        L.UpSampling2D(data_format="channels_first")
    with pytest.raises(ValueError, match="`cropping` cannot be negative"):
        L.Cropping2D(-1)
    with pytest.raises(ValueError, match="`cropping` should have two elements"):
        L.Cropping2D((1, 2, 3))
    with pytest.raises(ValueError, match="1st entry of cropping"):
        L.Cropping2D(((1, -1), (0, 0)))
    with pytest.raises(ValueError, match="`cropping` should be either an int"):
        L.Cropping2D("1")
    with pytest.raises(ValueError, match=r'Layer "crop" \(Cropping2D\): Values in `cropping` '
                                         r"argument should be smaller"):
        ff.Sequential([ff.Input(shape=(4, 4, 1)), L.Cropping2D(((2, 2), (0, 0)), name="crop")])
    with pytest.raises(ValueError, match=r"expected ndim=4"):
        ff.Sequential([ff.Input(shape=(4, 4)), L.UpSampling2D()])


def test_a_decoder_trains_through_upsampling_and_cropping():
    # An encoder-decoder (conv, pool, upsample, crop) learns to reproduce smooth 6x6 images.
    rng = np.random.default_rng(0)
    base = rng.normal(size=(256, 3, 3, 1)).astype(np.float32)
    x = np.repeat(np.repeat(base, 2, axis=1), 2, axis=2)
    for interpolation in ("nearest", "bilinear"):
        ff.utils.set_random_seed(1)
        model = ff.Sequential([
            ff.Input(shape=(6, 6, 1)), L.Conv2D(4, 3, padding="same"), L.MaxPooling2D(2),
            L.UpSampling2D(2, interpolation=interpolation), L.ZeroPadding2D(1),
            L.Cropping2D(1), L.Conv2D(1, 3, padding="same")])
        model.compile(optimizer=ff.optimizers.Adam(0.02), loss="mse")
        before = model.evaluate(x, x, verbose=0)
        model.fit(x, x, epochs=30, batch_size=32, verbose=0)
        after = model.evaluate(x, x, verbose=0)
        assert after < 0.2 * before, (interpolation, before, after)


def test_eager_calls_match_predict():
    x = _rand((2, 3, 4, 2))
    for make in (lambda: L.UpSampling2D((2, 3), interpolation="bilinear"),
                 lambda: L.Cropping2D(((1, 0), (1, 2)))):
        np.testing.assert_allclose(make()(x), _apply(make(), x), rtol=1e-6)
