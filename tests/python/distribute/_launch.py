"""Starting the multi-process tests' workers (train_worker.py, or another script): through
``mpirun --oversubscribe`` (Open MPI refuses root without its two consent variables, set here),
through the FORGEFLOW_* variables of the launcher-free rendezvous, or alone. Every launch has a
timeout and runs in a session of its own, killed whole when it runs out, so a hang fails the
test instead of blocking the suite."""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

import forgeflow as ff

HERE = Path(__file__).resolve().parent
WORKER = HERE / "train_worker.py"
PYTHON_DIR = Path(ff.__file__).resolve().parents[1]
_LAUNCH_VARIABLES = ("FORGEFLOW_RANK", "FORGEFLOW_WORLD_SIZE", "FORGEFLOW_MASTER_ADDR",
                     "FORGEFLOW_MASTER_PORT", "FORGEFLOW_LOCAL_RANK", "RANK", "WORLD_SIZE",
                     "MASTER_ADDR", "MASTER_PORT", "LOCAL_RANK", "OMPI_COMM_WORLD_SIZE",
                     "PMI_SIZE", "PMIX_SIZE", "FORGEFLOW_DISTRIBUTE_TIMEOUT")


def base_env(extra=None):
    env = {k: v for k, v in os.environ.items() if k not in _LAUNCH_VARIABLES}
    env["PYTHONPATH"] = str(PYTHON_DIR) + os.pathsep + env.get("PYTHONPATH", "")
    env["OMP_NUM_THREADS"] = "1"        # several workers share the machine's cores
    env["FORGEFLOW_DEVICE"] = "cpu"     # these are the CPU tests
    env["OMPI_ALLOW_RUN_AS_ROOT"] = "1"
    env["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1"
    env.update(extra or {})
    return env


def require_mpi():
    """Skips where this build of forgeflow has no MPI transport or mpirun is missing (CI has
    both: scripts/setup.sh installs Open MPI)."""
    ok, why = ff._core.distribute.mpi_available()
    if not ok:
        pytest.skip(f"no MPI transport: {why}")
    if shutil.which("mpirun") is None:
        pytest.skip("mpirun is not installed")


class Result:
    def __init__(self, returncode, output):
        self.returncode, self.output = returncode, output

    def __repr__(self):
        return f"Result(returncode={self.returncode}, output=...{self.output[-3000:]})"


def _wait(procs, timeout):
    """Waits for every process; kills every session when the time runs out (a hang)."""
    outputs = []
    deadline = time.monotonic() + timeout
    try:
        for p in procs:
            out, _ = p.communicate(timeout=max(0.1, deadline - time.monotonic()))
            outputs.append(out)
    except subprocess.TimeoutExpired:
        for p in procs:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for p in procs:
            p.communicate()
        pytest.fail(f"the workers did not finish within {timeout} s (a hang)")
    return outputs


def _popen(cmd, env):
    return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, start_new_session=True)


def mpirun(n, config, script=WORKER, timeout=120, extra_env=None):
    """`mpirun -np n --oversubscribe python script json(config)`: one Result."""
    require_mpi()
    env = base_env(extra_env)
    cmd = ["mpirun", "-np", str(n), "--oversubscribe"]
    for name in ("PYTHONPATH", "OMP_NUM_THREADS", "FORGEFLOW_DEVICE", "FORGEFLOW_TRACKING"):
        if name in env:
            cmd += ["-x", name]
    cmd += [sys.executable, str(script), json.dumps(config)]
    p = _popen(cmd, env)
    (out,) = _wait([p], timeout)
    return Result(p.returncode, out)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def env_launch(n, config, script=WORKER, timeout=120, extra_env=None):
    """n processes joined through the FORGEFLOW_* variables: a Result per worker."""
    port = free_port()
    procs = []
    for rank in range(n):
        env = base_env(extra_env)
        env.update(FORGEFLOW_RANK=str(rank), FORGEFLOW_WORLD_SIZE=str(n),
                   FORGEFLOW_MASTER_ADDR="127.0.0.1", FORGEFLOW_MASTER_PORT=str(port))
        procs.append(_popen([sys.executable, str(script), json.dumps(config)], env))
    outputs = _wait(procs, timeout)
    return [Result(p.returncode, out) for p, out in zip(procs, outputs)]


def alone(config, script=WORKER, timeout=120, extra_env=None):
    """One process, no launcher: the reference."""
    p = _popen([sys.executable, str(script), json.dumps(config)], base_env(extra_env))
    (out,) = _wait([p], timeout)
    return Result(p.returncode, out)
