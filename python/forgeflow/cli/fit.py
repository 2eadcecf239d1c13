"""``forgeflow fit``: train a model on a CSV file or a folder of class sub-folders of images and
save it to one .ff file (with what predict/evaluate need to read new data the same way).

    forgeflow fit --csv train.csv --label price [--model "dense:64,dense:64"] --out model.ff
    forgeflow fit --images photos/ --image-size 64 64 [--model small-cnn] --out model.ff

CSV: read with ``ff.data.csv_dataset`` (string feature columns one-hot encoded by its
``CsvSchema``, which the model keeps). ``--task auto`` makes a classifier when the label column
holds strings, or integers with at most ``AUTO_CLASSES`` (10) distinct values; otherwise a
regressor. ``--validation-split F`` keeps the last F of the rows (Keras's rule: the last
fraction, before shuffling) for validation. Images: read with
``ff.utils.image_dataset_from_directory`` (one sub-folder per class; validation split by its
``validation_split`` / ``subset="both"`` / ``seed``).

The model: the input preprocessing, the hidden layers of ``--model`` (see model_spec.py; default
``mlp`` for CSV, ``small-cnn`` for images), and a head chosen by the task: Dense(classes,
softmax) with sparse categorical cross-entropy and accuracy, or Dense(1) (+ the label's scale)
with mean squared error and mean absolute error. Adam(``--learning-rate``). The fit is recorded
by ``ff.tracking`` like any other (``forgeflow runs list``); the saved file is attached to the
run. ``--out`` is written atomically (``model.save``).
"""
import argparse
import os
import re
import shlex

import numpy as np

from ..saving.user_data import MAX_IMAGE_PIXELS, MAX_IMAGE_SIDE
from .common import META_KEY, META_VERSION, CliError, check_image_folder, check_input_file, run
from .model_spec import PRESETS, SpecError, build_layers, parse_spec

__all__ = ["add_fit_parser", "AUTO_CLASSES"]

AUTO_CLASSES = 10  # --task auto: an integer label with at most this many values is a class

_EPILOG = """--model SPEC: comma-separated hidden layers, or a preset.
  dense:UNITS[:ACTIVATION]             Dense (activation default relu)
  dropout:RATE                         Dropout, 0 <= RATE < 1
  conv:FILTERS[:KERNEL[:ACTIVATION]]   Conv2D, padding "same" (kernel 3, relu)   images
  maxpool[:SIZE], avgpool[:SIZE]       2D pooling (size 2)                       images
  globalavgpool, globalmaxpool         global 2D pooling                         images
  flatten, batchnorm                   Flatten, BatchNormalization
  presets: mlp = {mlp} (CSV default);
           small-cnn = {small-cnn}
           (images default); linear = no hidden layer.
Always added: in front, a Normalization adapted on the training features (CSV) or
Rescaling(1/255) (images); behind, Dense(classes, softmax) for classification or Dense(1)
rescaled to the label's mean and variance for regression (a Flatten first if needed).

examples:
  forgeflow fit --csv train.csv --label price --epochs 20 --out price.ff
  forgeflow fit --images photos/ --image-size 64 64 --model small-cnn --out photos.ff"""
_EPILOG = _EPILOG.replace("{mlp}", PRESETS["mlp"]).replace("{small-cnn}", PRESETS["small-cnn"])


