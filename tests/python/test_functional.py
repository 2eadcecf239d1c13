"""The functional API: ff.Model(inputs, outputs) over graphs of layer calls (skip connections,
shared layers, several inputs and outputs), its summary, data plumbing and errors."""
import numpy as np
import pytest

import forgeflow as ff

L = ff.layers


@pytest.fixture(autouse=True)
def fresh_names():
    ff.utils.clear_session()
    ff.utils.set_random_seed(0)


def residual_model():
    inputs = ff.Input(shape=(8,))
    h = L.Dense(16, activation="relu")(inputs)
    u = L.Dense(16, activation="relu")(h)
    s = L.Add()([h, u])
    outputs = L.Dense(1)(s)
    return ff.Model(inputs, outputs)


def test_residual_model_structure_and_summary():
    model = residual_model()
    assert model.name == "functional"
    assert [l.name for l in model.layers] == ["input_layer", "dense", "dense_1", "add", "dense_2"]
    assert model.output_shape == (None, 1)
    assert model.count_params() == (8 * 16 + 16) + (16 * 16 + 16) + (16 + 1)
    lines = []
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert "Connected to" in text
    assert "input_layer (InputLayer)" in text
    assert "dense[0][0], dense_1[0][0]" in text or ("dense[0][0]" in text and "dense_1[0][0]" in text)
    assert "Total params: 433 (1.69 KB)" in text


def test_residual_model_trains_and_predicts():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(512, 8)).astype("float32")
    y = (x[:, :1] * 2 - x[:, 1:2]).astype("float32")
    model = residual_model()
    model.compile(optimizer=ff.optimizers.Adam(0.01), loss="mse")
    history = model.fit(x, y, epochs=20, batch_size=64, verbose=0)
    assert history.history["loss"][-1] < 0.1 * history.history["loss"][0]
    np.testing.assert_allclose(model.predict(x[:10], verbose=0), model(x[:10]), rtol=1e-6)


def test_several_inputs_and_outputs_by_list_and_by_dict():
    a = ff.Input(shape=(4,), name="a")
    b = ff.Input(shape=(3,), name="b")
    shared = L.Dense(5, activation="tanh", name="shared")
    ha = shared(L.Dense(3, name="proj")(a))
    hb = shared(b)
    cat = L.Concatenate()([ha, hb])
    reg = L.Dense(1, name="reg")(cat)
    cls = L.Dense(3, name="cls")(cat)
    model = ff.Model([a, b], [reg, cls])
    assert model.output_names == ["reg", "cls"]
    assert len([l for l in model.layers if l.name == "shared"]) == 1
    model.compile(optimizer="adam",
                  loss={"reg": "mse", "cls": ff.losses.SparseCategoricalCrossentropy(from_logits=True)},
                  loss_weights={"reg": 0.5, "cls": 2.0},
                  metrics={"cls": ["accuracy"]})
    rng = np.random.default_rng(1)
    xa, xb = rng.normal(size=(64, 4)), rng.normal(size=(64, 3))
    y_reg, y_cls = rng.normal(size=(64, 1)), rng.integers(0, 3, size=64)
    logs = model.evaluate([xa, xb], [y_reg, y_cls], verbose=0, return_dict=True)
    assert set(logs) == {"loss", "reg_loss", "cls_loss", "cls_accuracy"}
    assert logs["loss"] == pytest.approx(0.5 * logs["reg_loss"] + 2.0 * logs["cls_loss"], rel=1e-6)
    by_dict = model.evaluate({"a": xa, "b": xb}, {"reg": y_reg, "cls": y_cls}, verbose=0, return_dict=True)
    assert by_dict == pytest.approx(logs)
    history = model.fit([xa, xb], [y_reg, y_cls], epochs=2, verbose=0, validation_split=0.25)
    assert {"loss", "reg_loss", "cls_loss", "cls_accuracy", "val_loss", "val_cls_accuracy"} <= set(history.history)
    preds = model.predict([xa, xb], verbose=0)
    assert isinstance(preds, list) and preds[0].shape == (64, 1) and preds[1].shape == (64, 3)


