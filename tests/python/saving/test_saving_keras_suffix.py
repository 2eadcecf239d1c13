"""model.save / save_weights under Keras's suffixes (.keras, .h5, .weights.h5) write forgeflow's
own format, which Keras cannot read: a UserWarning says so, naming the file and forgeflow's own
suffix; the file still loads in forgeflow. forgeflow's suffixes save without a warning."""
import warnings

import numpy as np
import pytest

import forgeflow as ff


def _model():
    ff.utils.clear_session()
    model = ff.Sequential([ff.Input(shape=(3,)), ff.layers.Dense(2)])
    model.compile("adam", "mse")
    return model


@pytest.mark.parametrize("name", ["model.keras", "model.h5", "MODEL.HDF5"])
def test_save_under_a_keras_suffix_warns_and_still_loads(tmp_path, name):
    model = _model()
    path = tmp_path / name
    with pytest.warns(UserWarning) as record:
        model.save(path)
    (w,), suffix = record.list, path.suffix.lower()
    text = str(w.message)
    assert text.startswith(f"{path}: the model file is written in forgeflow's own format, not "
                           f'Keras\'s, despite the suffix "{suffix}": Keras cannot load it')
    assert 'forgeflow\'s own suffix is ".ff"' in text
    assert w.filename == __file__  # points at the caller's line
    loaded = ff.models.load_model(path)
    for a, b in zip(loaded.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_save_weights_under_keras_suffix_warns_and_still_loads(tmp_path):
    model = _model()
    path = tmp_path / "ckpt.weights.h5"
    with pytest.warns(UserWarning, match=r'ckpt\.weights\.h5: the weights file is written in '
                                         r'forgeflow\'s own format.*suffix is "\.weights\.ff"'):
        model.save_weights(path)
    fresh = _model()
    fresh.load_weights(path)
    for a, b in zip(fresh.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_warned_once_per_directory_and_suffix(tmp_path):
    model = _model()
    with pytest.warns(UserWarning):
        model.save(tmp_path / "a.keras")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.save(tmp_path / "b.keras")  # a checkpoint per epoch does not repeat it


def test_forgeflow_suffixes_do_not_warn(tmp_path):
    model = _model()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.save(tmp_path / "model.ff")
        model.save_weights(tmp_path / "model.weights.ff")
        model.save(tmp_path / "model")
