#!/usr/bin/env python3
"""Extracts Keras 3's public names (and their arguments) into scripts/keras_api_names.json, the
data scripts/gen_keras_compat.py compares forgeflow with. Run once per Keras version, by hand,
with a Python that has Keras (any backend) installed, e.g. in a throwaway virtual environment:

    python3 -m venv /tmp/kenv && /tmp/kenv/bin/pip install keras jax
    KERAS_BACKEND=jax /tmp/kenv/bin/python scripts/extract_keras_api.py

Nothing in forgeflow imports Keras: the JSON file is checked in, with the Keras version it came
from. For each namespace: every public name of keras.<namespace> that is not a sub-module, its
kind (class, function, constant) and its explicit arguments (inspect.signature, without
*args/**kwargs); for keras.Model, keras.Sequential and keras.layers.Layer their main methods and
properties; for keras.datasets the load_data functions of its modules.
"""
import argparse
import inspect
import json
import os

import keras

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_OUT = os.path.join(ROOT, "scripts", "keras_api_names.json")

NAMESPACES = ["keras", "keras.layers", "keras.losses", "keras.metrics", "keras.optimizers",
              "keras.optimizers.schedules", "keras.callbacks", "keras.activations",
              "keras.initializers", "keras.regularizers", "keras.ops", "keras.utils",
              "keras.applications", "keras.datasets", "keras.models"]

# The methods and properties of the classes users call most (those Keras defines).
MEMBERS = {
    "keras.Model": ["compile", "fit", "evaluate", "predict", "train_on_batch", "test_on_batch",
                    "predict_on_batch", "summary", "save", "save_weights", "load_weights",
                    "get_weights", "set_weights", "get_layer", "get_config", "from_config",
                    "to_json", "count_params", "build", "call", "export", "layers", "inputs",
                    "outputs", "input_shape", "output_shape", "weights", "trainable_weights",
                    "non_trainable_weights", "trainable", "metrics", "metrics_names", "losses",
                    "compute_loss", "compute_output_shape"],
    "keras.Sequential": ["add", "pop"],
    "keras.layers.Layer": ["build", "call", "add_weight", "add_loss", "compute_output_shape",
                           "get_config", "from_config", "get_weights", "set_weights",
                           "count_params", "weights", "trainable_weights",
                           "non_trainable_weights", "trainable", "built", "input", "output",
                           "input_shape", "output_shape", "losses", "dtype", "compute_dtype",
                           "dtype_policy", "name"],
}


def arguments(obj):
    """The explicit parameter names of a callable (not self, *args or **kwargs), or None."""
    try:
        sig = inspect.signature(obj)
    except (TypeError, ValueError):
        return None
    return [p.name for p in sig.parameters.values()
            if p.name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]


def describe(obj):
    if inspect.isclass(obj):
        return {"kind": "class", "args": arguments(obj)}
    if callable(obj):
        return {"kind": "function", "args": arguments(obj)}
    return {"kind": "constant"}


def resolve(path):
    obj = keras
    for part in path.split(".")[1:]:
        obj = getattr(obj, part)
    return obj


def namespace_entries(path):
    module = resolve(path)
    entries = {}
    for name in sorted(dir(module)):
        if name.startswith("_") and name != "__version__":
            continue
        obj = getattr(module, name)
        if inspect.ismodule(obj):
            if path == "keras.datasets":
                for fn in ("load_data", "get_word_index", "get_label_names"):
                    if hasattr(obj, fn):
                        entries[f"{name}.{fn}"] = describe(getattr(obj, fn))
            continue
        entries[name] = describe(obj)
    return entries


def _sample_instance(path):
    """A small built instance of the class, for attributes Keras sets per instance (a functional
    model's inputs and outputs, a layer's name and built)."""
    inputs = keras.Input(shape=(2,))
    if path == "keras.layers.Layer":
        layer = keras.layers.Dense(1)
        layer(inputs)
        return layer
    if path == "keras.Sequential":
        return keras.Sequential([inputs, keras.layers.Dense(1)])
    return keras.Model(inputs, keras.layers.Dense(1)(inputs))


def member_entries(path, names):
    cls = resolve(path)
    sample = _sample_instance(path)
    entries = {}
    for name in names:
        attr = inspect.getattr_static(cls, name, None)
        if attr is None:
            try:
                getattr(sample, name)
            except AttributeError:
                continue  # not a member of this Keras version's class
            entries[name] = {"kind": "property"}  # an attribute of every instance
            continue
        if isinstance(attr, property):
            entries[name] = {"kind": "property"}
        elif isinstance(attr, (classmethod, staticmethod)):
            entries[name] = {"kind": "method", "args": arguments(getattr(cls, name))}
        else:
            entries[name] = {"kind": "method", "args": arguments(attr)}
    return entries


def to_json(data):
    """The data as JSON with one line per name (diffs stay readable)."""
    lines = ["{", f' "keras_version": {json.dumps(data["keras_version"])},',
             f' "extracted_with": {json.dumps(data["extracted_with"])},', ' "namespaces": {']
    spaces = list(data["namespaces"].items())
    for i, (path, entries) in enumerate(spaces):
        lines.append(f"  {json.dumps(path)}: {{")
        items = list(entries.items())
        for j, (name, entry) in enumerate(items):
            comma = "," if j < len(items) - 1 else ""
            lines.append(f"   {json.dumps(name)}: {json.dumps(entry)}{comma}")
        lines.append("  }" + ("," if i < len(spaces) - 1 else ""))
    lines += [" }", "}", ""]
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=DEFAULT_OUT)
    args = parser.parse_args()
    data = {"keras_version": keras.version(),
            "extracted_with": "scripts/extract_keras_api.py", "namespaces": {}}
    for path in NAMESPACES:
        data["namespaces"][path] = namespace_entries(path)
    for path, names in MEMBERS.items():
        data["namespaces"][path] = member_entries(path, names)
    with open(args.out, "w") as f:
        f.write(to_json(data))
    total = sum(len(v) for v in data["namespaces"].values())
    print(f"wrote {args.out}: {total} names of Keras {data['keras_version']}")


if __name__ == "__main__":
    main()
