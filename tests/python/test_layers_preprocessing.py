"""Tests for the normalization and preprocessing layers through the Python API:
BatchNormalization (Keras defaults and weights, 4C params of which 2C non-trainable in summary,
moving statistics updated by fit and by model(x, training=True), used by predict),
Normalization (adapt against NumPy on known data, streaming chunks and steps, batches from an
iterable, axis=None, invert, mean/variance given directly, adapt before and after the model is
built, the un-adapted error, set_weights), Rescaling (a Rescaling(1/255) + Dense model trained on
uint8 data), and the Random* augmentation layers (identity unless training, reproducible under
ff.utils.set_random_seed and seed=, argument errors)."""
import warnings

import numpy as np
import pytest

import forgeflow as ff

L = ff.layers


@pytest.fixture(autouse=True)
def fresh_session():
    ff.utils.clear_session()
    ff.utils.set_random_seed(1234)
    yield
    ff.utils.clear_session()


def _summary_text(model):
    lines = []
    model.summary(print_fn=lambda line, *a, **k: lines.append(line))
    return "\n".join(lines)


# ---------------------------------------------------------------- BatchNormalization


def test_batch_normalization_keras_defaults_and_weights():
    bn = L.BatchNormalization()
    cfg = bn.get_config()
    assert (cfg["axis"], cfg["momentum"], cfg["epsilon"], cfg["center"], cfg["scale"]) == \
        (-1, 0.99, 1e-3, True, True)
    assert (cfg["beta_initializer"], cfg["gamma_initializer"], cfg["moving_mean_initializer"],
            cfg["moving_variance_initializer"]) == ("zeros", "ones", "zeros", "ones")
    model = ff.Sequential([ff.Input(shape=(4, 4, 3)), bn])
    gamma, beta, mean, var = bn.get_weights()
    np.testing.assert_array_equal(gamma, np.ones(3, np.float32))
    np.testing.assert_array_equal(beta, np.zeros(3, np.float32))
    np.testing.assert_array_equal(mean, np.zeros(3, np.float32))
    np.testing.assert_array_equal(var, np.ones(3, np.float32))
    assert bn.count_params() == 12
    assert model.count_params() == 12


def test_batch_normalization_summary_counts_non_trainable_params():
    model = ff.Sequential([ff.Input(shape=(5,)), L.Dense(8), L.BatchNormalization(), L.Dense(1)])
    text = _summary_text(model)
    # Dense 5*8+8 = 48, BN 4*8 = 32 (16 non-trainable), Dense 8+1 = 9.
    assert "Total params: 89" in text
    assert "Trainable params: 73" in text
    assert "Non-trainable params: 16" in text
    row = next(line for line in text.splitlines() if "batch_normalization" in line)
    assert row.rstrip("│ ").endswith("32")


def test_batch_normalization_moving_statistics_follow_fit_and_predict_uses_them():
    rng = np.random.default_rng(0)
    x = rng.normal(loc=5.0, scale=2.0, size=(256, 3)).astype(np.float32)
    y = rng.normal(size=(256, 3)).astype(np.float32)
    bn = L.BatchNormalization(momentum=0.8)
    model = ff.Sequential([ff.Input(shape=(3,)), bn])
    model.compile(optimizer=ff.optimizers.SGD(learning_rate=0.01), loss="mse")
    model.fit(x, y, batch_size=32, epochs=3, verbose=0, shuffle=False)
    gamma, beta, mean, var = bn.get_weights()
    # 24 updates with momentum 0.8: the moving statistics reached the data's.
    np.testing.assert_allclose(mean, x.mean(axis=0), atol=0.25)
    np.testing.assert_allclose(var, x.var(axis=0), rtol=0.25)
    assert np.all(np.abs(beta) > 0)  # gamma and beta were trained
    want = (x - mean) / np.sqrt(var + 1e-3) * gamma + beta
    np.testing.assert_allclose(model.predict(x, verbose=0), want, rtol=1e-5, atol=1e-5)
    # Inference calls leave the statistics alone.
    model.predict(x, verbose=0)
    model(x[:10])
    np.testing.assert_array_equal(bn.get_weights()[2], mean)


