"""The ResNet-18 example: the architecture (trainable weights equal to the published CIFAR
ResNet-18's 11,173,962; the output shape), mixed-precision policies reaching its layers, and
training that overfits a handful of images (a real gradient through every skip connection)."""
import numpy as np
import pytest

import forgeflow as ff
from forgeflow.examples.resnet import resnet18_cifar


def _trainable(model):
    return sum(layer._weight_counts()[0] for layer in model.layers
               if hasattr(layer, "_weight_counts"))


def test_resnet18_has_the_reference_architecture():
    model = resnet18_cifar()
    assert model.output_shape == (None, 10)
    # kuangliu/pytorch-cifar's ResNet18 (the CIFAR form): 11,173,962 parameters (BatchNorm's
    # moving statistics are buffers there, non-trainable weights here).
    assert _trainable(model) == 11_173_962
    convs = [l for l in model.layers if isinstance(l, ff.layers.Conv2D)]
    assert len(convs) == 1 + 16 + 3  # stem, 8 blocks x 2, 3 projections
    assert sum(isinstance(l, ff.layers.Add) for l in model.layers) == 8


def test_resnet18_takes_the_mixed_policy_with_a_float32_head():
    ff.mixed_precision.set_global_policy("mixed_bfloat16")
    model = resnet18_cifar(input_shape=(8, 8, 3), classes=3)
    dtypes = {l.name: l.compute_dtype for l in model.layers if hasattr(l, "compute_dtype")}
    assert dtypes["stem_conv"] == "bfloat16" and dtypes["stage4_block2_add"] == "bfloat16"
    assert dtypes["logits"] == "float32"


@pytest.mark.parametrize("policy", ["float32", "mixed_bfloat16"])
def test_resnet18_overfits_a_few_images(policy):
    ff.mixed_precision.set_global_policy(policy)
    ff.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(16, 8, 8, 3)).astype(np.float32)
    y = np.arange(16) % 4
    model = resnet18_cifar(input_shape=(8, 8, 3), classes=4)
    model.compile(optimizer=ff.optimizers.Adam(1e-3),
                  loss=ff.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    history = model.fit(x, y, batch_size=16, epochs=25, verbose=0).history
    assert history["loss"][-1] < 0.25 * history["loss"][0]
    assert history["accuracy"][-1] == 1.0
