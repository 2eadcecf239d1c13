"""Built-in datasets with Keras's loaders: ``mnist``, ``cifar10``, ``cifar100``, ``imdb`` and
``boston_housing`` read Keras's files from the local cache (``$FORGEFLOW_DATA_DIR``,
``~/.forgeflow/datasets``, Keras's ``~/.keras/datasets``) and, where a file is missing and the
machine is online, download it once from the origin Keras uses, checked against its known hash
and written atomically (``FORGEFLOW_DATASETS_ORIGIN`` points them at a mirror).
``fashion_mnist`` reads the full Fashion-MNIST from disk (never downloads);
``fashion_mnist_small`` loads the subset shipped with the package."""

from importlib import import_module as _import_module

# import_module (rather than ``from . import x``) keeps this package loadable
# on its own, without importing the top-level forgeflow package (and its
# compiled extension) first.
fashion_mnist = _import_module(".fashion_mnist", __name__)
fashion_mnist_small = _import_module(".fashion_mnist_small", __name__)
mnist = _import_module(".mnist", __name__)
cifar10 = _import_module(".cifar10", __name__)
cifar100 = _import_module(".cifar100", __name__)
imdb = _import_module(".imdb", __name__)
boston_housing = _import_module(".boston_housing", __name__)
DatasetDownloadError = _import_module("._cache", __name__).DatasetDownloadError

__all__ = ["fashion_mnist", "fashion_mnist_small", "mnist", "cifar10", "cifar100", "imdb",
           "boston_housing", "DatasetDownloadError"]
