"""Keras's guide "Making new layers and models via subclassing" (keras.io/guides/
making_new_layers_and_models_via_subclassing, Keras 3 version), ported: the guide's code with
``import keras`` / ``from keras import ops, layers`` replaced by forgeflow's, and nothing else
changed except where noted below.

    python -m forgeflow.examples.subclassing

What runs as written: the ``Layer`` class with ``add_weight`` (trainable and non-trainable
weights, ``assign_add`` on an eager call), deferred weight creation in ``build()``, recursively
composed layers with their weights tracked, ``add_loss()`` (``layer.losses`` reset at every
top-level call; a ``kernel_regularizer``'s penalty listed there; the losses in ``fit`` with or
without a compiled loss), ``get_config`` / ``from_config``, the privileged ``training``
argument with ``keras.random.dropout``, and the end-to-end variational autoencoder: a subclassed
``Model`` nesting custom layers, sampling with ``keras.random.normal`` and a
``SeedGenerator``, its KL divergence added with ``add_loss``. The layers' ``call`` runs once on
symbolic tensors and becomes nodes of the C++ graph: ``fit`` runs without Python per step.

Adapted (and why):

- Data: the guide downloads MNIST; nothing downloads here, so the VAE trains on the Fashion-MNIST
  subset shipped with forgeflow (``ff.datasets.fashion_mnist_small``, 6000 images of 28x28),
  ``x_train.reshape(-1, 784)`` instead of ``reshape(60000, 784)``.
- ``print(y)`` shows a NumPy array (an eager result with ``.numpy()``) where Keras prints a
  backend tensor.
- The guide's sections without code (backend-specific layers, the ``mask`` argument, a ResNet
  sketch) are left out; forgeflow has no masking.
"""
import numpy as np

import forgeflow as keras
from forgeflow import layers, ops

__all__ = ["Linear", "ComputeSum", "MLPBlock", "ActivityRegularizationLayer", "OuterLayer",
           "OuterLayerWithKernelRegularizer", "CustomDropout", "Sampling", "Encoder", "Decoder",
           "VariationalAutoEncoder", "layer_section", "vae_section", "main"]


# ---------------------------------------------------------------------------------- the Layer class
class Linear(keras.layers.Layer):
    def __init__(self, units=32, input_dim=32):
        super().__init__()
        self.w = self.add_weight(
            shape=(input_dim, units),
            initializer="random_normal",
            trainable=True,
        )
        self.b = self.add_weight(shape=(units,), initializer="zeros", trainable=True)

    def call(self, inputs):
        return ops.matmul(inputs, self.w) + self.b


class ComputeSum(keras.layers.Layer):
    def __init__(self, input_dim):
        super().__init__()
        self.total = self.add_weight(
            initializer="zeros", shape=(input_dim,), trainable=False
        )

    def call(self, inputs):
        self.total.assign_add(ops.sum(inputs, axis=0))
        return self.total


class LazyLinear(keras.layers.Layer):
    """The guide's second ``Linear``: weights created in ``build()``."""

    def __init__(self, units=32):
        super().__init__()
        self.units = units

    def build(self, input_shape):
        self.w = self.add_weight(
            shape=(input_shape[-1], self.units),
            initializer="random_normal",
            trainable=True,
        )
        self.b = self.add_weight(
            shape=(self.units,), initializer="random_normal", trainable=True
        )

    def call(self, inputs):
        return ops.matmul(inputs, self.w) + self.b


class MLPBlock(keras.layers.Layer):
    def __init__(self):
        super().__init__()
        self.linear_1 = LazyLinear(32)
        self.linear_2 = LazyLinear(32)
        self.linear_3 = LazyLinear(1)

    def call(self, inputs):
        x = self.linear_1(inputs)
        x = keras.activations.relu(x)
        x = self.linear_2(x)
        x = keras.activations.relu(x)
        return self.linear_3(x)


# A layer that creates an activity regularization loss
class ActivityRegularizationLayer(keras.layers.Layer):
    def __init__(self, rate=1e-2):
        super().__init__()
        self.rate = rate

    def call(self, inputs):
        self.add_loss(self.rate * ops.mean(inputs))
        return inputs


