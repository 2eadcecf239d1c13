"""Keras-compatible layers. One module per family: core (Dense, Activation, Flatten, Reshape,
Dropout, Input), and the families added by later work (convolution, pooling, normalization,
preprocessing, merging), each re-exported here as ``ff.layers.<Name>``."""
from .core import (Activation, Dense, Dropout, Flatten, Input, InputLayer, KerasTensor, Layer,
                   Reshape)
from .normalization import BatchNormalization, LayerNormalization, Normalization
from .preprocessing import (RandomFlip, RandomRotation, RandomTranslation, RandomZoom,
                            Rescaling)
from .merging import Add, Average, Concatenate, Multiply, add, average, concatenate, multiply
from .convolutional import Conv1D, Conv2D
from .pooling import (AveragePooling2D, GlobalAveragePooling2D, GlobalMaxPooling2D, MaxPooling2D,
                      ZeroPadding2D)
from .lookup import IntegerLookup, StringLookup
from .category_encoding import CategoryEncoding
from .activations import ELU, LeakyReLU, PReLU, ReLU, Softmax
from .reshaping import Cropping2D, UpSampling2D
from .conv_transpose import Conv2DTranspose
from .depthwise_conv import DepthwiseConv2D, SeparableConv2D
from .pooling1d import (AveragePooling1D, GlobalAveragePooling1D, GlobalMaxPooling1D,
                        MaxPooling1D)

__all__ = ["Layer", "Input", "InputLayer", "KerasTensor", "Dense", "Activation", "Flatten",
           "Reshape", "Dropout", "Add", "Average", "Concatenate", "Multiply",
           "Conv1D", "Conv2D", "MaxPooling2D", "AveragePooling2D", "GlobalAveragePooling2D",
           "GlobalMaxPooling2D", "ZeroPadding2D",
           "BatchNormalization", "Normalization", "Rescaling", "RandomFlip", "RandomTranslation",
           "RandomZoom", "RandomRotation"]
__all__ += ["Softmax", "ReLU", "LeakyReLU", "ELU", "PReLU", "UpSampling2D", "Cropping2D",
            "MaxPooling1D", "AveragePooling1D", "GlobalAveragePooling1D", "GlobalMaxPooling1D",
            "LayerNormalization", "Conv2DTranspose", "DepthwiseConv2D", "SeparableConv2D"]
__all__ += ["StringLookup", "IntegerLookup", "CategoryEncoding", "add", "multiply", "average",
            "concatenate"]
