"""``forgeflow evaluate``: a trained model's loss and metrics on a labelled CSV file or a folder
of class sub-folders of images (named as the training classes; some may be absent).

    forgeflow evaluate model.ff --csv test.csv
    forgeflow evaluate model.ff --images test/ [--json]

Prints the progress bar, then one ``name: value`` line per value (loss first, then the
metrics compiled at fit time), or one JSON object with ``--json``.
"""
import json

from .common import (CliError, add_model_argument, cli_meta, csv_for_model, images_for_model,
                     load_model_file, run)

__all__ = ["add_evaluate_parser"]


def add_evaluate_parser(sub):
    p = sub.add_parser("evaluate", help="loss and metrics of a trained model on labelled data",
                       description="Evaluate a model written by forgeflow fit on labelled data.")
    add_model_argument(p)
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--csv", metavar="FILE", help="CSV file with the label column")
    src.add_argument("--images", metavar="FOLDER", help="folder with one sub-folder per class")
    p.add_argument("--batch-size", type=int, default=32, help="default 32")
    p.add_argument("--json", action="store_true", help="print the results as one JSON object "
                                                       "(no progress bar)")
    p.set_defaults(handler=lambda args: run(_evaluate, args))
    return p


def _evaluate(args):
    if args.batch_size < 1:
        raise CliError(f"--batch-size must be at least 1, received {args.batch_size}")
    model = load_model_file(args.model, compile=True)
    if not model.compiled:
        raise CliError(f"{args.model}: the model was saved without compile settings (no loss to "
                       "evaluate); save it after model.compile(...)")
    meta = cli_meta(model)
    if args.csv is not None:
        ds, _ = csv_for_model(model, meta, args.csv, args.batch_size, need_label=True)
    else:
        ds = images_for_model(meta, args.images, args.batch_size, labelled=True)
    results = model.evaluate(ds, verbose=0 if args.json else "auto", return_dict=True)
    results = {k: float(v) for k, v in results.items()}
    if args.json:
        print(json.dumps(results))
        return 0
    width = max(len(k) for k in results)
    for name, value in results.items():
        print(f"{name + ':':<{width + 1}} {value:.4f}" if abs(value) > 1e-3 or value == 0
              else f"{name + ':':<{width + 1}} {value:.4e}")
    return 0
