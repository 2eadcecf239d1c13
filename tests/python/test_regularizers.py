"""ff.regularizers (issue 17 item 2): L1, L2, L1L2 with Keras's names, aliases, string forms and
defaults, applied in the C++ training step as kernel_regularizer / bias_regularizer /
activity_regularizer on Dense and the convolutions (depthwise_regularizer, pointwise_regularizer
on the depthwise ones). Checked against NumPy: the reported loss includes each penalty, one SGD
step moves the weights by the penalty's gradient as well, a frozen layer's penalty is left out
(Keras regularizes trainable weights), and the regularizers survive get_config and save/load."""
import numpy as np
import pytest

import forgeflow as ff

L = ff.layers
R = ff.regularizers


def test_classes_aliases_strings_and_defaults():
    x = np.array([[1.0, -2.0], [0.5, 0.0]], np.float32)
    np.testing.assert_allclose(R.L1(0.1)(x), 0.1 * 3.5, rtol=1e-6)
    np.testing.assert_allclose(R.L2(0.1)(x), 0.1 * 5.25, rtol=1e-6)
    np.testing.assert_allclose(R.L1L2(l1=0.1, l2=0.2)(x), 0.35 + 1.05, rtol=1e-6)
    assert R.l1 is R.L1 and R.l2 is R.L2 and R.l1_l2 is R.L1L2
    assert R.get("l1").factors() == (0.01, 0.0) and R.get("l2").factors() == (0.0, 0.01)
    assert R.get("l1_l2").factors() == (0.01, 0.01)  # Keras's documented string default
    assert R.L1L2().factors() == (0.0, 0.0)  # Keras 3's class defaults
    assert R.L1().l1 == 0.01 and R.L2().l2 == 0.01
    assert R.get(None) is None
    reg = R.L1L2(l1=0.3, l2=0.4)
    assert R.deserialize(R.serialize(reg)) == reg
    assert R.L2.from_config(R.L2(0.2).get_config()) == R.L2(0.2)
    with pytest.raises(ValueError, match="expected a non-negative float"):
        R.L2(-1.0)
    with pytest.raises(ValueError, match="Could not interpret regularizer identifier: 'l3'"):
        R.get("l3")
    with pytest.raises(TypeError, match="C\\+\\+ training step"):
        R.get(lambda w: 0.01 * np.sum(w))

    class Custom(R.Regularizer):
        def __call__(self, x):
            return 0.0

    with pytest.raises(TypeError, match="computes its own penalty"):
        L.Dense(2, kernel_regularizer=Custom())


def _fit_one_step(model, x, y, lr=0.1):
    model.compile(ff.optimizers.SGD(learning_rate=lr), "mse")
    loss = model.evaluate(x, y, batch_size=len(x), verbose=0)
    model.fit(x, y, batch_size=len(x), epochs=1, shuffle=False, verbose=0)
    return loss


