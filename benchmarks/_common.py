"""Shared by the forgeflow-side benchmark drivers: the machine line printed with every result,
and running a PyTorch peer script in a subprocess (Debian's python3-torch lives in the system
Python) to collect its one-line JSON results, best of several runs."""
import json
import os
import platform
import subprocess
import tempfile
import time

import numpy as np


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def machine_line():
    return (f"machine: {cpu_model()} ({platform.machine()}), {os.cpu_count()} cores, "
            f"{platform.platform()}; date {time.strftime('%Y-%m-%d')}")


def run_peer(torch_python, peer_script, args, repeats, best_of):
    """Runs `peer_script` (next to this file) `repeats` times; returns (merged result, None), or
    (None, the error's last line). `best_of` merges two results figure by figure."""
    peer = os.path.join(os.path.dirname(os.path.abspath(__file__)), peer_script)
    best = None
    for _ in range(repeats):
        proc = subprocess.run([torch_python, peer, *map(str, args)], capture_output=True, text=True)
        if proc.returncode != 0:
            return None, proc.stderr.strip().splitlines()[-1] if proc.stderr else "failed"
        result = json.loads(proc.stdout.strip().splitlines()[-1])
        best = result if best is None else best_of(best, result)
    return best, None


def peer_figures(torch_python, peer_script, x, y, thread_counts, epochs, repeats, best_of):
    """Runs the peer once per thread count on the same data (saved to a temporary .npz); returns
    [(threads, result)] for the runs that worked, printing why any other did not."""
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        data_path = os.path.join(tmp, "data.npz")
        np.savez(data_path, x=x, y=y)
        for threads in thread_counts:
            result, err = run_peer(torch_python, peer_script, (data_path, threads, epochs),
                                   repeats, best_of)
            if result is None:
                print(f"PyTorch ({threads or 'default'} threads) unavailable: {err}")
            else:
                results.append((threads, result))
    return results
