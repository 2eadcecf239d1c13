"""ff.applications.EfficientNetB0 against Keras 3's own model (data/efficientnetb0_keras_layers.json,
extracted from keras.applications.EfficientNetB0 of Keras 3.15.1): the same 240 layers in the same
order with the same names, classes and weight counts (Normalization aside: Keras's keeps a
"count" weight, forgeflow's does not), Keras's trainable counts; a forward pass, a training step
at 32x32, the argument checks and a weights-file round trip."""
import json
import os
import re

import numpy as np
import pytest

import forgeflow as ff
from forgeflow.applications import EfficientNetB0

_KERAS = json.load(open(os.path.join(os.path.dirname(__file__), "data",
                                     "efficientnetb0_keras_layers.json")))
# Layers Keras's EfficientNet does not name: both frameworks number them per process.
_AUTO_NAMED = ("input_layer", "rescaling", "normalization")


def _layer_table(model):
    rows = []
    for layer in model.layers:
        name = layer.name
        base = re.sub(r"_\d+$", "", name)
        rows.append([base if base in _AUTO_NAMED else name, type(layer).__name__,
                     layer.count_params() if getattr(layer, "built", False) else 0])
    return rows


def _trainable(model):
    return sum(int(np.prod(w.shape)) for w in model.trainable_weights)


def test_layers_names_and_weight_counts_match_keras():
    model = EfficientNetB0()
    ours = _layer_table(model)
    theirs = [[n, c, p if c != "Normalization" else p - 1] for n, c, p in _KERAS["layers"]]
    assert ours == theirs
    assert model.name == "efficientnetb0"
    assert model.input_shape == (None, 224, 224, 3) and model.output_shape == (None, 1000)
    # Keras: 5,330,571 weights, 5,288,548 trainable; forgeflow's Normalization has no "count".
    assert _trainable(model) == _KERAS["trainable"] == 5_288_548
    assert model.count_params() == _KERAS["count_params"] - 1 == 5_330_570


def test_without_top_matches_kerass_counts():
    model = EfficientNetB0(include_top=False)
    assert model.output_shape == (None, 7, 7, 1280)
    assert _trainable(model) == _KERAS["trainable_no_top"] == 4_007_548
    assert model.count_params() == _KERAS["count_params_no_top"] - 1 == 4_049_570
    names = [layer.name for layer in model.layers]
    assert "top_activation" == names[-1] and "predictions" not in names


def test_pooling_and_a_forward_pass_at_a_small_size():
    model = EfficientNetB0(include_top=False, input_shape=(64, 48, 3), pooling="max")
    assert model.output_shape == (None, 1280) and model.layers[-1].name == "max_pool"
    x = np.random.default_rng(0).uniform(0, 255, (2, 64, 48, 3)).astype(np.float32)
    out = model.predict(x, verbose=0)
    assert out.shape == (2, 1280) and np.all(np.isfinite(out))
    avg = EfficientNetB0(include_top=False, input_shape=(32, 32, 3), pooling="avg")
    assert avg.output_shape == (None, 1280) and avg.layers[-1].name == "avg_pool"


def test_trains_a_step_at_32x32():
    ff.utils.set_random_seed(5)
    model = EfficientNetB0(input_shape=(32, 32, 3), classes=3, classifier_activation=None)
    assert [layer.name for layer in model.layers[-3:]] == ["avg_pool", "top_dropout",
                                                           "predictions"]
    model.compile("sgd", ff.losses.SparseCategoricalCrossentropy(from_logits=True))
    x = np.random.default_rng(1).uniform(0, 255, (4, 32, 32, 3)).astype(np.float32)
    se = model.get_layer("block2a_se_expand")
    before = [w.copy() for w in se.get_weights()]
    history = model.fit(x, np.array([0, 1, 2, 0]), epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    # The squeeze-and-excitation branch trains: the gradient flows through the broadcasting
    # Multiply back to the gate's convolutions.
    assert not np.array_equal(se.get_weights()[0], before[0])
    assert model.predict(x, verbose=0).shape == (4, 3)


def test_arguments_are_checked_and_imagenet_is_refused():
    with pytest.raises(ValueError, match="downloads nothing"):
        EfficientNetB0(weights="imagenet")
    with pytest.raises(ValueError, match="path to the weights file"):
        EfficientNetB0(weights="no-such.weights.ff")
    with pytest.raises(ValueError, match="at least 32x32"):
        EfficientNetB0(include_top=False, input_shape=(16, 16, 3))
    with pytest.raises(ValueError, match=r"\(height, width, 3\)"):
        EfficientNetB0(include_top=False, input_shape=(32, 32, 1))
    with pytest.raises(ValueError, match="pooling"):
        EfficientNetB0(include_top=False, input_shape=(32, 32, 3), pooling="sum")


def test_a_weights_file_loads_with_the_normalization_statistics(tmp_path):
    ff.utils.set_random_seed(6)
    first = EfficientNetB0(include_top=False, input_shape=(32, 32, 3), pooling="avg")
    x = np.random.default_rng(2).uniform(0, 255, (3, 32, 32, 3)).astype(np.float32)
    first.layers[2].adapt(x / 255.0)  # the Normalization after the Rescaling
    path = tmp_path / "b0.weights.ff"
    first.save_weights(path)
    ff.utils.set_random_seed(7)
    second = EfficientNetB0(include_top=False, input_shape=(32, 32, 3), pooling="avg",
                            weights=str(path))
    np.testing.assert_allclose(second.layers[2].get_weights()[0], (x / 255.0).reshape(-1, 3).mean(0),
                               rtol=1e-5)
    np.testing.assert_array_equal(first.predict(x, verbose=0), second.predict(x, verbose=0))
