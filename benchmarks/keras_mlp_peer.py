"""Keras 3 (JAX backend) peer for bench_mlp.py --device cuda: the same MLP (784-512-512-10, relu,
softmax cross-entropy from logits, Adam 1e-3, batch 128, float32 with JAX's matmul precision
"highest", i.e. no TF32) trained through model.fit on NumPy arrays, with steps_per_execution 1
and 32. For each: samples/s of the second of two epochs (best of REPEATS; the epoch's end waits
for its last step through the logged loss), and the time from building the model to the end of
a first fit of one batch. Prints one JSON line; exits 2 with the reason on stderr when Keras or
a JAX GPU is missing.

`keras_on_jax_gpu` and `fit_figures` also serve keras_conv_peer.py.

Usage: KERAS_BACKEND=jax python3 keras_mlp_peer.py DATA.npz REPEATS
"""
import json
import os
import sys
import time

import numpy as np

os.environ.setdefault("KERAS_BACKEND", "jax")


def keras_on_jax_gpu():
    """(jax, keras) when Keras 3 runs on JAX with a GPU here; else prints why not to stderr and
    returns None."""
    try:
        import jax
        import keras
    except ImportError as e:
        print(f"Keras 3 on JAX is not installed: {e}", file=sys.stderr)
        return None
    if keras.backend.backend() != "jax":
        print(f"Keras runs on {keras.backend.backend()}, not JAX (set KERAS_BACKEND=jax)",
              file=sys.stderr)
        return None
    if not any(d.platform == "gpu" for d in jax.devices()):
        print(f"JAX sees no GPU: {jax.devices()}", file=sys.stderr)
        return None
    return jax, keras


def fit_figures(keras, build, x, y, batch, repeats, spe):
    """Samples/s of the second of two epochs of model.fit (best of `repeats`) and the time from
    `build(spe)` to the end of a first fit of one batch."""

    class EpochEnds(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.ends = []

        def on_epoch_end(self, epoch, logs=None):
            float(logs["loss"])  # waits for the epoch's last step
            self.ends.append(time.perf_counter())

    t0 = time.perf_counter()
    model = build(spe)
    model.fit(x[:batch], y[:batch], batch_size=batch, epochs=1, verbose=0)
    first = time.perf_counter() - t0
    best = 0.0
    for _ in range(repeats):
        clock = EpochEnds()
        model.fit(x, y, batch_size=batch, epochs=2, verbose=0, callbacks=[clock])
        best = max(best, len(x) / (clock.ends[1] - clock.ends[0]))
    return {"samples_per_s": best, "first_step_s": first}


def main():
    data_path, repeats = sys.argv[1], int(sys.argv[2])
    found = keras_on_jax_gpu()
    if found is None:
        return 2
    jax, keras = found
    jax.config.update("jax_default_matmul_precision", "highest")
    data = np.load(data_path)
    x, y = data["x"], data["y"]

    def build(spe):
        keras.utils.set_random_seed(0)
        model = keras.Sequential([
            keras.Input((784,)),
            keras.layers.Dense(512, activation="relu"),
            keras.layers.Dense(512, activation="relu"),
            keras.layers.Dense(10)])
        model.compile(optimizer=keras.optimizers.Adam(1e-3),
                      loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                      metrics=["accuracy"], steps_per_execution=spe)
        return model

    results = {"keras": keras.__version__, "jax": jax.__version__}
    for spe in (1, 32):
        results[f"spe{spe}"] = fit_figures(keras, build, x, y, 128, repeats, spe)
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