class OuterLayer(keras.layers.Layer):
    def __init__(self):
        super().__init__()
        self.activity_reg = ActivityRegularizationLayer(1e-2)

    def call(self, inputs):
        return self.activity_reg(inputs)


class OuterLayerWithKernelRegularizer(keras.layers.Layer):
    def __init__(self):
        super().__init__()
        self.dense = keras.layers.Dense(
            32, kernel_regularizer=keras.regularizers.l2(1e-3)
        )

    def call(self, inputs):
        return self.dense(inputs)


class SerializableLinear(keras.layers.Layer):
    """The guide's serializable ``Linear`` (``get_config`` with the base arguments)."""

    def __init__(self, units=32, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape):
        self.w = self.add_weight(
            shape=(input_shape[-1], self.units),
            initializer="random_normal",
            trainable=True,
        )
        self.b = self.add_weight(
            shape=(self.units,), initializer="random_normal", trainable=True
        )

    def call(self, inputs):
        return ops.matmul(inputs, self.w) + self.b

    def get_config(self):
        config = super().get_config()
        config.update({"units": self.units})
        return config


class CustomDropout(keras.layers.Layer):
    def __init__(self, rate, **kwargs):
        super().__init__(**kwargs)
        self.rate = rate
        self.seed_generator = keras.random.SeedGenerator(1337)

    def call(self, inputs, training=None):
        if training:
            return keras.random.dropout(
                inputs, rate=self.rate, seed=self.seed_generator
            )
        return inputs


def layer_section(verbose=1):
    """The guide's Layer sections, in order; returns what the test checks."""
    out = {}
    x = ops.ones((2, 2))
    linear_layer = Linear(4, 2)
    y = linear_layer(x)
    print(y)
    assert linear_layer.weights == [linear_layer.w, linear_layer.b]
    out["linear"] = (x, y, linear_layer)

    x = ops.ones((2, 2))
    my_sum = ComputeSum(2)
    y = my_sum(x)
    print(y.numpy())
    y = my_sum(x)
    print(y.numpy())
    out["sum"] = y.numpy()
    print("weights:", len(my_sum.weights))
    print("non-trainable weights:", len(my_sum.non_trainable_weights))
    print("trainable_weights:", my_sum.trainable_weights)

    # At instantiation, we don't know on what inputs this is going to get called
    linear_layer = LazyLinear(32)
    # The layer's weights are created dynamically the first time the layer is called
    y = linear_layer(x)

    mlp = MLPBlock()
    y = mlp(ops.ones(shape=(3, 64)))  # The first call to the `mlp` will create the weights
    print("weights:", len(mlp.weights))
    print("trainable weights:", len(mlp.trainable_weights))
    out["mlp"] = (len(mlp.weights), len(mlp.trainable_weights))

    layer = OuterLayer()
    assert len(layer.losses) == 0  # No losses yet since the layer has never been called
    _ = layer(ops.zeros((1, 1)))
    assert len(layer.losses) == 1  # We created one loss value
    # `layer.losses` gets reset at the start of each __call__
    _ = layer(ops.zeros((1, 1)))
    assert len(layer.losses) == 1  # This is the loss created during the call above

    layer = OuterLayerWithKernelRegularizer()
    _ = layer(ops.zeros((1, 1)))
    # This is `1e-3 * sum(layer.dense.kernel ** 2)`,
    # created by the `kernel_regularizer` above.
    print(layer.losses)
    out["kernel_penalty"] = (layer.losses, layer.dense.get_weights()[0])

    inputs = keras.Input(shape=(3,))
    outputs = ActivityRegularizationLayer()(inputs)
    model = keras.Model(inputs, outputs)
    # If there is a loss passed in `compile`, the regularization
    # losses get added to it
    model.compile(optimizer="adam", loss="mse")
    model.fit(np.random.random((2, 3)), np.random.random((2, 3)), verbose=verbose)
    # It's also possible not to pass any loss in `compile`,
    # since the model already has a loss to minimize, via the `add_loss`
    # call during the forward pass!
    model.compile(optimizer="adam")
    model.fit(np.random.random((2, 3)), np.random.random((2, 3)), verbose=verbose)

    layer = SerializableLinear(64)
    config = layer.get_config()
    print(config)
    new_layer = SerializableLinear.from_config(config)
    out["config"] = (config, new_layer)

    inputs = keras.Input(shape=(8,))
    model = keras.Model(inputs, CustomDropout(0.5)(inputs))
    out["dropout"] = model
    return out


