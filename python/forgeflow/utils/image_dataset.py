"""ff.utils.image_dataset_from_directory: an ff.data.Dataset of images read from class folders.

Keras's semantics (file listing, label modes, shuffling with the seed before the validation
split, ``class_names`` / ``file_paths`` attributes, the printed counts); the files are decoded and
resized in C++ on the pipeline's worker threads (cpp/src/data/image). Errors are Keras's, with
the detail that makes them fixable.
"""
import os
import warnings

import numpy as np

from .. import _core

__all__ = ["image_dataset_from_directory", "set_image_decode_memory_limit", "SkippedImagesWarning",
           "ALLOWLIST_FORMATS"]

ALLOWLIST_FORMATS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")
_INTERPOLATIONS = ("bilinear", "nearest", "bicubic", "area", "lanczos3", "lanczos5", "gaussian",
                   "mitchellcubic")


class SkippedImagesWarning(UserWarning):
    """Files that could not be decoded were skipped (on_decode_error="skip"); once per pass."""


def _warn_skipped_files(message):
    # Called from C++ (a pending call posted when a pass ends) with the pass's account.
    warnings.warn(message, SkippedImagesWarning, stacklevel=2)


def set_image_decode_memory_limit(nbytes):
    """Caps the memory that all image decoders hold together (default 1 GiB); returns the
    previous cap. Not in Keras.

    Every worker of every image dataset reserves what its image needs (the file's bytes, the
    decoded pixels and conversion copies, the library's whole-image buffers, the resize) before
    holding it, waiting while the others' reservations leave no room; an image larger than the
    whole cap is decoded alone. So ``num_parallel_calls`` large images cost at most ``nbytes``
    together, not ``num_parallel_calls`` times one image.
    """
    if isinstance(nbytes, bool) or not isinstance(nbytes, (int, np.integer)) or nbytes < 1:
        raise ValueError("`nbytes` must be a positive integer (bytes). Received: "
                         f"nbytes={nbytes!r}")
    previous = _core.data.image_decode_budget()["capacity"]
    _core.data.set_image_decode_budget(int(nbytes))
    return previous


