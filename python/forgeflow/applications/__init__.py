"""Keras's architectures, ``keras.applications``'s names and arguments, built with random
weights (``weights=None``) or from a forgeflow weights file; ``weights="imagenet"`` raises
(nothing downloads)."""
from .efficientnet import EfficientNetB0
from .mobilenet_v2 import MobileNetV2
from .resnet50 import ResNet50
from .vgg16 import VGG16

__all__ = ["EfficientNetB0", "MobileNetV2", "ResNet50", "VGG16"]
