"""fit / evaluate / predict on ff.data datasets: the same results as from arrays, Keras's
argument rules for datasets, and strict label handling in the feed."""
import warnings

import numpy as np
import pytest

import forgeflow as ff
from forgeflow.data import Dataset


def make_data(n=256, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 8)).astype(np.float32)
    y = (x[:, 0] + x[:, 1] > 0).astype(np.int64) + 2 * (x[:, 2] > 0)
    return x, y


def make_model(seed=1):
    ff.utils.set_random_seed(seed)
    model = ff.Sequential([ff.layers.Input(shape=(8,)), ff.layers.Dense(16, activation="relu"),
                           ff.layers.Dense(4)])
    model.compile(optimizer="adam",
                  loss=ff.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    return model


def test_fit_on_a_dataset_equals_fit_on_the_same_arrays_bit_for_bit():
    x, y = make_data()
    a = make_model()
    ha = a.fit(x, y, batch_size=32, epochs=3, shuffle=False, verbose=0)
    b = make_model()
    hb = b.fit(Dataset.from_tensor_slices((x, y)).batch(32).prefetch(2), epochs=3, verbose=0)
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)
    assert ha.history["loss"] == hb.history["loss"]
    ds_eval = b.evaluate(Dataset.from_tensor_slices((x, y)).batch(50), verbose=0)
    assert ds_eval == b.evaluate(x, y, batch_size=50, verbose=0)
    np.testing.assert_array_equal(b.predict(Dataset.from_tensor_slices(x).batch(64), verbose=0),
                                  b.predict(x, verbose=0))
    # predict ignores the targets of (x, y) elements, as Keras does
    np.testing.assert_array_equal(
        b.predict(Dataset.from_tensor_slices((x, y)).batch(64), verbose=0), b.predict(x, verbose=0))


