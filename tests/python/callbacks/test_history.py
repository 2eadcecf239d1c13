"""History's repr: what a notebook shows for the object fit returns (epoch count and the last
epoch's values, no object address)."""
import numpy as np

import forgeflow as ff


def test_repr_of_a_real_fit_shows_epochs_and_last_values():
    ff.utils.set_random_seed(5)
    rng = np.random.default_rng(1)
    x = rng.normal(size=(64, 3)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64)
    model = ff.Sequential([ff.layers.Dense(2, input_shape=(3,))])
    model.compile("sgd", ff.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    history = model.fit(x, y, epochs=3, batch_size=16, validation_split=0.25, verbose=0)
    text = repr(history)
    h = history.history
    assert text == (f"<History epochs=3 accuracy={h['accuracy'][-1]:.4f} loss={h['loss'][-1]:.4f}"
                    f" val_accuracy={h['val_accuracy'][-1]:.4f} val_loss={h['val_loss'][-1]:.4f}>")


def test_repr_before_any_epoch():
    assert repr(ff.callbacks.History()) == "<History epochs=0>"
