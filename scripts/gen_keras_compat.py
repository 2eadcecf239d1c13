#!/usr/bin/env python3
"""Generates docs/keras-compatibility.md: every public Keras 3 name of the common namespaces
(scripts/keras_api_names.json, extracted from Keras by scripts/extract_keras_api.py) with its
status in forgeflow, found by introspecting the package now, so the page cannot go stale:

    python3 scripts/gen_keras_compat.py           # rewrite docs/keras-compatibility.md
    python3 scripts/gen_keras_compat.py --check   # exit 1 if the page is out of date

Statuses: **missing** (no such name in forgeflow), **partial** (the name exists but does not
accept some of Keras's explicit arguments, listed), **stricter** (the forgeflow object carries a
``_keras_stricter`` attribute: the one-line reason it raises where Keras is lax), **same**
(present, Keras's explicit arguments accepted, no marker). A name is looked up as
``keras.X.Y`` -> ``ff.X.Y``; the members of keras.Model, keras.Sequential and keras.layers.Layer
on forgeflow's classes and on a small built instance. The output depends only on the data file
and the package (tests/python/docs/test_keras_compat.py regenerates it and compares).
"""
import argparse
import inspect
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, "scripts", "keras_api_names.json")
DEFAULT_OUT = os.path.join(ROOT, "docs", "keras-compatibility.md")
REGENERATE = "python3 scripts/gen_keras_compat.py"

STATUSES = ("same", "stricter", "partial", "missing")
_ABSENT = object()

# Namespaces whose entries are members of a class (looked up on the class and on an instance).
_MEMBER_NAMESPACES = ("keras.Model", "keras.Sequential", "keras.layers.Layer")


def _ff_path(keras_path):
    return "ff" + keras_path[len("keras"):]


def _lookup(obj, dotted):
    """getattr along a dotted path; _ABSENT when any step is missing or raises."""
    for part in dotted.split("."):
        try:
            obj = getattr(obj, part)
        except Exception:  # an absent module, a property that raises: not there
            return _ABSENT
    return obj


def _sample_instance(ff, keras_path):
    """A small built forgeflow instance for attributes set per instance; None if it fails.
    Everything is named, so the process's auto-numbered names (dense, dense_1...) stay as they
    were."""
    try:
        inputs = ff.Input(shape=(2,), name="keras_compat_input")
        dense = ff.layers.Dense(1, name="keras_compat_dense")
        if keras_path == "keras.layers.Layer":
            dense(inputs)
            return dense
        if keras_path == "keras.Sequential":
            return ff.Sequential([inputs, dense], name="keras_compat_sequential")
        return ff.Model(inputs, dense(inputs), name="keras_compat_model")
    except Exception:
        return None


def accepted_arguments(obj):
    """The argument names forgeflow's callable accepts: None when anything goes (or it cannot
    be inspected). A class's __init__ chain is followed through **kwargs to its bases."""
    if inspect.isclass(obj):
        names = set()
        for klass in obj.__mro__:
            init = klass.__dict__.get("__init__")
            if init is None or klass is object:
                continue
            try:
                params = inspect.signature(init).parameters.values()
            except (TypeError, ValueError):
                return None
            names.update(p.name for p in params
                         if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD))
            if not any(p.kind == p.VAR_KEYWORD for p in params):
                break
        return names
    try:
        params = inspect.signature(obj).parameters.values()
    except (TypeError, ValueError):
        return None
    if any(p.kind == p.VAR_KEYWORD for p in params):
        return None
    return {p.name for p in params if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)}


def classify(entry, obj):
    """(status, note) of one Keras entry given forgeflow's object (_ABSENT when missing)."""
    if obj is _ABSENT:
        return "missing", ""
    notes = []
    reason = None
    if not isinstance(obj, property):
        reason = getattr(obj, "_keras_stricter", None)
    if reason:
        notes.append(f"stricter: {reason}")
    lacks = []
    if entry.get("args") and callable(obj):
        accepted = accepted_arguments(obj)
        if accepted is not None:
            lacks = [a for a in entry["args"] if a not in accepted]
    if lacks:
        notes.append("lacks " + ", ".join(f"`{a}`" for a in lacks))
        return "partial", "; ".join(notes)
    return ("stricter" if reason else "same"), "; ".join(notes)