def add_fit_parser(sub):
    p = sub.add_parser("fit", help="train a model on a CSV file or an image folder",
                       description="Train a model on a CSV file (--csv, --label) or on a folder "
                                   "of class sub-folders of images (--images) and save it.",
                       epilog=_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--csv", metavar="FILE", help="training CSV file (with a header row)")
    src.add_argument("--images", metavar="FOLDER", help="folder with one sub-folder per class")
    p.add_argument("--label", help="label column of the CSV file (required with --csv)")
    p.add_argument("--task", choices=["auto", "classification", "regression"], default="auto",
                   help=f"CSV only; auto: classification when the label holds strings or at most "
                        f"{AUTO_CLASSES} distinct integers, else regression")
    p.add_argument("--image-size", nargs=2, type=int, metavar=("HEIGHT", "WIDTH"),
                   default=None, help="images are resized to this (default 64 64)")
    p.add_argument("--color-mode", choices=["rgb", "grayscale", "rgba"], default="rgb",
                   help="images: channels to decode (default rgb)")
    p.add_argument("--model", metavar="SPEC", default=None,
                   help='hidden layers, e.g. "dense:64,dropout:0.2,dense:32", or a preset '
                        "(mlp, small-cnn, linear); default mlp for CSV, small-cnn for images")
    p.add_argument("--epochs", type=int, default=20, help="default 20")
    p.add_argument("--batch-size", type=int, default=32, help="default 32")
    p.add_argument("--validation-split", type=float, default=0.2,
                   help="fraction kept for validation (default 0.2; 0 for none)")
    p.add_argument("--learning-rate", type=float, default=0.001, help="Adam's (default 0.001)")
    p.add_argument("--seed", type=int, default=None,
                   help="seeds the weights, the shuffles and the validation split")
    p.add_argument("--verbose", type=int, choices=[0, 1, 2], default=None,
                   help="0 silent, 1 progress bar (default), 2 one line per epoch")
    p.add_argument("--name", default=None,
                   help="model name (shown by forgeflow runs list; default: the --out file name)")
    p.add_argument("--out", metavar="FILE", required=True, help="model file to write (.ff)")
    p.set_defaults(handler=lambda args: run(_fit, args), _parser=p)
    return p


# ------------------------------------------------------------------ argument checks
def _check_args(args):
    if args.csv is not None and not args.label:
        raise CliError("--csv needs --label COLUMN (the column to predict)")
    if args.images is not None:
        if args.label:
            raise CliError("--label is for --csv; with --images the classes are the sub-folders")
        if args.task == "regression":
            raise CliError("--images trains a classifier (one class per sub-folder); "
                           "--task regression needs --csv")
    elif args.image_size is not None:
        raise CliError("--image-size is for --images")
    if args.epochs < 1:
        raise CliError(f"--epochs must be at least 1, received {args.epochs}")
    if args.batch_size < 1:
        raise CliError(f"--batch-size must be at least 1, received {args.batch_size}")
    if not 0 <= args.validation_split < 1:
        raise CliError(f"--validation-split must be in [0, 1), received {args.validation_split}")
    if not args.learning_rate > 0:
        raise CliError(f"--learning-rate must be positive, received {args.learning_rate}")
    if args.image_size is not None and (
            min(args.image_size) < 1 or max(args.image_size) > MAX_IMAGE_SIDE
            or args.image_size[0] * args.image_size[1] > MAX_IMAGE_PIXELS):
        raise CliError(f"--image-size must be two positive integers up to {MAX_IMAGE_SIDE}, at "
                       f"most {MAX_IMAGE_PIXELS} pixels in all, received {args.image_size}")
    out_dir = os.path.dirname(os.path.abspath(args.out))
    if os.path.isdir(args.out):
        raise CliError(f"--out {args.out!r} is a directory, expected a file name")
    if not os.path.isdir(out_dir):
        raise CliError(f"--out {args.out!r}: the folder {out_dir!r} does not exist")
    if args.seed is not None and not 0 <= args.seed < 2 ** 32:
        raise CliError(f"--seed must be in [0, 2**32), received {args.seed}")


def _model_name(args):
    if args.name:
        return args.name
    stem = os.path.splitext(os.path.basename(args.out))[0]
    stem = re.sub(r"[^A-Za-z0-9_]+", "_", stem).strip("_")
    return stem or "model"


# ------------------------------------------------------------------ CSV
def _csv_data(args, seed):
    """(train, val or None, schema, task, data to adapt the Normalization on, training labels)
    for --csv."""
    from .. import data
    check_input_file(args.csv, "CSV file")
    probe = data.csv_dataset(args.csv, label=args.label, batch_size=4096, shuffle=False)
    schema = probe.schema
    string_label = schema.label_vocabulary is not None
    labels = [y for _, y in probe.as_numpy_iterator()]
    y = np.concatenate(labels) if labels else np.zeros((0,))
    n = len(y)
    if n == 0:
        raise CliError(f"CSV file {args.csv!r} has no data rows")
    task = args.task
    values = np.unique(y) if not string_label else None
    if task == "auto":
        if string_label:
            task = "classification"
        elif schema.label_dtype == "int64" and len(values) <= AUTO_CLASSES:
            task = "classification"
        else:
            task = "regression"
    if task == "regression" and string_label:
        raise CliError(f"--task regression needs a numeric label, but column {args.label!r} of "
                       f"{args.csv!r} holds strings (e.g. {schema.label_vocabulary[0]!r})")
    if task == "classification" and not string_label:
        # Integer (or other numeric) classes: read the label as a category so the classes are
        # numbered 0..K-1 whatever their values, and their names are kept.
        probe = data.csv_dataset(args.csv, label=args.label, batch_size=4096, shuffle=False,
                                 categorical=[args.label])
        schema = probe.schema
    if task == "classification":
        names = schema.label_vocabulary
        if len(names) < 2:
            raise CliError(f"column {args.label!r} of {args.csv!r} holds one class only "
                           f"({names[0]!r}); a classifier needs at least two")
    n_val = int(n * args.validation_split)
    if args.validation_split and n_val == 0:
        raise CliError(f"--validation-split {args.validation_split} of {n} rows leaves no "
                       "validation row; use a larger split, more rows, or 0")
    n_train = n - n_val
    base = data.csv_dataset(args.csv, batch_size=None, shuffle=False, schema=schema)
    train = (base.take(n_train).shuffle(min(n_train, 10000), seed=seed)
             .batch(args.batch_size).prefetch(data.AUTOTUNE))
    val = base.skip(n_train).batch(args.batch_size) if n_val else None
    adapt_data = base.take(n_train).batch(4096)
    y_train = y[:n_train].astype(np.float64)
    return train, val, schema, task, adapt_data, y_train


def _csv_model(args, entries, schema, task, adapt_data, y_train, name):
    from .. import layers as L
    from ..models import Sequential
    norm = L.Normalization()
    norm.adapt(adapt_data)
    hidden, _ = build_layers(entries, image_input=False)
    head = _head(task, len(schema.label_vocabulary or []), y_train)
    model = Sequential([L.Input(shape=(schema.num_features,)), norm, *hidden, *head], name=name)
    return model


def _head(task, classes, y_train):
    from .. import layers as L
    if task == "classification":
        return [L.Dense(classes, activation="softmax")]
    mean, var = float(np.mean(y_train)), float(np.var(y_train))
    # The network learns the label in standard units; this layer turns them back into the
    # label's (an untrained model predicts about the mean instead of about 0).
    return [L.Dense(1), L.Normalization(mean=mean, variance=max(var, 1e-12), invert=True)]


# ------------------------------------------------------------------ images
def _image_data(args, seed, verbose):
    from ..utils import image_dataset_from_directory
    check_image_folder(args.images)
    if not any(os.path.isdir(os.path.join(args.images, d)) and not d.startswith(".")
               for d in os.listdir(args.images)):
        raise CliError(f"image folder {args.images!r} has no sub-folders: forgeflow fit --images "
                       "takes the classes from its sub-folders (one per class, holding that "
                       "class's images)")
    size = tuple(args.image_size) if args.image_size else (64, 64)
    common = dict(labels="inferred", label_mode="int", color_mode=args.color_mode,
                  batch_size=args.batch_size, image_size=size, shuffle=True, seed=seed,
                  verbose=verbose != 0)
    if args.validation_split:
        train, val = image_dataset_from_directory(args.images,
                                                  validation_split=args.validation_split,
                                                  subset="both", **common)
    else:
        train, val = image_dataset_from_directory(args.images, **common), None
    if len(train.class_names) < 2:
        raise CliError(f"image folder {args.images!r} has one class sub-folder only "
                       f"({train.class_names[0]!r}); a classifier needs at least two")
    return train, val, size


def _image_model(args, entries, size, class_names, name):
    from .. import layers as L
    from ..models import Sequential
    channels = {"rgb": 3, "grayscale": 1, "rgba": 4}[args.color_mode]
    hidden, still_image = build_layers(entries, image_input=True)
    head = ([L.Flatten()] if still_image else []) + _head("classification", len(class_names),
                                                           None)
    try:
        return Sequential([L.Input(shape=(size[0], size[1], channels)), L.Rescaling(1.0 / 255),
                           *hidden, *head], name=name)
    except ValueError as e:  # e.g. more pooling than the image size allows
        spec = args.model if args.model is not None else "small-cnn"
        raise CliError(f"--model {spec!r} does not fit {size[0]}x{size[1]} images (a larger "
                       f"--image-size or fewer pooling layers would): {e}") from None


# ------------------------------------------------------------------ the command
def _fit(args):
    from .. import optimizers, tracking, utils
    _check_args(args)
    if getattr(args, "database", None):  # forgeflow --database PATH fit ...: record there
        tracking.set_database(args.database)
    try:
        entries = parse_spec(args.model if args.model is not None else
                             ("mlp" if args.csv is not None else "small-cnn"))
    except SpecError as e:
        raise CliError(str(e)) from None
    if args.seed is not None:
        utils.set_random_seed(args.seed)
    seed = args.seed if args.seed is not None else int(np.random.SeedSequence().entropy % 2 ** 31)
    name = _model_name(args)
    verbose = "auto" if args.verbose is None else args.verbose
    argv = getattr(args, "argv", None)
    meta = {"version": META_VERSION, "model": args.model,
            "command": shlex.join(["forgeflow"] + argv) if argv is not None else None}
    try:
        if args.csv is not None:
            train, val, schema, task, adapt_data, y_train = _csv_data(args, seed)
            model = _csv_model(args, entries, schema, task, adapt_data, y_train, name)
            model._data_schema = schema.to_config()
            meta.update(data="csv", task=task, label=args.label,
                        class_names=schema.label_vocabulary if task == "classification" else None)
            what = (f"{len(schema.label_vocabulary)} classes: "
                    f"{_list(schema.label_vocabulary)}" if task == "classification" else
                    f"predicting {args.label!r}")
            if verbose != 0:
                print(f"Task: {task} ({what}); {schema.num_features} features from "
                      f"{len(schema.columns)} columns.")
        else:
            train, val, size = _image_data(args, seed, verbose)
            task = "classification"
            model = _image_model(args, entries, size, train.class_names, name)
            meta.update(data="images", task=task, class_names=list(train.class_names),
                        image_size=list(size), color_mode=args.color_mode,
                        interpolation="bilinear")
            if verbose != 0:
                print(f"Task: classification ({len(train.class_names)} classes: "
                      f"{_list(train.class_names)}); images {size[0]}x{size[1]} {args.color_mode}.")
    except SpecError as e:
        raise CliError(str(e)) from None
    if task == "classification":
        model.compile(optimizers.Adam(learning_rate=args.learning_rate),
                      "sparse_categorical_crossentropy", metrics=["accuracy"])
    else:
        model.compile(optimizers.Adam(learning_rate=args.learning_rate), "mse", metrics=["mae"])
    model._user_data = {META_KEY: meta}
    if verbose != 0:
        model.summary()
    model.fit(train, epochs=args.epochs, validation_data=val, verbose=verbose)
    model.save(args.out)
    run_id = getattr(model, "_tracking_run_id", None)
    if verbose != 0:
        print(f"Saved the model to {args.out}" + (f" (run {run_id})." if run_id else "."))
    return 0


def _list(names, limit=10):
    names = [str(n) for n in names]
    return ", ".join(names[:limit]) + (f", ... ({len(names) - limit} more)"
                                       if len(names) > limit else "")
