"""End to end on real data: the Keras "basic classification" tutorial on Fashion-MNIST
(Flatten, Dense 128 relu, Dense 10 logits; adam; 10 epochs) reaches >= 87% test accuracy, on the
default device and (marked `gpu`, run by scripts/gpu-check.sh) on the GPU. Skipped only when the
dataset files are not installed (forgeflow never downloads them)."""

import numpy as np
import pytest

import forgeflow as ff


def _load_or_skip():
    try:
        return ff.datasets.fashion_mnist.load_data()
    except FileNotFoundError as e:
        pytest.skip(str(e).splitlines()[0])  # "Fashion-MNIST files not found. ..."


def test_basic_classification_tutorial():
    _run_tutorial()


@pytest.mark.gpu
def test_basic_classification_tutorial_reaches_the_same_bar_on_the_gpu():
    model = _run_tutorial()
    assert model._core.device == "cuda:0"


def _run_tutorial():
    (train_images, train_labels), (test_images, test_labels) = _load_or_skip()
    assert train_images.shape == (60000, 28, 28) and test_images.shape == (10000, 28, 28)
    assert train_labels.shape == (60000,) and test_labels.shape == (10000,)

    ff.utils.set_random_seed(42)
    train_images = train_images / 255.0
    test_images = test_images / 255.0

    model = ff.Sequential([
        ff.layers.Flatten(input_shape=(28, 28)),
        ff.layers.Dense(128, activation="relu"),
        ff.layers.Dense(10),
    ])
    model.compile(optimizer="adam",
                  loss=ff.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    history = model.fit(train_images, train_labels, epochs=10, batch_size=32, verbose=0)

    acc = history.history["accuracy"]
    assert len(acc) == 10
    assert acc[-1] > acc[0]
    test_loss, test_acc = model.evaluate(test_images, test_labels, verbose=0)
    assert test_acc >= 0.87, f"test accuracy {test_acc:.4f} < 0.87 (test loss {test_loss:.4f})"

    # predictions agree with evaluate's accuracy
    logits = model.predict(test_images, verbose=0)
    assert logits.shape == (10000, 10)
    assert np.mean(np.argmax(logits, axis=1) == test_labels) == pytest.approx(test_acc)
    return model
