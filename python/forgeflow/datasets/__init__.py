"""Built-in datasets (no downloads): ``fashion_mnist`` reads the full set from
disk, ``fashion_mnist_small`` loads the subset shipped with the package."""

from importlib import import_module as _import_module

# import_module (rather than ``from . import x``) keeps this package loadable
# on its own, without importing the top-level forgeflow package (and its
# compiled extension) first.
fashion_mnist = _import_module(".fashion_mnist", __name__)
fashion_mnist_small = _import_module(".fashion_mnist_small", __name__)

__all__ = ["fashion_mnist", "fashion_mnist_small"]
