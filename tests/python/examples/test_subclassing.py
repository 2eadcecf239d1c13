"""The subclassing example (Keras's "Making new layers and models via subclassing" guide,
ported): every section runs, its numbers checked against NumPy where the guide prints them, and
the variational autoencoder (a subclassed model of custom layers, sampling with ff.random,
its KL divergence added with add_loss) trains: the loss falls, the reported loss is the
reconstruction error plus the KL term, and the model saves and loads with its classes given."""
import numpy as np

import forgeflow as ff
from forgeflow import ops
from forgeflow.examples import subclassing as ex


def test_the_layer_sections_run_as_the_guide_says(capsys):
    ff.utils.set_random_seed(0)
    out = ex.layer_section(verbose=0)
    x, y, linear = out["linear"]
    np.testing.assert_allclose(y, np.ones((2, 2)) @ linear.w.numpy() + linear.b.numpy(),
                               rtol=1e-6)
    np.testing.assert_array_equal(out["sum"], [4.0, 4.0])  # two calls of ComputeSum on ones
    assert out["mlp"] == (6, 6)
    (penalty,), kernel = out["kernel_penalty"]
    np.testing.assert_allclose(penalty, 1e-3 * np.sum(kernel ** 2), rtol=1e-5)
    config, new_layer = out["config"]
    assert config["units"] == 64 and new_layer.units == 64
    dropout = out["dropout"]
    x = np.ones((4, 8), np.float32)
    np.testing.assert_array_equal(dropout.predict(x, verbose=0), x)
    assert set(np.unique(dropout(x, training=True).numpy())) <= {0.0, 2.0}
    text = capsys.readouterr().out
    assert "weights: 1" in text and "non-trainable weights: 1" in text


def test_the_vae_trains_and_saves(tmp_path):
    ff.utils.set_random_seed(0)
    vae, history, x = ex.vae_section(epochs=2, verbose=0)
    losses = history.history["loss"]
    assert losses[-1] < losses[0] and losses[-1] < 0.1, losses
    assert [l.name for l in vae.layers] == ["encoder", "decoder"]
    assert vae.count_params() == (784 * 64 + 64) + 2 * (64 * 32 + 32) + (32 * 64 + 64) + (
        64 * 784 + 784)
    # The reported loss is the reconstruction error plus the KL term (one batch, no sampling
    # noise in the check: z_log_var and z_mean are deterministic functions of x).
    batch = x[:64]
    enc = vae.encoder
    h = np.maximum(batch @ enc.dense_proj.get_weights()[0] + enc.dense_proj.get_weights()[1], 0)
    z_mean = h @ enc.dense_mean.get_weights()[0] + enc.dense_mean.get_weights()[1]
    z_log_var = h @ enc.dense_log_var.get_weights()[0] + enc.dense_log_var.get_weights()[1]
    kl = -0.5 * np.mean(z_log_var - z_mean ** 2 - np.exp(z_log_var) + 1)
    reconstructed = vae.predict(batch, batch_size=64, verbose=0)
    total = vae.evaluate(batch, batch, batch_size=64, verbose=0)
    np.testing.assert_allclose(total, np.mean((reconstructed - batch) ** 2) + kl, rtol=1e-4)
    vae.save(tmp_path / "vae.ff")
    classes = {c.__name__: c for c in (ex.VariationalAutoEncoder, ex.Encoder, ex.Decoder,
                                       ex.Sampling)}
    loaded = ff.models.load_model(tmp_path / "vae.ff", custom_objects=classes)
    np.testing.assert_allclose(loaded.evaluate(batch, batch, batch_size=64, verbose=0), total,
                               rtol=1e-5)
    assert ops.shape(loaded.predict(batch, verbose=0)) == (64, 784)
