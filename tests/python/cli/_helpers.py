"""Helpers of the command-line tests: run ``forgeflow`` as a subprocess or in-process, read CSV."""
import csv
import os
import subprocess
import sys

from forgeflow.cli import main


def cli(*args, env_db=None, timeout=120):
    """``python -m forgeflow ARGS`` in a subprocess (the real entry point)."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    if env_db is not None:
        env["FORGEFLOW_TRACKING"] = str(env_db)
    return subprocess.run([sys.executable, "-m", "forgeflow", *map(str, args)],
                          capture_output=True, text=True, env=env, timeout=timeout)


def run_main(capsys, *args):
    """``main([...])`` in-process: (exit code, stdout, stderr)."""
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.reader(f))
