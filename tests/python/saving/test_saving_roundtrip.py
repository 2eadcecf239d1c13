"""Round trips through model.save / ff.models.load_model: every layer, loss and optimizer;
functional graphs with shared layers and several inputs/outputs; exact continuation of training
after a load (bit for bit on the CPU); save_weights / load_weights; compile=False; user data."""
import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import forgeflow as ff
from _saving_helpers import (LAYER_MODELS, assert_same_arrays, inputs_for, section, split_file,
                             targets_for)

L = ff.layers


def _json(config):
    return json.loads(json.dumps(config))


def _roundtrip(model, tmp_path, name="m.ff", **kwargs):
    path = tmp_path / name
    model.save(path)
    return ff.models.load_model(path, **kwargs)


def test_every_builtin_layer_has_a_roundtrip_case():
    builtin = {n for n in L.__all__ if isinstance(getattr(L, n), type)
               and issubclass(getattr(L, n), L.Layer) and getattr(L, n) is not L.Layer}
    assert builtin - set(LAYER_MODELS) == set(), "add the new layers to LAYER_MODELS"


@pytest.mark.parametrize("layer_name", sorted(LAYER_MODELS))
def test_layer_roundtrip_predicts_bit_for_bit(layer_name, tmp_path):
    ff.utils.set_random_seed(11)
    model = LAYER_MODELS[layer_name]()
    model.compile(optimizer="adam", loss="mse")
    x, y = inputs_for(model), targets_for(model)
    model.fit(x, y, epochs=2, batch_size=4, verbose=0)  # moves weights, moving stats, steps
    loaded = _roundtrip(model, tmp_path)
    assert type(loaded) is type(model)
    assert _json(loaded.get_config()) == _json(model.get_config())
    assert_same_arrays(loaded.get_weights(), model.get_weights())
    assert_same_arrays(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    # Training-mode calls (dropout masks, augmentation draws) continue the same streams.
    assert_same_arrays(loaded(x, training=True), model(x, training=True))
    assert [l.name for l in loaded.layers] == [l.name for l in model.layers]


def test_layer_trainable_flags_and_frozen_state_survive(tmp_path):
    model = LAYER_MODELS["BatchNormalization"]()
    model.layers[0].trainable = False
    model.layers[1].trainable = False
    loaded = _roundtrip(model, tmp_path)
    assert [l.trainable for l in loaded.layers] == [False, False, True]
    assert loaded._weight_counts() == model._weight_counts()


LOSS_CASES = {
    "MeanSquaredError": (lambda: ff.losses.MeanSquaredError(), 3, "float"),
    "MeanAbsoluteError": (lambda: ff.losses.MeanAbsoluteError(name="l1"), 3, "float"),
    "Huber": (lambda: ff.losses.Huber(delta=0.25), 3, "float"),
    "BinaryCrossentropy": (lambda: ff.losses.BinaryCrossentropy(from_logits=True), 1, "binary"),
    "CategoricalCrossentropy": (lambda: ff.losses.CategoricalCrossentropy(), 4, "onehot"),
    "SparseCategoricalCrossentropy": (
        lambda: ff.losses.SparseCategoricalCrossentropy(from_logits=True), 4, "sparse"),
}


def _targets(kind, units, n, rng):
    if kind == "float":
        return rng.normal(size=(n, units)).astype("float32")
    if kind == "binary":
        return rng.integers(0, 2, size=(n, 1)).astype("float32")
    labels = rng.integers(0, units, size=n)
    return labels if kind == "sparse" else np.eye(units, dtype="float32")[labels]


def test_every_builtin_loss_has_a_case():
    builtin = {n for n in ff.losses.__all__ if isinstance(getattr(ff.losses, n), type)
               and getattr(ff.losses, n) is not ff.losses.Loss}
    assert builtin == set(LOSS_CASES)


@pytest.mark.parametrize("loss_name", sorted(LOSS_CASES))
def test_loss_roundtrip(loss_name, tmp_path):
    make, units, kind = LOSS_CASES[loss_name]
    rng = np.random.default_rng(5)
    act = "softmax" if loss_name == "CategoricalCrossentropy" else None
    model = ff.Sequential([ff.Input(shape=(5,)), L.Dense(units, activation=act)])
    loss = make()
    model.compile(optimizer="sgd", loss=loss, metrics=["mae"] if kind == "float" else ["accuracy"])
    x = rng.normal(size=(20, 5)).astype("float32")
    y = _targets(kind, units, 20, rng)
    model.fit(x, y, epochs=1, batch_size=5, verbose=0)
    loaded = _roundtrip(model, tmp_path)
    assert type(loaded.loss) is type(loss)
    assert loaded.loss.get_config() == loss.get_config()
    assert loaded.evaluate(x, y, verbose=0) == model.evaluate(x, y, verbose=0)
    assert loaded.metrics_names == model.metrics_names


def test_metric_objects_roundtrip(tmp_path):
    model = ff.Sequential([ff.Input(shape=(3,)), L.Dense(1, activation="sigmoid")])
    model.compile(optimizer="sgd", loss="binary_crossentropy",
                  metrics=[ff.metrics.BinaryAccuracy(name="acc_at_0.3", threshold=0.3), "mse"])
    loaded = _roundtrip(model, tmp_path)
    spec = loaded._metric_specs[0]
    assert isinstance(spec[0], ff.metrics.BinaryAccuracy) and spec[0].threshold == 0.3
    assert spec[1] == "mse"
    x = np.random.default_rng(0).normal(size=(8, 3)).astype("float32")
    y = (x[:, :1] > 0).astype("float32")
    assert loaded.evaluate(x, y, verbose=0) == model.evaluate(x, y, verbose=0)


OPTIMIZERS = {
    "sgd": lambda: ff.optimizers.SGD(learning_rate=0.05),
    "sgd_nesterov": lambda: ff.optimizers.SGD(momentum=0.9, nesterov=True, clipvalue=0.5),
    "adam": lambda: ff.optimizers.Adam(learning_rate=0.01, global_clipnorm=1.0),
    "adam_amsgrad": lambda: ff.optimizers.Adam(amsgrad=True, clipnorm=0.5),
    "adamw": lambda: ff.optimizers.AdamW(learning_rate=0.01, weight_decay=0.05),
    "rmsprop": lambda: ff.optimizers.RMSprop(centered=True, momentum=0.5),
    "adagrad": lambda: ff.optimizers.Adagrad(learning_rate=0.1),
    "adam_schedule": lambda: ff.optimizers.Adam(
        learning_rate=ff.optimizers.schedules.ExponentialDecay(0.01, decay_steps=3,
                                                               decay_rate=0.5)),
    # The dynamic scale grows every 3 steps here: its state must continue exactly too.
    "loss_scale_adam_schedule": lambda: ff.mixed_precision.LossScaleOptimizer(
        ff.optimizers.Adam(learning_rate=ff.optimizers.schedules.ExponentialDecay(
            0.01, decay_steps=3, decay_rate=0.5)), initial_scale=2.0 ** 10, dynamic_growth_steps=3),
}


def test_every_builtin_optimizer_has_a_case():
    builtin = {n for n in ff.optimizers.__all__ if isinstance(getattr(ff.optimizers, n), type)
               and getattr(ff.optimizers, n) is not ff.optimizers.Optimizer}
    covered = {type(make()).__name__ for make in OPTIMIZERS.values()}
    assert builtin == covered


def _dropout_model():
    return ff.Sequential([ff.Input(shape=(6,)), L.Dense(16, activation="relu"), L.Dropout(0.3),
                          L.BatchNormalization(), L.Dense(3)])


@pytest.mark.parametrize("opt_name", sorted(OPTIMIZERS))
def test_training_continues_exactly_after_load(opt_name, tmp_path):
    """Train N epochs, save, load, train M more == train N+M without the save (bit for bit):
    weights, optimizer slots, iterations, dropout masks and shuffling all continue."""
    ff.utils.set_random_seed(3)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 6)).astype("float32")
    y = rng.integers(0, 3, size=40)
    model = _dropout_model()
    model.compile(optimizer=OPTIMIZERS[opt_name](),
                  loss=ff.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    path = tmp_path / "ckpt.ff"
    model.save(path)
    history = model.fit(x, y, epochs=3, batch_size=8, verbose=0).history  # uninterrupted run
    loaded = ff.models.load_model(path)
    assert type(loaded.optimizer) is type(model.optimizer)
    assert _json(loaded.optimizer.get_config()) == _json(OPTIMIZERS[opt_name]().get_config())
    assert loaded.optimizer.iterations == 10
    resumed = loaded.fit(x, y, epochs=3, batch_size=8, verbose=0).history
    assert resumed == history
    assert_same_arrays(loaded.get_weights(), model.get_weights())
    assert_same_arrays(loaded.optimizer._core.get_slots(), model.optimizer._core.get_slots())
    assert loaded.optimizer.iterations == model.optimizer.iterations
    assert loaded.optimizer.learning_rate == model.optimizer.learning_rate


def test_changed_learning_rate_is_saved(tmp_path):
    model = ff.Sequential([ff.Input(shape=(2,)), L.Dense(1)])
    model.compile(optimizer=ff.optimizers.SGD(learning_rate=0.1), loss="mse")
    model.optimizer.learning_rate = 0.0125  # as ReduceLROnPlateau does
    assert _roundtrip(model, tmp_path).optimizer.learning_rate == np.float32(0.0125)


_RESUME_SCRIPT = textwrap.dedent("""
    import sys, numpy as np, forgeflow as ff
    L = ff.layers
    mode, path, out = sys.argv[1], sys.argv[2], sys.argv[3]
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 6)).astype("float32"); y = rng.integers(0, 3, size=40)
    if mode == "first":
        ff.utils.set_random_seed(21)
        model = ff.Sequential([ff.Input(shape=(6,)), L.Dense(16, activation="relu"),
                               L.Dropout(0.3), L.Dense(3)])
        model.compile(optimizer="adam",
                      loss=ff.losses.SparseCategoricalCrossentropy(from_logits=True))
        model.fit(x, y, epochs=2, batch_size=8, verbose=0)
        model.save(path)
        model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    else:
        model = ff.models.load_model(path)
        model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    np.savez(out, *model.get_weights())
""")


def test_resume_in_a_new_process_matches_the_uninterrupted_run(tmp_path):
    script = tmp_path / "resume.py"
    script.write_text(_RESUME_SCRIPT)
    env = dict(os.environ)
    ckpt = tmp_path / "ckpt.ff"
    for mode in ("first", "second"):
        subprocess.run([sys.executable, str(script), mode, str(ckpt), str(tmp_path / mode)],
                       check=True, env=env, timeout=120)
    first = np.load(tmp_path / "first.npz")
    second = np.load(tmp_path / "second.npz")
    assert_same_arrays([first[k] for k in first.files], [second[k] for k in second.files])


def test_functional_shared_layers_several_inputs_and_outputs(tmp_path):
    ff.utils.set_random_seed(4)
    a, b = ff.Input(shape=(5,), name="left"), ff.Input(shape=(5,), name="right")
    shared = L.Dense(6, activation="relu", name="shared")
    ha, hb = shared(a), shared(b)               # one layer, two nodes
    twice = shared(L.Dense(5)(ha))               # a third node, deeper in the graph
    merged = L.Concatenate()([ha, hb, twice])
    out1 = L.Dense(2, name="score")(merged)
    out2 = L.Dense(1, activation="sigmoid", name="flag")(L.Add()([hb, twice]))
    model = ff.Model({"left": a, "right": b}, {"score": out1, "flag": out2}, name="two_heads")
    model.compile(optimizer="rmsprop", loss={"score": "mse", "flag": "binary_crossentropy"},
                  loss_weights={"score": 1.0, "flag": 0.5},
                  metrics={"score": ["mae"], "flag": ["accuracy"]})
    rng = np.random.default_rng(1)
    x = {"left": rng.normal(size=(24, 5)).astype("float32"),
         "right": rng.normal(size=(24, 5)).astype("float32")}
    y = {"score": rng.normal(size=(24, 2)).astype("float32"),
         "flag": rng.integers(0, 2, size=(24, 1)).astype("float32")}
    model.fit(x, y, epochs=2, batch_size=6, verbose=0)
    path = tmp_path / "graph.ff"
    model.save(path)
    loaded = ff.models.load_model(path)
    config = loaded.get_config()
    shared_entry = next(e for e in config["layers"] if e["name"] == "shared")
    assert len(shared_entry["inbound_nodes"]) == 3
    assert _json(config) == _json(model.get_config())
    assert loaded.output_names == model.output_names
    assert_same_arrays(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert loaded.count_params() == model.count_params()
    history = model.fit(x, y, epochs=2, batch_size=6, verbose=0).history
    loaded = ff.models.load_model(path)
    assert loaded.fit(x, y, epochs=2, batch_size=6, verbose=0).history == history
    assert_same_arrays(loaded.get_weights(), model.get_weights())


def test_functional_list_inputs_and_outputs_and_summary(tmp_path, capsys):
    a, b = ff.Input(shape=(3,)), ff.Input(shape=(4,))
    h = L.Concatenate()([a, b])
    model = ff.Model([a, b], [L.Dense(2)(h), L.Dense(1)(h)])
    loaded = _roundtrip(model, tmp_path)
    x = [np.ones((2, 3), "float32"), np.ones((2, 4), "float32")]
    assert_same_arrays(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    model.summary()
    first = capsys.readouterr().out
    loaded.summary()
    assert capsys.readouterr().out == first


def test_model_from_config_gives_the_same_architecture_with_fresh_weights():
    model = LAYER_MODELS["Conv2D"]()
    clone = ff.Sequential.from_config(model.get_config())
    assert _json(clone.get_config()) == _json(model.get_config())
    assert [w.shape for w in clone.get_weights()] == [w.shape for w in model.get_weights()]
    graph = LAYER_MODELS["Concatenate"]()
    clone = ff.Model.from_config(graph.get_config())
    assert _json(clone.get_config()) == _json(graph.get_config())


def test_unbuilt_and_uncompiled_models(tmp_path):
    model = ff.Sequential([L.Dense(4), L.Dense(1)])
    loaded = _roundtrip(model, tmp_path)
    assert not loaded.built and not loaded.compiled
    assert [type(l).__name__ for l in loaded.layers] == ["Dense", "Dense"]
    model.compile(optimizer="adam", loss="mse")
    loaded = _roundtrip(model, tmp_path, "compiled.ff")
    assert loaded.compiled and not loaded.built
    loaded.fit(np.ones((4, 3), "float32"), np.ones((4, 1), "float32"), verbose=0)


def test_compile_false_skips_compile_settings(tmp_path):
    model = LAYER_MODELS["Dense"]()
    model.compile(optimizer="adam", loss="mse")
    loaded = _roundtrip(model, tmp_path, compile=False)
    assert not loaded.compiled and loaded.optimizer is None
    x = inputs_for(model)
    assert_same_arrays(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_user_data_and_training_position(tmp_path):
    model = LAYER_MODELS["Dense"]()
    model._data_schema = {"columns": ["a", "b"], "dtypes": ["float32", "int64"]}
    model._training_position = {"epoch": 3, "step": 17}
    loaded = _roundtrip(model, tmp_path)
    assert loaded._data_schema == model._data_schema
    assert loaded._training_position == {"epoch": 3, "step": 17}
    tags = [t for t, _, _ in split_file((tmp_path / "m.ff").read_bytes())[1]]
    assert tags == [b"META", b"ARCH", b"WGTS", b"RNGS", b"TPOS", b"USER"]


def test_save_weights_and_load_weights(tmp_path):
    ff.utils.set_random_seed(8)
    model = LAYER_MODELS["BatchNormalization"]()
    model.compile(optimizer="adam", loss="mse")
    x, y = inputs_for(model), targets_for(model)
    model.fit(x, y, epochs=2, verbose=0)
    model.save_weights(tmp_path / "w.ff")
    other = LAYER_MODELS["BatchNormalization"]()  # fresh weights, other layer names
    assert [l.name for l in other.layers] != [l.name for l in model.layers]
    other.load_weights(tmp_path / "w.ff")
    assert_same_arrays(other.get_weights(), model.get_weights())  # moving stats included
    assert_same_arrays(other.predict(x, verbose=0), model.predict(x, verbose=0))
    # A full model file also serves load_weights.
    model.save(tmp_path / "full.ff")
    third = LAYER_MODELS["BatchNormalization"]()
    third.load_weights(tmp_path / "full.ff")
    assert_same_arrays(third.get_weights(), model.get_weights())
    # load_model refuses a weights-only file, saying what to do.
    with pytest.raises(ff.saving.ConfigError, match="load_weights"):
        ff.models.load_model(tmp_path / "w.ff")


def test_load_weights_into_a_different_model_changes_nothing(tmp_path):
    model = LAYER_MODELS["Dense"]()
    model.save_weights(tmp_path / "w.ff")
    other = ff.Sequential([ff.Input(shape=(6,)), L.Dense(5, activation="relu"), L.Dense(3)])
    before = other.get_weights()
    with pytest.raises(ff.saving.ConfigError, match="does not fit"):
        other.load_weights(tmp_path / "w.ff")
    assert_same_arrays(other.get_weights(), before)


def test_overwrite_false_refuses_an_existing_file(tmp_path):
    model = LAYER_MODELS["Dense"]()
    path = tmp_path / "m.ff"
    model.save(path)
    before = path.read_bytes()
    with pytest.raises(FileExistsError):
        model.save(path, overwrite=False)
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["m.ff"]


def test_load_restores_the_seed_sequence(tmp_path):
    ff.utils.set_random_seed(99)
    model = LAYER_MODELS["Dense"]()
    model.save(tmp_path / "m.ff")
    expected = ff._core.next_seed()
    ff.utils.set_random_seed(1)
    ff.models.load_model(tmp_path / "m.ff")
    assert ff._core.next_seed() == expected


def test_file_sections_hold_what_the_format_documents(tmp_path):
    model = LAYER_MODELS["Dense"]()
    model.compile(optimizer="adam", loss="mse")
    model.save(tmp_path / "m.ff")
    data = (tmp_path / "m.ff").read_bytes()
    meta = json.loads(section(data, b"META"))
    assert meta["kind"] == "model" and meta["forgeflow_version"] == ff.__version__
    arch = json.loads(section(data, b"ARCH"))
    assert arch["class_name"] == "Sequential"
    comp = json.loads(section(data, b"COMP"))
    assert comp["optimizer"]["class_name"] == "Adam" and comp["loss"][0]["class_name"] == \
        "MeanSquaredError"


@pytest.mark.parametrize("layer_name", sorted(LAYER_MODELS))
def test_layer_get_config_from_config(layer_name):
    model = LAYER_MODELS[layer_name]()
    for layer in model.layers:
        clone = type(layer).from_config(layer.get_config())
        assert type(clone) is type(layer)
        assert _json(clone.get_config()) == _json(layer.get_config())


def test_input_layer_config():
    layer = L.InputLayer(shape=(3, 4), name="pixels")
    clone = L.InputLayer.from_config(layer.get_config())
    assert clone.shape == (None, 3, 4) and clone.name == "pixels"


def test_loss_optimizer_metric_from_config():
    for loss in (ff.losses.Huber(delta=2.0), ff.losses.BinaryCrossentropy(from_logits=True),
                 ff.losses.MeanAbsoluteError()):
        assert type(loss).from_config(loss.get_config()).get_config() == loss.get_config()
    opt = ff.optimizers.RMSprop(learning_rate=0.01, rho=0.8, clipnorm=1.0)
    assert _json(ff.optimizers.RMSprop.from_config(opt.get_config()).get_config()) == \
        _json(opt.get_config())
    metric = ff.metrics.BinaryAccuracy(threshold=0.7)
    assert ff.metrics.BinaryAccuracy.from_config(metric.get_config()).threshold == 0.7
