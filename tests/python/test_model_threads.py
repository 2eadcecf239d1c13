"""One model used from several threads (issue 12, item 3): every call on a model takes its lock
(models.py's _locked and the C++ model's mutex), so concurrent calls give the results of serial
calls. Before, four threads calling predict got wrong numbers in most calls, two fits lost
optimizer steps, and fit next to predict/evaluate/set_weights crashed the process."""
import subprocess
import sys
import textwrap
import threading

import numpy as np

import forgeflow as ff

L = ff.layers


def _model(seed=3):
    ff.utils.set_random_seed(seed)
    model = ff.Sequential([L.Dense(64, activation="relu", input_shape=(20,)), L.Dense(64),
                           L.Dense(5)])
    model.compile("adam", ff.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


def _data(n=512):
    rng = np.random.default_rng(0)
    return rng.normal(size=(n, 20)).astype(np.float32), rng.integers(0, 5, n).astype(np.int64)


def _in_threads(count, target):
    errors = []

    def run(i):
        try:
            target(i)
        except BaseException as e:  # reported by the test, not lost in the thread
            errors.append(e)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors


def test_threaded_predict_matches_serial_predict():
    model = _model()
    x, _ = _data()
    serial = model.predict(x, batch_size=32, verbose=0)
    results = [[] for _ in range(4)]
    _in_threads(4, lambda i: results[i].extend(model.predict(x, batch_size=32, verbose=0)
                                               for _ in range(5)))
    for per_thread in results:
        assert len(per_thread) == 5
        for out in per_thread:
            np.testing.assert_array_equal(out, serial)
    # model(x) from threads too (the small-batch path that keeps the GIL).
    small = model(x[:8])
    calls = [[] for _ in range(4)]
    _in_threads(4, lambda i: calls[i].extend(model(x[:8]) for _ in range(20)))
    for per_thread in calls:
        for out in per_thread:
            np.testing.assert_array_equal(out, small)


def test_concurrent_fits_apply_every_step_like_serial_fits():
    x, y = _data()
    model = _model()
    start = model.get_weights()
    _in_threads(2, lambda i: model.fit(x, y, batch_size=32, epochs=2, shuffle=False, verbose=0))
    assert model.optimizer.iterations == 2 * 2 * (512 // 32)
    serial = _model()
    serial.set_weights(start)
    for _ in range(2):
        serial.fit(x, y, batch_size=32, epochs=2, shuffle=False, verbose=0)
    for a, b in zip(model.get_weights(), serial.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_fit_next_to_predict_evaluate_and_set_weights_does_not_crash(tmp_path):
    # In a subprocess: a crash (the old SIGSEGV) fails the test instead of killing pytest.
    script = textwrap.dedent("""
        import threading
        import numpy as np
        import forgeflow as ff
        L = ff.layers
        model = ff.Sequential([L.Dense(64, activation="relu", input_shape=(20,)), L.Dense(5)])
        model.compile("adam", ff.losses.SparseCategoricalCrossentropy(from_logits=True))
        rng = np.random.default_rng(0)
        x = rng.normal(size=(2048, 20)).astype(np.float32)
        y = rng.integers(0, 5, 2048).astype(np.int64)
        start = model.get_weights()
        errors = []
        def guard(f):
            def run():
                try:
                    f()
                except BaseException as e:
                    errors.append(e)
            return run
        def fitting():
            model.fit(x, y, batch_size=16, epochs=3, verbose=0)
        def others():
            for i in range(30):
                model.predict(x[:100], batch_size=7, verbose=0)
                model.evaluate(x[:100], y[:100], batch_size=9, verbose=0)
                model.layers[0].set_weights(model.layers[0].get_weights())
                if i % 10 == 0:
                    model.set_weights(start)
        threads = [threading.Thread(target=guard(fitting)), threading.Thread(target=guard(others)),
                   threading.Thread(target=guard(others))]
        for t in threads: t.start()
        for t in threads: t.join()
        assert not errors, errors
        print("ok", model.optimizer.iterations)
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.split() == ["ok", str(3 * 2048 // 16)]