def test_batch_normalization_training_call_uses_batch_stats_and_updates_moving_stats():
    x = np.random.default_rng(1).normal(3.0, 1.5, size=(64, 2)).astype(np.float32)
    bn = L.BatchNormalization()
    model = ff.Sequential([ff.Input(shape=(2,)), bn])
    out = model(x, training=True)
    np.testing.assert_allclose(out.mean(axis=0), 0.0, atol=1e-5)
    np.testing.assert_allclose(out.var(axis=0), x.var(axis=0) / (x.var(axis=0) + 1e-3), rtol=1e-4)
    # As in Keras, a training call updates the moving statistics.
    _, _, mean, var = bn.get_weights()
    np.testing.assert_allclose(mean, 0.01 * x.mean(axis=0), rtol=1e-4)
    np.testing.assert_allclose(var, 0.99 + 0.01 * x.var(axis=0), rtol=1e-5)


def test_batch_normalization_on_images_and_errors():
    x = np.random.default_rng(2).normal(size=(8, 4, 4, 3)).astype(np.float32)
    model = ff.Sequential([ff.Input(shape=(4, 4, 3)), L.BatchNormalization(axis=3)])
    out = model(x, training=True)
    np.testing.assert_allclose(out.reshape(-1, 3).mean(axis=0), 0.0, atol=1e-5)
    with pytest.raises(ValueError, match="axis=1"):
        ff.Sequential([ff.Input(shape=(4, 4, 3)), L.BatchNormalization(axis=1)])
    with pytest.raises(ValueError, match="momentum"):
        L.BatchNormalization(momentum=1.5)
    with pytest.raises(ValueError, match="epsilon"):
        L.BatchNormalization(epsilon=0)
    with pytest.raises(ValueError, match="axis"):
        L.BatchNormalization(axis=None)


# ---------------------------------------------------------------- Normalization


KERAS_DOC_DATA = np.array([[0., 7., 4.], [2., 9., 6.], [0., 7., 4.], [2., 9., 6.]], np.float32)


def test_normalization_adapt_keras_example_and_invert():
    norm = L.Normalization(axis=-1)
    assert norm.mean is None and norm.variance is None
    norm.adapt(KERAS_DOC_DATA)
    assert norm.is_adapted
    np.testing.assert_allclose(norm.mean, [1., 8., 5.])  # Keras's layer.mean / layer.variance
    np.testing.assert_allclose(norm.variance, [1., 1., 1.])
    model = ff.Sequential([ff.Input(shape=(3,)), norm])
    norm.set_weights([np.array([0., 1., 2.], np.float32), np.ones(3, np.float32)])
    np.testing.assert_allclose(norm.mean, [0., 1., 2.])  # the built layer's weights
    norm.adapt(KERAS_DOC_DATA)
    np.testing.assert_allclose(model.predict(np.array([[0., 7., 4.]]), verbose=0), [[-1., -1., -1.]])
    mean, var = norm.get_weights()
    np.testing.assert_allclose(mean, [1., 8., 5.])
    np.testing.assert_allclose(var, [1., 1., 1.])

    inv = L.Normalization(axis=-1, invert=True)
    inv.adapt(KERAS_DOC_DATA)
    model = ff.Sequential([ff.Input(shape=(3,)), inv])
    np.testing.assert_allclose(model.predict(np.array([[1., 2., 3.]]), verbose=0), [[2., 10., 8.]])


def test_normalization_mean_and_variance_given_directly():
    model = ff.Sequential([ff.Input(shape=(1,)), L.Normalization(mean=3., variance=2.)])
    np.testing.assert_allclose(model.predict(np.array([[1.], [2.], [3.]]), verbose=0),
                               [[-1.4142135], [-0.70710677], [0.]], rtol=1e-6)
    per_feature = L.Normalization(mean=[1., 2.], variance=[4., 9.])
    model = ff.Sequential([ff.Input(shape=(2,)), per_feature])
    np.testing.assert_allclose(model.predict(np.array([[3., 8.]]), verbose=0), [[1., 2.]])
    with pytest.raises(ValueError, match="both `mean` and `variance`"):
        L.Normalization(mean=1.)
    with pytest.raises(ValueError, match="same shape"):
        L.Normalization(mean=[1., 2.], variance=[1.])
    with pytest.raises(ValueError, match=r"expected shape=\(None, 2\)"):
        ff.Sequential([ff.Input(shape=(3,)), L.Normalization(mean=[1., 2.], variance=[1., 1.])])