# ---------------------------------------------------------------------------------- end to end
class Sampling(layers.Layer):
    """Uses (z_mean, z_log_var) to sample z, the vector encoding a digit."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.seed_generator = keras.random.SeedGenerator(1337)

    def call(self, inputs):
        z_mean, z_log_var = inputs
        batch = ops.shape(z_mean)[0]
        dim = ops.shape(z_mean)[1]
        epsilon = keras.random.normal(shape=(batch, dim), seed=self.seed_generator)
        return z_mean + ops.exp(0.5 * z_log_var) * epsilon


class Encoder(layers.Layer):
    """Maps MNIST digits to a triplet (z_mean, z_log_var, z)."""

    def __init__(self, latent_dim=32, intermediate_dim=64, name="encoder", **kwargs):
        super().__init__(name=name, **kwargs)
        self.dense_proj = layers.Dense(intermediate_dim, activation="relu")
        self.dense_mean = layers.Dense(latent_dim)
        self.dense_log_var = layers.Dense(latent_dim)
        self.sampling = Sampling()

    def call(self, inputs):
        x = self.dense_proj(inputs)
        z_mean = self.dense_mean(x)
        z_log_var = self.dense_log_var(x)
        z = self.sampling((z_mean, z_log_var))
        return z_mean, z_log_var, z


class Decoder(layers.Layer):
    """Converts z, the encoded digit vector, back into a readable digit."""

    def __init__(self, original_dim, intermediate_dim=64, name="decoder", **kwargs):
        super().__init__(name=name, **kwargs)
        self.dense_proj = layers.Dense(intermediate_dim, activation="relu")
        self.dense_output = layers.Dense(original_dim, activation="sigmoid")

    def call(self, inputs):
        x = self.dense_proj(inputs)
        return self.dense_output(x)


class VariationalAutoEncoder(keras.Model):
    """Combines the encoder and decoder into an end-to-end model for training."""

    def __init__(self, original_dim, intermediate_dim=64, latent_dim=32, name="autoencoder",
                 **kwargs):
        super().__init__(name=name, **kwargs)
        self.original_dim = original_dim
        self.encoder = Encoder(latent_dim=latent_dim, intermediate_dim=intermediate_dim)
        self.decoder = Decoder(original_dim, intermediate_dim=intermediate_dim)

    def call(self, inputs):
        z_mean, z_log_var, z = self.encoder(inputs)
        reconstructed = self.decoder(z)
        # Add KL divergence regularization loss.
        kl_loss = -0.5 * ops.mean(z_log_var - ops.square(z_mean) - ops.exp(z_log_var) + 1)
        self.add_loss(kl_loss)
        return reconstructed


def vae_section(epochs=2, verbose=1):
    """The guide's VAE, trained with fit(); returns (model, history, data)."""
    (x_train, _), _ = keras.datasets.fashion_mnist_small.load_data()
    x_train = x_train.reshape(-1, 784).astype("float32") / 255

    original_dim = 784
    vae = VariationalAutoEncoder(784, 64, 32)

    optimizer = keras.optimizers.Adam(learning_rate=1e-3)
    vae.compile(optimizer, loss=keras.losses.MeanSquaredError())

    history = vae.fit(x_train, x_train, epochs=epochs, batch_size=64, verbose=verbose)
    del original_dim
    return vae, history, x_train


def main():
    keras.utils.set_random_seed(0)
    layer_section()
    vae_section()


if __name__ == "__main__":
    main()
