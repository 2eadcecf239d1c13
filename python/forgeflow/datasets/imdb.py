"""IMDB movie-review sentiment: ``load_data(...)`` and ``get_word_index()`` as
``keras.datasets.imdb``, reading Keras's ``imdb.npz`` and ``imdb_word_index.json`` from the
local cache or downloading them once (``_cache``)."""

import json
import numbers

import numpy as np

from . import _cache

__all__ = ["load_data", "get_word_index"]


def _optional_int(value, name, minimum):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"`{name}` must be None or an integer >= {minimum}. "
                         f"Received: {name}={value!r}")
    return int(value)


def _int(value, name, minimum):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"`{name}` must be an integer >= {minimum}. Received: {name}={value!r}")
    return int(value)


def _remove_long_seq(maxlen, seqs, labels):
    # As Keras's python_utils.remove_long_seq: sequences of maxlen or more words are dropped.
    kept = [(x, y) for x, y in zip(seqs, labels) if len(x) < maxlen]
    return [x for x, _ in kept], [y for _, y in kept]


def load_data(path="imdb.npz", num_words=None, skip_top=0, maxlen=None, seed=113, start_char=1,
              oov_char=2, index_from=3):
    """Loads the IMDB dataset: 25,000 training and 25,000 test movie reviews labelled by
    sentiment (1 positive, 0 negative), each a list of word indices; index ``i`` is the
    ``i``-th most frequent word (before ``index_from`` is added). Same arguments and results as
    Keras (the same seed gives Keras's order).

    Args:
        path: the file name in the cache directories (``$FORGEFLOW_DATA_DIR``,
            ``~/.forgeflow/datasets``, ``~/.keras/datasets``); downloaded once from Keras's
            origin when none holds it, and checked against Keras's SHA-256.
        num_words: keep only the ``num_words`` most frequent words (indices below
            ``num_words`` after ``index_from`` is added); others become ``oov_char``. None
            keeps every word (Keras turns the single highest index into ``oov_char`` then;
            forgeflow keeps it).
        skip_top: words with an index below ``skip_top`` become ``oov_char`` too.
        maxlen: drop every review of ``maxlen`` or more indices (counting ``start_char``), as
            Keras does (its docstring says "truncated"; its code drops them). None keeps all.
        seed: seed of the shuffle of each split (NumPy ``RandomState``).
        start_char: index put at the start of every review (None: none).
        oov_char: index that replaces the words cut by ``num_words`` / ``skip_top`` (None:
            those words are removed instead).
        index_from: added to every word index (0 padding, 1 start, 2 OOV by default).

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: x are object arrays of lists of ints, y int
        arrays of 0/1 labels.
    """
    num_words = _optional_int(num_words, "num_words", 1)
    skip_top = _int(skip_top, "skip_top", 0)
    maxlen = _optional_int(maxlen, "maxlen", 1)
    start_char = _optional_int(start_char, "start_char", 0)
    oov_char = _optional_int(oov_char, "oov_char", 0)
    index_from = _int(index_from, "index_from", 0)

    file, _ = _cache.get_file("imdb.npz", names=[path])
    arrays = _cache.load_npz(file, ["x_train", "y_train", "x_test", "y_test"])
    splits = []
    rng = np.random.RandomState(seed)
    for split in ("train", "test"):
        x, y = arrays[f"x_{split}"], arrays[f"y_{split}"]
        if x.ndim != 1 or y.ndim != 1 or len(x) != len(y):
            raise ValueError(f"{file}: expected x_{split} and y_{split} of the same length N, "
                             f"found shapes {x.shape} and {y.shape}")
        indices = np.arange(len(x))
        rng.shuffle(indices)
        splits.append((x[indices], y[indices]))

    seqs = []
    for x, _ in splits:
        head = [start_char] if start_char is not None else []
        seqs.append([head + [w + index_from for w in review] for review in x])
    labels = [list(splits[0][1]), list(splits[1][1])]

    if maxlen:
        for k in (0, 1):
            seqs[k], labels[k] = _remove_long_seq(maxlen, seqs[k], labels[k])
        if not seqs[0] or not seqs[1]:
            raise ValueError(f"After filtering for sequences shorter than maxlen={maxlen}, no "
                             "sequence was kept. Increase maxlen.")

    def keep(w):
        return skip_top <= w and (num_words is None or w < num_words)

    for k in (0, 1):
        if oov_char is not None:
            seqs[k] = [[w if keep(w) else oov_char for w in s] for s in seqs[k]]
        else:
            seqs[k] = [[w for w in s if keep(w)] for s in seqs[k]]

    def objects(rows):
        arr = np.empty(len(rows), dtype=object)
        for i, row in enumerate(rows):  # one list per entry, even when all have one length
            arr[i] = row
        return arr

    dtype = np.result_type(splits[0][1].dtype, splits[1][1].dtype)
    return ((objects(seqs[0]), np.asarray(labels[0], dtype=dtype)),
            (objects(seqs[1]), np.asarray(labels[1], dtype=dtype)))


def get_word_index(path="imdb_word_index.json"):
    """The dict mapping each word of the IMDB dataset to its index (before ``index_from`` is
    added), read from Keras's ``imdb_word_index.json`` in the cache directories or downloaded
    once (verified with the MD5 Keras lists for it)."""
    file, _ = _cache.get_file("imdb_word_index.json", names=[path])
    try:
        with open(file, encoding="utf-8") as f:
            index = json.load(f)
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValueError(f"{file}: not a JSON word index ({e})") from None
    if not isinstance(index, dict):
        raise ValueError(f"{file}: expected a JSON object of word -> index, found "
                         f"{type(index).__name__}")
    return index
