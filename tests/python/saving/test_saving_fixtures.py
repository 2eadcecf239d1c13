"""Backward compatibility: files written by earlier forgeflow versions keep loading with the
same meaning. fixtures/ holds files written by format version 1 (fixtures/make_fixtures.py);
their outputs are checked against NumPy computations of the same layers, not against values
produced by forgeflow."""
import os

import numpy as np

import forgeflow as ff
from fixture_weights import functional_weights, sequential_slots, sequential_weights

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")


def _x(n, d, seed):
    return np.random.default_rng(seed).normal(size=(n, d)).astype("float32")


def test_v1_sequential_fixture():
    model = ff.models.load_model(os.path.join(FIXTURES, "v1_sequential.ff"))
    assert model.name == "v1_sequential" and [l.name for l in model.layers] == ["hidden", "out"]
    w1, b1, w2, b2 = sequential_weights()
    for got, want in zip(model.get_weights(), sequential_weights()):
        assert np.array_equal(got, want)
    x = _x(7, 3, 0)
    expected = np.maximum(x @ w1 + b1, 0) @ w2 + b2
    np.testing.assert_allclose(model.predict(x, verbose=0), expected, rtol=1e-6, atol=1e-6)
    opt = model.optimizer
    assert isinstance(opt, ff.optimizers.Adam) and opt.get_config()["amsgrad"] is True
    assert opt.learning_rate == np.float32(0.01) and opt.iterations == 5
    for got, want in zip(opt._core.get_slots(), sequential_slots(opt._core.get_slots())):
        assert np.array_equal(got, want)
    assert isinstance(model.loss, ff.losses.Huber) and model.loss.delta == 0.5
    assert model._training_position == {"epoch": 2, "step": 0}
    assert model._data_schema == {"columns": ["x0", "x1", "x2"]}
    history = model.fit(x, expected, epochs=1, verbose=0).history  # training goes on
    assert set(history) == {"loss", "mae"} and opt.iterations == 6


def test_v1_functional_fixture():
    model = ff.models.load_model(os.path.join(FIXTURES, "v1_functional.ff"))
    assert not model.compiled and model.output_names == ["y", "z"]
    kernel, bias, gamma, beta, mean, var, yk, yb = functional_weights()
    a, b = _x(5, 3, 1), _x(5, 3, 2)
    h = np.concatenate([a @ kernel + bias, b @ kernel + bias], axis=1)  # shared layer, twice
    h = gamma * (h - mean) / np.sqrt(var + 1e-3) + beta                 # inference: moving stats
    out = model.predict({"a": a, "b": b}, verbose=0)
    np.testing.assert_allclose(out["y"], 1 / (1 + np.exp(-(h @ yk + yb))), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out["z"], np.tanh(h), rtol=1e-5, atol=1e-6)


def test_every_fixture_loads():
    names = sorted(n for n in os.listdir(FIXTURES) if n.endswith(".ff"))
    assert names == ["v1_functional.ff", "v1_sequential.ff"]
    for name in names:
        ff.models.load_model(os.path.join(FIXTURES, name))
