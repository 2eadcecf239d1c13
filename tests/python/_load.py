"""Test helper: load a pure-Python forgeflow module by file path, without
importing the forgeflow package (whose __init__ needs the compiled extension).

    progbar = load_module("utils/progbar.py")      # -> forgeflow.utils.progbar
    datasets = load_module("datasets/__init__.py")  # -> forgeflow.datasets (package)

The module is registered in sys.modules under its dotted name so that relative
imports between already-loaded modules resolve. If that name is already
imported (e.g. the real package was imported first), that module is returned.
"""

import importlib.util
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
PKG_ROOT = REPO_ROOT / "python" / "forgeflow"

# Modules whose relative imports need these loaded first.
_DEPENDENCIES = {
    "callbacks/__init__.py": ["utils/progbar.py"],
}


def dotted_name(relpath):
    parts = list(Path(relpath).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(["forgeflow"] + parts)


def load_module(relpath):
    """Load ``python/forgeflow/<relpath>`` and return the module."""
    relpath = str(relpath)
    for dep in _DEPENDENCIES.get(relpath, []):
        load_module(dep)
    name = dotted_name(relpath)
    if name in sys.modules:
        return sys.modules[name]
    path = PKG_ROOT / relpath
    if not path.is_file():
        raise FileNotFoundError(path)
    if path.name == "__init__.py":
        spec = importlib.util.spec_from_file_location(
            name, path, submodule_search_locations=[str(path.parent)]
        )
    else:
        spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    parent_name, _, child = name.rpartition(".")
    parent = sys.modules.get(parent_name)
    if parent is not None and not hasattr(parent, child):
        setattr(parent, child, module)
    return module