def test_normalization_adapt_streams_in_float64_and_matches_numpy():
    rng = np.random.default_rng(3)
    # A large offset: a float32 sum of squares would lose the variance entirely.
    x = (1e4 + rng.normal(size=(1000, 2, 4))).astype(np.float32)
    want_mean = x.astype(np.float64).reshape(-1, 4).mean(axis=0)
    want_var = x.astype(np.float64).reshape(-1, 4).var(axis=0)
    for batch_size in (None, 7, 1000):
        norm = L.Normalization()
        norm.adapt(x, batch_size=batch_size)
        ff.Sequential([ff.Input(shape=(2, 4)), norm])
        mean, var = norm.get_weights()
        np.testing.assert_allclose(mean, want_mean, rtol=1e-7)
        np.testing.assert_allclose(var, want_var, rtol=1e-5)
    # steps limits the chunks read: the first 2 * 10 samples.
    norm = L.Normalization()
    norm.adapt(x, batch_size=10, steps=2)
    ff.Sequential([ff.Input(shape=(2, 4)), norm])
    np.testing.assert_allclose(norm.get_weights()[0],
                               x[:20].astype(np.float64).reshape(-1, 4).mean(axis=0), rtol=1e-7)


def test_normalization_adapt_on_batches_and_axis_none():
    rng = np.random.default_rng(4)
    x = rng.normal(2.0, 3.0, size=(90, 3)).astype(np.float32)
    y = np.zeros(90, np.float32)

    def batches():
        for i in range(0, 90, 32):
            yield x[i:i + 32], y[i:i + 32]  # (x, y) tuples, as a dataset yields

    norm = L.Normalization()
    norm.adapt(batches())
    model = ff.Sequential([ff.Input(shape=(3,)), norm])
    out = model.predict(x, verbose=0)
    np.testing.assert_allclose(out.mean(axis=0), 0.0, atol=1e-5)
    np.testing.assert_allclose(out.std(axis=0), 1.0, rtol=1e-5)
    # A list of arrays is a list of batches too.
    listed = L.Normalization()
    listed.adapt([x[:50], x[50:]])
    ff.Sequential([ff.Input(shape=(3,)), listed])
    np.testing.assert_allclose(listed.get_weights()[0], norm.get_weights()[0], rtol=1e-6)

    flat = L.Normalization(axis=None)
    flat.adapt(x)
    model = ff.Sequential([ff.Input(shape=(3,)), flat])
    mean, var = flat.get_weights()
    assert mean.shape == () and var.shape == ()
    np.testing.assert_allclose(mean, x.astype(np.float64).mean(), rtol=1e-6)
    np.testing.assert_allclose(model.predict(x, verbose=0),
                               (x - x.mean()) / x.std(), rtol=1e-4, atol=1e-5)