def image_dataset_from_directory(directory, labels="inferred", label_mode="int", class_names=None,
                                 color_mode="rgb", batch_size=32, image_size=(256, 256),
                                 shuffle=True, seed=None, validation_split=None, subset=None,
                                 interpolation="bilinear", follow_links=False,
                                 crop_to_aspect_ratio=False, pad_to_aspect_ratio=False,
                                 data_format=None, verbose=True, *, on_decode_error="raise",
                                 num_parallel_calls=None, decode_device="cpu"):
    """Generates an ``ff.data.Dataset`` from image files in a directory (Keras's
    ``image_dataset_from_directory``).

    With ``labels="inferred"`` the sub-folders of ``directory`` (in alphanumeric order, or the
    order of ``class_names``) are the classes, and every ``.bmp .gif .jpeg .jpg .png`` file below
    each (extensions in any case; sub-sub-folders too) is an example of it. The format of a file
    is read from its bytes, not its extension; a GIF gives its first frame.

    Args:
        directory: the folder holding the class sub-folders (or the images, if labels is None or
            a list).
        labels: ``"inferred"``, ``None`` (images only), or a list/tuple of integer labels, one per
            image file, in the alphanumeric order of the file paths.
        label_mode: ``"int"`` (int32, shape (batch,)), ``"categorical"`` (float32 one-hot,
            (batch, num_classes)), ``"binary"`` (float32, (batch, 1), exactly two classes) or
            ``None`` (no labels).
        class_names: only with ``labels="inferred"``: the class sub-folders to use, in this order.
        color_mode: ``"grayscale"``, ``"rgb"`` or ``"rgba"`` (1, 3 or 4 channels).
        batch_size: batch size, or None for unbatched images. Default 32.
        image_size: (height, width) the images are resized to (an int means a square).
        shuffle: shuffle the file list with ``seed`` and the elements every epoch (a buffer of
            8 batches), as Keras does; False keeps alphanumeric order.
        seed: seed for the shuffles; required with validation_split when shuffling.
        validation_split: fraction of the files (the last ``int(split * n)`` after the seeded
            shuffle) kept for validation.
        subset: ``"training"``, ``"validation"`` or ``"both"`` (returns (train, val)); only with
            validation_split.
        interpolation: ``"bilinear"``, ``"nearest"``, ``"bicubic"``, ``"area"``,
            ``"lanczos3"``, ``"lanczos5"``, ``"gaussian"`` or ``"mitchellcubic"``, with
            ``tf.image.resize``'s semantics (half-pixel centers, no antialiasing).
        follow_links: also walk sub-folders that are symbolic links. Each folder (device and
            inode) is listed once: a link back to a folder already listed (a loop, or a second
            link to one folder) is not followed again, with a warning (Keras follows a loop
            until the paths get too long).
        crop_to_aspect_ratio: resize the largest centered crop of the target aspect ratio.
        pad_to_aspect_ratio: resize to fit, then pad with zeros (centered) to the target size.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        verbose: print the ``Found ...`` and ``Using ...`` lines (Keras prints the latter
            whatever ``verbose`` says; here ``verbose=False`` silences both).
        on_decode_error: not in Keras. ``"raise"`` (default, as Keras): a file that cannot be
            decoded stops the iteration with a ValueError naming it. ``"skip"``: such files are
            left out; each pass that skipped some warns once (``SkippedImagesWarning``) and the
            dataset's ``decode_report`` gives the last complete pass's ``read``, ``skipped``
            (read + skipped = files in the pass) and ``skipped_files`` ((path, reason) pairs).
            The dataset's cardinality is then unknown.
        num_parallel_calls: not in Keras. Worker threads that decode and resize; None or
            ``ff.data.AUTOTUNE``: one per CPU thread. The memory they hold together is capped
            (``set_image_decode_memory_limit``, 1 GiB by default).
        decode_device: not in Keras. ``"cpu"`` (default): every file is decoded by the CPU
            libraries on the worker threads. ``"gpu"``: JPEGs are decoded by nvJPEG on the first
            visible GPU (for when the CPU cannot decode as fast as the model trains); the worker
            threads still read the files and resize the pixels on the CPU. nvJPEG decodes at full
            size (no DCT scaling), and its IDCT and chroma upsampling are not libjpeg's: the
            pixels match a full-size CPU decode within a mean absolute difference of 3 of 255
            and 99% of values within 16 levels (photographic content). A file nvJPEG does not
            take (CMYK, a damaged stream, ...) and PNG, GIF and BMP files are decoded on the CPU,
            so which files load and their errors are the same. Raises ValueError saying why when
            no GPU with nvJPEG can be used (a CPU-only build, no GPU, a CUDA build without
            nvJPEG).

    Returns:
        An ``ff.data.Dataset`` yielding ``(images, labels)`` (or images alone when label_mode is
        None), images float32 ``(batch, height, width, channels)`` with values 0..255, with
        attributes ``class_names``, ``file_paths`` and ``decode_report`` (None unless
        on_decode_error="skip"); or a tuple of two such datasets for ``subset="both"``.

    JPEG files are decoded at 1/2, 1/4 or 1/8 of their size when that still leaves at least the
    target size (libjpeg-turbo's DCT scaling, as PIL's ``draft()``): much faster for large
    photos, and slightly smoother than Keras's output, which decodes at full size before
    resizing without antialiasing (on a textured 640x480 photo resized to 224x224 the pixels
    differ from a full-size decode by 3 levels of 255 on average: the reduced decode averages
    blocks, so it aliases less). JPEGs are decoded with TensorFlow's defaults (fast integer
    IDCT, fancy upsampling). Images are float32 for every interpolation, "nearest" included
    (tf.image.resize keeps the input's uint8 type for nearest-neighbour resizing).

    File and folder names need not be UTF-8: ``file_paths`` and ``class_names`` hold them as
    ``os.fsdecode`` does (undecodable bytes as surrogates), the files are opened by their bytes,
    and messages show such bytes as ``\\xNN``. A FIFO, device, socket or folder named like an
    image is a file that cannot be decoded (never waited on).
    """
    # ------------------------------------------------------------------ arguments (Keras's order)
    if labels not in ("inferred", None):
        if not isinstance(labels, (list, tuple)):
            raise ValueError(
                "`labels` argument should be a list/tuple of integer labels, of the same size as "
                "the number of image files in the target directory. If you wish to infer the "
                "labels from the subdirectory names in the target directory, pass "
                '`labels="inferred"`. If you wish to get a dataset that only contains images (no '
                f"labels), pass `labels=None`. Received: labels={labels!r}")
        if class_names:
            raise ValueError('You can only pass `class_names` if `labels="inferred"`. Received: '
                             f"labels={labels!r}, and class_names={class_names!r}")
    if label_mode not in {"int", "categorical", "binary", None}:
        raise ValueError('`label_mode` argument must be one of "int", "categorical", "binary", '
                         f"or None. Received: label_mode={label_mode!r}")
    if labels is None or label_mode is None:
        labels = None
        label_mode = None
    channels = {"rgb": 3, "rgba": 4, "grayscale": 1}.get(color_mode) if isinstance(color_mode, str) else None
    if channels is None:
        raise ValueError('`color_mode` must be one of {"rgb", "rgba", "grayscale"}. Received: '
                         f"color_mode={color_mode!r}")
    image_size = _check_image_size(image_size)
    if not isinstance(interpolation, str) or interpolation.lower() not in _INTERPOLATIONS:
        raise ValueError(f"Argument `interpolation` should be one of {_INTERPOLATIONS}. Received: "
                         f"interpolation={interpolation!r}")
    interpolation = interpolation.lower()
    if crop_to_aspect_ratio and pad_to_aspect_ratio:
        raise ValueError("Only one of `pad_to_aspect_ratio`, `crop_to_aspect_ratio` can be set to "
                         "`True`.")
    _check_validation_split_arg(validation_split, subset, shuffle, seed)
    if data_format is None:
        data_format = "channels_last"
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError('`data_format` must be "channels_last", "channels_first" or None. '
                         f"Received: data_format={data_format!r}")
    if on_decode_error not in ("raise", "skip"):
        raise ValueError('`on_decode_error` must be "raise" or "skip". Received: '
                         f"on_decode_error={on_decode_error!r}")
    if batch_size is not None and (isinstance(batch_size, bool) or
                                   not isinstance(batch_size, (int, np.integer)) or batch_size < 1):
        raise ValueError(f"`batch_size` must be a positive integer or None. Received: "
                         f"batch_size={batch_size!r}")
    if decode_device not in ("cpu", "gpu"):
        raise ValueError('`decode_device` must be "cpu" or "gpu". Received: '
                         f"decode_device={decode_device!r}")
    if decode_device == "gpu":
        _core.data.check_gpu_jpeg()  # says why not, before the folder is listed
    workers = _workers(num_parallel_calls)
    # File names are bytes on POSIX: str with undecodable bytes as surrogates (os.fsdecode) here,
    # the original bytes (os.fsencode) for C++, so names that are not UTF-8 work throughout.
    directory = os.fsdecode(os.fspath(directory))
    if not os.path.isdir(directory):
        raise FileNotFoundError(
            f"image_dataset_from_directory: '{_shown(directory)}' " +
            ("is not a directory" if os.path.exists(directory) else "does not exist"))

    if seed is None:
        seed = np.random.randint(1e6)
    image_paths, labels, class_names = _index_directory(
        directory, labels, class_names=class_names, shuffle=shuffle, seed=seed,
        follow_links=follow_links, verbose=verbose)

    if label_mode == "binary" and len(class_names) != 2:
        raise ValueError('When passing `label_mode="binary"`, there must be exactly 2 '
                         f"class_names. Received: class_names={class_names}")
    num_classes = len(class_names) if class_names else 0
    if labels is not None and label_mode in ("categorical", "binary"):
        bad = [v for v in labels if not 0 <= v < num_classes]
        if bad:
            raise ValueError(
                f'label_mode="{label_mode}" needs labels in [0, {num_classes}) (one per class: '
                f"{class_names}), but `labels` holds {sorted(set(bad))[:5]}; Keras would encode "
                "these silently as all-zero vectors")
    batch_size = None if batch_size is None else int(batch_size)
    shuffle_buffer_size = batch_size * 8 if batch_size is not None else 1024
    common = dict(image_size=image_size, channels=channels, label_mode=label_mode,
                  num_classes=num_classes, interpolation=interpolation,
                  crop=bool(crop_to_aspect_ratio), pad=bool(pad_to_aspect_ratio),
                  channels_first=data_format == "channels_first",
                  skip=on_decode_error == "skip", workers=workers, batch_size=batch_size,
                  class_names=class_names, decode_on_gpu=decode_device == "gpu")

    if subset == "both":
        train_paths, train_labels = _split(image_paths, labels, validation_split, "training", verbose)
        val_paths, val_labels = _split(image_paths, labels, validation_split, "validation", verbose)
        if not train_paths:
            raise ValueError(f"No training images found in directory {_shown(directory)}. "
                             f"Allowed formats: {ALLOWLIST_FORMATS}")
        if not val_paths:
            raise ValueError(f"No validation images found in directory {_shown(directory)}. "
                             f"Allowed formats: {ALLOWLIST_FORMATS}")
        train = _paths_and_labels_to_dataset(train_paths, train_labels, shuffle=shuffle,
                                             shuffle_buffer_size=shuffle_buffer_size, seed=seed,
                                             **common)
        val = _paths_and_labels_to_dataset(val_paths, val_labels, shuffle=False, **common)
        return train, val

    image_paths, labels = _split(image_paths, labels, validation_split, subset, verbose)
    if not image_paths:
        raise ValueError(f"No images found in directory {_shown(directory)}. "
                         f"Allowed formats: {ALLOWLIST_FORMATS}")
    return _paths_and_labels_to_dataset(image_paths, labels, shuffle=shuffle,
                                        shuffle_buffer_size=shuffle_buffer_size, seed=seed,
                                        **common)


