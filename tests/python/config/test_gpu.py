"""On a GPU (pytest -m gpu; skipped where none is visible, see tests/python/conftest.py): new
models are placed on the first GPU, the GPU's memory counters grow with a model's weights and
batch buffers, and a model there trains and predicts. scripts/gpu-check.sh runs these."""
import os

import numpy as np
import pytest

import forgeflow as ff

pytestmark = pytest.mark.gpu
exp = ff.config.experimental


def test_new_models_go_to_the_first_gpu():
    model = ff.Sequential([ff.Input(shape=(4,)), ff.layers.Dense(3)])
    assert model._core.device == "cuda:0"
    assert ff.config.list_logical_devices("GPU")[0].name == "/device:GPU:0"


def test_gpu_memory_info_grows_with_a_model_and_its_batches():
    before = exp.get_memory_info("GPU:0")
    model = ff.Sequential([ff.Input(shape=(2048,)), ff.layers.Dense(4096)])
    weights = exp.get_memory_info("GPU:0")
    assert weights["current"] - before["current"] >= 2048 * 4096 * 4
    model.predict(np.zeros((512, 2048), np.float32), batch_size=512, verbose=0)
    buffers = exp.get_memory_info("GPU:0")
    assert buffers["current"] - weights["current"] >= 512 * (2048 + 4096) * 4
    assert buffers["peak"] >= buffers["current"]
    exp.reset_memory_stats("GPU:0")
    info = exp.get_memory_info("GPU:0")
    assert info["peak"] == info["current"]


def test_a_small_mlp_trains_on_the_gpu():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(512, 8)).astype(np.float32)
    y = (x[:, :1] * 2.0 - x[:, 1:2]).astype(np.float32)
    model = ff.Sequential([ff.Input(shape=(8,)), ff.layers.Dense(32, activation="relu"),
                           ff.layers.Dense(1)])
    model.compile("adam", "mse")
    history = model.fit(x, y, batch_size=64, epochs=5, verbose=0)
    losses = history.history["loss"]
    assert all(np.isfinite(losses)) and losses[-1] < losses[0]
    assert model.predict(x[:10], verbose=0).shape == (10, 1)


def test_out_of_gpu_memory_raises_resource_exhausted_and_a_smaller_batch_trains():
    from forgeflow import _core
    ff.utils.clear_session()
    model = ff.Sequential([ff.Input(shape=(32,)), ff.layers.Dense(256, activation="relu"),
                           ff.layers.Dense(10)])
    model.compile("adam", ff.losses.SparseCategoricalCrossentropy(from_logits=True))
    rng = np.random.default_rng(1)
    x = rng.normal(size=(4096, 32)).astype(np.float32)
    y = rng.integers(0, 10, size=4096).astype(np.int64)
    in_use = exp.get_memory_info("GPU:0")["current"]
    # A test-only limit: the GPU's allocations fail past it as if the card were full.
    _core.set_memory_limit_for_testing("GPU:0", in_use + 1024 * 1024)
    try:
        with pytest.raises(ff.errors.ResourceExhaustedError,
                           match=r'OOM when allocating the output of layer "dense" \(Dense\) for '
                                 r'a batch of 4096 samples .* on cuda:0'):
            model.fit(x, y, batch_size=4096, verbose=0)
        assert exp.get_memory_info("GPU:0")["current"] - in_use < 4096
        history = model.fit(x, y, batch_size=32, verbose=0)
    finally:
        _core.set_memory_limit_for_testing("GPU:0", 0)
    assert np.isfinite(history.history["loss"][0])


def test_fit_keeps_small_arrays_on_the_gpu_and_streams_the_rest_with_the_same_result():
    """Arrays within the resident share are uploaded once and gathered on the GPU (no batch goes
    through the pinned slots); with the share 0 they stream through pinned memory; both train the
    same (the same shuffled order, the same kernels)."""
    rng = np.random.default_rng(1)
    x = rng.normal(size=(300, 6))  # float64: converted on upload / while staged
    y = rng.integers(0, 3, size=300).astype(np.int32)
    results = {}
    saved = exp.get_resident_array_fraction()
    try:
        for fraction in (0.25, 0.0):
            exp.set_resident_array_fraction(fraction)
            ff.utils.set_random_seed(7)
            model = ff.Sequential([ff.Input(shape=(6,)), ff.layers.Dense(16, activation="relu"),
                                   ff.layers.Dense(3)])
            model.compile("adam", ff.losses.SparseCategoricalCrossentropy(from_logits=True))
            history = model.fit(x, y, batch_size=32, epochs=3, verbose=0, validation_split=0.2)
            results[fraction] = (history.history, model.get_weights(), model._core.input_stats)
    finally:
        exp.set_resident_array_fraction(saved)
    assert results[0.25][2] is None  # nothing streamed
    assert results[0.0][2]["batches"] > 0
    assert results[0.0][2]["pinned_allocations"] <= 3
    assert results[0.25][0] == results[0.0][0]
    for a, b in zip(results[0.25][1], results[0.0][1]):
        np.testing.assert_array_equal(a, b)


