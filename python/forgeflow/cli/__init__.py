"""The ``forgeflow`` command line (also ``python -m forgeflow``).

    forgeflow fit --csv train.csv --label COL [--model SPEC] --out model.ff   train and save
    forgeflow fit --images photos/ [--image-size H W] [--model small-cnn] --out model.ff
    forgeflow predict model.ff --csv new.csv | --images folder/ [--output preds.csv]
    forgeflow evaluate model.ff --csv test.csv | --images folder/ [--json]
    forgeflow summary model.ff                       the model's summary() table
    forgeflow runs list [--limit N] [--status S]     recorded fits, newest first
    forgeflow runs show ID [--json]                  one run: settings, per-epoch metrics, files
    forgeflow runs compare ID ID                     two runs side by side

fit.py describes the default models and the CSV task rule, model_spec.py the ``--model``
mini-language; predict/evaluate read new data as the model's training data was read, from what
fit stored in the model file (common.py). ``--database PATH`` (before or after ``runs``) reads
another tracking database than the one ``ff.tracking`` uses (FORGEFLOW_TRACKING or
~/.forgeflow/runs.db). IDs may be abbreviated to any unique prefix. Errors (a missing file, a
label column that is not there, a file that is not a model, a bad --model spec, ...) are one
line on stderr and exit code 1; FORGEFLOW_CLI_TRACEBACK=1 shows the traceback instead.
"""
import argparse
import sys

from .evaluate import add_evaluate_parser
from .fit import add_fit_parser
from .predict import add_predict_parser
from .runs import add_runs_parser
from .summary import add_summary_parser

__all__ = ["main"]


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser():
    parser = _Parser(prog="forgeflow", description="forgeflow command line tools.")
    parser.add_argument("--database", metavar="PATH",
                        help="tracking database that runs read and fit records in "
                             "(default: FORGEFLOW_TRACKING or ~/.forgeflow/runs.db)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    add_fit_parser(sub)
    add_predict_parser(sub)
    add_evaluate_parser(sub)
    add_summary_parser(sub)
    add_runs_parser(sub)
    return parser


def main(argv=None):
    """Entry point of the ``forgeflow`` script; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    args.argv = list(sys.argv[1:] if argv is None else argv)  # recorded by fit in the model
    try:
        return args.handler(args)
    except BrokenPipeError:  # e.g. `forgeflow runs list | head`
        return 0
