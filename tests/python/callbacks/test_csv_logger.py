"""CSVLogger (callbacks/csv_logger.py) in real fits: Keras 3's columns (epoch, then sorted log
names), values equal to History, "NA" val_ columns without validation, append and separator."""
import csv

import pytest

import forgeflow as ff
from _callback_helpers import classification_data, classifier


@pytest.fixture(autouse=True)
def fresh_session():
    ff.utils.clear_session()
    ff.utils.set_random_seed(6)
    yield


def _rows(path, sep=","):
    with open(path, newline="") as f:
        return list(csv.reader(f, delimiter=sep))


def test_columns_and_values_match_history(tmp_path):
    path = tmp_path / "log.csv"
    x, y = classification_data()
    model = classifier()
    history = model.fit(x, y, epochs=3, validation_split=0.25, verbose=0,
                        callbacks=[ff.callbacks.CSVLogger(path)])
    rows = _rows(path)
    assert rows[0] == ["epoch", "accuracy", "loss", "val_accuracy", "val_loss"]
    assert [r[0] for r in rows[1:]] == ["0", "1", "2"]
    for i, row in enumerate(rows[1:]):
        for name, cell in zip(rows[0][1:], row[1:]):
            assert float(cell) == pytest.approx(history.history[name][i], rel=1e-12)


def test_no_validation_adds_na_columns_and_append(tmp_path):
    path = tmp_path / "log.csv"
    x, y = classification_data()
    model = classifier()
    model.fit(x, y, epochs=2, verbose=0, callbacks=[ff.callbacks.CSVLogger(path)])
    rows = _rows(path)
    assert rows[0] == ["epoch", "accuracy", "loss", "val_accuracy", "val_loss"]
    assert rows[1][3:] == ["NA", "NA"]
    # append: no second header, epochs continue in the same file
    model.fit(x, y, epochs=1, verbose=0, callbacks=[ff.callbacks.CSVLogger(path, append=True)])
    rows = _rows(path)
    assert len(rows) == 4 and rows[3][0] == "0" and rows.count(rows[0]) == 1
    # without append the file is rewritten
    model.fit(x, y, epochs=1, verbose=0, callbacks=[ff.callbacks.CSVLogger(path)])
    assert len(_rows(path)) == 2


def test_separator(tmp_path):
    path = tmp_path / "log.tsv"
    x, y = classification_data()
    classifier().fit(x, y, epochs=1, verbose=0,
                     callbacks=[ff.callbacks.CSVLogger(str(path), separator="\t")])
    assert path.read_text().splitlines()[0] == "epoch\taccuracy\tloss\tval_accuracy\tval_loss"
