"""scripts/gpu-check.sh without a GPU: its syntax (bash -n), its argument handling (a missing or
doubled OUTDIR, unknown options, a bad budget, an OUTDIR that is a file: exit 2 with the usage),
and --dry-run, which runs nothing and prints every step's command and time limit, then the table
(last), the way the GPU machine will run it."""
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[3] / "scripts" / "gpu-check.sh"


def _run(*args):
    return subprocess.run(["bash", str(SCRIPT), *args], capture_output=True, text=True,
                          timeout=60)


def test_the_script_parses():
    assert subprocess.run(["bash", "-n", str(SCRIPT)]).returncode == 0


def test_dry_run_lists_every_step_and_prints_the_table_last(tmp_path):
    out = tmp_path / "logs"
    proc = _run(str(out), "--dry-run", "--build-dir", str(tmp_path / "b"), "--sanitize",
                "[cuda][gemm]")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    plan = {line.split()[0]: line for line in lines if "timeout" in line and ": " in line}
    # The required steps come first, the informational ones (benchmarks, the whole suite on the
    # GPU) after: they never starve a required step of its time.
    assert list(plan) == ["configure", "build", "cuda-tests", "pytest-gpu", "memcheck",
                          "cuda-nccl", "bench-mlp", "suite-on-gpu", "bench-cnn", "bench-resnet18",
                          "cuda-nvjpeg", "bench-gpu-feed"]
    assert "-DFORGEFLOW_CUDA=ON" in plan["configure"]
    assert "-DCMAKE_CUDA_ARCHITECTURES=90" in plan["configure"]
    assert f"-B {tmp_path / 'b'}" in plan["configure"]
    assert plan["cuda-tests"].endswith(f"{tmp_path / 'b'}/forgeflow_tests [cuda]~[nvjpeg]~[nccl]")
    # NCCL's one-worker test needs NCCL: apart, informational.
    assert plan["cuda-nccl"].endswith(f"{tmp_path / 'b'}/forgeflow_tests [nccl]")
    # nvJPEG's tests need the library the GPU machine may lack: apart, informational.
    assert plan["cuda-nvjpeg"].endswith(f"{tmp_path / 'b'}/forgeflow_tests [nvjpeg]")
    assert "bench_gpu_feed.py --device cuda" in plan["bench-gpu-feed"]
    assert "--peer-timeout 60" in plan["bench-gpu-feed"]
    assert "FORGEFLOW_DEVICE=cuda" in plan["suite-on-gpu"] and "~[cuda]" in plan["suite-on-gpu"]
    assert "-m gpu" in plan["pytest-gpu"] and "tests/python/config/test_gpu.py" in plan["pytest-gpu"]
    assert "bench_mlp.py --device cuda" in plan["bench-mlp"]
    assert "compute-sanitizer --tool memcheck" in plan["memcheck"]
    # Short runs within the budget: one repeat, ResNet-18 on short epochs, peers time-limited.
    assert "bench_cnn.py --device cuda --repeats 1" in plan["bench-cnn"]
    assert "bench_resnet18.py --device cuda --repeats 1 --samples 5120" in plan["bench-resnet18"]
    assert all("--peer-timeout 60" in plan[s] for s in ("bench-cnn", "bench-resnet18"))
    assert plan["memcheck"].endswith("[cuda][gemm]")
    # The table comes last: a header, one row per step, the closing line.
    table = lines[lines.index(next(l for l in lines if l.startswith("step "))):]
    assert [row.split()[0] for row in table[1:-1]] == list(plan)
    assert all(row.split()[1] == "dry-run" for row in table[1:-1])
    assert table[-1].startswith(f"logs: {out};") and "PASSED" in table[-1]
    assert (out / "summary.txt").read_text().strip().endswith(table[-1])


@pytest.mark.parametrize("args, message", [
    ([], "OUTDIR is missing"),
    (["a", "b"], "one OUTDIR only"),
    (["OUT", "--frobnicate"], "unknown option --frobnicate"),
    (["OUT", "--budget", "8m"], '--budget takes whole seconds; received "8m"'),
    (["OUT", "--budget", "30"], "--budget must be at least 60 seconds"),
    (["OUT", "--build-dir"], "--build-dir needs a value"),
])
def test_bad_arguments_exit_2_with_the_usage(tmp_path, args, message):
    args = [str(tmp_path / a) if a in ("OUT", "a", "b") else a for a in args]
    proc = _run(*args, "--dry-run")
    assert proc.returncode == 2
    assert message in proc.stderr
    assert "usage: scripts/gpu-check.sh OUTDIR" in proc.stderr


def test_an_outdir_that_is_a_file_is_refused(tmp_path):
    f = tmp_path / "file"
    f.write_text("x")
    proc = _run(str(f), "--dry-run")
    assert proc.returncode == 2 and "exists and is not a folder" in proc.stderr
