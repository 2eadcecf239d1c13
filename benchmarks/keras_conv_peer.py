"""Keras 3 (JAX backend) peer for bench_cnn.py and bench_resnet18.py --device cuda: the same
convolutional networks trained through model.fit on NumPy arrays (NHWC, Keras's default), Adam
1e-3, softmax cross-entropy from logits, accuracy, timed as keras_mlp_peer.py times its MLP
(`fit_figures`: samples/s of the second of two epochs, best of REPEATS, and the time from building
the model to the end of a first fit of one batch).

Models: "cnn" (conv 3x3 32 relu, max-pool 2, conv 3x3 64 relu, max-pool 2, dense 128 relu,
dense 10) and "resnet18" (the CIFAR form of forgeflow.examples.resnet, layer for layer).
Policies, comma-separated:
  float32          JAX matmul and convolution precision "highest": no TF32
  float32_tf32     JAX's default precision (what a Keras user gets: TF32 allowed)
  mixed_bfloat16   keras.mixed_precision "mixed_bfloat16", JAX's default precision
SPES: comma-separated steps_per_execution values; one row per policy and value. Prints one JSON
line; exits 2 with the reason on stderr when Keras or a JAX GPU is missing.

Usage: KERAS_BACKEND=jax python3 keras_conv_peer.py MODEL DATA.npz REPEATS BATCH POLICIES SPES
"""
import json
import os
import sys

import numpy as np

os.environ.setdefault("KERAS_BACKEND", "jax")

from keras_mlp_peer import fit_figures, keras_on_jax_gpu  # noqa: E402

# policy -> (Keras dtype policy, jax_default_matmul_precision, TF32 on)
POLICIES = {"float32": ("float32", "highest", False),
            "float32_tf32": ("float32", None, True),
            "mixed_bfloat16": ("mixed_bfloat16", None, None)}


def cnn(keras):
    L = keras.layers
    return keras.Sequential([
        keras.Input((28, 28, 1)),
        L.Conv2D(32, 3, activation="relu"), L.MaxPooling2D(),
        L.Conv2D(64, 3, activation="relu"), L.MaxPooling2D(),
        L.Flatten(), L.Dense(128, activation="relu"), L.Dense(10)])


def resnet18(keras):
    L = keras.layers

    def conv_bn(x, filters, kernel_size, strides, name):
        x = L.Conv2D(filters, kernel_size, strides=strides, padding="same", use_bias=False,
                     kernel_initializer="he_normal", name=f"{name}_conv")(x)
        return L.BatchNormalization(name=f"{name}_bn")(x)

    def basic_block(x, filters, strides, name):
        shortcut = x
        y = conv_bn(x, filters, 3, strides, f"{name}_1")
        y = L.Activation("relu", name=f"{name}_1_relu")(y)
        y = conv_bn(y, filters, 3, 1, f"{name}_2")
        if strides != 1 or x.shape[-1] != filters:
            shortcut = conv_bn(x, filters, 1, strides, f"{name}_proj")
        y = L.Add(name=f"{name}_add")([y, shortcut])
        return L.Activation("relu", name=f"{name}_out")(y)

    inputs = keras.Input((32, 32, 3), name="image")
    x = conv_bn(inputs, 64, 3, 1, "stem")
    x = L.Activation("relu", name="stem_relu")(x)
    for stage, filters in enumerate((64, 128, 256, 512), start=1):
        for block in range(2):
            strides = 2 if stage > 1 and block == 0 else 1
            x = basic_block(x, filters, strides, f"stage{stage}_block{block + 1}")
    x = L.GlobalAveragePooling2D(name="pool")(x)
    outputs = L.Dense(10, dtype="float32", name="logits")(x)
    model = keras.Model(inputs, outputs, name="resnet18")
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    assert trainable == 11_173_962, trainable
    return model


MODELS = {"cnn": cnn, "resnet18": resnet18}


def parse_list(text, allowed, what):
    items = text.split(",") if text else []
    if not items or any(i not in allowed for i in items):
        raise ValueError(f"{what}: expected a comma-separated list of {', '.join(allowed)}; "
                         f"received {text!r}")
    return items


def main():
    if len(sys.argv) != 7:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    model_name, data_path = sys.argv[1], sys.argv[2]
    repeats, batch = int(sys.argv[3]), int(sys.argv[4])
    try:
        if model_name not in MODELS:
            raise ValueError(f"MODEL: expected one of {', '.join(MODELS)}; "
                             f"received {model_name!r}")
        policies = parse_list(sys.argv[5], POLICIES, "POLICIES")
        spes = [int(s) for s in sys.argv[6].split(",") if s.isdigit()]
        if len(spes) != len(sys.argv[6].split(",")) or min(spes) < 1:
            raise ValueError("SPES: expected comma-separated positive integers; "
                             f"received {sys.argv[6]!r}")
    except ValueError as e:
        print(e, file=sys.stderr)
        return 2
    found = keras_on_jax_gpu()
    if found is None:
        return 2
    jax, keras = found
    data = np.load(data_path)
    x, y = data["x"], data["y"]
    results = {"keras": keras.__version__, "jax": jax.__version__, "rows": {}}
    for policy in policies:
        dtype_policy, precision, tf32 = POLICIES[policy]
        jax.config.update("jax_default_matmul_precision", precision)

        def build(spe):
            keras.utils.set_random_seed(0)
            model = MODELS[model_name](keras)
            model.compile(optimizer=keras.optimizers.Adam(1e-3),
                          loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                          metrics=["accuracy"], steps_per_execution=spe)
            return model

        keras.mixed_precision.set_global_policy(dtype_policy)
        try:
            for spe in spes:
                figures = fit_figures(keras, build, x, y, batch, repeats, spe)
                figures.update(precision=precision or "default", tf32=tf32)
                results["rows"][f"{policy}:spe{spe}"] = figures
        finally:
            keras.mixed_precision.set_global_policy("float32")
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
