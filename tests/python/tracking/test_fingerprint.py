"""tracking/fingerprint.py: small arrays are hashed whole; an array over 32 MiB is hashed from
its edges and evenly spaced rows and says so ("blake2b-sampled:"), so that recording a fit never
reads a whole large array (or every page of a memmap) again."""
import numpy as np

from forgeflow.tracking import fingerprint


def test_small_arrays_are_hashed_whole():
    x = np.arange(1000, dtype=np.float32).reshape(100, 10)
    base = fingerprint.data_fingerprint(x)
    assert base.startswith("blake2b:")
    changed = x.copy()
    changed[57, 3] += 1  # any element counts
    assert fingerprint.data_fingerprint(changed) != base


def test_large_arrays_are_sampled_and_labelled():
    rows = fingerprint.FULL_HASH_BYTES // (1000 * 4) + 10
    x = np.zeros((rows, 1000), np.float32)
    y = np.zeros(rows, np.int64)
    base = fingerprint.data_fingerprint(x, y)
    assert base.startswith("blake2b-sampled:")
    assert fingerprint.data_fingerprint(x, y) == base  # deterministic
    sampled_row = int(np.linspace(0, rows - 1, fingerprint.SAMPLED_ROWS).astype(np.int64)[300])
    for row in (0, sampled_row, rows - 1):  # the edges and a sampled row
        changed = x.copy()
        changed[row, 7] = 1.0
        assert fingerprint.data_fingerprint(changed, y) != base
    assert fingerprint.data_fingerprint(x[:, :500].copy(), y) != base  # shape is hashed
