"""The convolutional network of TensorFlow's own layers tutorial, for 28x28x1 images (Fashion-MNIST):
conv 5x5 32 "same" relu, max-pool 2, conv 5x5 64 "same" relu, max-pool 2, dense 1024 relu,
dropout 0.4, dense 10 (logits). Shared by benchmarks/bench_tf_tutorial_cnn.py (the full run) and
the CI's short run (tests/python/test_tf_tutorial_cnn.py).

    from forgeflow.examples.tf_tutorial_cnn import tutorial_cnn
    model = tutorial_cnn()
"""
import forgeflow as ff

__all__ = ["tutorial_cnn"]


def tutorial_cnn():
    """The tutorial's network as a Sequential model (uncompiled), outputs 10 logits."""
    L = ff.layers
    return ff.Sequential([
        L.Conv2D(32, 5, padding="same", activation="relu", input_shape=(28, 28, 1)),
        L.MaxPooling2D(2),
        L.Conv2D(64, 5, padding="same", activation="relu"),
        L.MaxPooling2D(2),
        L.Flatten(),
        L.Dense(1024, activation="relu"),
        L.Dropout(0.4),
        L.Dense(10),
    ])
