"""Shape arithmetic and allocation limits through the Python API (cpp/src/core/shape.h,
Layer::build, model.cpp's plan and weight checks): configurations whose sizes overflow or pass the
per-sample (2^31 - 1 elements) or per-weight limits fail when the model is defined, with a
ValueError naming the layer, the shapes and the limit; valid but huge configurations fail before
anything is allocated with an error that says how much memory they need and what fits."""
import numpy as np
import pytest

import forgeflow as ff

L = ff.layers
LIMIT = 2**31 - 1


def test_the_limits_are_exposed():
    assert ff._core.MAX_SAMPLE_ELEMENTS == LIMIT
    assert ff._core.MAX_PARAM_ELEMENTS == LIMIT
    assert ff._core.memory_capacity() > 0


def test_zero_padding_whose_output_wrapped_fails_at_build():
    # (2^32 - 1)^2 elements per sample: the count wrapped, the kernel wrote past a tiny buffer.
    pad = ((LIMIT, LIMIT), (LIMIT, LIMIT))
    with pytest.raises(ValueError, match=r'Layer "zp" \(ZeroPadding2D\) on input '
                                         r"shape=\(None, 1, 1, 1\): the output shape=\(None, "
                                         r"4294967295, 4294967295, 1\).*limit is 2147483647"):
        ff.Sequential([ff.Input(shape=(1, 1, 1)), L.ZeroPadding2D(pad, name="zp")])
    inp = ff.Input(shape=(1, 1, 1))
    with pytest.raises(ValueError, match="2147483647"):
        L.ZeroPadding2D(pad)(inp)
    # Pads past 2^63 do not fit the core's integers at all.
    with pytest.raises((ValueError, TypeError, OverflowError)):
        ff.Sequential([ff.Input(shape=(1, 1, 1)), L.ZeroPadding2D(((2**63, 0), (0, 0)))])


def test_reshape_whose_product_wraps_fails_at_build():
    # 989540 * 1539092 * 48448661 = 4 * 2^64 + 16: accepted for a 16-element input before, and
    # the pooling after it read out of bounds.
    with pytest.raises(ValueError, match=r'Layer "r" \(Reshape\).*target_shape=\(989540, '
                                         r"1539092, 48448661\).*2147483647"):
        ff.Sequential([ff.Input(shape=(16,)), L.Reshape((989540, 1539092, 48448661), name="r"),
                       L.MaxPooling2D(2)])
    # With a -1, a product wrapping to 0 divided by zero (the process died of SIGFPE).
    with pytest.raises(ValueError, match="2147483647"):
        ff.Sequential([ff.Input(shape=(16,)), L.Reshape((2**30, 2**30, 16, -1))])


def test_weights_and_outputs_past_the_limits_fail_at_build():
    with pytest.raises(ValueError, match=r'Layer "d" \(Dense\) on input shape=\(None, 65536\): '
                                         r'weight "kernel" shape=\(65536, 65536\) has 4294967296 '
                                         r"elements; the limit is 2147483647"):
        ff.Sequential([ff.Input(shape=(65536,)), L.Dense(65536, name="d")])
    with pytest.raises(ValueError, match=r"the output shape=\(None, 2, 2147483647\)"):
        ff.Sequential([ff.Input(shape=(2,)),
                       L.CategoryEncoding(num_tokens=LIMIT, output_mode="one_hot")])
    with pytest.raises(ValueError, match=r"Input shape \(65536, 65536\) has 4294967296 values "
                                         r"per sample; the limit is 2147483647"):
        ff.Input(shape=(65536, 65536))
    with pytest.raises(ValueError, match=r"Model input 0 shape=\(None, 65536, 65536\) has "
                                         r"4294967296 elements per sample"):
        ff.Sequential([L.Flatten()]).build((None, 65536, 65536))


def _padded_model():
    """(1, 1, 1) padded by 20000 on every side (6.0 GiB per sample, within the element limit),
    pooled back to one value."""
    return ff.Sequential([ff.Input(shape=(1, 1, 1)), L.ZeroPadding2D(20000, name="pad"),
                          L.MaxPooling2D(40001, name="pool"), L.Flatten()])


def test_a_batch_larger_than_memory_is_refused_before_allocating():
    model = _padded_model()
    x = np.zeros((4096, 1, 1, 1), np.float32)
    per_sample = 4 + 40001**2 * 4
    fits = ff._core.memory_capacity() // per_sample
    # It was a MemoryError from the allocator (or the process killed) before.
    with pytest.raises(ValueError, match=r"A batch of 4096 samples needs 23\.8 TiB of buffers "
                                         r"for the model's values \(6\.0 GiB per sample; the "
                                         r'largest is the output of layer "pad" \(ZeroPadding2D\), '
                                         rf".*Use a batch_size of at most {fits}\."):
        model.predict(x, batch_size=4096, verbose=0)
    with pytest.raises(ValueError, match="A batch of 4096 samples"):
        model(x)
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(ValueError, match="A batch of 4096 samples"):
        model.fit(x, np.zeros((4096, 1), np.float32), batch_size=4096, verbose=0)


def test_outputs_larger_than_memory_are_refused_before_allocating():
    # CategoryEncoding(num_tokens=2^31 - 1): a valid config, 8 GiB of output per sample.
    inp = ff.Input(shape=(1,), dtype="int64")
    model = ff.Model(inp, L.CategoryEncoding(num_tokens=LIMIT)(inp))
    x = np.zeros((4096, 1), np.int64)
    with pytest.raises(ValueError, match=r"The outputs for 4096 samples need 32\.0 TiB \(8\.0 GiB "
                                         r"per sample for output shape \(None, 2147483647\)\)"):
        model.predict(x, batch_size=4096, verbose=0)
    with pytest.raises(ValueError, match="The outputs for 4096 samples"):
        model(x)
