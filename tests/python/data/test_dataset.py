"""ff.data.Dataset: tf.data semantics of every operation, element structures, determinism
across worker counts, errors from workers, and no threads or file descriptors left behind."""
import os
import warnings

import numpy as np
import pytest

import forgeflow as ff
from forgeflow.data import Dataset


def values(ds):
    return [int(v) for v in ds]


def test_from_tensor_slices_nests_tuples_and_dicts():
    x = np.arange(12, dtype=np.float32).reshape(6, 2)
    y = np.arange(6)
    ds = Dataset.from_tensor_slices(({"a": x, "b": y}, y))
    first = next(iter(ds))
    assert isinstance(first, tuple) and set(first[0]) == {"a", "b"}
    np.testing.assert_array_equal(first[0]["a"], x[0])
    assert first[1] == 0 and isinstance(first[1], np.integer)
    assert ds.cardinality() == 6 and len(ds) == 6


def test_strings_round_trip_as_str_arrays():
    ds = Dataset.from_tensor_slices(np.array(["cat", "dog", "ému"])).batch(2)
    batches = list(ds)
    assert batches[0].tolist() == ["cat", "dog"] and batches[1].tolist() == ["ému"]


def test_unsupported_dtypes_and_scalars_are_refused():
    with pytest.raises(TypeError, match="float16"):
        Dataset.from_tensor_slices(np.zeros(3, np.float16))
    with pytest.raises(ValueError, match="scalar"):
        Dataset.from_tensor_slices(3)
    with pytest.raises(ValueError, match="same first dimension"):
        Dataset.from_tensor_slices((np.zeros(3), np.zeros(4)))


def test_batch_repeat_take_skip_and_cardinality():
    ds = Dataset.range(10)
    assert [b.tolist() for b in ds.batch(4)] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert ds.batch(4, drop_remainder=True).cardinality() == 2
    assert values(ds.repeat(2)) == list(range(10)) * 2
    assert ds.repeat().cardinality() == ff.data.INFINITE_CARDINALITY
    assert values(ds.repeat().take(13)) == list(range(10)) + [0, 1, 2]
    assert values(ds.skip(7)) == [7, 8, 9]
    with pytest.raises(TypeError, match="infinite"):
        len(ds.repeat())
    with pytest.raises(ValueError, match="batch_size"):
        ds.batch(0)


def test_shard_keeps_every_nth_element_as_tf_data():
    ds = Dataset.range(10)
    assert [int(v) for v in ds.shard(3, 1)] == [1, 4, 7]
    assert ds.shard(3, 0).cardinality() == 4 and ds.shard(3, 2).cardinality() == 3
    parts = [int(v) for i in range(4) for v in ds.shard(4, i)]
    assert sorted(parts) == list(range(10))  # disjoint, and together the whole dataset
    pairs = Dataset.from_tensor_slices((np.arange(6), np.arange(6) * 10)).shard(2, 1).batch(3)
    (x, y), = list(pairs)
    assert x.tolist() == [1, 3, 5] and y.tolist() == [10, 30, 50]
    with pytest.raises(ValueError, match=r"index must be in \[0, num_shards\) = \[0, 2\); "
                                         r"received index=2"):
        ds.shard(2, 2)
    with pytest.raises(ValueError, match="num_shards must be an integer >= 1"):
        ds.shard(0, 0)
    with pytest.raises(ValueError, match="index must be an integer >= 0"):
        ds.shard(2, -1)


def test_shuffle_is_seeded_and_reshuffles_each_iteration():
    a = Dataset.range(50).shuffle(50, seed=3)
    first, second = values(a), values(a)
    assert sorted(first) == list(range(50)) and first != list(range(50)) and first != second
    b = Dataset.range(50).shuffle(50, seed=3)
    assert values(b) == first and values(b) == second
    fixed = Dataset.range(50).shuffle(50, seed=3, reshuffle_each_iteration=False)
    assert values(fixed) == values(fixed)


def test_shuffle_follows_the_global_seed():
    ff.utils.set_random_seed(11)
    a = values(Dataset.range(40).shuffle(40))
    ff.utils.set_random_seed(11)
    assert values(Dataset.range(40).shuffle(40)) == a


def test_python_map_keeps_order_and_warns_once(recwarn):
    import forgeflow.data.dataset as dataset_module
    dataset_module._warned_python_function = False
    ds = Dataset.from_tensor_slices((np.arange(20), np.arange(20) * 10))
    out = ds.map(lambda a, b: {"sum": a + b}, num_parallel_calls=4)
    out2 = ds.map(lambda a, b: a)
    assert [int(e["sum"]) for e in out] == [11 * i for i in range(20)]
    assert values(out2) == list(range(20))
    warned = [w for w in recwarn if issubclass(w.category, ff.data.dataset.PythonFunctionWarning)]
    assert len(warned) == 1 and "GIL" in str(warned[0].message)


