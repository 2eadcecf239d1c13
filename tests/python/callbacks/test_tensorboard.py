"""TensorBoard (callbacks/tensorboard.py, tensorboard_events.py): the event files are read
back by TensorBoard's own EventAccumulator with Keras 3's layout (log_dir/train and
log_dir/validation, epoch_* scalars with the epoch as step); CRC-32C checked against known
values and against TensorBoard's implementation."""
import os

import pytest

import forgeflow as ff
from _callback_helpers import classification_data, classifier

event_accumulator = pytest.importorskip(
    "tensorboard.backend.event_processing.event_accumulator")
events = ff.callbacks.tensorboard_events


@pytest.fixture(autouse=True)
def fresh_session():
    ff.utils.clear_session()
    ff.utils.set_random_seed(8)
    yield


def _load(folder):
    acc = event_accumulator.EventAccumulator(str(folder))
    acc.Reload()
    return acc


def test_crc32c():
    assert events.crc32c(b"123456789") == 0xE3069283  # the CRC-32C check value
    assert events.crc32c(b"") == 0
    stub = pytest.importorskip("tensorboard.compat.tensorflow_stub.pywrap_tensorflow")
    for data in (b"", b"a", b"forgeflow" * 37, bytes(range(256))):
        assert events.masked_crc32c(data) == stub.masked_crc32c(data)


def test_epoch_scalars_read_by_tensorboard(tmp_path):
    x, y = classification_data()
    model = classifier(lr=0.05)
    history = model.fit(x, y, epochs=3, validation_split=0.25, verbose=0,
                        callbacks=[ff.callbacks.TensorBoard(log_dir=tmp_path / "logs")])
    train = _load(tmp_path / "logs" / "train")
    val = _load(tmp_path / "logs" / "validation")
    assert set(train.Tags()["scalars"]) == {"epoch_loss", "epoch_accuracy", "epoch_learning_rate"}
    assert set(val.Tags()["scalars"]) == {"epoch_loss", "epoch_accuracy"}
    for acc, prefix in ((train, ""), (val, "val_")):
        for name in ("loss", "accuracy"):
            got = acc.Scalars("epoch_" + name)
            assert [e.step for e in got] == [0, 1, 2]
            assert [e.value for e in got] == [
                pytest.approx(v, rel=1e-6) for v in history.history[prefix + name]]
    assert [e.value for e in train.Scalars("epoch_learning_rate")] == [pytest.approx(0.05)] * 3
    names = os.listdir(tmp_path / "logs" / "train")
    assert len(names) == 1 and names[0].startswith("events.out.tfevents.")


def test_batch_scalars_with_update_freq(tmp_path):
    x, y = classification_data(64)
    model = classifier()
    model.fit(x, y, batch_size=8, epochs=2, verbose=0,
              callbacks=[ff.callbacks.TensorBoard(tmp_path, update_freq=3)])
    train = _load(tmp_path / "train")
    steps = [e.step for e in train.Scalars("batch_loss")]
    assert steps == [3, 6, 9, 12, 15]  # every 3rd of 16 global batches
    assert "batch_learning_rate" in train.Tags()["scalars"]
    assert not os.path.exists(tmp_path / "validation")


def test_unsupported_arguments_raise():
    with pytest.raises(ValueError, match="histogram_freq=1 is not supported"):
        ff.callbacks.TensorBoard(histogram_freq=1)
    with pytest.raises(ValueError, match="update_freq"):
        ff.callbacks.TensorBoard(update_freq=0)
