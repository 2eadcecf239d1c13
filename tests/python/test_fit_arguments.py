"""fit's arguments are checked the way Keras users expect, more strictly than Keras where Keras
silently does something else (issue 12, item 21): a float or string epochs is not rounded or
parsed, None and empty arrays get a plain message, and a Python generator is named instead of
becoming an array of dtype object."""
import numpy as np
import pytest

import forgeflow as ff


def _model():
    model = ff.Sequential([ff.layers.Dense(3, input_shape=(4,))])
    model.compile("sgd", "mse")
    return model


X = np.ones((8, 4), np.float32)
Y = np.ones((8, 3), np.float32)


@pytest.mark.parametrize("epochs", [1.7, "3", None, True, 2.0])
def test_epochs_must_be_an_integer(epochs):
    model = _model()
    with pytest.raises(TypeError, match="epochs must be an integer"):
        model.fit(X, Y, epochs=epochs, verbose=0)
    assert model.optimizer.iterations == 0  # nothing ran


def test_counts_must_be_in_range():
    model = _model()
    with pytest.raises(ValueError, match="epochs must be >= 0"):
        model.fit(X, Y, epochs=-1, verbose=0)
    with pytest.raises(TypeError, match="initial_epoch must be an integer"):
        model.fit(X, Y, epochs=2, initial_epoch=0.5, verbose=0)
    with pytest.raises(ValueError, match="initial_epoch=3 must be between 0 and epochs=2"):
        model.fit(X, Y, epochs=2, initial_epoch=3, verbose=0)
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        model.fit(X, Y, batch_size=2.5, verbose=0)
    with pytest.raises(ValueError, match="validation_steps must be a positive integer"):
        model.fit(X, Y, validation_split=0.5, validation_steps=0, verbose=0)
    # epochs=0 trains nothing, as Keras.
    assert model.fit(X, Y, epochs=0, verbose=0).history == {}


def test_numpy_integers_are_integers():
    model = _model()
    model.fit(X, Y, epochs=np.int64(2), batch_size=np.int32(4), verbose=0)
    assert model.optimizer.iterations == 4


def test_empty_arrays_are_refused_plainly():
    model = _model()
    for call in (lambda: model.fit(X[:0], Y[:0], verbose=0),
                 lambda: model.evaluate(X[:0], Y[:0], verbose=0),
                 lambda: model.predict(X[:0], verbose=0)):
        with pytest.raises(ValueError, match="x has no samples"):
            call()


def test_a_generator_is_named():
    model = _model()

    def batches():
        yield X, Y

    with pytest.raises(TypeError, match="generator or iterator"):
        model.fit(batches(), verbose=0)
    with pytest.raises(TypeError, match="generator or iterator"):
        model.predict(iter([X]), verbose=0)
