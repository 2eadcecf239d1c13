"""Keras-compatible layers. One module per family: core (Dense, Activation, Flatten, Reshape,
Dropout, Input), and the families added by later work (convolution, pooling, normalization,
preprocessing, merging), each re-exported here as ``ff.layers.<Name>``."""
from .core import (Activation, Dense, Dropout, Flatten, Input, InputLayer, KerasTensor, Layer,
                   Reshape)

__all__ = ["Layer", "Input", "InputLayer", "KerasTensor", "Dense", "Activation", "Flatten",
           "Reshape", "Dropout"]
