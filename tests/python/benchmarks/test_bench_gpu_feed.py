"""benchmarks/bench_gpu_feed.py without a GPU: --help, a bad --cases, and the CPU smoke mode
running the array and CSV cases end to end (rows, diagnosis and summary lines; no figure is
checked: it is not a measurement)."""
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
SCRIPT = ROOT / "benchmarks" / "bench_gpu_feed.py"


def _run(*args, timeout=300):
    # The forgeflow this test runs with (the installed one in CI, PYTHONPATH's in a checkout):
    # the source tree alone has no compiled extension.
    env = dict(os.environ)
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True,
                          timeout=timeout, env=env, cwd=str(ROOT / "benchmarks"))


def test_help_names_the_cases_and_the_smoke_mode():
    proc = _run("--help", timeout=60)
    assert proc.returncode == 0
    assert "--device {cuda,cpu}" in proc.stdout and "--cases" in proc.stdout


def test_bad_cases_are_refused():
    proc = _run("--device", "cpu", "--cases", "a,x", timeout=60)
    assert proc.returncode == 2
    assert "--cases takes a comma-separated subset of a,b,c; received 'a,x'" in proc.stderr


def test_the_cpu_smoke_run_goes_through_the_array_and_csv_cases():
    proc = _run("--device", "cpu", "--cases", "a,b", "--samples", "256", "--csv-rows", "256",
                "--batch", "64")
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = proc.stdout
    assert "smoke run on the CPU" in out
    for stage in ("fit: arrays streamed (pinned, 2 slots)", "make_csv_dataset alone",
                  "fit: make_csv_dataset"):
        assert stage in out
    assert "diagnosis: b:" in out
    assert out.strip().splitlines()[-1].startswith("summary: ")
