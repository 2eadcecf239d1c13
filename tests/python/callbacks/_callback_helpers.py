"""Small models and data shared by the callback tests (real fits on the C++ core)."""
import numpy as np

import forgeflow as ff


def classification_data(n=64, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4)).astype(np.float32)
    return x, (x[:, 0] + 0.5 * x[:, 1] > 0).astype(np.int64)


def classifier(lr=0.01, optimizer=None):
    model = ff.Sequential([ff.layers.Dense(8, activation="relu", input_shape=(4,)),
                           ff.layers.Dense(2)])
    model.compile(optimizer or ff.optimizers.SGD(learning_rate=lr),
                  ff.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    return model


def regression_data(n=64, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3)).astype(np.float32)
    return x, (x @ np.array([[1.0], [-2.0], [0.5]], np.float32)).astype(np.float32)


def regressor(lr=0.01):
    model = ff.Sequential([ff.layers.Dense(1, input_shape=(3,))])
    model.compile(ff.optimizers.SGD(learning_rate=lr), "mse")
    return model


def scripted_metric(name, values):
    """A callback that writes values[epoch] into the epoch logs as ``name`` (placed before the
    callback under test, it drives a monitored metric deterministically)."""
    def on_epoch_end(epoch, logs):
        logs[name] = values[epoch]
    return ff.callbacks.LambdaCallback(on_epoch_end=on_epoch_end)
