"""fit's validation pass calls the callbacks' on_test_* hooks, as Keras's fit does (it runs
evaluate with the fit's callbacks): on_test_begin, on_test_batch_begin/end per validation batch,
on_test_end with the unprefixed logs, all before on_epoch_end; the progress bar stays on the
training steps."""
import numpy as np

import forgeflow as ff

from _callback_helpers import classification_data, classifier


class Recorder(ff.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.events = []

    def on_epoch_begin(self, epoch, logs=None):
        self.events.append(("epoch_begin", epoch))

    def on_epoch_end(self, epoch, logs=None):
        self.events.append(("epoch_end", epoch, sorted(logs)))

    def on_test_begin(self, logs=None):
        self.events.append(("test_begin",))

    def on_test_batch_begin(self, batch, logs=None):
        self.events.append(("test_batch_begin", batch))

    def on_test_batch_end(self, batch, logs=None):
        self.events.append(("test_batch_end", batch))

    def on_test_end(self, logs=None):
        self.events.append(("test_end", sorted(logs)))


def test_fit_validation_calls_the_test_hooks_before_the_epoch_ends():
    x, y = classification_data(64)
    xv, yv = classification_data(24, seed=1)
    model = classifier()
    rec = Recorder()
    model.fit(x, y, batch_size=16, epochs=2, verbose=0, validation_data=(xv, yv),
              validation_batch_size=8, callbacks=[rec])
    per_epoch = [("test_begin",)]
    for b in range(3):  # 24 validation samples in batches of 8
        per_epoch += [("test_batch_begin", b), ("test_batch_end", b)]
    per_epoch.append(("test_end", ["accuracy", "loss"]))
    expected = []
    for epoch in range(2):
        expected += [("epoch_begin", epoch)] + per_epoch
        expected.append(("epoch_end", epoch, ["accuracy", "loss", "val_accuracy", "val_loss"]))
    assert rec.events == expected


def test_validation_freq_skips_the_test_hooks_on_epochs_without_validation():
    x, y = classification_data(32)
    rec = Recorder()
    classifier().fit(x, y, batch_size=16, epochs=3, verbose=0, validation_data=(x, y),
                     validation_freq=2, callbacks=[rec])
    assert [e[0] for e in rec.events].count("test_begin") == 1  # epoch 2 only


def test_the_progress_bar_counts_training_steps_not_validation_batches(capsys):
    x, y = classification_data(32)
    xv, yv = classification_data(80, seed=2)
    classifier().fit(x, y, batch_size=16, epochs=1, verbose=2, validation_data=(xv, yv),
                     validation_batch_size=4)
    out = capsys.readouterr().out
    assert "2/2" in out and "20/2" not in out and "val_loss" in out, out
    assert np.isfinite(float(out.split("val_loss: ")[1].split()[0]))
