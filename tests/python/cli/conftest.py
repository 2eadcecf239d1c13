"""Shared data and trained models for the command-line tests (tests/python/cli/test_fit.py,
test_predict.py, test_evaluate.py, test_summary.py): real CSV files from scikit-learn's shipped
data sets (iris: string classes; wine: integer classes; diabetes: regression) and PNG class
folders written from the packaged small Fashion-MNIST, plus models trained on them once per
session by ``forgeflow fit`` (in-process, recording into a throw-away tracking database)."""
import numpy as np
import pytest

import forgeflow as ff
from forgeflow.cli import main

IMAGE_CLASSES = {0: "tshirt", 1: "trouser", 7: "sneaker", 8: "bag"}


@pytest.fixture(scope="session")
def cli_data(tmp_path_factory):
    """Paths of the CSV files and image folders."""
    from PIL import Image
    from sklearn.datasets import load_diabetes, load_iris, load_wine

    root = tmp_path_factory.mktemp("cli_data")
    paths = {}
    iris = load_iris(as_frame=True).frame.sample(frac=1.0, random_state=0)
    iris["species"] = np.array(["setosa", "versicolor", "virginica"])[iris.pop("target")]
    iris.iloc[:120].to_csv(root / "iris_train.csv", index=False)
    iris.iloc[120:].to_csv(root / "iris_test.csv", index=False)
    iris.iloc[120:].drop(columns="species").to_csv(root / "iris_new.csv", index=False)
    paths.update(iris_train=root / "iris_train.csv", iris_test=root / "iris_test.csv",
                 iris_new=root / "iris_new.csv")

    wine = load_wine(as_frame=True).frame.sample(frac=1.0, random_state=0)
    wine["target"] += 3  # classes 3, 4, 5: not 0..K-1
    wine.to_csv(root / "wine.csv", index=False)
    paths["wine"] = root / "wine.csv"

    diabetes = load_diabetes(as_frame=True, scaled=False).frame.sample(frac=1.0, random_state=0)
    diabetes.iloc[:360].to_csv(root / "diabetes_train.csv", index=False)
    diabetes.iloc[360:].to_csv(root / "diabetes_test.csv", index=False)
    paths.update(diabetes_train=root / "diabetes_train.csv",
                 diabetes_test=root / "diabetes_test.csv")

    (x, y), (xt, yt) = ff.datasets.fashion_mnist_small.load_data()
    for split, (images, labels), per_class in (("train", (x, y), 60), ("test", (xt, yt), 20)):
        for k, name in IMAGE_CLASSES.items():
            folder = root / "images" / split / name
            folder.mkdir(parents=True)
            for i in np.flatnonzero(labels == k)[:per_class]:
                Image.fromarray(images[i]).save(folder / f"{split}_{i}.png")
    paths["images_train"] = root / "images" / "train"
    paths["images_test"] = root / "images" / "test"
    return paths


def _fit(tmp_path_factory, name, *args):
    out = tmp_path_factory.mktemp("cli_models") / f"{name}.ff"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("FORGEFLOW_TRACKING", str(out.parent / "runs.db"))
        code = main(["fit", *map(str, args), "--seed", "3", "--verbose", "0", "--out", str(out)])
    assert code == 0
    return out


@pytest.fixture(scope="session")
def iris_model(cli_data, tmp_path_factory):
    return _fit(tmp_path_factory, "iris", "--csv", cli_data["iris_train"], "--label", "species",
                "--epochs", "40", "--batch-size", "16")


@pytest.fixture(scope="session")
def diabetes_model(cli_data, tmp_path_factory):
    return _fit(tmp_path_factory, "diabetes", "--csv", cli_data["diabetes_train"], "--label",
                "target", "--epochs", "60", "--learning-rate", "0.005")


@pytest.fixture(scope="session")
def image_model(cli_data, tmp_path_factory):
    return _fit(tmp_path_factory, "images", "--images", cli_data["images_train"],
                "--image-size", "28", "28", "--color-mode", "grayscale",
                "--model", "conv:8,maxpool,conv:16,maxpool,flatten", "--epochs", "6")