# ---------------------------------------------------------------------- argument checks
def _check_image_size(image_size):
    if isinstance(image_size, (int, np.integer)) and not isinstance(image_size, bool):
        image_size = (image_size, image_size)
    if (not isinstance(image_size, (list, tuple)) or len(image_size) != 2 or
            any(isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1
                for v in image_size)):
        raise ValueError("Invalid `image_size` value. Expected a tuple of 2 positive integers "
                         f"(height, width). Received: image_size={image_size!r}")
    return int(image_size[0]), int(image_size[1])


def _check_validation_split_arg(validation_split, subset, shuffle, seed):
    if validation_split and not 0 < validation_split < 1:
        raise ValueError("`validation_split` must be between 0 and 1, received: "
                         f"{validation_split}")
    if validation_split and not subset:
        raise ValueError(
            f"`validation_split={validation_split}` needs `subset`: \"training\", \"validation\" "
            "or \"both\" (which side of the split to return). Received: subset=None. (If "
            "`subset` is set, `validation_split` must be set, and inversely.)")
    if subset and not validation_split:
        raise ValueError(
            f"`subset={subset!r}` needs `validation_split` (the fraction of files kept for "
            f"validation). Received: validation_split={validation_split!r}. (If `subset` is set, "
            "`validation_split` must be set, and inversely.)")
    if subset not in ("training", "validation", "both", None):
        raise ValueError('`subset` must be either "training", "validation" or "both", '
                         f"received: {subset!r}")
    if validation_split and shuffle and seed is None:
        raise ValueError(
            "If using `validation_split` and shuffling the data, you must provide a `seed` "
            "argument, to make sure that there is no overlap between the training and "
            "validation subset (each call shuffles the file list with it before splitting).")


