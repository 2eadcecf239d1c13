"""ff.applications: Keras's architectures with Keras's weight counts (the numbers keras.applications
reports), arguments and layer names; weights="imagenet" refused (nothing downloads), a forgeflow
weights file loaded; MobileNetV2 trains a step end to end (depthwise convolutions, ReLU6,
residual adds)."""
import os
import subprocess
import sys

import numpy as np
import pytest

import forgeflow as ff
from forgeflow.applications import MobileNetV2, ResNet50, VGG16


@pytest.mark.parametrize("build, total", [
    (lambda: VGG16(include_top=False, input_shape=(32, 32, 3)), 14_714_688),
    (lambda: ResNet50(include_top=False, input_shape=(64, 64, 3)), 23_587_712),
    (lambda: ResNet50(input_shape=(64, 64, 3)), 25_636_712),
    (lambda: MobileNetV2(include_top=False, input_shape=(64, 64, 3)), 2_257_984),
    (lambda: MobileNetV2(input_shape=(64, 64, 3)), 3_538_984),
])
def test_weight_counts_match_keras(build, total):
    assert build().count_params() == total


def test_vgg16_with_its_top_has_kerass_weight_count():
    # 138 million weights: counted in a process of its own, so that the suite's memory (and the
    # peak RSS a later subprocess inherits across fork) stays small.
    script = "from forgeflow.applications import VGG16; print(VGG16().count_params())"
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=600, env=dict(os.environ))
    assert done.returncode == 0, done.stderr[-2000:]
    assert int(done.stdout.strip().splitlines()[-1]) == 138_357_544


def test_keras_layer_names_and_pooling():
    model = ResNet50(include_top=False, input_shape=(64, 64, 3), pooling="avg")
    names = [layer.name for layer in model.layers]
    for name in ("conv1_conv", "conv2_block1_0_conv", "conv5_block3_out", "avg_pool"):
        assert name in names
    assert model.output_shape == (None, 2048)
    mobile = MobileNetV2(include_top=False, input_shape=(64, 64, 3), pooling="max")
    assert mobile.output_shape == (None, 1280)
    assert "block_16_project_BN" in [layer.name for layer in mobile.layers]


def test_imagenet_weights_are_refused_and_a_weights_file_loads(tmp_path):
    with pytest.raises(ValueError, match="downloads nothing"):
        MobileNetV2(weights="imagenet")
    with pytest.raises(ValueError, match="path to the weights file"):
        VGG16(weights="missing.weights.ff")
    with pytest.raises(ValueError, match=r"224x224"):
        VGG16(input_shape=(32, 32, 3))
    ff.utils.set_random_seed(1)
    first = MobileNetV2(include_top=False, input_shape=(32, 32, 3))
    path = tmp_path / "mobile.weights.ff"
    first.save_weights(path)
    ff.utils.set_random_seed(2)
    second = MobileNetV2(include_top=False, input_shape=(32, 32, 3), weights=str(path))
    for a, b in zip(first.get_weights(), second.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_mobilenet_v2_trains_a_step():
    ff.utils.set_random_seed(3)
    model = MobileNetV2(input_shape=(32, 32, 3), classes=4, classifier_activation=None)
    model.compile("sgd", ff.losses.SparseCategoricalCrossentropy(from_logits=True))
    x = np.random.default_rng(0).random((4, 32, 32, 3)).astype(np.float32)
    before = model.get_weights()[0]
    history = model.fit(x, np.arange(4), epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    assert not np.array_equal(model.get_weights()[0], before)
