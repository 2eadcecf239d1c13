"""Keras's "Transfer learning & fine-tuning" guide, ported with local data: a base network is
pretrained on one task (Fashion-MNIST classes 0-4, the shipped subset, standing in for ImageNet),
then reused for another (classes 5-9) in the guide's three steps:

1. freeze the base (``base.trainable = False``) and call it with ``training=False`` under a new
   head, so its BatchNormalization stays in inference mode;
2. train the head only;
3. unfreeze the base, recompile with a small learning rate and fine-tune everything (the base's
   BatchNormalization still in inference mode: its moving statistics do not move).

    python -m forgeflow.examples.transfer_learning
"""
import numpy as np

import forgeflow as ff

__all__ = ["pretrained_base", "transfer", "main"]

L = ff.layers


def _task(x, y, classes):
    keep = np.isin(y, classes)
    return (x[keep] / 255.0).astype(np.float32)[..., None], (y[keep] - classes[0]).astype(np.int64)


def pretrained_base(x, y, epochs=2):
    """A small convolutional base (with BatchNormalization) trained on (x, y) under a
    throw-away head; returns the base model."""
    base = ff.Sequential([
        ff.Input(shape=(28, 28, 1)),
        L.Conv2D(16, 3, activation="relu"), L.BatchNormalization(), L.MaxPooling2D(),
        L.Conv2D(32, 3, activation="relu"), L.BatchNormalization(), L.MaxPooling2D(),
    ], name="base")
    pretrain = ff.Sequential([base, L.Flatten(), L.Dense(5)])
    pretrain.compile(ff.optimizers.Adam(1e-3),
                     ff.losses.SparseCategoricalCrossentropy(from_logits=True),
                     metrics=["accuracy"])
    pretrain.fit(x, y, batch_size=64, epochs=epochs, verbose=0)
    return base


def transfer(base, x, y, x_test, y_test, head_epochs=2, fine_tune_epochs=1):
    """The guide's steps on a new task; returns the test accuracies after each and the model."""
    base.trainable = False
    inputs = ff.Input(shape=(28, 28, 1))
    features = base(inputs, training=False)  # BatchNormalization in inference mode, always
    features = L.Flatten()(features)
    features = L.Dropout(0.2)(features)
    outputs = L.Dense(5)(features)
    model = ff.Model(inputs, outputs)
    loss = ff.losses.SparseCategoricalCrossentropy(from_logits=True)
    model.compile(ff.optimizers.Adam(1e-3), loss, metrics=["accuracy"])
    model.fit(x, y, batch_size=64, epochs=head_epochs, verbose=0)
    head_accuracy = model.evaluate(x_test, y_test, verbose=0)[1]
    base.trainable = True
    model.compile(ff.optimizers.Adam(1e-5), loss, metrics=["accuracy"])  # a small rate
    model.fit(x, y, batch_size=64, epochs=fine_tune_epochs, verbose=0)
    return {"head": head_accuracy, "fine_tuned": model.evaluate(x_test, y_test, verbose=0)[1],
            "model": model}


def main():
    ff.utils.set_random_seed(0)
    (x, y), (xt, yt) = ff.datasets.fashion_mnist_small.load_data()
    xa, ya = _task(x, y, [0, 1, 2, 3, 4])
    xb, yb = _task(x, y, [5, 6, 7, 8, 9])
    xbt, ybt = _task(xt, yt, [5, 6, 7, 8, 9])
    base = pretrained_base(xa, ya)
    result = transfer(base, xb, yb, xbt, ybt)
    print(f"new task, head trained on the frozen base: test accuracy {result['head']:.3f}")
    print(f"after fine-tuning the whole model:         test accuracy {result['fine_tuned']:.3f}")


if __name__ == "__main__":
    main()
