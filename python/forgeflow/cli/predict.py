"""``forgeflow predict``: a trained model's predictions for a CSV file or a folder of images,
written as CSV (to ``--output`` or stdout).

    forgeflow predict model.ff --csv new.csv [--output preds.csv]
    forgeflow predict model.ff --images folder/ [--output preds.csv]

CSV input is read with the schema the model was trained with (the label column may be absent;
a missing or unknown feature column, or an unseen category, is an error). One output row per
input row, in file order: ``prediction`` for a regressor, ``class,probability`` for a
classifier (the class name stored at fit time and its softmax probability). Images: every image
file below the folder (sub-folders too, in alphanumeric order), one row each:
``file,class,probability`` with the file's path relative to the folder.

Text cells (class names, file paths) that a spreadsheet would read as a formula (starting with
``=``, ``+``, ``-``, ``@``, a tab or a carriage return, and not a number) are written with a
leading ``'``, as OWASP recommends against CSV injection: a class name comes from the model file.
"""
import csv
import os
import re
import sys

import numpy as np

from .common import (CliError, add_model_argument, cli_meta, csv_for_model, images_for_model,
                     load_model_file, run)

__all__ = ["add_predict_parser"]


def add_predict_parser(sub):
    p = sub.add_parser("predict", help="predictions of a trained model",
                       description="Predict with a model written by forgeflow fit; CSV rows out.")
    add_model_argument(p)
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--csv", metavar="FILE", help="CSV file with the training columns "
                                                   "(the label column may be absent)")
    src.add_argument("--images", metavar="FOLDER", help="folder of images (searched recursively)")
    p.add_argument("--output", metavar="FILE", help="write the predictions here (default stdout)")
    p.add_argument("--batch-size", type=int, default=32, help="default 32")
    p.set_defaults(handler=lambda args: run(_predict, args))
    return p


def _fmt(value):
    return format(float(value), ".7g")


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def _text(value):
    """A text cell, defused if a spreadsheet would run it as a formula (see the docstring)."""
    value = str(value)
    if value.startswith(_FORMULA_START) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def _rows(meta, outputs):
    outputs = np.asarray(outputs)
    if meta.get("task") == "classification":
        names = meta.get("class_names") or [str(i) for i in range(outputs.shape[-1])]
        if outputs.shape[-1] == 1 and len(names) == 2:  # one sigmoid unit: P(class 1)
            p = outputs[:, 0]
            return ["class", "probability"], [[_text(names[int(v >= 0.5)]),
                                                _fmt(max(v, 1 - v))] for v in p]
        if len(names) != outputs.shape[-1]:
            raise CliError(f"the model outputs {outputs.shape[-1]} values per row but stores "
                           f"{len(names)} class names")
        best = outputs.argmax(axis=-1)
        return ["class", "probability"], [[_text(names[k]), _fmt(outputs[i, k])]
                                           for i, k in enumerate(best)]
    flat = outputs.reshape(len(outputs), -1)
    if flat.shape[1] == 1:
        return ["prediction"], [[_fmt(v)] for v in flat[:, 0]]
    return ([f"prediction_{j}" for j in range(flat.shape[1])],
            [[_fmt(v) for v in row] for row in flat])


def _predict(args):
    if args.batch_size < 1:
        raise CliError(f"--batch-size must be at least 1, received {args.batch_size}")
    if args.output is not None:
        if os.path.isdir(args.output):
            raise CliError(f"--output {args.output!r} is a directory, expected a file name")
        folder = os.path.dirname(os.path.abspath(args.output))
        if not os.path.isdir(folder):
            raise CliError(f"--output {args.output!r}: the folder {folder!r} does not exist")
    model = load_model_file(args.model)  # compiled: the loss tells a classifier
    meta = cli_meta(model)
    verbose = "auto" if args.output else 0  # stdout carries the CSV: no progress bar there
    if args.csv is not None:
        ds, _ = csv_for_model(model, meta, args.csv, args.batch_size, need_label=False)
        header, rows = _rows(meta, model.predict(ds, verbose=verbose))
    else:
        ds = images_for_model(meta, args.images, args.batch_size, labelled=False)
        header, rows = _rows(meta, model.predict(ds, verbose=verbose))
        if len(rows) != len(ds.file_paths):
            raise CliError(f"{len(ds.file_paths)} images but {len(rows)} predictions")
        header = ["file"] + header
        rows = [[_text(os.path.relpath(path, args.images))] + row
                for path, row in zip(ds.file_paths, rows)]
    if args.output is None:
        _write(sys.stdout, header, rows)
        return 0
    tmp = f"{args.output}.tmp{os.getpid()}"
    try:
        with open(tmp, "w", newline="", encoding="utf-8") as f:
            _write(f, header, rows)
        os.replace(tmp, args.output)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    print(f"Wrote {len(rows)} predictions to {args.output}.")
    return 0


def _write(stream, header, rows):
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
