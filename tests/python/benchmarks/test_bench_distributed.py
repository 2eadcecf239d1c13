"""benchmarks/bench_distributed.py without a GPU: --help, a bad --processes, the CPU smoke run
with 1 and 2 workers end to end (its table; no figure is checked: it is not a measurement), and
the all-reduce estimate's arithmetic (2 (n - 1) / n of the buffer at the bus bandwidth, plus the
latency)."""
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
SCRIPT = ROOT / "benchmarks" / "bench_distributed.py"


def _run(*args, timeout=300):
    env = {k: v for k, v in os.environ.items() if k not in ("FORGEFLOW_RANK", "RANK", "WORLD_SIZE")}
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True,
                          timeout=timeout, env=env, cwd=str(ROOT / "benchmarks"))


def test_help_names_the_modes_and_assumptions():
    proc = _run("--help", timeout=60)
    assert proc.returncode == 0
    for option in ("--device {cpu,cuda}", "--processes", "--nvlink-busbw", "--ib-busbw",
                   "--smoke"):
        assert option in proc.stdout


def test_bad_processes_are_refused():
    proc = _run("--processes", "1,0", timeout=60)
    assert proc.returncode == 2
    assert "--processes takes worker counts like 1,2; received '1,0'" in proc.stderr


def test_the_cpu_smoke_run_trains_with_one_and_two_workers():
    proc = _run("--smoke", "--processes", "1,2")
    assert proc.returncode == 0, proc.stderr[-2000:]
    lines = proc.stdout.splitlines()
    assert "smoke run on the CPU" in proc.stdout
    header = next(i for i, l in enumerate(lines) if l.split()[:2] == ["workers", "threads"])
    rows = [l.split() for l in lines[header + 1:header + 3]]
    assert [r[0] for r in rows] == ["1", "2"]
    assert "(alone: none)" in lines[header + 1]


def test_the_allreduce_estimate():
    spec = importlib.util.spec_from_file_location("bench_distributed", SCRIPT)
    sys.path.insert(0, str(SCRIPT.parent))
    try:
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(SCRIPT.parent))
    # 8 GPUs move 2 * 7 / 8 of 100 MB at 100 GB/s: 1.75 ms, plus 10 us.
    assert module.allreduce_estimate(25_000_000, 8, 100.0, 10.0) == pytest.approx(1.76e-3)
    assert module.mlp_gradient_floats() == 669_706
