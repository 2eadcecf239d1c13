"""Repeated single-sample inference (the "predict in a loop" pattern) does not grow memory and
returns identical results. No timing assertions: this checks for leaks and state, not speed."""

import gc
import os
import sys
import tracemalloc

import numpy as np
import pytest

import forgeflow as ff

L = ff.layers
CALLS = 2000
MAX_GROWTH = 100 * 1024  # bytes


@pytest.fixture
def model():
    ff.utils.clear_session()
    ff.utils.set_random_seed(4)
    m = ff.Sequential([L.Flatten(input_shape=(8, 8)), L.Dense(32, activation="relu"),
                       L.Dropout(0.2), L.Dense(10, activation="softmax")])
    m.compile("adam", "sparse_categorical_crossentropy")
    return m


def _growth(fn, calls=CALLS):
    for _ in range(50):  # warm-up: buffers for this batch size are allocated once
        fn()
    gc.collect()
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        results = [None]
        for _ in range(calls):
            results[0] = fn()
        del results
        gc.collect()
        after, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return after - before


def test_model_call_on_one_sample_does_not_grow_memory(model):
    x1 = np.random.default_rng(0).random((1, 8, 8)).astype(np.float32)
    growth = _growth(lambda: model(x1))
    assert growth < MAX_GROWTH, f"traced memory grew by {growth} bytes over {CALLS} calls"


def test_predict_on_one_sample_does_not_grow_memory(model):
    x1 = np.random.default_rng(0).random((1, 8, 8)).astype(np.float32)
    growth = _growth(lambda: model.predict(x1, verbose=0), calls=CALLS)
    assert growth < MAX_GROWTH, f"traced memory grew by {growth} bytes over {CALLS} calls"


def test_leak_detector_detects_a_leak(model):
    # guards the two tests above: keeping every output alive must exceed the limit
    x1 = np.zeros((1, 8, 8), np.float32)
    kept = []
    assert _growth(lambda: kept.append(model(x1))) > MAX_GROWTH


def _rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/statm")
def test_native_memory_does_not_grow(model):
    # tracemalloc sees only Python-side allocations; the resident set also covers the core's.
    x1 = np.random.default_rng(0).random((1, 8, 8)).astype(np.float32)
    for _ in range(200):
        model(x1)
        model.predict(x1, verbose=0)
    before = _rss()
    for _ in range(CALLS):
        model(x1)
        model.predict(x1, verbose=0)
    growth = _rss() - before
    assert growth < 2 * 1024 * 1024, f"resident memory grew by {growth} bytes over {CALLS} calls"


def test_repeated_calls_return_identical_results(model):
    rng = np.random.default_rng(1)
    x1 = rng.random((1, 8, 8)).astype(np.float32)
    x_batch = rng.random((50, 8, 8)).astype(np.float32)
    first = model(x1)
    assert first.shape == (1, 10)
    np.testing.assert_allclose(first.sum(), 1.0, rtol=1e-5)
    for i in range(CALLS):
        out = model(x1)
        assert np.array_equal(out, first), f"call {i} differs"
        assert out is not first  # a fresh array each time: callers may keep results
        if i % 500 == 0:
            # other batch sizes in between do not disturb the single-sample path
            model.predict(x_batch, verbose=0)
    np.testing.assert_array_equal(model.predict(x1, verbose=0), first)
    np.testing.assert_array_equal(model.predict_on_batch(x1), first)
    # the batch result for that sample agrees with the single-sample result
    np.testing.assert_allclose(model(np.concatenate([x1, x_batch]))[:1], first, rtol=1e-6, atol=1e-7)


def test_kept_results_are_not_overwritten(model):
    rng = np.random.default_rng(2)
    a, b = rng.random((1, 8, 8)).astype(np.float32), rng.random((1, 8, 8)).astype(np.float32)
    out_a = model(a)
    saved = out_a.copy()
    out_b = model(b)
    assert not np.array_equal(out_a, out_b)
    np.testing.assert_array_equal(out_a, saved)


def test_inference_between_training_steps_is_consistent(model):
    rng = np.random.default_rng(3)
    x = rng.random((64, 8, 8)).astype(np.float32)
    y = rng.integers(0, 10, 64).astype(np.int64)
    x1 = x[:1]
    before = model(x1)
    model.fit(x, y, epochs=1, batch_size=16, verbose=0)
    after = model(x1)
    assert not np.array_equal(before, after)  # weights moved
    for _ in range(100):
        np.testing.assert_array_equal(model(x1), after)
