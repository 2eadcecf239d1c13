"""End to end: the packaged Fashion-MNIST subset (6000 train / 1000 test) written as PNG class
folders, read back by image_dataset_from_directory(color_mode="grayscale", image_size=(28, 28))
bit-exactly, and trained through fit(dataset) + Rescaling(1/255) to the same test accuracy as the
same model trained from the arrays."""
import os

import numpy as np
import pytest

import forgeflow as ff

PIL = pytest.importorskip("PIL.Image")

EPOCHS = 4


def write_folders(root, images, labels):
    for i, (img, label) in enumerate(zip(images, labels)):
        folder = os.path.join(root, f"class_{label}")
        os.makedirs(folder, exist_ok=True)
        PIL.fromarray(img, "L").save(os.path.join(folder, f"{i:05d}.png"))


def make_model():
    ff.utils.set_random_seed(0)
    model = ff.Sequential([
        ff.layers.Input(shape=(28, 28, 1)),
        ff.layers.Rescaling(1.0 / 255),
        ff.layers.Flatten(),
        ff.layers.Dense(128, activation="relu"),
        ff.layers.Dense(10),
    ])
    model.compile(optimizer="adam",
                  loss=ff.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    return model


def test_fashion_mnist_png_folders_train_like_arrays(tmp_path):
    (x_train, y_train), (x_test, y_test) = ff.datasets.fashion_mnist_small.load_data()
    write_folders(str(tmp_path / "train"), x_train, y_train)
    write_folders(str(tmp_path / "test"), x_test, y_test)

    train_ds = ff.utils.image_dataset_from_directory(
        str(tmp_path / "train"), color_mode="grayscale", image_size=(28, 28), batch_size=32,
        seed=0, verbose=False)
    test_ds = ff.utils.image_dataset_from_directory(
        str(tmp_path / "test"), color_mode="grayscale", image_size=(28, 28), batch_size=100,
        shuffle=False, verbose=False)
    assert train_ds.class_names == [f"class_{k}" for k in range(10)]
    assert len(train_ds.file_paths) == 6000 and len(test_ds.file_paths) == 1000

    # The folder gives back exactly the arrays (lossless PNG, same-size resize is the identity).
    xs, ys = [], []
    for x, y in test_ds:
        xs.append(x)
        ys.append(y)
    x_back, y_back = np.concatenate(xs), np.concatenate(ys)
    order = [int(os.path.basename(p)[:5]) for p in test_ds.file_paths]
    assert x_back.shape == (1000, 28, 28, 1) and x_back.dtype == np.float32
    np.testing.assert_array_equal(x_back[..., 0], x_test[order].astype(np.float32))
    np.testing.assert_array_equal(y_back, y_test[order])

    from_arrays = make_model()
    from_arrays.fit(x_train[..., None].astype(np.float32), y_train.astype(np.int32),
                    batch_size=32, epochs=EPOCHS, verbose=0)
    acc_arrays = from_arrays.evaluate(x_test[..., None].astype(np.float32),
                                      y_test.astype(np.int32), verbose=0)[1]

    from_folder = make_model()
    history = from_folder.fit(train_ds, epochs=EPOCHS, verbose=0)
    assert len(history.history["loss"]) == EPOCHS
    acc_folder = from_folder.evaluate(test_ds, verbose=0)[1]

    # The two runs see the examples in different orders (the folder is shuffled with its seed), so
    # their accuracies differ by the run-to-run spread (about 1-2 points on 1000 test images);
    # the folder must not do worse beyond it.
    assert acc_arrays > 0.78, acc_arrays
    assert acc_folder > acc_arrays - 0.03, (acc_folder, acc_arrays)
    assert abs(acc_folder - acc_arrays) < 0.05, (acc_folder, acc_arrays)
