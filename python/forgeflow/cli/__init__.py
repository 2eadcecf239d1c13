"""The ``forgeflow`` command line (also ``python -m forgeflow``).

    forgeflow runs list [--limit N] [--status S]     recorded fits, newest first
    forgeflow runs show ID [--json]                  one run: settings, per-epoch metrics, files
    forgeflow runs compare ID ID                     two runs side by side

``--database PATH`` (before or after ``runs``) reads another tracking database than the one
``ff.tracking`` uses (FORGEFLOW_TRACKING or ~/.forgeflow/runs.db). IDs may be abbreviated to
any unique prefix. Errors are one line on stderr and exit code 1.
"""
import argparse
import sys

from .runs import add_runs_parser

__all__ = ["main"]


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser():
    parser = _Parser(prog="forgeflow", description="forgeflow command line tools.")
    parser.add_argument("--database", metavar="PATH",
                        help="tracking database to read (default: FORGEFLOW_TRACKING or "
                             "~/.forgeflow/runs.db)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    add_runs_parser(sub)
    return parser


def main(argv=None):
    """Entry point of the ``forgeflow`` script; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        return args.handler(args)
    except BrokenPipeError:  # e.g. `forgeflow runs list | head`
        return 0