def test_fit_with_dataset_validation_and_an_unbuilt_sequential():
    x, y = make_data()
    ff.utils.set_random_seed(2)
    model = ff.Sequential([ff.layers.Dense(16, activation="relu"), ff.layers.Dense(4)])
    model.compile(optimizer="adam",
                  loss=ff.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        h = model.fit(Dataset.from_tensor_slices((x, y.astype(np.int32))).shuffle(256, seed=1).batch(32),
                      validation_data=Dataset.from_tensor_slices((x[:64], y[:64])).batch(32),
                      epochs=2, verbose=0)
    assert model.built and set(h.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}


def test_uint8_images_and_int32_labels_are_converted_at_the_boundary():
    (x, y), _ = ff.datasets.fashion_mnist_small.load_data()
    x, y = x[:512], y[:512]
    model = ff.Sequential([ff.layers.Input(shape=(28, 28)), ff.layers.Rescaling(1 / 255),
                           ff.layers.Flatten(), ff.layers.Dense(10)])
    model.compile(optimizer="adam",
                  loss=ff.losses.SparseCategoricalCrossentropy(from_logits=True))
    ds = Dataset.from_tensor_slices((x, y.astype(np.int32))).batch(64)
    assert x.dtype == np.uint8
    loss = model.fit(ds, epochs=2, verbose=0).history["loss"]
    assert loss[1] < loss[0]


def test_multi_input_model_takes_a_dict_by_input_name():
    x, y = make_data()
    a = ff.Input(shape=(4,), name="left")
    b = ff.Input(shape=(4,), name="right")
    out = ff.layers.Dense(4)(ff.layers.Concatenate()([a, b]))
    model = ff.Model([a, b], out)
    model.compile(optimizer="sgd", loss=ff.losses.SparseCategoricalCrossentropy(from_logits=True))
    ds = Dataset.from_tensor_slices(({"right": x[:, 4:], "left": x[:, :4]}, y)).batch(32)
    model.fit(ds, epochs=1, verbose=0)
    np.testing.assert_array_equal(model.predict(ds, verbose=0),
                                  model.predict({"left": x[:, :4], "right": x[:, 4:]}, verbose=0))
    with pytest.raises(ValueError, match="missing"):
        model.fit(Dataset.from_tensor_slices(({"left": x[:, :4]}, y)).batch(32), verbose=0)


def test_keras_argument_rules_for_datasets():
    x, y = make_data()
    model = make_model()
    ds = Dataset.from_tensor_slices((x, y)).batch(32)
    with pytest.raises(ValueError, match="batch_size"):
        model.fit(ds, batch_size=32, verbose=0)
    with pytest.raises(ValueError, match="validation_split"):
        model.fit(ds, validation_split=0.2, verbose=0)
    with pytest.raises(ValueError, match="`y`"):
        model.fit(ds, y=y, verbose=0)
    with pytest.raises(ValueError, match="steps_per_epoch"):
        model.fit(ds.repeat(), epochs=1, verbose=0)
    with pytest.raises(ValueError, match="no targets"):
        model.fit(Dataset.from_tensor_slices(x).batch(32), verbose=0)
    with pytest.raises(ValueError, match=r"\.batch\(batch_size\)"):
        model.fit(Dataset.from_tensor_slices((x, y)), verbose=0)


def test_float_labels_for_a_sparse_loss_are_refused_not_cast():
    x, y = make_data()
    model = make_model()
    with pytest.raises(TypeError, match="not cast silently"):
        model.fit(Dataset.from_tensor_slices((x, y.astype(np.float32))).batch(32), verbose=0)


def test_shape_mismatch_names_the_layer():
    x, y = make_data()
    model = make_model()
    with pytest.raises(ValueError, match="expected shape=.*found shape"):
        model.fit(Dataset.from_tensor_slices((x[:, :6], y)).batch(32), verbose=0)


def test_steps_per_epoch_reads_one_iterator_across_epochs():
    x, y = make_data(n=64)
    model = make_model()
    ds = Dataset.from_tensor_slices((x, y)).batch(16).repeat()
    h = model.fit(ds, epochs=3, steps_per_epoch=2, verbose=0)
    assert len(h.history["loss"]) == 3 and model.optimizer.iterations == 6
    with pytest.warns(UserWarning, match="ran out of data"):
        h = make_model().fit(Dataset.from_tensor_slices((x, y)).batch(16), epochs=5,
                             steps_per_epoch=3, verbose=0)
    assert len(h.history["loss"]) == 2


def test_out_of_range_labels_in_a_dataset_name_the_value():
    x, y = make_data()
    y = y.copy()
    y[40] = 9
    model = make_model()
    with pytest.raises(ValueError, match="label value of 9 at sample index 40"):
        model.fit(Dataset.from_tensor_slices((x, y)).batch(32), verbose=0)


def test_looking_at_the_first_batch_does_not_cost_a_pass():
    x, y = make_data(n=64)
    calls = []

    def count(a, b):
        calls.append(1)
        return a, b
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = Dataset.from_tensor_slices((x, y)).map(count).batch(16)
        model = make_model()
        model.fit(ds, epochs=2, verbose=0)  # a new model: fit builds and checks on batch 1
    # Exactly two passes of 64 elements: the first batch fit looked at belongs to the first pass
    # (and map's output structure was learnt from that same call).
    assert len(calls) == 2 * 64


def test_the_pass_fit_looks_at_is_opened_with_the_models_pinned_pool(monkeypatch):
    """On a GPU the pass whose first batch fit looks at (and then trains its first epoch on) is
    opened with the model's pinned pool, as the model's own passes are, so the first epoch is
    written into pinned memory too. Here a pool over the CPU's memory stands in for the GPU
    model's (the CPU model has none); the resumed pass is read as the GPU's loop reads it
    (refilling the pool before each batch): the same values as a plain pass, only the peeked
    batch (it found no block yet) pageable."""
    from forgeflow import _data_adapters
    x, y = make_data(n=40)
    ds = Dataset.from_tensor_slices((x, y)).batch(8)
    plain = list(ds)
    pool = ff._core.data.pinned_pool_for_testing()
    asked = []
    monkeypatch.setattr(_data_adapters, "_input_batch_pool",
                        lambda model: asked.append(model) or pool)
    model = make_model()  # built from ff.Input
    adapter = _data_adapters.DatasetAdapter(model, ds, "fit")
    assert asked == [model]
    passes, stats = ff._core.data.pinned_passes_for_testing(adapter._peeked.resume_dataset(), 1,
                                                            pool)
    assert len(passes) == 1 and len(passes[0]) == len(plain) == 5
    for b, ((arrays, pinned), (px, py)) in enumerate(zip(passes[0], plain)):
        np.testing.assert_array_equal(arrays[0], px)
        np.testing.assert_array_equal(arrays[1], py)
        assert pinned == ([False, False] if b == 0 else [True, True])
    assert stats["misses"] == 2 and stats["lent"] == 0
    # A model built from the first batch has no pool yet: that pass is plain (fit's first epoch
    # is staged on a GPU; see _prepare_model).
    unbuilt = ff.Sequential([ff.layers.Dense(4)])
    unbuilt.compile(optimizer="adam",
                    loss=ff.losses.SparseCategoricalCrossentropy(from_logits=True))
    _data_adapters.DatasetAdapter(unbuilt, ds, "fit")
    assert asked == [model] and unbuilt.built


def test_progress_counts_the_steps_of_a_dataset_of_unknown_length(capsys):
    x, y = make_data(n=100)
    ds = Dataset.from_tensor_slices((x, y)).batch(10).interleave(
        lambda a, b: Dataset.from_tensor_slices((a, b)).batch(10), cycle_length=1)
    assert ds.cardinality() == ff.data.UNKNOWN_CARDINALITY
    model = make_model()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(ds, epochs=2, verbose=2)
        model.evaluate(ds, verbose=2)
    out = capsys.readouterr().out
    assert out.count("10/10 - ") == 3 and "0/Unknown" not in out
