"""ff.utils.image_dataset_from_directory: Keras's file listing, label modes, seeded shuffling and
validation split, subset="both", extensions in any case, color modes, every argument error,
on_decode_error="skip" with its exact count, symbolic link loops, FIFOs named like images, names
that are not UTF-8, and the decode memory cap. Images are written with PIL."""
import io
import os
import re
import threading
import time
import warnings

import numpy as np
import pytest

import forgeflow as ff
from forgeflow import _core
from forgeflow.utils.image_dataset import SkippedImagesWarning

PIL = pytest.importorskip("PIL.Image")


def write(path, value, size=(6, 8), fmt=None, mode="RGB"):
    """An image of `size` (h, w) filled with `value` (an int, or a tuple per channel)."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    channels = {"L": 1, "RGB": 3, "RGBA": 4}[mode]
    arr = np.empty(size + (channels,), np.uint8)
    arr[...] = value
    img = PIL.fromarray(arr[..., 0] if mode == "L" else arr, mode)
    img.save(path, format=fmt)
    return path


def make_tree(root, counts, ext=".png"):
    """counts: {class: n}; image k of class c is filled with value 10 * index + k."""
    for ci, (cls, n) in enumerate(sorted(counts.items())):
        for k in range(n):
            write(os.path.join(root, cls, f"img_{k:02d}{ext}"), 10 * ci + k)
    return str(root)


def collect(ds):
    xs, ys = [], []
    for x, y in ds:
        xs.append(x)
        ys.append(y)
    return np.concatenate(xs), np.concatenate(ys)


# ----------------------------------------------------------------------------- listing & labels
def test_classes_in_alphanumeric_order_and_found_message(tmp_path, capsys):
    root = make_tree(tmp_path, {"b": 2, "a": 3, "c10": 1, "c2": 1})
    ds = ff.utils.image_dataset_from_directory(root, image_size=(4, 4), shuffle=False)
    assert capsys.readouterr().out == "Found 7 files belonging to 4 classes.\n"
    assert ds.class_names == ["a", "b", "c10", "c2"]
    assert ds.file_paths == [os.path.join(root, c, f"img_{k:02d}.png")
                             for c, n in [("a", 3), ("b", 2), ("c10", 1), ("c2", 1)]
                             for k in range(n)]
    x, y = collect(ds)
    assert x.dtype == np.float32 and x.shape == (7, 4, 4, 3)
    assert y.dtype == np.int32 and y.tolist() == [0, 0, 0, 1, 1, 2, 3]
    # Each image is filled with 10 * class + k (classes sorted): resizing keeps the value.
    np.testing.assert_array_equal(x[:, 0, 0, 0], [0, 1, 2, 10, 11, 20, 30])


def test_label_modes(tmp_path):
    root = make_tree(tmp_path, {"cat": 2, "dog": 3})
    kw = dict(image_size=(3, 3), shuffle=False, verbose=False)
    _, y = collect(ff.utils.image_dataset_from_directory(root, label_mode="categorical", **kw))
    assert y.dtype == np.float32
    np.testing.assert_array_equal(y, [[1, 0], [1, 0], [0, 1], [0, 1], [0, 1]])
    _, y = collect(ff.utils.image_dataset_from_directory(root, label_mode="binary", **kw))
    assert y.dtype == np.float32 and y.shape == (5, 1)
    np.testing.assert_array_equal(y[:, 0], [0, 0, 1, 1, 1])
    ds = ff.utils.image_dataset_from_directory(root, label_mode=None, **kw)
    batches = list(ds)
    assert len(batches) == 1 and isinstance(batches[0], np.ndarray)
    assert batches[0].shape == (5, 3, 3, 3)
    assert ds.class_names is None  # as Keras: label_mode=None lists the folder without classes


def test_labels_none_prints_found_files_and_yields_images(tmp_path, capsys):
    for k in range(3):
        write(str(tmp_path / f"x{k}.png"), k)
    ds = ff.utils.image_dataset_from_directory(str(tmp_path), labels=None, image_size=(2, 2),
                                               shuffle=False)
    assert capsys.readouterr().out == "Found 3 files.\n"
    assert ds.class_names is None
    (batch,) = list(ds)
    np.testing.assert_array_equal(batch[:, 0, 0, 0], [0, 1, 2])


def test_explicit_labels_follow_sorted_file_paths(tmp_path):
    for name, v in [("b.png", 1), ("a.png", 2), ("sub/c.png", 3)]:
        write(str(tmp_path / name), v)
    ds = ff.utils.image_dataset_from_directory(str(tmp_path), labels=[7, 5, 7], image_size=(2, 2),
                                               shuffle=False, verbose=False)
    assert ds.class_names == ["5", "7"]
    assert [os.path.relpath(p, str(tmp_path)) for p in ds.file_paths] == ["a.png", "b.png",
                                                                         "sub/c.png"]
    x, y = collect(ds)
    assert y.tolist() == [7, 5, 7]
    np.testing.assert_array_equal(x[:, 0, 0, 0], [2, 1, 3])


def test_extensions_in_any_case_and_format_from_bytes(tmp_path):
    root = tmp_path / "c"
    write(str(root / "a.PNG"), 1, fmt="PNG")
    write(str(root / "b.Jpeg"), 100, fmt="JPEG")
    write(str(root / "c.JPG"), 150, fmt="JPEG")
    write(str(root / "d.bmp"), 3, fmt="BMP")
    write(str(root / "e.GIF"), 4, fmt="GIF")
    write(str(root / "f.jpg"), 5, fmt="PNG")  # a PNG named .jpg: decoded by its bytes
    (root / "notes.txt").write_text("not an image")
    write(str(root / "g.tiff"), 6, fmt="TIFF")  # not an allowed extension
    hidden = tmp_path / ".hidden"
    write(str(hidden / "h.png"), 9)
    ds = ff.utils.image_dataset_from_directory(str(tmp_path), image_size=(6, 8), shuffle=False,
                                               verbose=False)
    assert ds.class_names == ["c"]
    assert [os.path.basename(p) for p in ds.file_paths] == ["a.PNG", "b.Jpeg", "c.JPG", "d.bmp",
                                                           "e.GIF", "f.jpg"]
    x, _ = collect(ds)
    assert np.abs(x[:, 2, 3, 0] - [1, 100, 150, 3, 4, 5]).max() <= 2  # JPEG is lossy


def test_nested_folders_and_follow_links(tmp_path):
    root = tmp_path / "data"
    write(str(root / "a" / "x.png"), 1)
    write(str(root / "a" / "deeper" / "y.png"), 2)
    write(str(tmp_path / "elsewhere" / "z.png"), 3)
    os.symlink(str(tmp_path / "elsewhere"), str(root / "a" / "linked"))
    kw = dict(image_size=(2, 2), shuffle=False, verbose=False)
    ds = ff.utils.image_dataset_from_directory(str(root), **kw)
    assert [os.path.relpath(p, str(root)) for p in ds.file_paths] == ["a/x.png", "a/deeper/y.png"]
    ds = ff.utils.image_dataset_from_directory(str(root), follow_links=True, **kw)
    assert sorted(os.path.relpath(p, str(root)) for p in ds.file_paths) == [
        "a/deeper/y.png", "a/linked/z.png", "a/x.png"]


def test_follow_links_lists_each_folder_once_through_a_loop(tmp_path):
    root = tmp_path / "data"
    make_tree(root, {"a": 2, "b": 2})
    os.symlink("..", str(root / "a" / "loop"))  # a/loop -> data: back to the top folder
    kw = dict(image_size=(2, 2), shuffle=False, verbose=False)
    with pytest.warns(UserWarning, match=r"1 folder\(s\) reached again through symbolic links "
                                         r".*data/a/loop"):
        ds = ff.utils.image_dataset_from_directory(str(root), follow_links=True, **kw)
    expected = ["a/img_00.png", "a/img_01.png", "b/img_00.png", "b/img_01.png"]
    assert [os.path.relpath(p, str(root)) for p in ds.file_paths] == expected  # Keras: 164 files
    assert collect(ds)[1].tolist() == [0, 0, 1, 1]
    # Without follow_links the link is not entered (as in Keras), and nothing is said.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ds = ff.utils.image_dataset_from_directory(str(root), **kw)
    assert [os.path.relpath(p, str(root)) for p in ds.file_paths] == expected


def test_follow_links_two_links_to_one_folder_list_it_once(tmp_path):
    root = tmp_path / "data"
    make_tree(root, {"a": 1})
    shared = tmp_path / "shared"  # outside the tree: followed once, as Keras follows it
    write(str(shared / "s.png"), 5)
    write(str(shared / "deeper" / "t.png"), 6)
    os.symlink(str(shared), str(root / "a" / "s1"))
    os.symlink(str(shared), str(root / "a" / "s2"))
    with pytest.warns(UserWarning, match=r"1 folder\(s\) reached again.*data/a/s2"):
        ds = ff.utils.image_dataset_from_directory(str(root), follow_links=True, image_size=(2, 2),
                                                   shuffle=False, verbose=False)
    assert [os.path.relpath(p, str(root)) for p in ds.file_paths] == [
        "a/img_00.png", "a/s1/s.png", "a/s1/deeper/t.png"]


def test_follow_links_two_loops_stay_linear(tmp_path):
    # Two links back up make os.walk's walk exponential in the link depth (it never ends).
    root = tmp_path / "data"
    make_tree(root, {"a": 2, "b": 1})
    os.symlink("..", str(root / "a" / "up1"))
    os.symlink("../..", str(root / "a" / "up2"))  # above the top folder: holds data itself
    with pytest.warns(UserWarning, match=r"folder\(s\) reached again"):
        ds = ff.utils.image_dataset_from_directory(str(root), follow_links=True, image_size=(2, 2),
                                                   shuffle=False, verbose=False)
    paths = [os.path.relpath(p, str(root)) for p in ds.file_paths]
    assert paths[:2] == ["a/img_00.png", "a/img_01.png"] and paths[-1] == "b/img_00.png"
    assert len(paths) == len(set(os.path.realpath(p) for p in ds.file_paths)) == 3


def test_class_names_choose_and_order_the_classes(tmp_path):
    root = make_tree(tmp_path, {"a": 1, "b": 2, "c": 1})
    ds = ff.utils.image_dataset_from_directory(root, class_names=["c", "a"], image_size=(2, 2),
                                               shuffle=False, verbose=False)
    assert ds.class_names == ["c", "a"]
    _, y = collect(ds)
    assert y.tolist() == [0, 1]
    assert [os.path.basename(os.path.dirname(p)) for p in ds.file_paths] == ["c", "a"]


# ----------------------------------------------------------------------------- shuffle & split
def keras_order(paths, seed):
    """Keras shuffles the sorted file list with np.random.RandomState(seed)."""
    paths = list(paths)
    np.random.RandomState(seed).shuffle(paths)
    return paths


def test_shuffle_uses_the_seed_like_keras_and_reshuffles_each_epoch(tmp_path):
    root = make_tree(tmp_path, {"a": 10, "b": 10})
    sorted_paths = ff.utils.image_dataset_from_directory(root, image_size=(2, 2), shuffle=False,
                                                         verbose=False).file_paths
    ds = ff.utils.image_dataset_from_directory(root, image_size=(2, 2), seed=123, batch_size=4,
                                               verbose=False)
    assert ds.file_paths == keras_order(sorted_paths, 123)
    x1, y1 = collect(ds)
    x2, y2 = collect(ds)
    # Each epoch holds every (image, label) pair once; the order differs between epochs.
    pairs = lambda x, y: sorted(zip(x[:, 0, 0, 0].tolist(), y.tolist()))
    assert pairs(x1, y1) == pairs(x2, y2) == sorted(
        (10 * c + k, c) for c in range(2) for k in range(10))
    assert x1[:, 0, 0, 0].tolist() != x2[:, 0, 0, 0].tolist()
    # The same seed gives the same epochs again.
    again = ff.utils.image_dataset_from_directory(root, image_size=(2, 2), seed=123, batch_size=4,
                                                  verbose=False)
    np.testing.assert_array_equal(collect(again)[0], x1)


def test_validation_split_training_and_validation(tmp_path, capsys):
    root = make_tree(tmp_path, {"a": 6, "b": 4})
    kw = dict(image_size=(2, 2), seed=7, validation_split=0.3)
    train = ff.utils.image_dataset_from_directory(root, subset="training", **kw)
    val = ff.utils.image_dataset_from_directory(root, subset="validation", **kw)
    out = capsys.readouterr().out
    assert "Using 7 files for training." in out and "Using 3 files for validation." in out
    order = keras_order(sorted(train.file_paths + val.file_paths), 7)
    assert train.file_paths == order[:7] and val.file_paths == order[7:]
    assert sum(len(y) for _, y in train) == 7 and sum(len(y) for _, y in val) == 3


def test_subset_both_returns_train_and_validation(tmp_path, capsys):
    root = make_tree(tmp_path, {"a": 6, "b": 4})
    train, val = ff.utils.image_dataset_from_directory(root, image_size=(2, 2), seed=7,
                                                       validation_split=0.3, subset="both")
    out = capsys.readouterr().out
    assert out == ("Found 10 files belonging to 2 classes.\nUsing 7 files for training.\n"
                   "Using 3 files for validation.\n")
    assert train.class_names == val.class_names == ["a", "b"]
    assert len(train.file_paths) == 7 and len(val.file_paths) == 3
    assert not set(train.file_paths) & set(val.file_paths)
    # The validation side is not shuffled: it follows val.file_paths, with matching labels.
    x, y = collect(val)
    for value, label, path in zip(x[:, 0, 0, 0], y, val.file_paths):
        cls = os.path.basename(os.path.dirname(path))
        k = int(os.path.basename(path)[4:6])
        assert label == ["a", "b"].index(cls) and value == 10 * label + k


def test_verbose_false_prints_nothing(tmp_path, capsys):
    root = make_tree(tmp_path, {"a": 3, "b": 3})
    ff.utils.image_dataset_from_directory(root, image_size=(2, 2), seed=1, validation_split=0.5,
                                          subset="both", verbose=False)
    assert capsys.readouterr().out == ""


# ----------------------------------------------------------------------------- images
def test_color_modes_and_channels_first(tmp_path):
    write(str(tmp_path / "a" / "x.png"), (200, 100, 50, 128), mode="RGBA")
    kw = dict(image_size=(3, 5), shuffle=False, verbose=False)
    rgb, _ = collect(ff.utils.image_dataset_from_directory(str(tmp_path), **kw))
    assert rgb.shape == (1, 3, 5, 3) and rgb[0, 1, 1].tolist() == [200, 100, 50]
    rgba, _ = collect(ff.utils.image_dataset_from_directory(str(tmp_path), color_mode="rgba", **kw))
    assert rgba[0, 1, 1].tolist() == [200, 100, 50, 128]
    gray, _ = collect(ff.utils.image_dataset_from_directory(str(tmp_path), color_mode="grayscale",
                                                            **kw))
    # PIL's L = 0.299 R + 0.587 G + 0.114 B = 124.2 -> 124
    assert gray.shape == (1, 3, 5, 1) and gray[0, 0, 0, 0] == 124
    cf, _ = collect(ff.utils.image_dataset_from_directory(str(tmp_path), data_format="channels_first",
                                                          **kw))
    assert cf.shape == (1, 3, 3, 5)
    np.testing.assert_array_equal(cf[0, :, 1, 1], [200, 100, 50])


def test_resize_crop_and_pad_to_aspect_ratio(tmp_path):
    arr = np.zeros((2, 4, 3), np.uint8)
    arr[:, :, 0] = [[1, 2, 3, 4], [5, 6, 7, 8]]
    os.makedirs(tmp_path / "a")
    PIL.fromarray(arr).save(str(tmp_path / "a" / "x.png"))
    kw = dict(image_size=(2, 2), shuffle=False, verbose=False)
    crop, _ = collect(ff.utils.image_dataset_from_directory(str(tmp_path), crop_to_aspect_ratio=True,
                                                            **kw))
    np.testing.assert_array_equal(crop[0, :, :, 0], [[2, 3], [6, 7]])  # the centered 2x2
    stretch, _ = collect(ff.utils.image_dataset_from_directory(str(tmp_path), **kw))
    # Half-pixel bilinear 4 -> 2 columns: the means of columns (0, 1) and (2, 3).
    np.testing.assert_allclose(stretch[0, :, :, 0], [[1.5, 3.5], [5.5, 7.5]])
    pad, _ = collect(ff.utils.image_dataset_from_directory(str(tmp_path), pad_to_aspect_ratio=True,
                                                           interpolation="nearest", **kw))
    # Content 1x2 (rows halved), placed at row floor((2 - 1) / 2) = 0; the rest zero. Nearest
    # with half-pixel centers reads row floor(0.5 * 2) = 1 and columns floor((j + 0.5) * 2) = 1, 3.
    np.testing.assert_array_equal(pad[0, :, :, 0], [[6, 8], [0, 0]])


def test_unbatched_and_worker_count_independence(tmp_path):
    root = make_tree(tmp_path, {"a": 5, "b": 5})
    kw = dict(image_size=(5, 5), seed=3, verbose=False)
    one = ff.utils.image_dataset_from_directory(root, batch_size=None, num_parallel_calls=1, **kw)
    elements = list(one)
    assert len(elements) == 10 and elements[0][0].shape == (5, 5, 3) and elements[0][1].shape == ()
    a = collect(ff.utils.image_dataset_from_directory(root, num_parallel_calls=1, **kw))
    b = collect(ff.utils.image_dataset_from_directory(root, num_parallel_calls=3, **kw))
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])


# ----------------------------------------------------------------------------- decode errors
def test_undecodable_file_raises_naming_it(tmp_path):
    root = make_tree(tmp_path, {"a": 3})
    bad = tmp_path / "a" / "broken.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 20)
    ds = ff.utils.image_dataset_from_directory(root, image_size=(2, 2), shuffle=False,
                                               batch_size=2, verbose=False)
    with pytest.raises(ValueError, match=re.escape(str(bad)) + r".*as PNG.*on_decode_error=\"skip\""):
        list(ds)


def test_fit_stops_with_the_decode_error_and_trains_when_skipping(tmp_path):
    root = make_tree(tmp_path, {"a": 5, "b": 5})
    (tmp_path / "b" / "zz_bad.gif").write_bytes(b"GIF89a\x10\x00")
    model = ff.Sequential([ff.layers.Input(shape=(4, 4, 3)), ff.layers.Rescaling(1.0 / 255),
                           ff.layers.Flatten(), ff.layers.Dense(2)])
    model.compile(optimizer="sgd",
                  loss=ff.losses.SparseCategoricalCrossentropy(from_logits=True))
    ds = ff.utils.image_dataset_from_directory(root, image_size=(4, 4), batch_size=4, seed=2,
                                               verbose=False)
    with pytest.raises(ValueError, match=r"zz_bad\.gif as GIF"):
        model.fit(ds, epochs=1, verbose=0)
    ds = ff.utils.image_dataset_from_directory(root, image_size=(4, 4), batch_size=4, seed=2,
                                               verbose=False, on_decode_error="skip")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SkippedImagesWarning)
        history = model.fit(ds, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2
    r = ds.decode_report
    assert (r.passes, r.read, r.skipped) == (2, 10, 1)


def test_skip_counts_exactly_and_warns_once_per_pass(tmp_path):
    root = make_tree(tmp_path, {"a": 4, "b": 3})
    (tmp_path / "a" / "zz_text.jpg").write_bytes(b"this is not a jpeg")
    good = write(str(tmp_path / "b" / "zz_cut.jpg"), 50, size=(16, 16), fmt="JPEG")
    data = open(good, "rb").read()
    open(good, "wb").write(data[: len(data) // 2])
    ds = ff.utils.image_dataset_from_directory(root, image_size=(2, 2), batch_size=3, seed=5,
                                               on_decode_error="skip", verbose=False)
    assert len(ds.file_paths) == 9
    assert ds.cardinality() == ff.data.UNKNOWN_CARDINALITY
    assert ds.decode_report.passes == 0
    for epoch in range(1, 3):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            x, y = collect(ds)
            for _ in range(3):  # let the pending warning call run
                pass
        skipped = [w for w in caught if issubclass(w.category, SkippedImagesWarning)]
        assert len(skipped) == 1, [str(w.message) for w in caught]
        assert "skipped 2 of 9 image files" in str(skipped[0].message)
        assert len(x) == 7
        r = ds.decode_report
        assert (r.passes, r.read, r.skipped, r.total) == (epoch, 7, 2, 9)
        assert sorted(os.path.basename(p) for p, _ in r.skipped_files) == ["zz_cut.jpg",
                                                                           "zz_text.jpg"]
        reasons = dict((os.path.basename(p), why) for p, why in r.skipped_files)
        assert "truncated" in reasons["zz_cut.jpg"]
        assert "not a JPEG, PNG, GIF or BMP" in reasons["zz_text.jpg"]


def test_fifo_named_like_an_image_is_undecodable_and_never_waited_on(tmp_path):
    root = make_tree(tmp_path, {"a": 2})
    fifo = str(tmp_path / "a" / "x.png")
    os.mkfifo(fifo)
    # A watchdog: should reading block on the FIFO (waiting for a writer, as fopen does), a
    # writer opened after a long grace period releases it and the test fails instead of hanging.
    done, fired = threading.Event(), []

    def watchdog():
        if done.wait(60):
            return
        fired.append(True)
        while not done.is_set():
            try:
                os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
            except OSError:  # no reader waiting yet
                time.sleep(0.01)

    threading.Thread(target=watchdog, daemon=True).start()
    kw = dict(image_size=(2, 2), shuffle=False, verbose=False)
    try:
        ds = ff.utils.image_dataset_from_directory(root, on_decode_error="skip", **kw)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SkippedImagesWarning)
            x, _ = collect(ds)
        raising = ff.utils.image_dataset_from_directory(root, **kw)
        with pytest.raises(ValueError) as raised:
            list(raising)
    finally:
        done.set()
    assert not fired, "reading the FIFO blocked until a writer opened it"
    assert ds.file_paths[-1] == fifo  # listed as Keras lists it, then found undecodable
    assert len(x) == 2
    assert ds.decode_report.skipped_files == [
        (fifo, "it is a FIFO (named pipe), not a regular file")]
    assert f"Cannot read image file {fifo}: it is a FIFO (named pipe)" in str(raised.value)


def _png_bytes(value):
    buf = io.BytesIO()
    PIL.fromarray(np.full((4, 4, 3), value, np.uint8)).save(buf, format="PNG")
    return buf.getvalue()


def test_file_and_folder_names_that_are_not_utf8(tmp_path):
    top = os.fsencode(str(tmp_path))
    cls = os.path.join(top, b"caf\xe9")  # Latin-1: not UTF-8
    os.makedirs(cls)
    os.makedirs(os.path.join(top, b"plain"))
    good = os.path.join(cls, b"img\xff.png")
    bad = os.path.join(cls, b"zz\xfe.png")
    ok = os.path.join(top, b"plain", b"ok.png")
    for path, data in ((good, _png_bytes(7)), (bad, b"not an image"), (ok, _png_bytes(9))):
        with open(path, "wb") as f:
            f.write(data)
    kw = dict(image_size=(2, 2), shuffle=False, verbose=False)
    for directory in (str(tmp_path), top):  # a str or bytes directory
        ds = ff.utils.image_dataset_from_directory(directory, on_decode_error="skip", **kw)
        assert ds.class_names == [os.fsdecode(b"caf\xe9"), "plain"]
        assert ds.file_paths == [os.fsdecode(good), os.fsdecode(bad), os.fsdecode(ok)]
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            x, y = collect(ds)
        assert x[:, 0, 0, 0].tolist() == [7, 9] and y.tolist() == [0, 1]
        (path, reason), = ds.decode_report.skipped_files
        assert path == os.fsdecode(bad) and "not a JPEG, PNG, GIF or BMP" in reason
        messages = [str(w.message) for w in caught if issubclass(w.category, SkippedImagesWarning)]
        assert len(messages) == 1 and "caf\\xe9/zz\\xfe.png: " in messages[0]
    # on_decode_error="raise": the error names the file, its undecodable bytes escaped.
    shown = bad.decode("utf-8", "backslashreplace")
    with pytest.raises(ValueError, match=re.escape(f"Cannot decode image file {shown}: not a")):
        list(ff.utils.image_dataset_from_directory(str(tmp_path), **kw))


def test_decode_memory_cap_bounds_all_workers_together(tmp_path):
    for k in range(8):
        write(str(tmp_path / "a" / f"big{k}.png"), 10 + k, size=(300, 400))
    kw = dict(image_size=(4, 4), shuffle=False, verbose=False, batch_size=None)
    previous = ff.utils.set_image_decode_memory_limit(1 << 40)
    try:
        _core.data.reset_image_decode_budget_peak()
        one_file = ff.utils.image_dataset_from_directory(str(tmp_path), labels=None,
                                                         num_parallel_calls=1, **kw)
        next(iter(one_file))  # a single decode (prefetch may start more: at most equal ones)
        one = _core.data.image_decode_budget()["peak"]
        assert one >= 300 * 400 * 3  # at least the decoded pixels
        cap = one * 5 // 2  # two images at a time
        assert ff.utils.set_image_decode_memory_limit(cap) == 1 << 40
        _core.data.reset_image_decode_budget_peak()
        ds = ff.utils.image_dataset_from_directory(str(tmp_path), num_parallel_calls=6, **kw)
        values = [x[0, 0, 0] for x, _ in ds]
        budget = _core.data.image_decode_budget()
        assert budget["peak"] <= cap and budget["capacity"] == cap
        assert values == [10 + k for k in range(8)]
    finally:
        ff.utils.set_image_decode_memory_limit(previous)
    with pytest.raises(ValueError, match=r"`nbytes` must be a positive integer"):
        ff.utils.set_image_decode_memory_limit(0)


# ----------------------------------------------------------------------------- argument errors
@pytest.fixture
def tree(tmp_path):
    return make_tree(tmp_path, {"a": 3, "b": 2, "c": 1})


@pytest.mark.parametrize("kwargs, match", [
    (dict(validation_split=0.2), r"`validation_split=0.2` needs `subset`"),
    (dict(subset="training"), r"`subset='training'` needs `validation_split`"),
    (dict(validation_split=0.2, subset="training"), r"you must provide a `seed`"),
    (dict(validation_split=1.5, subset="training", seed=1), r"between 0 and 1, received: 1.5"),
    (dict(validation_split=0.2, subset="train", seed=1), r'"training", "validation" or "both"'),
    (dict(validation_split=0.1, subset="training", seed=1), r"leaves no validation files"),
    (dict(labels=[0, 1]), r"len\(labels\) is 2 while we found 6 files"),
    (dict(labels="folders"), r"should be a list/tuple of integer labels"),
    (dict(labels=[0, 1, 0, 1, 0, 1], class_names=["a"]), r"only pass `class_names` if"),
    (dict(labels=[0.5] * 6), r"`labels` must be integers"),
    (dict(labels=None, class_names=["a"]), r"When `labels=None`.*cannot be specified"),
    (dict(class_names=["a", "zebra"]), r"did not match.*\['zebra'\] not found"),
    (dict(class_names=["a", "a"]), r"duplicates"),
    (dict(label_mode="sparse"), r"`label_mode` argument must be one of"),
    (dict(label_mode="binary"), r"exactly 2 class_names"),
    (dict(labels=[0, 1, 2, 0, 1, 2], label_mode="categorical"), None),
    (dict(labels=[0, 1, 5, 0, 1, 5], label_mode="categorical"), r"needs labels in \[0, 3\)"),
    (dict(color_mode="bgr"), r"`color_mode` must be one of"),
    (dict(image_size=(0, 5)), r"Invalid `image_size`"),
    (dict(image_size=(3, 4, 5)), r"Invalid `image_size`"),
    (dict(interpolation="cubic"), r"`interpolation` should be one of"),
    (dict(crop_to_aspect_ratio=True, pad_to_aspect_ratio=True), r"Only one of"),
    (dict(data_format="NHWC"), r"`data_format` must be"),
    (dict(on_decode_error="ignore"), r'`on_decode_error` must be "raise" or "skip"'),
    (dict(batch_size=0), r"`batch_size` must be a positive integer"),
    (dict(num_parallel_calls=0), r"`num_parallel_calls` must be a positive integer"),
])
def test_argument_errors(tree, kwargs, match):
    kwargs.setdefault("image_size", (2, 2))
    if match is None:  # the valid neighbour of an error case
        ff.utils.image_dataset_from_directory(tree, verbose=False, **kwargs)
        return
    with pytest.raises(ValueError, match=match):
        ff.utils.image_dataset_from_directory(tree, verbose=False, **kwargs)


def test_folder_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        ff.utils.image_dataset_from_directory(str(tmp_path / "nope"))
    # Images but no class sub-folders.
    write(str(tmp_path / "flat" / "x.png"), 1)
    with pytest.raises(ValueError, match=r'labels="inferred" takes the classes from the sub-folders'
                                         r".*has none \(it holds 1 image file\(s\) directly\)"
                                         r".*labels=None"):
        ff.utils.image_dataset_from_directory(str(tmp_path / "flat"))
    # Class folders without images.
    os.makedirs(tmp_path / "empty" / "a")
    (tmp_path / "empty" / "a" / "readme.txt").write_text("no images here")
    with pytest.raises(ValueError, match=r"No images found in directory .*empty.*\['a'\].*"
                                         r"Allowed formats"):
        ff.utils.image_dataset_from_directory(str(tmp_path / "empty"))


# ---- decode_device: nvJPEG on the GPU (not in Keras) ----
@pytest.mark.parametrize("bad", ["cuda", "GPU", None, 1, "mixed"])
def test_decode_device_takes_cpu_or_gpu(tmp_path, bad):
    root = make_tree(tmp_path, {"a": 1}, ".jpg")
    with pytest.raises(ValueError, match=r'`decode_device` must be "cpu" or "gpu". Received: '
                                         r"decode_device=" + re.escape(repr(bad))):
        ff.utils.image_dataset_from_directory(root, decode_device=bad, verbose=False)


def test_decode_device_cpu_is_the_default_path(tmp_path):
    root = make_tree(tmp_path, {"a": 2, "b": 1}, ".jpg")
    a = collect(ff.utils.image_dataset_from_directory(root, image_size=(4, 4), shuffle=False,
                                                      verbose=False))
    b = collect(ff.utils.image_dataset_from_directory(root, image_size=(4, 4), shuffle=False,
                                                      verbose=False, decode_device="cpu"))
    np.testing.assert_array_equal(a[0], b[0])


def test_decode_device_gpu_without_a_usable_gpu_says_why_before_listing_files(tmp_path, capsys):
    if not _core.why_no_gpu():
        pytest.skip("a GPU is visible: tests/python/config/test_gpu.py checks decoding there")
    root = make_tree(tmp_path, {"a": 1}, ".jpg")
    with pytest.raises(ValueError) as info:
        ff.utils.image_dataset_from_directory(root, decode_device="gpu")
    message = str(info.value)
    assert 'decode_device="gpu" decodes JPEGs with nvJPEG' in message
    assert "no cuda device" in message
    assert 'Use decode_device="cpu"' in message
    assert "Found" not in capsys.readouterr().out  # refused before the folder was listed
