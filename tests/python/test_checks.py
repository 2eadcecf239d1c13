"""Tests for forgeflow._checks: the LikelyMistakeWarning warnings (double softmax, logits into a
probability loss, softmax + mse on labels, unnormalised 0-255 inputs, a huge Adam learning
rate), each once per model, pointing at the user's line, silenceable, and absent for a correct
setup."""

import warnings

import numpy as np
import pytest

import forgeflow as ff

L = ff.layers
W = ff.LikelyMistakeWarning


@pytest.fixture(autouse=True)
def fresh_session():
    ff.utils.clear_session()
    ff.utils.set_random_seed(5)
    yield


def _data(n=32, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.random((n, 4)).astype(np.float32)
    return x, rng.integers(0, classes, size=n).astype(np.int64)


def _model(activation=None, classes=3):
    return ff.Sequential([L.Dense(8, activation="relu", input_shape=(4,)),
                          L.Dense(classes, activation=activation)])


def _likely_mistakes(record):
    return [w for w in record if issubclass(w.category, W)]


def test_is_a_user_warning():
    assert issubclass(W, UserWarning)


def test_softmax_output_with_from_logits_true():
    model = _model("softmax")
    with pytest.warns(W, match=r"from_logits=True.*softmax") as record:
        model.compile("adam", ff.losses.SparseCategoricalCrossentropy(from_logits=True))
    assert len(_likely_mistakes(record)) == 1
    # the warning points at the caller's line, not into forgeflow
    assert record[0].filename == __file__


def test_sigmoid_output_with_binary_from_logits_true():
    model = _model("sigmoid", classes=1)
    with pytest.warns(W, match="sigmoid"):
        model.compile("adam", ff.losses.BinaryCrossentropy(from_logits=True))


@pytest.mark.parametrize("loss, classes", [
    ("sparse_categorical_crossentropy", 3),
    ("categorical_crossentropy", 3),
    ("binary_crossentropy", 1),
])
def test_linear_output_with_probability_crossentropy(loss, classes):
    model = _model(None, classes=classes)
    with pytest.warns(W, match=r"from_logits=False.*linear.*from_logits=True"):
        model.compile("adam", loss)


def test_softmax_output_with_mse_on_one_hot_labels_warns_at_first_fit():
    x, y = _data()
    one_hot = np.eye(3, dtype=np.float32)[y]
    model = _model("softmax")
    with warnings.catch_warnings():
        warnings.simplefilter("error", W)
        model.compile("adam", "mse")  # nothing yet: the labels are not known at compile
    with pytest.warns(W, match=r"softmax.*mean_squared_error.*categorical_crossentropy") as record:
        model.fit(x, one_hot, epochs=1, verbose=0)
    assert len(_likely_mistakes(record)) == 1
    assert record[0].filename == __file__


def test_uint8_pixel_inputs_warn_at_first_fit():
    _, y = _data(32)
    x = np.random.default_rng(1).integers(0, 256, size=(32, 4)).astype(np.uint8)
    model = _model()
    model.compile("adam", ff.losses.SparseCategoricalCrossentropy(from_logits=True))
    with pytest.warns(W, match=r"unnormalised.*255") as record:
        model.fit(x, y, verbose=0)
    assert len(_likely_mistakes(record)) == 1
    # scaled inputs: no warning on a fresh model
    fresh = _model()
    fresh.compile("adam", ff.losses.SparseCategoricalCrossentropy(from_logits=True))
    with warnings.catch_warnings():
        warnings.simplefilter("error", W)
        fresh.fit(x / 255.0, y, verbose=0)


@pytest.mark.parametrize("functional", [False, True])
def test_rescaling_after_augmentation_counts_as_scaling(functional):
    # Keras's usual order: augmentation first, then Rescaling(1/255). Raw pixels are fine then,
    # and still warn when the augmentation is followed by no scaling layer.
    x = np.random.default_rng(1).integers(0, 256, size=(16, 8, 8, 1)).astype(np.uint8)
    y = np.arange(16) % 2

    def build(scale):
        layers = [ff.layers.RandomFlip("horizontal", seed=1), ff.layers.RandomTranslation(0.1, 0.1)]
        layers += [ff.layers.Rescaling(1 / 255)] if scale else []
        layers += [ff.layers.Flatten(), ff.layers.Dense(2)]
        if functional:
            t = inputs = ff.Input((8, 8, 1))
            for layer in layers:
                t = layer(t)
            model = ff.Model(inputs, t)
        else:
            model = ff.Sequential([ff.Input((8, 8, 1))] + layers)
        model.compile("adam", ff.losses.SparseCategoricalCrossentropy(from_logits=True))
        return model

    with warnings.catch_warnings():
        warnings.simplefilter("error", W)
        build(scale=True).fit(x, y, verbose=0)
    with pytest.warns(W, match=r"unnormalised.*255"):
        build(scale=False).fit(x, y, verbose=0)


def test_huge_adam_learning_rate():
    model = _model()
    with pytest.warns(W, match=r"learning_rate=10"):
        model.compile(ff.optimizers.Adam(learning_rate=10),
                      ff.losses.SparseCategoricalCrossentropy(from_logits=True))
    with pytest.warns(W, match=r"learning_rate"):
        _model().compile(ff.optimizers.AdamW(learning_rate=10), "mse")


def test_each_warning_once_per_model():
    x, y = _data()
    x255 = (x * 255).astype(np.uint8)
    one_hot = np.eye(3, dtype=np.float32)[y]
    model = _model("softmax")
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        model.compile(ff.optimizers.Adam(learning_rate=10), "mse")
        model.fit(x255, one_hot, verbose=0)
        first = len(_likely_mistakes(record))
        model.fit(x255, one_hot, verbose=0)
        model.compile(ff.optimizers.Adam(learning_rate=10), "mse")
        model.fit(x255, one_hot, verbose=0)
    mistakes = _likely_mistakes(record)
    assert first == 3  # adam lr, unnormalised, softmax + mse
    assert len(mistakes) == 3
    assert len({str(w.message) for w in mistakes}) == 3

    # but another model warns again
    with pytest.warns(W):
        _model("softmax").compile(ff.optimizers.Adam(learning_rate=10), "mse")


def test_silenceable_with_filterwarnings():
    x, y = _data()
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        warnings.filterwarnings("ignore", category=ff.LikelyMistakeWarning)
        model = _model("softmax")
        model.compile(ff.optimizers.Adam(learning_rate=10),
                      ff.losses.SparseCategoricalCrossentropy(from_logits=True))
        model.fit((x * 255).astype(np.uint8), y, verbose=0)
    assert _likely_mistakes(record) == []


@pytest.mark.parametrize("setup", ["logits", "softmax", "binary_sigmoid", "regression"])
def test_correct_setups_do_not_warn(setup):
    x, y = _data()
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        if setup == "logits":
            model = _model()
            model.compile("adam", ff.losses.SparseCategoricalCrossentropy(from_logits=True),
                          metrics=["accuracy"])
            model.fit(x, y, epochs=2, validation_split=0.25, verbose=0)
        elif setup == "softmax":
            model = _model("softmax")
            model.compile("adam", "categorical_crossentropy", metrics=["accuracy"])
            model.fit(x, np.eye(3, dtype=np.float32)[y], epochs=2, verbose=0)
        elif setup == "binary_sigmoid":
            model = _model("sigmoid", classes=1)
            model.compile("rmsprop", "binary_crossentropy", metrics=["accuracy"])
            model.fit(x, (y > 0).astype(np.float32), epochs=2, verbose=0)
        else:
            model = _model(None, classes=1)
            model.compile(ff.optimizers.Adam(learning_rate=0.01), "mse", metrics=["mae"])
            # targets in a large range are fine: only inputs are checked for scaling
            model.fit(x, y.astype(np.float32) * 100, epochs=2, verbose=0)
        if setup == "logits":
            model.evaluate(x, y, verbose=0)
        model.predict(x, verbose=0)
    assert _likely_mistakes(record) == []
