"""Where runs are recorded: ``set_database(path | None)``, else the FORGEFLOW_TRACKING
environment variable (a path, or "off" / "0" / "false" / "no" / "none" to disable), else
``~/.forgeflow/runs.db``. Read at every fit, so changes apply to the next fit."""
import os

__all__ = ["set_database", "get_database", "DEFAULT_DATABASE"]

DEFAULT_DATABASE = os.path.join("~", ".forgeflow", "runs.db")
_OFF = {"off", "0", "false", "no", "none"}
_UNSET = object()
_override = _UNSET


def set_database(path):
    """Record runs in ``path`` (a file; created with its folder on first use), or turn
    tracking off with None. Takes precedence over FORGEFLOW_TRACKING. ``set_database("default")``
    goes back to the environment variable / default location."""
    global _override
    if path is None:
        _override = None
    elif isinstance(path, str) and path == "default":
        _override = _UNSET
    else:
        path = os.fspath(path)
        if not path:
            raise ValueError("set_database: the path is empty; pass None to turn tracking off")
        _override = os.path.abspath(os.path.expanduser(path))


def get_database():
    """The database path runs are recorded in now, or None when tracking is off."""
    if _override is not _UNSET:
        return _override
    env = os.environ.get("FORGEFLOW_TRACKING", "").strip()
    if env.lower() in _OFF:
        return None
    return os.path.abspath(os.path.expanduser(env or DEFAULT_DATABASE))