def collect(data, ff):
    """{keras namespace: [(keras name, ff name, status, note)]}."""
    table = {}
    for space, entries in data["namespaces"].items():
        target = ff if space == "keras" else _lookup(ff, space[len("keras."):])
        sample = (_sample_instance(ff, space)
                  if space in _MEMBER_NAMESPACES and target is not _ABSENT else None)
        rows = []
        for name, entry in entries.items():
            if target is _ABSENT:
                obj = _ABSENT
            elif space in _MEMBER_NAMESPACES:
                obj = inspect.getattr_static(target, name, _ABSENT)
                if isinstance(obj, (classmethod, staticmethod)):
                    obj = getattr(target, name)
                if obj is _ABSENT and sample is not None:
                    obj = _ABSENT if _lookup(sample, name) is _ABSENT else property()
            else:
                obj = _lookup(target, name)
                if inspect.ismodule(obj):
                    obj = _ABSENT  # a forgeflow sub-module of the same name is not the object
            status, note = classify(entry, obj)
            rows.append((f"{space}.{name}", f"{_ff_path(space)}.{name}", status, note))
        table[space] = rows
    return table


def render(data, table):
    version = data["keras_version"]
    counts = {space: {s: sum(1 for r in rows if r[2] == s) for s in STATUSES}
              for space, rows in table.items()}
    total = {s: sum(c[s] for c in counts.values()) for s in STATUSES}
    names = sum(total.values())
    out = [
        "# Keras compatibility",
        "",
        f"<!-- Generated by scripts/gen_keras_compat.py from scripts/keras_api_names.json "
        f"(Keras {version}) and the forgeflow package. Do not edit: run `{REGENERATE}`. -->",
        "",
        f"Every public name of Keras {version}'s common namespaces, and what `import forgeflow "
        "as ff` offers for it. The page is generated from the package (a test fails when it is "
        "stale), so it says what is there now:",
        "",
        "- **same**: `ff.X.Y` exists and accepts Keras's explicit arguments. (Same name and "
        "arguments; defaults and behaviour are Keras's by design, but this page does not "
        "check them.)",
        "- **stricter**: the same, but forgeflow raises where Keras is lax; the reason is given. "
        "Beyond the names marked, every layer checks its input shape when it is called and "
        "nothing is broadcast, reshaped or cast silently ([forgeflow for Keras users]"
        "(keras-users.md)).",
        "- **partial**: the name exists but does not take some of Keras's arguments (listed).",
        "- **missing**: not in forgeflow (yet).",
        "",
        "Members of `keras.Model`, `keras.Sequential` and `keras.layers.Layer` are listed with "
        "the class (`keras.Model.fit`).",
        "",
        "| namespace | Keras names | same | stricter | partial | missing |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for space, c in counts.items():
        out.append(f"| [`{space}`](#{_anchor(space)}) | {sum(c.values())} | {c['same']} | "
                   f"{c['stricter']} | {c['partial']} | {c['missing']} |")
    out.append(f"| **all** | {names} | {total['same']} | {total['stricter']} | "
               f"{total['partial']} | {total['missing']} |")
    for space, rows in table.items():
        out += ["", f"## {space}", "", "| Keras | forgeflow | status | notes |", "|---|---|---|---|"]
        for keras_name, ff_name, status, note in rows:
            shown = "—" if status == "missing" else f"`{ff_name}`"
            out.append(f"| `{keras_name}` | {shown} | {status} | {_cell(note)} |")
    return "\n".join(out) + "\n"


def _anchor(title):
    return "".join(ch for ch in title.lower() if ch.isalnum() or ch in "-_ ").replace(" ", "-")


def _cell(text):
    return text.replace("|", "\\|").replace("\n", " ")


def load_data(path=DATA):
    with open(path) as f:
        data = json.load(f)
    if "keras_version" not in data or "namespaces" not in data:
        raise ValueError(f"{path}: expected keys 'keras_version' and 'namespaces'")
    return data


def generate(data_path=DATA):
    """The page's text, from the data file and the forgeflow importable now."""
    import forgeflow as ff
    data = load_data(data_path)
    return render(data, collect(data, ff))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="exit 1 if the page differs from what would be generated")
    parser.add_argument("--out", default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    text = generate()
    if args.check:
        try:
            with open(args.out, encoding="utf-8") as f:
                current = f.read()
        except FileNotFoundError:
            current = None
        if current != text:
            print(f"{os.path.relpath(args.out, ROOT)} is out of date: run `{REGENERATE}`",
                  file=sys.stderr)
            return 1
        print(f"{os.path.relpath(args.out, ROOT)} is up to date")
        return 0
    tmp = args.out + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, args.out)
    print(f"wrote {os.path.relpath(args.out, ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