def test_dense_kernel_bias_and_activity_regularizers_loss_and_gradient():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(6, 3)).astype(np.float32)
    y = rng.normal(size=(6, 2)).astype(np.float32)
    dense = L.Dense(2, kernel_regularizer=R.L2(0.1), bias_regularizer=R.L1(0.05),
                    activity_regularizer=R.L1L2(l1=0.01, l2=0.02))
    inputs = ff.Input(shape=(3,))
    model = ff.Model(inputs, dense(inputs))
    dense.set_weights([rng.normal(size=(3, 2)).astype(np.float32),
                       np.array([0.5, -0.25], np.float32)])
    k0, b0 = dense.get_weights()
    pred = x @ k0 + b0
    want = (np.mean((pred - y) ** 2) + 0.1 * np.sum(k0 ** 2) + 0.05 * np.sum(np.abs(b0))
            + 0.01 * np.sum(np.abs(pred)) + 0.02 * np.sum(pred ** 2))  # activity: whole batch
    loss = _fit_one_step(model, x, y, lr=0.1)
    np.testing.assert_allclose(loss, want, rtol=1e-5)
    g = 2 * (pred - y) / y.size + 0.01 * np.sign(pred) + 2 * 0.02 * pred
    k1 = k0 - 0.1 * (x.T @ g + 2 * 0.1 * k0)
    b1 = b0 - 0.1 * (g.sum(0) + 0.05 * np.sign(b0))
    np.testing.assert_allclose(dense.get_weights()[0], k1, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(dense.get_weights()[1], b1, rtol=1e-5, atol=1e-6)


def _penalty_difference(layer, x, y_shape, weight_index, reg):
    """evaluate's loss with the regularized layer minus the same layer's loss without the
    penalty (the layer frozen: Keras leaves a frozen layer's penalty out)."""
    inputs = ff.Input(shape=x.shape[1:])
    model = ff.Model(inputs, layer(inputs))
    model.compile("sgd", "mse")
    y = np.zeros((len(x),) + y_shape, np.float32)
    with_penalty = model.evaluate(x, y, verbose=0)
    w = layer.get_weights()[weight_index]
    layer.trainable = False
    without = model.evaluate(x, y, verbose=0)
    np.testing.assert_allclose(with_penalty - without, reg(w), rtol=1e-4)
    return model


@pytest.mark.parametrize("make, shape, index, reg", [
    (lambda r: L.Conv2D(3, 3, kernel_regularizer=r), (5, 5, 2), 0, R.L2(0.5)),
    (lambda r: L.Conv2D(3, 3, bias_regularizer=r, bias_initializer="ones"), (5, 5, 2), 1,
     R.L1(0.3)),
    (lambda r: L.Conv1D(2, 3, kernel_regularizer=r), (6, 2), 0, R.L1L2(l1=0.1, l2=0.2)),
    (lambda r: L.Conv2DTranspose(2, 3, kernel_regularizer=r), (4, 4, 2), 0, R.L2(0.5)),
    (lambda r: L.DepthwiseConv2D(3, depthwise_regularizer=r), (5, 5, 2), 0, R.L2(0.5)),
    (lambda r: L.SeparableConv2D(2, 3, depthwise_regularizer=r), (5, 5, 2), 0, R.L1(0.2)),
    (lambda r: L.SeparableConv2D(2, 3, pointwise_regularizer=r), (5, 5, 2), 1, R.L2(0.5)),
])
def test_convolution_regularizers_add_their_penalty(make, shape, index, reg):
    x = np.random.default_rng(1).normal(size=(2,) + shape).astype(np.float32)
    layer = make(reg)
    out = layer.compute_output_shape((None,) + shape)
    _penalty_difference(layer, x, tuple(out[1:]), index, reg)


def test_regularizers_survive_get_config_and_save_load(tmp_path):
    rng = np.random.default_rng(2)
    x = rng.normal(size=(8, 4)).astype(np.float32)
    y = rng.normal(size=(8, 2)).astype(np.float32)
    dense = L.Dense(2, kernel_regularizer="l2", activity_regularizer=R.L1(0.1))
    config = dense.get_config()
    assert config["kernel_regularizer"] == {"class_name": "L2", "config": {"l2": 0.01}}
    assert config["activity_regularizer"] == {"class_name": "L1", "config": {"l1": 0.1}}
    assert config["bias_regularizer"] is None
    again = L.Dense.from_config(config)
    assert again.kernel_regularizer == R.L2(0.01) and again.activity_regularizer == R.L1(0.1)
    model = ff.Sequential([ff.Input(shape=(4,)), dense])
    model.compile("sgd", "mse")
    loss = model.evaluate(x, y, verbose=0)
    model.save(tmp_path / "reg.ff")
    loaded = ff.models.load_model(tmp_path / "reg.ff")
    np.testing.assert_allclose(loaded.evaluate(x, y, verbose=0), loss, rtol=1e-6)
    k, b = dense.get_weights()
    pred = x @ k + b
    np.testing.assert_allclose(loss, np.mean((pred - y) ** 2) + 0.01 * np.sum(k ** 2)
                               + 0.1 * np.sum(np.abs(pred)), rtol=1e-5)


def test_layer_losses_report_the_penalties_of_trainable_weights():
    dense = L.Dense(2, kernel_regularizer=R.L2(1e-3), bias_regularizer=R.L1(0.5),
                    bias_initializer="ones")
    dense(np.zeros((1, 3), np.float32))
    k, b = dense.get_weights()
    np.testing.assert_allclose(dense.losses, [1e-3 * np.sum(k ** 2), 0.5 * np.sum(np.abs(b))],
                               rtol=1e-6)
    dense.trainable = False
    assert dense.losses == []
    no_bias = L.Dense(2, use_bias=False, bias_regularizer="l1")  # unused, as in Keras
    ff.Sequential([ff.Input(shape=(3,)), no_bias]).compile("sgd", "mse")