def test_dict_outputs_give_dict_predictions():
    x = ff.Input(shape=(2,))
    model = ff.Model(x, {"first": L.Dense(1)(x), "second": L.Dense(2)(x)})
    out = model.predict(np.zeros((3, 2)), verbose=0)
    assert set(out) == {"first", "second"} and out["second"].shape == (3, 2)


def test_merge_mismatch_names_both_layers_and_shapes():
    x = ff.Input(shape=(4,))
    a = L.Dense(8, name="wide")(x)
    b = L.Dense(6, name="narrow")(x)
    with pytest.raises(ValueError) as e:
        L.Add()([a, b])
    msg = str(e.value)
    assert '"wide" gives (None, 8)' in msg and '"narrow" gives (None, 6)' in msg
    assert "do not broadcast" in msg
    with pytest.raises(ValueError, match="matching shapes except for the concatenation axis"):
        L.Concatenate(axis=1)([L.Reshape((2, 4))(a), L.Reshape((3, 2))(b)])


def test_graph_errors():
    x = ff.Input(shape=(4,))
    other = ff.Input(shape=(4,), name="other")
    y = L.Add()([L.Dense(4)(x), L.Dense(4)(other)])
    with pytest.raises(ValueError, match='Graph disconnected.*"other"'):
        ff.Model(x, y)
    assert L.Dense(2)(np.zeros((3, 4))).shape == (3, 2)  # arrays: an eager call
    with pytest.raises(TypeError, match="called on dict"):
        L.Dense(2)({"x": np.zeros((3, 4))})
    with pytest.raises(ValueError, match="was built for|incompatible"):
        shared = L.Dense(2)
        shared(ff.Input(shape=(4,)))
        shared(ff.Input(shape=(5,)))
    with pytest.raises(TypeError, match="Model\\(inputs, outputs\\)"):
        ff.Model()


def test_wrong_input_shape_and_count():
    model = residual_model()
    model.compile(loss="mse")
    with pytest.raises(ValueError, match='Input 0 of layer "dense".*expected shape=\\(None, 8\\), found shape=\\(2, 7\\)'):
        model.predict(np.zeros((2, 7)), verbose=0)
    a, b = ff.Input(shape=(2,)), ff.Input(shape=(2,))
    two = ff.Model([a, b], L.Add()([a, b]))
    with pytest.raises(ValueError, match="2 inputs"):
        two.predict(np.zeros((3, 2)), verbose=0)
    with pytest.raises(ValueError, match="missing entries"):
        two.predict({"input_layer_1": np.zeros((3, 2))}, verbose=0)


def test_sequential_and_functional_agree_on_the_same_weights():
    seq = ff.Sequential([L.Dense(6, activation="relu", input_shape=(5,)), L.Dense(2)])
    x = ff.Input(shape=(5,))
    fun = ff.Model(x, L.Dense(2)(L.Dense(6, activation="relu")(x)))
    fun.set_weights(seq.get_weights())
    data = np.random.default_rng(2).normal(size=(7, 5)).astype("float32")
    np.testing.assert_array_equal(seq.predict(data, verbose=0), fun.predict(data, verbose=0))


def test_functional_merge_forms_match_the_layers():
    # Keras's ff.layers.add / multiply / average / concatenate build the same layers.
    a_in, b_in = ff.Input((3,), name="a"), ff.Input((3,), name="b")
    a = np.array([[1.0, 2.0, 3.0]], np.float32)
    b = np.array([[4.0, 5.0, 6.0]], np.float32)
    cases = [(ff.layers.add, ff.layers.Add, a + b), (ff.layers.multiply, ff.layers.Multiply, a * b),
             (ff.layers.average, ff.layers.Average, (a + b) / 2),
             (ff.layers.concatenate, ff.layers.Concatenate, np.concatenate([a, b], axis=-1))]
    for form, cls, expected in cases:
        out = form([a_in, b_in], name=f"merged_{cls.__name__.lower()}")
        model = ff.Model([a_in, b_in], out)
        assert isinstance(model.layers[-1], cls) and model.layers[-1].name.startswith("merged_")
        np.testing.assert_allclose(model.predict([a, b], verbose=0), expected)
    assert ff.layers.concatenate([a_in, b_in], axis=1).shape == (None, 6)