def test_jpegs_decoded_by_nvjpeg_match_the_cpu_decoder(tmp_path):
    """decode_device="gpu": the same dataset as the CPU's within the documented tolerance (the
    images are smaller than twice the target, so the CPU decodes them at full size too)."""
    PIL = pytest.importorskip("PIL.Image")
    rng = np.random.default_rng(3)
    yy, xx = np.mgrid[0:90, 0:120]
    for k in range(6):
        base = np.stack([xx * 2 + k * 10, yy * 2, 255 - xx - yy], -1).astype(np.float64)
        img = np.clip(base + rng.normal(0, 6, base.shape), 0, 255).astype(np.uint8)
        os.makedirs(tmp_path / f"c{k % 2}", exist_ok=True)
        PIL.fromarray(img).save(tmp_path / f"c{k % 2}" / f"{k}.jpg", quality=90)
    counts = ff._core.data.gpu_jpeg_counts()
    args = dict(image_size=(64, 96), shuffle=False, batch_size=6, verbose=False)
    (x_cpu, y_cpu), = list(ff.utils.image_dataset_from_directory(str(tmp_path), **args))
    (x_gpu, y_gpu), = list(ff.utils.image_dataset_from_directory(str(tmp_path),
                                                                  decode_device="gpu", **args))
    assert ff._core.data.gpu_jpeg_counts()["decoded"] - counts["decoded"] == 6
    np.testing.assert_array_equal(y_cpu, y_gpu)
    diff = np.abs(np.asarray(x_cpu, np.float64) - np.asarray(x_gpu, np.float64))
    assert diff.mean() <= 3.0
    assert np.percentile(diff, 99) <= 16.0


def test_a_python_map_after_batch_feeds_the_gpu_from_pinned_memory_with_no_staging():
    """ds.batch().map(python_fn) fed to fit: from the first epoch of the first fit on (the pass
    fit looks at the first batch of is opened with the model's pinned pool), every array of every
    batch that found a pool block is copied to the GPU straight from the pinned memory the map's
    thread wrote (the loop stages only the first few, which missed), nothing is staged after
    that, and the model trains exactly as on the same values batched without a map."""
    import warnings
    rng = np.random.default_rng(2)
    x = rng.normal(size=(256, 6)).astype(np.float32)
    y = rng.integers(0, 3, size=256).astype(np.int64)

    def run(mapped):
        ff.utils.set_random_seed(5)
        model = ff.Sequential([ff.Input(shape=(6,)), ff.layers.Dense(16, activation="relu"),
                               ff.layers.Dense(3)])
        model.compile("adam", ff.losses.SparseCategoricalCrossentropy(from_logits=True))
        if mapped:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ds = ff.data.Dataset.from_tensor_slices((x, y)).batch(32).map(
                    lambda a, b: (a * 2, b), num_parallel_calls=2)
        else:
            ds = ff.data.Dataset.from_tensor_slices((x * 2, y)).batch(32)
        # Staged: only the first batches of the first epoch (they miss the pool, which has no
        # block yet, and ask for them).
        model.fit(ds, epochs=2, verbose=0)
        first = dict(model._core.input_stats)
        model.fit(ds, epochs=2, verbose=0)
        return first, model._core.input_stats, model.get_weights()

    first, later, weights = run(True)
    assert 0 < first["batch_pool_misses"] < 8 * 2
    assert first["staged_arrays"] == first["batch_pool_misses"]  # the missed ones only
    assert first["direct_arrays"] + first["staged_arrays"] == 2 * 8 * 2
    assert later["staged_arrays"] == first["staged_arrays"]
    assert later["direct_arrays"] - first["direct_arrays"] == 2 * 8 * 2  # epochs x batches x (x, y)
    assert later["batch_pool_misses"] == first["batch_pool_misses"]
    assert later["batch_pool_allocations"] == first["batch_pool_allocations"]
    for a, b in zip(weights, run(False)[2]):
        np.testing.assert_array_equal(a, b)
