"""Tests for Conv2DTranspose's Python API (forgeflow.layers.conv_transpose): Keras 3's defaults,
config round trip, output shapes against Keras's deconv_output_length, the kernel in Keras's
(kh, kw, filters, in_channels) layout (a single pixel gives the kernel back), values against a
NumPy scatter definition, Keras's and the stricter errors, and a convolutional autoencoder that
trains through it. The finite-difference gradient checks are the C++ tests
(tests/cpp/layers/test_conv2d_transpose.cpp)."""
import numpy as np
import pytest

import forgeflow as ff

L = ff.layers


@pytest.fixture(autouse=True)
def fresh_session():
    ff.utils.clear_session()
    ff.utils.set_random_seed(9)
    yield
    ff.utils.clear_session()


def keras_length(n, k, padding, output_padding, stride, dilation):
    """keras.src.ops.operation_utils.compute_conv_transpose_output_length."""
    k = k + (k - 1) * (dilation - 1)
    if output_padding is None:
        return n * stride + max(k - stride, 0) if padding == "valid" else n * stride
    pad = k // 2 if padding == "same" else 0
    return (n - 1) * stride + k - 2 * pad + output_padding


def np_transpose(x, kernel, bias, strides, padding, output_padding):
    """Scatter definition: every input pixel adds kernel * value into the output window it
    produces; the window start is the JAX backend's padding (keras backend_utils)."""
    n, h, w, _ = x.shape
    kh, kw, f, _ = kernel.shape
    out, start = [], []
    for size, k, s, op in zip((h, w), (kh, kw), strides, output_padding or (None, None)):
        out.append(keras_length(size, k, padding, op, s, 1))
        if padding == "valid":
            left = k - 1
        else:
            pad_len = s + k - 2 if op is None else k + k % 2 - 2 + op
            left = min(pad_len // 2 + pad_len % 2, k - 1)
        start.append(k - 1 - left)
    y = np.zeros((n, out[0], out[1], f))
    for i in range(h):
        for j in range(w):
            for a in range(kh):
                for b in range(kw):
                    oh, ow = i * strides[0] - start[0] + a, j * strides[1] - start[1] + b
                    if 0 <= oh < out[0] and 0 <= ow < out[1]:
                        y[:, oh, ow, :] += x[:, i, j, :] @ kernel[a, b].T
    return y + bias


def test_defaults_and_config():
    layer = L.Conv2DTranspose(4, 3)
    assert layer.name == "conv2d_transpose"
    cfg = layer.get_config()
    assert (cfg["strides"], cfg["padding"], cfg["output_padding"], cfg["dilation_rate"]) == (
        (1, 1), "valid", None, (1, 1))
    layer = L.Conv2DTranspose(2, (3, 2), strides=2, padding="same", output_padding=(1, 0),
                              activation="relu", use_bias=False)
    clone = L.Conv2DTranspose.from_config(layer.get_config())
    assert clone.get_config() == {**layer.get_config(), "name": layer.name}


@pytest.mark.parametrize("k,s,padding,op", [(3, 1, "valid", None), (3, 2, "same", None),
                                            (4, 2, "same", None), (3, 2, "valid", None),
                                            (3, 2, "same", 1), (5, 3, "valid", 2),
                                            (2, 3, "valid", None), ((4, 3), (2, 1), "same", None)])
def test_shapes_and_values(k, s, padding, op):
    x = np.random.default_rng(0).normal(size=(2, 3, 4, 3)).astype(np.float32)
    layer = L.Conv2DTranspose(2, k, strides=s, padding=padding, output_padding=op)
    model = ff.Sequential([ff.Input(shape=(3, 4, 3)), layer])
    kernel, bias = layer.get_weights()
    k2 = (k, k) if isinstance(k, int) else k
    assert kernel.shape == (k2[0], k2[1], 2, 3)  # (kh, kw, filters, in_channels), as Keras
    bias = np.array([0.5, -0.25], np.float32)
    layer.set_weights([kernel, bias])
    s2 = (s, s) if isinstance(s, int) else s
    want = np_transpose(x.astype(np.float64), kernel.astype(np.float64), bias, s2, padding,
                        None if op is None else (op, op))
    got = model.predict(x, verbose=0)
    assert got.shape[1:3] == (keras_length(3, k2[0], padding, op, s2[0], 1),
                              keras_length(4, k2[1], padding, op, s2[1], 1))
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def test_a_single_pixel_gives_the_kernel_back():
    layer = L.Conv2DTranspose(1, 3, use_bias=False)
    model = ff.Sequential([ff.Input(shape=(1, 1, 1)), layer])
    kernel = np.arange(9, dtype=np.float32).reshape(3, 3, 1, 1)
    layer.set_weights([kernel])
    out = model.predict(np.ones((1, 1, 1, 1), np.float32), verbose=0)
    np.testing.assert_array_equal(out[0, :, :, 0], kernel[:, :, 0, 0])


def test_errors():
    with pytest.raises(ValueError, match="Strides must be greater than output padding"):
        L.Conv2DTranspose(2, 3, strides=2, output_padding=2)
    with pytest.raises(ValueError, match="Invalid value for argument `filters`"):
        L.Conv2DTranspose(0, 3)
    with pytest.raises(ValueError, match="The `kernel_size` argument must be a tuple of 2"):
        L.Conv2DTranspose(2, (3, 3, 3))
    with pytest.raises(ValueError, match="The `padding` argument must be one of"):
        L.Conv2DTranspose(2, 3, padding="causal")
    with pytest.raises(ValueError, match="kernel_constraint is not supported"):
        L.Conv2DTranspose(2, 3, kernel_constraint="non_neg")
    with pytest.raises(ValueError, match="expected ndim=4"):
        ff.Sequential([ff.Input(shape=(4, 4)), L.Conv2DTranspose(2, 3)])


def test_autoencoder_trains_through_the_transposed_convolution():
    rng = np.random.default_rng(1)
    base = rng.normal(size=(256, 4, 4, 1)).astype(np.float32)
    x = np.repeat(np.repeat(base, 2, axis=1), 2, axis=2)  # 8x8 images of 2x2 blocks
    model = ff.Sequential([
        ff.Input(shape=(8, 8, 1)), L.Conv2D(8, 3, strides=2, padding="same", activation="relu"),
        L.Conv2DTranspose(8, 3, strides=2, padding="same", activation="relu"),
        L.Conv2DTranspose(1, 3, padding="same")])
    assert model.output_shape == (None, 8, 8, 1)
    model.compile(optimizer=ff.optimizers.Adam(0.01), loss="mse")
    before = model.evaluate(x, x, verbose=0)
    model.fit(x, x, epochs=30, batch_size=32, verbose=0)
    assert model.evaluate(x, x, verbose=0) < 0.15 * before


def test_eager_call_creates_the_kernel_and_computes():
    x = np.random.default_rng(2).normal(size=(2, 3, 3, 2)).astype(np.float32)
    layer = L.Conv2DTranspose(3, 3, strides=2, padding="same")
    y = layer(x)
    kernel, bias = layer.get_weights()
    assert y.shape == (2, 6, 6, 3) and kernel.shape == (3, 3, 3, 2)
    want = np_transpose(x.astype(np.float64), kernel.astype(np.float64), bias, (2, 2), "same",
                        None)
    np.testing.assert_allclose(y, want, rtol=1e-5, atol=1e-5)
