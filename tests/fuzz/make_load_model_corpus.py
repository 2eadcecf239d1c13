"""Writes the seed corpus of the loader fuzzer (tests/fuzz/corpus/load_model): small valid files
covering each section and model kind, plus a few damaged ones. Re-run only to add seeds.

    PYTHONPATH=python python3 tests/fuzz/make_load_model_corpus.py
"""
import os

import numpy as np

import forgeflow as ff

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "load_model")
L = ff.layers


def main():
    os.makedirs(OUT, exist_ok=True)
    ff.utils.set_random_seed(0)
    x = np.ones((2, 2), "float32")

    m = ff.Sequential([ff.Input(shape=(2,)), L.Dense(1)])
    m.compile(optimizer=ff.optimizers.SGD(momentum=0.5), loss="mse", metrics=["mae"])
    m.fit(x, np.ones((2, 1), "float32"), verbose=0)
    m._data_schema = {"columns": ["a", "b"]}
    m.save(os.path.join(OUT, "sequential_sgd.ff"))
    m.save_weights(os.path.join(OUT, "weights_only.ff"))

    ff.Sequential([L.Dense(2), L.Dropout(0.5)]).save(os.path.join(OUT, "unbuilt.ff"))

    a, b = ff.Input(shape=(2,), name="a"), ff.Input(shape=(2,), name="b")
    shared = L.Dense(2)
    h = L.Concatenate()([shared(a), shared(b)])
    g = ff.Model({"a": a, "b": b}, [L.Dense(1)(L.BatchNormalization()(h)), L.Add()([shared(a), shared(b)])])
    g.compile(optimizer=ff.optimizers.Adam(
        learning_rate=ff.optimizers.schedules.ExponentialDecay(0.1, 2, 0.5)), loss=["mse", None])
    g.save(os.path.join(OUT, "functional_adam.ff"))

    c = ff.Sequential([ff.Input(shape=(3, 3, 1)), L.Rescaling(0.5), L.RandomFlip(seed=1),
                       L.Conv2D(1, 2), L.MaxPooling2D(1), L.GlobalAveragePooling2D()])
    c.compile(optimizer="rmsprop", loss="mae")
    c.save(os.path.join(OUT, "conv.ff"))

    with open(os.path.join(OUT, "sequential_sgd.ff"), "rb") as f:
        data = f.read()
    with open(os.path.join(OUT, "truncated.ff"), "wb") as f:
        f.write(data[:len(data) // 2])
    with open(os.path.join(OUT, "empty.ff"), "wb"):
        pass
    for name in sorted(os.listdir(OUT)):
        print(name, os.path.getsize(os.path.join(OUT, name)))


if __name__ == "__main__":
    main()
