"""What the ``forgeflow fit / predict / evaluate / summary`` commands share: one-line errors,
loading a model file with what the CLI stored in it, and reading CSV files and image folders
through ``ff.data.csv_dataset`` / ``ff.utils.image_dataset_from_directory``.

What predict and evaluate need to read new data the way the training data was read is kept in
the model file itself, as user data (``model._user_data["forgeflow_cli"]``, the ``USER``
section of the .ff file, beside the CSV schema that ``model._data_schema`` keeps):
``{"version", "data": "csv"|"images", "task": "classification"|"regression", "label",
"class_names", "image_size", "color_mode", "interpolation", "model", "command"}``.
"""
import os
import sys

from ..saving.user_data import CLI_KEY, CLI_VERSION, is_csv_schema

__all__ = ["CliError", "run", "META_KEY", "add_model_argument", "load_model_file", "cli_meta",
           "check_input_file", "check_image_folder", "csv_for_model", "images_for_model",
           "one_line"]

META_KEY = CLI_KEY          # load_model checks what is stored there (saving/user_data.py)
META_VERSION = CLI_VERSION


class CliError(Exception):
    """A problem with the user's input: printed as one line on stderr, exit code 1."""


def one_line(text):
    return " ".join(str(text).split())


def run(handler, args):
    """Runs a command's handler; any error becomes one line on stderr and exit code 1
    (FORGEFLOW_CLI_TRACEBACK=1 re-raises, for debugging)."""
    from ..saving import SavedModelError
    try:
        return handler(args)
    except KeyboardInterrupt:
        print("forgeflow: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as e:  # noqa: BLE001 - one line, never a traceback, for any failure
        if os.environ.get("FORGEFLOW_CLI_TRACEBACK"):
            raise
        if isinstance(e, (CliError, SavedModelError)):
            message = str(e)
        elif isinstance(e, (ValueError, TypeError, FileNotFoundError, OSError)):
            message = str(e) or type(e).__name__
        else:
            message = f"{type(e).__name__}: {e}"
        sys.stdout.flush()
        print(f"forgeflow: error: {one_line(message)}", file=sys.stderr)
        return 1


# ------------------------------------------------------------------ files
def check_input_file(path, what):
    if not os.path.exists(path):
        raise CliError(f"{what} {path!r} does not exist")
    if os.path.isdir(path):
        raise CliError(f"{what} {path!r} is a directory, expected a file")
    if not os.access(path, os.R_OK):
        raise CliError(f"{what} {path!r} is not readable")


def check_image_folder(path):
    if not os.path.exists(path):
        raise CliError(f"image folder {path!r} does not exist")
    if not os.path.isdir(path):
        raise CliError(f"--images {path!r} is a file, expected a folder of images")


def add_model_argument(parser):
    parser.add_argument("model", metavar="MODEL.ff", help="a model file written by forgeflow fit "
                                                         "(or model.save)")


def load_model_file(path, compile=True):
    """The model in ``path``; a missing file, a file that is not a forgeflow model, a weights
    file or a damaged one is a CliError."""
    from ..saving import SavedModelError, load_model
    check_input_file(path, "model file")
    try:
        return load_model(path, compile=compile)
    except SavedModelError as e:
        text = one_line(e)
        if not text.startswith(path):
            text = f"{path}: {text}"
        raise CliError(f"cannot load the model: {text}") from None


def cli_meta(model):
    """What ``forgeflow fit`` stored in the model, or, for a model saved from Python, what can be
    told from the model itself: the CSV schema, and the task from the loss (a cross-entropy:
    classification, with the schema's class names or the output indices; else regression)."""
    meta = dict((getattr(model, "_user_data", None) or {}).get(META_KEY) or {})
    if meta:
        return meta
    schema = _csv_schema(model)
    out = {"data": "csv" if schema else None, "task": None}
    if schema:
        out["label"] = schema.get("label")
    losses = getattr(model, "_losses", None) or []
    if model.compiled and len(losses) == 1 and losses[0] is not None:
        name = str(getattr(losses[0], "name", "") or type(losses[0]).__name__)
        out["task"] = ("classification" if "crossentropy" in name.lower().replace("_", "")
                       else "regression")
    if out["task"] == "classification":
        if schema and schema.get("label_vocabulary"):
            out["class_names"] = list(schema["label_vocabulary"])
        else:
            width = int(model._core.output_shapes[0][-1])
            out["class_names"] = [str(i) for i in range(max(width, 2))]
    return out


def _csv_schema(model):
    """The model's CSV schema, or None (also for the free-form data_schema a forgeflow 0.1.0
    file may carry, which is no CSV schema)."""
    schema = getattr(model, "_data_schema", None)
    return schema if schema and is_csv_schema(schema) else None


# ------------------------------------------------------------------ data for a trained model
def csv_for_model(model, meta, path, batch_size, need_label):
    """``path`` read with the model's CSV schema, in file order: (dataset, has_label)."""
    from .. import data
    check_input_file(path, "CSV file")
    schema = _csv_schema(model)
    if not schema:
        raise CliError("the model was not trained on a CSV file (it keeps no CSV schema): use "
                       "--images, or a model from forgeflow fit --csv")
    ds = data.csv_dataset(path, batch_size=batch_size, shuffle=False, schema=schema)
    first = next(iter(ds.take(1).as_numpy_iterator()), None)
    if first is None:
        raise CliError(f"CSV file {path!r} has no data rows")
    has_label = isinstance(first, tuple)
    if need_label and not has_label:
        label = schema.get("label")
        raise CliError(f"CSV file {path!r} has no label column {label!r}: evaluate compares the "
                       "model's predictions with it (forgeflow predict needs no label)")
    return ds, has_label


def images_for_model(meta, folder, batch_size, labelled):
    """Images of ``folder`` resized as at training time, in file order: labelled (class
    sub-folders named as the training classes) or not (every image below ``folder``)."""
    from ..utils import image_dataset_from_directory
    check_image_folder(folder)
    if meta.get("data") != "images":
        raise CliError("the model was not trained on images (forgeflow fit --images): use --csv")
    common = dict(color_mode=meta["color_mode"], image_size=tuple(meta["image_size"]),
                  interpolation=meta.get("interpolation", "bilinear"), batch_size=batch_size,
                  shuffle=False, verbose=False)
    if not labelled:
        return image_dataset_from_directory(folder, labels=None, label_mode=None, **common)
    # Labels from the class sub-folders, numbered as at training time (a folder may hold only
    # some of the classes): list the files, then pass one label per file in that order.
    listing = image_dataset_from_directory(folder, labels=None, label_mode=None, **common)
    labels = _labels_of(folder, listing.file_paths, meta["class_names"])
    return image_dataset_from_directory(folder, labels=labels, label_mode="int", **common)


def _labels_of(folder, paths, class_names):
    index = {name: i for i, name in enumerate(class_names)}
    labels, unknown, loose = [], set(), []
    for p in paths:
        parts = os.path.relpath(p, folder).split(os.sep)
        if len(parts) < 2:
            loose.append(parts[0])
        elif parts[0] not in index:
            unknown.add(parts[0])
        else:
            labels.append(index[parts[0]])
    if loose:
        raise CliError(f"image folder {folder!r} holds images outside class sub-folders (e.g. "
                       f"{loose[0]!r}); evaluate takes each image's class from its sub-folder "
                       f"({', '.join(class_names)})")
    if unknown:
        raise CliError(f"image folder {folder!r} has sub-folders {sorted(unknown)} that are not "
                       f"classes of the model (its classes: {', '.join(class_names)})")
    return labels
