"""Models used as layers (issue 17 item 4): a Sequential or functional model inside a Sequential,
or called on a symbolic tensor, is one layer of the outer model (one summary row, as in Keras)
whose graph the outer model computes with the current weights; `trainable` propagates (the
transfer-learning pattern: frozen base, new head, then unfreeze and fine-tune); `training=False`
keeps the base in inference mode (BatchNormalization on its moving statistics) while the outer
model trains, and survives save/load."""
import re

import numpy as np
import pytest

import forgeflow as ff

L = ff.layers


def _data(n=256, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 8)).astype(np.float32)
    return x, (x[:, 0] - x[:, 1] > 0).astype(np.int64)


def _base():
    ff.utils.set_random_seed(11)
    base = ff.Sequential([ff.Input(shape=(8,)), L.Dense(16, activation="relu", name="b1"),
                          L.BatchNormalization(name="bn"), L.Dense(8, activation="relu",
                                                                   name="b2")], name="base")
    head = L.Dense(2, name="pre_head")
    model = ff.Sequential([base, head])
    model.compile(ff.optimizers.Adam(0.01),
                  ff.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    x, y = _data()
    model.fit(x, y, epochs=5, verbose=0)
    return base, model


def test_a_sequential_containing_a_model_starts_from_its_weights():
    base, model = _base()
    x, _ = _data(16, seed=1)
    wrapped = ff.Sequential([base, L.Activation("linear")])
    np.testing.assert_allclose(wrapped.predict(x, verbose=0), base.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-6)
    assert [l.name for l in wrapped.layers] == ["base", "activation"]  # Keras's layers
    assert wrapped.count_params() == base.count_params()


def test_transfer_learning_frozen_base_new_head_then_fine_tune():
    base, _ = _base()
    base_weights = base.get_weights()
    base.trainable = False
    inputs = ff.Input(shape=(8,))
    features = base(inputs, training=False)
    outputs = L.Dense(2, name="new_head")(features)
    model = ff.Model(inputs, outputs)
    model.compile(ff.optimizers.Adam(0.01),
                  ff.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    assert model.count_params() == base.count_params() + 8 * 2 + 2
    assert len(model.trainable_weights) == 2  # the head only
    x, y = _data(seed=2)
    model.fit(x, y, epochs=3, verbose=0)
    frozen = model.get_weights()
    for a, b in zip(frozen[:len(base_weights)], base_weights):
        np.testing.assert_array_equal(a, b)  # the base, moving statistics included, unchanged
    assert model.evaluate(x, y, verbose=0)[1] > 0.8
    # Unfreeze and fine-tune: the base trains now, its BatchNormalization still in inference
    # mode (training=False), so its moving statistics stay as they were.
    base.trainable = True
    model.compile(ff.optimizers.Adam(1e-4),
                  ff.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    model.fit(x, y, epochs=1, verbose=0)
    tuned = model.get_weights()
    assert not np.array_equal(tuned[0], base_weights[0])  # b1's kernel moved
    names = [v.path for v in model.weights]
    for i, name in enumerate(names):
        if "moving" in name:
            np.testing.assert_array_equal(tuned[i], frozen[i])


def test_training_false_survives_save_and_load(tmp_path):
    base, _ = _base()
    inputs = ff.Input(shape=(8,))
    model = ff.Model(inputs, L.Dense(2, name="head2")(base(inputs, training=False)))
    model.compile("sgd", ff.losses.SparseCategoricalCrossentropy(from_logits=True))
    path = tmp_path / "nested.ff"
    model.save(path)
    loaded = ff.saving.load_model(path)
    x, y = _data(64, seed=3)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-6)
    moving = [i for i, v in enumerate(loaded.weights) if "moving" in v.path]
    before = [loaded.get_weights()[i] for i in moving]
    loaded.fit(x, y, epochs=1, verbose=0)
    for i, b in zip(moving, before):
        np.testing.assert_array_equal(loaded.get_weights()[i], b)


def test_a_branching_model_is_one_layer_of_a_sequential():
    a = ff.Input(shape=(4,))
    d1, d2 = L.Dense(4), L.Dense(4)
    branching = ff.Model(a, L.Add()([d1(a), d2(a)]), name="branching")
    head = L.Dense(1)
    model = ff.Sequential([branching, head])
    assert [l.name for l in model.layers] == ["branching", head.name]
    x = np.random.default_rng(0).normal(size=(5, 4)).astype(np.float32)
    k1, b1 = d1.get_weights()
    k2, b2 = d2.get_weights()
    k, b = head.get_weights()
    want = ((x @ k1 + b1) + (x @ k2 + b2)) @ k + b
    np.testing.assert_allclose(model.predict(x, verbose=0), want, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="expects inputs of shape"):
        branching(ff.Input(shape=(5,)))
    two = ff.Model([a, ff.Input(shape=(4,))], L.Dense(1)(a))
    with pytest.raises(ValueError, match="takes 2 inputs"):
        ff.Sequential([two])


def test_a_dropout_after_an_inference_only_call_still_masks_and_trains():
    # Regression: the pass's training flag leaked from an inference-only node to the next one,
    # so the Dropout after it was skipped while its buffer was its own (NaN/garbage downstream).
    rng = np.random.default_rng(0)
    x = rng.normal(size=(512, 8)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64)
    ff.utils.set_random_seed(1)
    inputs = ff.Input(shape=(8,))
    features = L.Dense(16, activation="relu")(inputs, training=False)
    out = L.Dense(2)(L.Dropout(0.2)(features))
    model = ff.Model(inputs, out)
    model.compile(ff.optimizers.Adam(1e-2),
                  ff.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    history = model.fit(x, y, batch_size=64, epochs=3, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))
    assert model.evaluate(x, y, verbose=0)[1] > 0.8


def test_summary_shows_a_nested_model_and_a_custom_layer_as_one_row_each(capsys):
    class Scale(L.Layer):
        def build(self, shape):
            self.s = self.add_weight(shape=(shape[-1],), initializer="ones", name="s")

        def call(self, x):
            return x * self.s

    base, _ = _base()
    inputs = ff.Input(shape=(8,), name="features")
    h = base(inputs, training=False)
    out = L.Dense(2, name="head")(Scale(name="scale")(h))
    model = ff.Model(inputs, out, name="outer")
    model.summary(line_length=100)
    text = capsys.readouterr().out
    rows = [line for line in text.splitlines() if line.startswith("│ ")]
    names = [r.split("│")[1].strip() for r in rows if r.split("│")[1].strip()]
    assert names == ["features (InputLayer)", "base (Sequential)", "scale (Scale)",
                     "head (Dense)"]
    base_row = next(r for r in rows if "base (Sequential)" in r)
    assert "(None, 8)" in base_row and f"{base.count_params():,}" in base_row
    scale_row = next(r for r in rows if "scale (Scale)" in r)
    assert scale_row.split("│")[3].strip() == "8"
    assert re.search(r"base\[\d\]\[0\]", scale_row)  # Keras's "Connected to"
    assert f"Total params: {base.count_params() + 8 + 18:,}" in text
    seq = ff.Sequential([base, L.Dense(1, name="out1")], name="seq")
    seq.summary()
    text = capsys.readouterr().out
    assert "base (Sequential)" in text and "b1 (Dense)" not in text