def test_normalization_adapt_after_build_writes_the_weights():
    x = np.random.default_rng(5).normal(4.0, 2.0, size=(64, 2)).astype(np.float32)
    norm = L.Normalization()
    model = ff.Sequential([ff.Input(shape=(2,)), norm, L.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(ValueError, match=r"must call `\.adapt\(data\)`.*normalization|normalization.*must call `\.adapt\(data\)`"):
        model.predict(x, verbose=0)
    weights_before = model.get_weights()
    with pytest.raises(ValueError, match="adapt"):
        model.fit(x, x[:, :1], epochs=1, verbose=0)
    for w0, w1 in zip(weights_before, model.get_weights()):
        np.testing.assert_array_equal(w0, w1)  # the failed fit changed nothing
    norm.adapt(x)
    np.testing.assert_allclose(model.get_weights()[0], x.mean(axis=0), rtol=1e-6)
    np.testing.assert_allclose(model.get_weights()[1], x.var(axis=0), rtol=1e-5)
    model.fit(x, x[:, :1], epochs=1, verbose=0)
    # Re-adapting replaces the statistics at once.
    norm.adapt(x * 2.0)
    np.testing.assert_allclose(norm.get_weights()[0], 2.0 * x.mean(axis=0), rtol=1e-6)
    with pytest.raises(ValueError, match="incompatible shape"):
        norm.adapt(np.ones((4, 3), np.float32))


def test_normalization_adapt_errors_and_set_weights():
    norm = L.Normalization()
    norm.adapt(np.ones((4, 3), np.float32))
    with pytest.raises(ValueError, match=r"expected shape=\(None, 3\)"):
        ff.Sequential([ff.Input(shape=(4,)), norm])
    with pytest.raises(ValueError, match="no feature axis"):
        L.Normalization().adapt(np.arange(5.0))
    with pytest.raises(TypeError, match="numeric"):
        L.Normalization().adapt(np.array([["a", "b"]]))
    with pytest.raises(ValueError, match="no data"):
        L.Normalization().adapt(np.zeros((0, 3)))
    with pytest.raises(ValueError, match="finite"):
        L.Normalization().adapt(np.array([[1.0, np.nan]]))
    with pytest.raises(ValueError, match="batch_size"):
        L.Normalization().adapt(np.ones((2, 2)), batch_size=0)

    fresh = L.Normalization()
    model = ff.Sequential([ff.Input(shape=(2,)), fresh])
    fresh.set_weights([np.array([1., 2.]), np.array([4., 4.])])
    assert fresh.is_adapted
    np.testing.assert_allclose(model.predict(np.array([[3., 4.]]), verbose=0), [[1., 1.]])
    with pytest.raises(ValueError, match="variance must be >= 0"):
        fresh.set_weights([np.array([1., 2.]), np.array([4., -1.])])
    np.testing.assert_allclose(fresh.get_weights()[1], [4., 4.])  # unchanged


def test_normalization_weights_restored_through_the_model_count_as_adapted():
    x = np.random.default_rng(6).normal(size=(16, 2)).astype(np.float32)
    norm = L.Normalization()
    norm.adapt(x)
    trained = ff.Sequential([ff.Input(shape=(2,)), norm])
    restored = ff.Sequential([ff.Input(shape=(2,)), L.Normalization()])
    restored.set_weights(trained.get_weights())
    np.testing.assert_allclose(restored.predict(x, verbose=0), trained.predict(x, verbose=0))
    text = _summary_text(trained)
    assert "Non-trainable params: 4" in text
    # The same adapted layer in a second model brings its statistics along.
    second = ff.Sequential([ff.Input(shape=(2,)), norm, L.Dense(1)])
    np.testing.assert_allclose(second.get_weights()[:2], trained.get_weights(), rtol=1e-6)


# ---------------------------------------------------------------- Rescaling


def test_rescaling_values_and_uint8_training():
    model = ff.Sequential([ff.Input(shape=(2,)), L.Rescaling(1. / 127.5, offset=-1)])
    np.testing.assert_allclose(model.predict(np.array([[0, 255]], np.uint8), verbose=0), [[-1, 1]],
                               rtol=1e-6)
    with pytest.raises(ValueError, match="per-channel"):
        L.Rescaling([1., 2.])

    rng = np.random.default_rng(7)
    x = rng.integers(0, 256, size=(512, 16)).astype(np.uint8)
    y = (x[:, :8].astype(np.int64).sum(axis=1) > x[:, 8:].astype(np.int64).sum(axis=1)).astype(np.int64)
    model = ff.Sequential([ff.Input(shape=(16,)), L.Rescaling(1. / 255), L.Dense(2)])
    model.compile(optimizer=ff.optimizers.Adam(0.05),
                  loss=ff.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    with warnings.catch_warnings():
        warnings.simplefilter("error", ff.LikelyMistakeWarning)  # Rescaling first: no warning
        history = model.fit(x, y, epochs=15, batch_size=32, verbose=0)
    assert history.history["accuracy"][-1] > 0.9
    assert model.evaluate(x, y, verbose=0)[1] > 0.9


# ---------------------------------------------------------------- Random* layers


def _images(n=6, h=8, w=8, c=3, seed=8):
    return np.random.default_rng(seed).uniform(size=(n, h, w, c)).astype(np.float32)


RANDOM_LAYERS = [
    lambda **k: L.RandomFlip(**k),
    lambda **k: L.RandomTranslation(0.3, 0.3, **k),
    lambda **k: L.RandomZoom(0.4, **k),
    lambda **k: L.RandomRotation(0.25, **k),
]


@pytest.mark.parametrize("make", RANDOM_LAYERS)
def test_random_layers_are_active_only_in_training(make):
    x = _images()
    model = ff.Sequential([ff.Input(shape=(8, 8, 3)), make()])
    np.testing.assert_array_equal(model.predict(x, verbose=0), x)
    np.testing.assert_array_equal(model(x), x)
    out = model(x, training=True)
    assert out.shape == x.shape
    assert not np.array_equal(out, x)
    # One transform per sample: some samples differ from others' treatment.
    changed = [not np.array_equal(out[i], x[i]) for i in range(len(x))]
    assert any(changed)
    # A new draw per training call.
    assert not np.array_equal(model(x, training=True), out)


@pytest.mark.parametrize("make", RANDOM_LAYERS)
def test_random_layers_reproducible_under_set_random_seed(make):
    x = _images()

    def run(seed):
        ff.utils.set_random_seed(seed)
        model = ff.Sequential([ff.Input(shape=(8, 8, 3)), make()])
        return model(x, training=True), model(x, training=True)

    a = run(3)
    b = run(3)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(run(4)[0], a[0])


def test_random_layer_seed_argument_and_fit_reproducibility():
    x = _images(n=32)
    y = (x.mean(axis=(1, 2, 3)) > 0.5).astype(np.int64)

    def train(global_seed):
        ff.utils.set_random_seed(global_seed)
        model = ff.Sequential([ff.Input(shape=(8, 8, 3)),
                               L.RandomFlip("horizontal", seed=11),
                               L.RandomRotation((-0.1, 0.1), fill_mode="constant", seed=12),
                               L.Flatten(), L.Dense(2)])
        model.compile(optimizer="adam",
                      loss=ff.losses.SparseCategoricalCrossentropy(from_logits=True))
        model.fit(x, y, epochs=2, batch_size=8, verbose=0)
        return model

    m1, m2 = train(5), train(5)
    for w1, w2 in zip(m1.get_weights(), m2.get_weights()):
        np.testing.assert_array_equal(w1, w2)
    # seed= fixes the augmentation whatever the global seed.
    ff.utils.set_random_seed(100)
    a = ff.Sequential([ff.Input(shape=(8, 8, 3)), L.RandomTranslation(0.2, 0.2, seed=9)])
    ff.utils.set_random_seed(200)
    b = ff.Sequential([ff.Input(shape=(8, 8, 3)), L.RandomTranslation(0.2, 0.2, seed=9)])
    np.testing.assert_array_equal(a(x, training=True), b(x, training=True))


def test_random_flip_horizontal_flips_whole_images():
    x = _images(n=32)
    model = ff.Sequential([ff.Input(shape=(8, 8, 3)), L.RandomFlip("horizontal")])
    out = model(x, training=True)
    flipped = 0
    for i in range(len(x)):
        if np.array_equal(out[i], x[i, :, ::-1]):
            flipped += 1
        else:
            np.testing.assert_array_equal(out[i], x[i])
    assert 4 < flipped < 28


def test_random_layer_argument_errors():
    with pytest.raises(ValueError, match=r"`height_factor`.*\[-1.0, 1.0\].*1.5"):
        L.RandomZoom(1.5)
    with pytest.raises(ValueError, match="width_factor"):
        L.RandomTranslation(0.1, (0.1, 0.2, 0.3))
    with pytest.raises(ValueError, match="`factor`"):
        L.RandomRotation("a lot")
    with pytest.raises(NotImplementedError, match="Unknown `fill_mode` mirror"):
        L.RandomRotation(0.1, fill_mode="mirror")
    with pytest.raises(NotImplementedError, match="Unknown `interpolation` bicubic"):
        L.RandomZoom(0.1, interpolation="bicubic")
    with pytest.raises(ValueError, match="unknown mode"):
        L.RandomFlip("diagonal")
    with pytest.raises(ValueError, match="channels_last"):
        L.RandomFlip(data_format="channels_first")
    with pytest.raises(ValueError, match="rank 4"):
        ff.Sequential([ff.Input(shape=(28, 28)), L.RandomRotation(0.1)])
    layer = L.RandomZoom((0.2, -0.1), width_factor=0.3)
    assert layer.get_config()["height_factor"] == (0.2, -0.1)
    assert layer._core.height_factor == (-0.1, 0.2)
    assert layer._core.width_factor == (-0.3, 0.3)
    assert L.RandomZoom(0.2)._core.width_factor is None
