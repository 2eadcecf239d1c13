"""Arrays of any numeric dtype are converted batch by batch at the model boundary, never copied
whole (issue 12, item 12): a uint8 memmap trains with steps_per_epoch without its float32 copy
(4x its size) ever existing, and uint8, float64, int and bool inputs train to exactly what the
same values as float32 give."""
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import forgeflow as ff


def _fit_weights(x, y, **kwargs):
    ff.utils.set_random_seed(5)
    model = ff.Sequential([ff.layers.Dense(4, activation="relu", input_shape=x.shape[1:]),
                           ff.layers.Dense(3)])
    model.compile("adam", ff.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(x, y, batch_size=8, epochs=2, verbose=0, **kwargs)
    return model.get_weights(), model.predict(x[:5], verbose=0)


@pytest.mark.parametrize("dtype", [np.uint8, np.float64, np.int16, np.float16, np.bool_])
def test_other_dtypes_train_like_their_float32_values(dtype):
    rng = np.random.default_rng(1)
    x = (rng.random((40, 6)) * (2 if dtype == np.bool_ else 50)).astype(dtype)
    for y_dtype in (np.int64, np.uint8, np.int32):
        y = rng.integers(0, 3, 40).astype(y_dtype)
        want, want_pred = _fit_weights(x.astype(np.float32), y.astype(np.int64))
        got, got_pred = _fit_weights(x, y)
        for a, b in zip(got, want):
            np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(got_pred, want_pred)


def test_a_non_contiguous_or_big_endian_array_works():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(40, 12)).astype(np.float32)
    y = rng.integers(0, 3, 40)
    want, _ = _fit_weights(np.ascontiguousarray(x[:, ::2]), y)
    got, _ = _fit_weights(x[:, ::2], y)  # a strided view
    for a, b in zip(got, want):
        np.testing.assert_array_equal(a, b)
    got, _ = _fit_weights(np.ascontiguousarray(x[:, ::2]).astype(">f4"), y)
    for a, b in zip(got, want):
        np.testing.assert_array_equal(a, b)


def test_a_uint8_memmap_is_never_copied_whole(tmp_path):
    # 96 MB of uint8 images: their float32 copy would be 384 MB. The peak memory of the process
    # must stay far below that.
    script = textwrap.dedent(f"""
        import resource
        import numpy as np
        import forgeflow as ff
        rows = 122_880
        path = {str(tmp_path / "images.u8")!r}
        x = np.lib.format.open_memmap(path, mode="w+", dtype=np.uint8, shape=(rows, 28, 28))
        x[:1024] = 7
        x.flush()
        del x
        x = np.load(path, mmap_mode="r")
        y = (np.arange(rows) % 10).astype(np.uint8)
        model = ff.Sequential([ff.layers.Flatten(input_shape=(28, 28)),
                               ff.layers.Rescaling(1 / 255), ff.layers.Dense(10)])
        model.compile("adam", ff.losses.SparseCategoricalCrossentropy(from_logits=True))
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        model.fit(x, y, batch_size=32, epochs=1, steps_per_epoch=20, verbose=0)
        model.evaluate(x, y, batch_size=256, steps=4, verbose=0)
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(model.optimizer.iterations, (after - before) // 1024)
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    iterations, grown_mb = map(int, done.stdout.split())
    assert iterations == 20
    assert grown_mb < 48, f"fit grew the process by {grown_mb} MB"