@pytest.mark.parametrize("workers", [1, 3])
def test_a_python_map_after_batch_writes_its_results_into_the_consumers_pinned_pool(workers):
    """A model on a GPU asks its pipeline for pinned batches: a Python function mapped after
    batch() has its results copied once, on the thread that runs it, into the consumer's pool
    (here a pool over the CPU's memory stands in for page-locked memory), so the training loop
    stages nothing. The same values as a plain pass; every block back once the passes end."""
    x = np.arange(40, dtype=np.float32).reshape(10, 4)
    y = np.arange(10, dtype=np.int64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = Dataset.from_tensor_slices((x, y)).batch(4).map(lambda a, b: (a * 2, b + 1),
                                                             num_parallel_calls=workers)
    plain = list(ds)
    passes, stats = ff._core.data.pinned_passes_for_testing(ds._core, 3)
    for p, elements in enumerate(passes):
        assert len(elements) == len(plain) == 3
        for (arrays, pinned), (a, b) in zip(elements, plain):
            np.testing.assert_array_equal(arrays[0], a)
            np.testing.assert_array_equal(arrays[1], b)
            if p > 0:  # the first batches miss (pageable) and ask for the blocks
                assert pinned == [True, True]
    assert stats["misses"] > 0 and stats["lent"] == 0
    # Per batch alive (in the map's slots 2 x workers, none inline, + 3): its two results.
    assert stats["max_per_size"] == ((0 if workers == 1 else 2 * workers) + 3) * 2
    assert stats["blocks"] == stats["max_per_size"]


def test_order_does_not_depend_on_the_number_of_workers():
    def pipeline(workers):
        ds = Dataset.range(200).shuffle(64, seed=5).map(lambda v: v * 3, num_parallel_calls=workers)
        return [b.tolist() for b in ds.batch(7).prefetch(ff.data.AUTOTUNE)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert pipeline(1) == pipeline(4) == pipeline(ff.data.AUTOTUNE)


def test_an_error_in_a_worker_reaches_python_with_its_message_at_its_element():
    def explode(v):
        if v == 6:
            raise KeyError("element six is bad")
        return v
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = Dataset.range(10).map(explode, num_parallel_calls=3).prefetch(2)
    seen = []
    with pytest.raises(KeyError, match="element six is bad"):
        for v in ds:
            seen.append(int(v))
    assert seen == [0, 1, 2, 3, 4, 5]


def test_cache_in_memory_and_in_a_file(tmp_path):
    calls = []

    def count(v):
        calls.append(int(v))
        return v
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = Dataset.range(5).map(count).cache()
    assert values(ds) == values(ds) == list(range(5))
    assert calls == list(range(5))
    path = tmp_path / "cache.bin"
    file_ds = Dataset.from_tensor_slices((np.arange(6.0), np.array(list("abcdef")))).cache(path)
    first = [(float(a), str(b)) for a, b in file_ds]
    assert path.exists() and [(float(a), str(b)) for a, b in file_ds] == first


def test_interleave_and_list_files(tmp_path):
    for name in ["b.txt", "a.txt", "c.txt"]:
        (tmp_path / name).write_text(name)
    files = Dataset.list_files(str(tmp_path / "*.txt"), shuffle=False)
    assert [os.path.basename(str(f)) for f in files] == ["a.txt", "b.txt", "c.txt"]
    shuffled = [str(f) for f in Dataset.list_files(str(tmp_path / "*.txt"), seed=1)]
    assert sorted(shuffled) == sorted(str(f) for f in files)
    with pytest.raises(ValueError, match="No files matched"):
        Dataset.list_files(str(tmp_path / "*.csv"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = Dataset.range(3).interleave(lambda i: Dataset.range(3).map(lambda j: j + 10 * i),
                                         cycle_length=2)
    assert values(ds) == [0, 10, 1, 11, 2, 12, 20, 21, 22]


def _threads():
    return len(os.listdir("/proc/self/task"))


def _fds():
    return len(os.listdir("/proc/self/fd"))


def test_a_thousand_abandoned_iterations_leave_no_thread_file_or_buffer_behind(tmp_path):
    x = np.arange(4000, dtype=np.float32).reshape(1000, 4)
    ds = Dataset.from_tensor_slices(x).shuffle(100, seed=1).batch(8).prefetch(4)
    threads, fds, buffers = _threads(), _fds(), ff._core.data.live_buffers()
    for cycle in range(1000):
        it = iter(ds)
        for _ in range(cycle % 4):
            next(it)
        it.close()
    assert _threads() == threads and _fds() == fds
    assert ff._core.data.live_buffers() == buffers  # every batch buffer was freed