def _workers(n):
    if n is None or n == _core.data.AUTOTUNE:
        return _core.data.AUTOTUNE
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError("`num_parallel_calls` must be a positive integer, None or "
                         f"ff.data.AUTOTUNE. Received: num_parallel_calls={n!r}")
    return int(n)


# ---------------------------------------------------------------------- file listing (Keras)
def _walk_images(directory, follow_links, visited, revisits):
    """(root, fname) of the image files below `directory`, roots and names sorted, as Keras's
    os.walk-based listing gives them, except that each folder (device and inode) is listed once:
    a folder already in `visited` (the listing's top folder, a class folder, or one reached
    before) is not entered again, and its path is appended to `revisits`. With follow_links a
    symbolic link loop would otherwise be walked until the paths get too long (one `a/loop -> ..`
    turns 4 images into 164), and two links make the walk exponential. Unreadable folders are
    skipped, as os.walk does."""
    found = []
    stack = [directory]
    while stack:
        root = stack.pop()
        try:
            entries = sorted(os.scandir(root), key=lambda e: e.name)  # links claim in name order
        except OSError:
            continue
        files, dirs = [], []
        for entry in entries:
            try:
                is_dir = entry.is_dir()  # follows a link, as os.walk does
            except OSError:
                is_dir = False
            if not is_dir:
                files.append(entry.name)
                continue
            try:
                if entry.is_symlink() and not follow_links:
                    continue  # os.walk(followlinks=False) lists it as a folder, not entered
                st = os.stat(entry.path)
            except OSError:
                continue
            key = (st.st_dev, st.st_ino)
            if key in visited:
                revisits.append(entry.path)
                continue
            visited.add(key)
            dirs.append(entry.path)
        found.extend((root, f) for f in files if f.lower().endswith(ALLOWLIST_FORMATS))
        stack.extend(reversed(dirs))  # depth first, in name order
    # Keras sorts os.walk's output by folder path, then the names within each folder.
    return sorted(found, key=lambda rf: rf[0])


