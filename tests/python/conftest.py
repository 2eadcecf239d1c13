"""Shared pytest fixtures for the Python tests, and the `gpu` marker's skip where no GPU is
visible.

Every test records its fits in a fresh temporary tracking database, never in
~/.forgeflow/runs.db: FORGEFLOW_TRACKING points into the test's tmp_path, and any
ff.tracking.set_database(...) override a test made is undone afterwards.
"""
import sys

import pytest


@pytest.fixture(autouse=True)
def _tracking_database(tmp_path, monkeypatch):
    path = tmp_path / "forgeflow-runs.db"
    monkeypatch.setenv("FORGEFLOW_TRACKING", str(path))
    yield path
    settings = sys.modules.get("forgeflow.tracking.settings")
    if settings is not None:
        settings.set_database("default")


@pytest.fixture(autouse=True)
def _float32_policy():
    """Every test starts and ends under the float32 dtype policy (ff.mixed_precision)."""
    yield
    policy = sys.modules.get("forgeflow.mixed_precision.policy")
    if policy is not None:
        policy.set_global_policy(None)


def _why_no_gpu():
    """Why the tests marked `gpu` cannot run here ("" when they can): no GPU is visible to
    forgeflow, or FORGEFLOW_DEVICE keeps new models on the CPU."""
    import os
    if os.environ.get("FORGEFLOW_DEVICE", "") == "cpu":
        return "FORGEFLOW_DEVICE=cpu keeps new models on the CPU"
    try:
        from forgeflow import _core
        from forgeflow.config import list_physical_devices
    except ImportError as e:  # the pure-Python tests run without the compiled extension
        return f"forgeflow's extension does not import ({e})"
    if list_physical_devices("GPU"):
        return ""
    return " ".join(_core.why_no_gpu().split()) or "no GPU is visible"


def pytest_collection_modifyitems(config, items):
    """Tests marked `gpu` (pyproject.toml registers the marker) skip themselves where no GPU is
    visible, saying why; `pytest -m gpu` on a GPU machine runs them (scripts/gpu-check.sh)."""
    gpu_items = [item for item in items if item.get_closest_marker("gpu")]
    if not gpu_items:
        return
    why = _why_no_gpu()
    if not why:
        return
    skip = pytest.mark.skip(reason=f"needs a GPU: {why}")
    for item in gpu_items:
        item.add_marker(skip)
