"""End to end: the "hello world" of Keras (learn y = 2x - 1 with one Dense unit) predicts 19
for x = 10."""

import numpy as np

import forgeflow as ff


def test_hello_world_linear_regression():
    ff.utils.set_random_seed(0)
    model = ff.Sequential([ff.layers.Dense(units=1, input_shape=[1])])
    model.compile(optimizer="sgd", loss="mean_squared_error")

    xs = np.array([-1.0, 0.0, 1.0, 2.0, 3.0, 4.0], dtype=float)
    ys = np.array([-3.0, -1.0, 1.0, 3.0, 5.0, 7.0], dtype=float)
    history = model.fit(xs, ys, epochs=500, verbose=0)

    assert len(history.history["loss"]) == 500
    assert history.history["loss"][-1] < 1e-3
    # A rank-1 list for a (None, 1) model is one column of samples.
    prediction = model.predict([10.0], verbose=0)
    assert prediction.shape == (1, 1)
    assert abs(float(prediction[0, 0]) - 19.0) < 0.1
    kernel, bias = model.get_weights()
    assert abs(float(kernel[0, 0]) - 2.0) < 0.02
    assert abs(float(bias[0]) + 1.0) < 0.05
