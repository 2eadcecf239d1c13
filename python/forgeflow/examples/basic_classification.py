"""Keras's "basic classification" tutorial on Fashion-MNIST, ported by changing the import.

Trains on the small real sample shipped inside the package (6,000 training and 1,000 test images
of Fashion-MNIST) by default, or on the full dataset with --full. Prints the model summary, the
progress bar, the test accuracy and a few predictions.

    python -m forgeflow.examples.basic_classification [--full] [--epochs 10]
"""
import argparse

import numpy as np

import forgeflow as ff


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--full", action="store_true", help="train on the full Fashion-MNIST (60,000 images)")
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--seed", type=int, default=42)
    args = ap.parse_args(argv)

    ff.utils.set_random_seed(args.seed)
    source = ff.datasets.fashion_mnist if args.full else ff.datasets.fashion_mnist_small
    (x_train, y_train), (x_test, y_test) = source.load_data()
    class_names = ff.datasets.fashion_mnist.CLASS_NAMES
    print(f"Fashion-MNIST{'' if args.full else ' (shipped sample)'}: {len(x_train)} training and "
          f"{len(x_test)} test images of {x_train.shape[1]}x{x_train.shape[2]}")
    x_train, x_test = x_train / 255.0, x_test / 255.0

    model = ff.Sequential([
        ff.layers.Flatten(input_shape=(28, 28)),
        ff.layers.Dense(128, activation="relu"),
        ff.layers.Dense(10),
    ])
    model.compile(optimizer="adam",
                  loss=ff.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    model.summary()
    model.fit(x_train, y_train, epochs=args.epochs)

    test_loss, test_acc = model.evaluate(x_test, y_test, verbose=2)
    print(f"\nTest accuracy: {test_acc:.4f}")

    logits = model.predict(x_test[:8], verbose=0)
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    probs = e / e.sum(axis=1, keepdims=True)
    print("\nA few predictions:")
    for i, p in enumerate(probs):
        guess = int(np.argmax(p))
        mark = "ok   " if guess == y_test[i] else "WRONG"
        print(f"  {mark} predicted {class_names[guess]:<12s} ({100 * p[guess]:5.1f}%)  "
              f"true {class_names[y_test[i]]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
