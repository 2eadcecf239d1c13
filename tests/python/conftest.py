"""Shared pytest fixtures for the Python tests.

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
