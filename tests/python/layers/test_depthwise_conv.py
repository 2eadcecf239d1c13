"""Tests for DepthwiseConv2D and SeparableConv2D's Python API (forgeflow.layers.depthwise_conv):
Keras 3's defaults, weights in Keras's names and layouts, config round trips, values against
NumPy (per-channel convolution, then the 1x1 pointwise one), Keras's and the stricter errors, and
a MobileNet-style block that trains. The finite-difference gradient checks are the C++ tests
(tests/cpp/layers/test_depthwise_conv2d.cpp, test_separable_conv2d.cpp)."""
import numpy as np
import pytest

import forgeflow as ff

L = ff.layers


@pytest.fixture(autouse=True)
def fresh_session():
    ff.utils.clear_session()
    ff.utils.set_random_seed(4)
    yield
    ff.utils.clear_session()


def np_depthwise(x, kernel, strides, padding):
    """Valid or TensorFlow-"same" depthwise correlation, output channel c * M + m."""
    n, h, w, c = x.shape
    kh, kw, _, m = kernel.shape
    if padding == "same":
        oh, ow = -(-h // strides[0]), -(-w // strides[1])
        ph = max((oh - 1) * strides[0] + kh - h, 0)
        pw = max((ow - 1) * strides[1] + kw - w, 0)
        x = np.pad(x, ((0, 0), (ph // 2, ph - ph // 2), (pw // 2, pw - pw // 2), (0, 0)))
    else:
        oh, ow = (h - kh) // strides[0] + 1, (w - kw) // strides[1] + 1
    y = np.zeros((n, oh, ow, c, m))
    for i in range(oh):
        for j in range(ow):
            patch = x[:, i * strides[0]:i * strides[0] + kh, j * strides[1]:j * strides[1] + kw]
            y[:, i, j] = np.einsum("nabc,abcm->ncm", patch, kernel)
    return y.reshape(n, oh, ow, c * m)


def test_defaults_weights_and_configs():
    dw = L.DepthwiseConv2D(3)
    sep = L.SeparableConv2D(4, 3)
    assert (dw.name, sep.name) == ("depthwise_conv2d", "separable_conv2d")
    assert dw.get_config()["depth_multiplier"] == 1
    ff.Sequential([ff.Input(shape=(6, 6, 2)), L.DepthwiseConv2D(3, depth_multiplier=2)])
    model = ff.Sequential([ff.Input(shape=(6, 6, 2)), dw])
    assert [w.shape for w in dw.get_weights()] == [(3, 3, 2, 1), (2,)]
    ff.Sequential([ff.Input(shape=(6, 6, 2)), sep])
    assert [w.shape for w in sep.get_weights()] == [(3, 3, 2, 1), (1, 1, 2, 4), (4,)]
    assert model.output_shape == (None, 4, 4, 2)
    for layer in (L.DepthwiseConv2D((3, 2), strides=2, padding="same", depth_multiplier=3,
                                    activation="relu", use_bias=False),
                  L.SeparableConv2D(5, 3, padding="same", depth_multiplier=2,
                                    pointwise_initializer="he_normal")):
        clone = type(layer).from_config(layer.get_config())
        assert clone.get_config() == {**layer.get_config(), "name": layer.name}


@pytest.mark.parametrize("strides,padding,m", [((1, 1), "valid", 1), ((2, 2), "same", 2),
                                               ((2, 1), "valid", 3)])
def test_values_match_numpy(strides, padding, m):
    x = np.random.default_rng(0).normal(size=(2, 7, 6, 3)).astype(np.float32)
    dw = L.DepthwiseConv2D(3, strides=strides, padding=padding, depth_multiplier=m)
    model = ff.Sequential([ff.Input(shape=(7, 6, 3)), dw])
    kernel, bias = dw.get_weights()
    bias = np.linspace(-1, 1, 3 * m).astype(np.float32)
    dw.set_weights([kernel, bias])
    want = np_depthwise(x.astype(np.float64), kernel.astype(np.float64), strides, padding) + bias
    np.testing.assert_allclose(model.predict(x, verbose=0), want, rtol=1e-5, atol=1e-5)
    sep = L.SeparableConv2D(4, 3, strides=strides, padding=padding, depth_multiplier=m,
                            activation="tanh")
    model = ff.Sequential([ff.Input(shape=(7, 6, 3)), sep])
    dk, pk, b = sep.get_weights()
    b = np.array([0.1, -0.2, 0.3, 0.0], np.float32)
    sep.set_weights([dk, pk, b])
    z = np_depthwise(x.astype(np.float64), dk.astype(np.float64), strides, padding)
    want = np.tanh(z @ pk[0, 0].astype(np.float64) + b)
    np.testing.assert_allclose(model.predict(x, verbose=0), want, rtol=1e-5, atol=1e-5)


def test_errors():
    with pytest.raises(ValueError, match="Invalid value for argument `depth_multiplier`"):
        L.DepthwiseConv2D(3, depth_multiplier=0)
    with pytest.raises(ValueError, match="Invalid value for argument `filters`"):
        L.SeparableConv2D(0, 3)
    with pytest.raises(ValueError, match="depthwise_constraint is not supported"):
        L.DepthwiseConv2D(3, depthwise_constraint="non_neg")
    with pytest.raises(ValueError, match="pointwise_constraint is not supported"):
        L.SeparableConv2D(2, 3, pointwise_constraint="non_neg")
    with pytest.raises(ValueError, match="only data_format='channels_last'"):
        L.SeparableConv2D(2, 3, data_format="channels_first")
    with pytest.raises(ValueError, match="the kernel is larger than the unpadded input"):
        ff.Sequential([ff.Input(shape=(2, 2, 1)), L.DepthwiseConv2D(3)])


def test_mobilenet_style_block_trains():
    # Class = which quadrant holds a bright blob: depthwise/separable features find it.
    rng = np.random.default_rng(5)
    x = rng.normal(scale=0.2, size=(400, 8, 8, 2)).astype(np.float32)
    y = rng.integers(0, 4, size=400)
    for i, q in enumerate(y):
        r, c = divmod(int(q), 2)
        x[i, r * 4 + 1:r * 4 + 3, c * 4 + 1:c * 4 + 3, :] += 1.5
    model = ff.Sequential([
        ff.Input(shape=(8, 8, 2)), L.DepthwiseConv2D(3, padding="same", depth_multiplier=2,
                                                     activation="relu"),
        L.SeparableConv2D(8, 3, strides=2, padding="same", activation="relu"),
        L.Flatten(), L.Dense(4, activation="softmax")])
    model.compile(optimizer=ff.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(x, y, epochs=15, batch_size=32, verbose=0)
    assert model.evaluate(x, y, verbose=0)[1] > 0.95


def test_eager_calls_create_the_weights_and_compute():
    x = np.random.default_rng(6).normal(size=(2, 5, 5, 3)).astype(np.float32)
    dw = L.DepthwiseConv2D(3, depth_multiplier=2, use_bias=False)
    y = dw(x)
    (kernel,) = dw.get_weights()
    np.testing.assert_allclose(y, np_depthwise(x.astype(np.float64), kernel.astype(np.float64),
                                               (1, 1), "valid"), rtol=1e-5, atol=1e-5)
    sep = L.SeparableConv2D(4, 3, padding="same")
    assert sep(x).shape == (2, 5, 5, 4)
