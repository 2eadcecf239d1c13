"""EfficientNetB0 (Tan and Le 2019) as keras.applications.EfficientNetB0: Rescaling(1/255) and a
Normalization stem, a 3x3/2 convolution of 32 filters, 16 MBConv blocks in 7 stages (1x1
expansion, depthwise 3x3 or 5x5, squeeze-and-excitation, 1x1 projection, a residual Add with
drop-connect where shapes allow), a 1x1 convolution to 1280 channels, swish activations, batch
normalisation with Keras's defaults (epsilon 1e-3, momentum 0.99) and Keras's layer names.

Where it differs from Keras (docstring of EfficientNetB0): the Normalization layer starts with
mean 0 and variance 1 (Keras's unadapted values) and holds no "count" weight, so the model has
one weight fewer than Keras reports; drop-connect is a Dropout of each value rather than of whole
samples (forgeflow's Dropout has no noise_shape yet); the convolutions start from he_normal
(fan-in) where Keras uses a fan-out variance scaling, the classifier from glorot_uniform."""
from .. import layers as L

from ._common import check_arguments, finish, model_input

__all__ = ["EfficientNetB0"]

# (kernel size, repeats, filters in, filters out, expansion, strides) of the 7 stages (B0: width
# and depth coefficients 1.0, so Keras's round_filters/round_repeats leave them as they are);
# every block has id_skip=True and se_ratio=0.25.
_STAGES = ((3, 1, 32, 16, 1, 1), (3, 2, 16, 24, 6, 2), (5, 2, 24, 40, 6, 2),
           (3, 3, 40, 80, 6, 2), (5, 3, 80, 112, 6, 1), (5, 4, 112, 192, 6, 2),
           (3, 1, 192, 320, 6, 1))
_SE_RATIO = 0.25
_DROP_CONNECT_RATE = 0.2
_DROPOUT_RATE = 0.2
_CONV_INIT = "he_normal"


def _correct_pad(x, kernel_size):
    """Keras's imagenet_utils.correct_pad: the padding of a stride-2 'valid' convolution that
    matches TensorFlow's 'same' (one more row/column after than before on even sizes)."""
    h, w = x.shape[1], x.shape[2]
    adjust = (1 - h % 2, 1 - w % 2)
    half = kernel_size // 2
    return ((half - adjust[0], half), (half - adjust[1], half))


def _block(inputs, drop_rate, name, filters_in, filters_out, kernel_size, strides, expand_ratio):
    """Keras's efficientnet.block: an inverted residual block with squeeze-and-excitation."""
    filters = filters_in * expand_ratio
    if expand_ratio != 1:
        x = L.Conv2D(filters, 1, padding="same", use_bias=False, kernel_initializer=_CONV_INIT,
                     name=f"{name}expand_conv")(inputs)
        x = L.BatchNormalization(axis=3, name=f"{name}expand_bn")(x)
        x = L.Activation("swish", name=f"{name}expand_activation")(x)
    else:
        x = inputs
    if strides == 2:
        x = L.ZeroPadding2D(padding=_correct_pad(x, kernel_size), name=f"{name}dwconv_pad")(x)
    x = L.DepthwiseConv2D(kernel_size, strides=strides,
                          padding="valid" if strides == 2 else "same", use_bias=False,
                          depthwise_initializer=_CONV_INIT, name=f"{name}dwconv")(x)
    x = L.BatchNormalization(axis=3, name=f"{name}bn")(x)
    x = L.Activation("swish", name=f"{name}activation")(x)

    # Squeeze and excitation: a per-channel gate of shape (1, 1, filters) broadcast by Multiply.
    filters_se = max(1, int(filters_in * _SE_RATIO))
    se = L.GlobalAveragePooling2D(name=f"{name}se_squeeze")(x)
    se = L.Reshape((1, 1, filters), name=f"{name}se_reshape")(se)
    se = L.Conv2D(filters_se, 1, padding="same", activation="swish",
                  kernel_initializer=_CONV_INIT, name=f"{name}se_reduce")(se)
    se = L.Conv2D(filters, 1, padding="same", activation="sigmoid",
                  kernel_initializer=_CONV_INIT, name=f"{name}se_expand")(se)
    x = L.multiply([x, se], name=f"{name}se_excite")

    x = L.Conv2D(filters_out, 1, padding="same", use_bias=False, kernel_initializer=_CONV_INIT,
                 name=f"{name}project_conv")(x)
    x = L.BatchNormalization(axis=3, name=f"{name}project_bn")(x)
    if strides == 1 and filters_in == filters_out:
        if drop_rate > 0:
            # Keras: Dropout(drop_rate, noise_shape=(None, 1, 1, 1)) drops whole samples' branch.
            x = L.Dropout(drop_rate, name=f"{name}drop")(x)
        x = L.add([x, inputs], name=f"{name}add")
    return x


def EfficientNetB0(include_top=True, weights=None, input_tensor=None, input_shape=None,
                   pooling=None, classes=1000, classifier_activation="softmax",
                   name="efficientnetb0"):
    """The EfficientNetB0 architecture with Keras's layers and names: 5,330,570 weights with the
    top and 4,049,570 without (Keras reports one more: its Normalization layer keeps a "count"
    of adapted samples, forgeflow's does not; the trainable counts, 5,288,548 and 4,007,548,
    are Keras's).

    Inputs are pixels in 0..255 (the model rescales them). The Normalization layer starts with
    mean 0 and variance 1, as Keras's does before ImageNet weights are loaded; to normalise with
    your data's statistics, adapt it to the rescaled images: ``model.layers[2].adapt(images /
    255.0)`` (the layer after the input and the Rescaling). Drop-connect before each residual Add is a Dropout of each value
    (Keras drops whole samples, ``noise_shape=(None, 1, 1, 1)``, which forgeflow's Dropout does
    not support yet); at inference both are the identity.
    """
    input_shape = check_arguments("EfficientNetB0", include_top, weights, pooling, classes,
                                  input_shape, 224)
    inputs = model_input(input_tensor, input_shape)
    x = L.Rescaling(1.0 / 255.0)(inputs)
    x = L.Normalization(axis=3, mean=[0.0, 0.0, 0.0], variance=[1.0, 1.0, 1.0])(x)
    x = L.ZeroPadding2D(padding=_correct_pad(x, 3), name="stem_conv_pad")(x)
    x = L.Conv2D(32, 3, strides=2, padding="valid", use_bias=False,
                 kernel_initializer=_CONV_INIT, name="stem_conv")(x)
    x = L.BatchNormalization(axis=3, name="stem_bn")(x)
    x = L.Activation("swish", name="stem_activation")(x)

    blocks = float(sum(stage[1] for stage in _STAGES))
    b = 0
    for i, (kernel_size, repeats, filters_in, filters_out, expand, strides) in enumerate(_STAGES):
        for j in range(repeats):
            if j > 0:
                strides, filters_in = 1, filters_out
            x = _block(x, _DROP_CONNECT_RATE * b / blocks, f"block{i + 1}{chr(j + 97)}_",
                       filters_in, filters_out, kernel_size, strides, expand)
            b += 1

    x = L.Conv2D(1280, 1, padding="same", use_bias=False, kernel_initializer=_CONV_INIT,
                 name="top_conv")(x)
    x = L.BatchNormalization(axis=3, name="top_bn")(x)
    x = L.Activation("swish", name="top_activation")(x)
    return finish(name, inputs, x, include_top, pooling, classes, classifier_activation, weights,
                  top_dropout=_DROPOUT_RATE)