def _shown(path):
    """A path for a message: bytes that are not UTF-8 written \\xNN (as the C++ errors do)."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def _folder_key(path):
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino)


def _index_directory(directory, labels, class_names, shuffle, seed, follow_links, verbose):
    if labels == "inferred":
        subdirs = [d for d in sorted(os.listdir(directory))
                   if os.path.isdir(os.path.join(directory, d)) and not d.startswith(".")]
        if not subdirs:
            top = [f for f in os.listdir(directory) if f.lower().endswith(ALLOWLIST_FORMATS)]
            raise ValueError(
                'labels="inferred" takes the classes from the sub-folders of '
                f"{_shown(directory)}, but it has none (it holds {len(top)} image file(s) "
                "directly). Put each class's images in a sub-folder named after the class, or "
                "pass labels=None (images only) or a list of labels.")
        if class_names is not None:
            if (not isinstance(class_names, (list, tuple)) or
                    not all(isinstance(c, str) for c in class_names)):
                raise ValueError("`class_names` must be a list/tuple of sub-folder names (str). "
                                 f"Received: class_names={class_names!r}")
            if len(set(class_names)) != len(class_names):
                raise ValueError(f"`class_names` holds duplicates: {list(class_names)}")
            if not set(class_names).issubset(set(subdirs)):
                missing = [c for c in class_names if c not in subdirs]
                raise ValueError(
                    "The `class_names` passed did not match the names of the subdirectories of "
                    f"the target directory. Expected: {subdirs} (or a subset of it), but "
                    f"received: class_names={list(class_names)} ({missing} not found)")
            subdirs = list(class_names)
    else:
        subdirs = [""]
        if class_names is not None:
            if labels is None:
                raise ValueError("When `labels=None` (no labels), argument `class_names` cannot "
                                 "be specified.")
            raise ValueError("When argument `labels` is specified, argument `class_names` cannot "
                             "be specified (the `class_names` will be the sorted list of labels).")
    class_names = list(subdirs)

    filenames, file_labels = [], []
    # Each folder is listed once (see _walk_images): the top folder and the class folders count
    # as listed from the start, so a link back to one of them is not followed.
    visited = {k for k in map(_folder_key, [directory] + [os.path.join(directory, d)
                                                         for d in subdirs]) if k}
    revisits = []
    for index, subdir in enumerate(subdirs):
        subdir_path = os.path.join(directory, subdir)
        dirname = os.path.basename(subdir_path)
        for root, fname in _walk_images(subdir_path, follow_links, visited, revisits):
            filenames.append(os.path.join(dirname, os.path.relpath(os.path.join(root, fname),
                                                                   subdir_path)))
            file_labels.append(index)
    if revisits:
        shown = ", ".join(_shown(p) for p in revisits[:5])
        more = f" and {len(revisits) - 5} more" if len(revisits) > 5 else ""
        warnings.warn(
            f"image_dataset_from_directory: {len(revisits)} folder(s) reached again through "
            f"symbolic links (a link loop, or two links to one folder) were not listed again: "
            f"{shown}{more}. Each folder's images are listed once (Keras would follow a loop "
            "until the paths get too long).", UserWarning, stacklevel=3)

    if labels == "inferred":
        labels = np.array(file_labels, dtype=np.int32)
    elif labels is None:
        class_names = None
    else:
        if len(labels) != len(filenames):
            raise ValueError(
                "Expected the lengths of `labels` to match the number of files in the target "
                f"directory. len(labels) is {len(labels)} while we found {len(filenames)} files "
                f"in directory {_shown(directory)}.")
        bad = [v for v in labels
               if isinstance(v, bool) or not isinstance(v, (int, np.integer))]
        if bad:
            raise ValueError(f"`labels` must be integers; found {bad[:5]!r}")
        labels = [int(v) for v in labels]
        class_names = [str(label) for label in sorted(set(labels))]
    if not filenames:
        where = (f"its sub-folders {subdirs}" if subdirs != [""] else "it")
        raise ValueError(
            f"No images found in directory {_shown(directory)} (searched {where}, following "
            f"symbolic links: {bool(follow_links)}). Allowed formats: {ALLOWLIST_FORMATS}, in any "
            "case.")
    if verbose:
        if labels is None:
            print(f"Found {len(filenames)} files.")
        else:
            print(f"Found {len(filenames)} files belonging to {len(class_names)} classes.")
    file_paths = [os.path.join(directory, f) for f in filenames]
    if shuffle:
        rng = np.random.RandomState(seed)
        rng.shuffle(file_paths)
        if labels is not None:
            rng = np.random.RandomState(seed)
            rng.shuffle(labels)
    return file_paths, labels, class_names


def _split(samples, labels, validation_split, subset, verbose):
    if not validation_split:
        return samples, labels
    n = len(samples)
    num_val = int(validation_split * n)  # < n, since validation_split < 1
    if num_val == 0:
        raise ValueError(
            f"validation_split={validation_split} of {n} files leaves no validation files "
            f"(int({validation_split} * {n}) = 0; Keras would return an empty training set "
            "here). Use a larger validation_split or more files.")
    if subset == "training":
        if verbose:
            print(f"Using {n - num_val} files for training.")
        return samples[:-num_val], (None if labels is None else labels[:-num_val])
    if subset == "validation":
        if verbose:
            print(f"Using {num_val} files for validation.")
        return samples[-num_val:], (None if labels is None else labels[-num_val:])
    raise ValueError(f'`subset` must be either "training" or "validation", received: {subset}')


# ---------------------------------------------------------------------- the pipeline
def _labels_array(labels, label_mode, num_classes):
    labels = np.asarray(labels, dtype=np.int64)
    if label_mode == "int":
        return labels.astype(np.int32)
    if label_mode == "binary":
        return labels.astype(np.float32).reshape(-1, 1)
    one_hot = np.zeros((len(labels), num_classes), dtype=np.float32)
    one_hot[np.arange(len(labels)), labels] = 1.0
    return one_hot


def _paths_and_labels_to_dataset(image_paths, labels, *, image_size, channels, label_mode,
                                 num_classes, interpolation, crop, pad, channels_first, skip,
                                 workers, batch_size, class_names, shuffle,
                                 shuffle_buffer_size=None, seed=None, decode_on_gpu=False):
    from ..data.dataset import AUTOTUNE, Dataset

    paths = np.empty(len(image_paths), dtype=object)
    paths[:] = [os.fsencode(p) for p in image_paths]  # the names' bytes, whatever they are
    if label_mode:
        ds = Dataset.from_tensor_slices((paths, _labels_array(labels, label_mode, num_classes)))
    else:
        ds = Dataset.from_tensor_slices(paths)
    if shuffle:
        ds = ds.shuffle(buffer_size=shuffle_buffer_size or 1024, seed=seed)
    core, report = _core.data.load_images(ds._core, image_size[0], image_size[1], channels,
                                          interpolation, crop, pad, channels_first, skip, workers,
                                          decode_on_gpu)
    ds = ds._derive(core)
    if batch_size is not None:
        ds = ds.batch(batch_size)
    ds = ds.prefetch(AUTOTUNE)
    ds.class_names = class_names
    ds.file_paths = list(image_paths)
    ds.decode_report = report
    # ff.distribute's sharding by file: worker `index` of `num_shards` reads every
    # num_shards-th image into batches of `batch` (its share of the global batch).
    ds._shard_files = len(image_paths)
    ds._shard_batch_size = batch_size
    ds._shard_by_file = lambda num_shards, index, batch: _paths_and_labels_to_dataset(
        image_paths[index::num_shards], None if labels is None else labels[index::num_shards],
        image_size=image_size, channels=channels, label_mode=label_mode, num_classes=num_classes,
        interpolation=interpolation, crop=crop, pad=pad, channels_first=channels_first, skip=skip,
        workers=workers, batch_size=batch, class_names=class_names, shuffle=shuffle,
        shuffle_buffer_size=shuffle_buffer_size, seed=seed, decode_on_gpu=decode_on_gpu)
    return ds
