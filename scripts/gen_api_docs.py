#!/usr/bin/env python3
"""Generates the API reference (docs/api/*.md) from the docstrings of the public Python API.

    python3 scripts/gen_api_docs.py            # rewrite docs/api/
    python3 scripts/gen_api_docs.py --check    # exit 1 if docs/api/ is out of date
    python3 scripts/gen_api_docs.py --missing  # list public names without a docstring

Uses only ``inspect``: one page per public module (its ``__all__``), each class with its
signature, docstring and the public methods and properties it defines, each function with its
signature and docstring. The output depends only on the source (no addresses, no dates), so
tests/python/docs/test_api_docs.py can regenerate it and compare with the committed files.
"""
import argparse
import enum
import importlib
import inspect
import os
import re
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_OUT = os.path.join(ROOT, "docs", "api")

# (module, page title, optional): the public API, in the order of the index page. Optional modules
# (not written yet) are skipped when they cannot be imported.
MODULES = [
    ("forgeflow", "forgeflow (top level)", False),
    ("forgeflow.models", "ff.models", False),
    ("forgeflow.layers", "ff.layers", False),
    ("forgeflow.activations", "ff.activations", False),
    ("forgeflow.ops", "ff.ops", False),
    ("forgeflow.random", "ff.random", False),
    ("forgeflow.regularizers", "ff.regularizers", False),
    ("forgeflow.applications", "ff.applications", False),
    ("forgeflow.losses", "ff.losses", False),
    ("forgeflow.optimizers", "ff.optimizers", False),
    ("forgeflow.optimizers.schedules", "ff.optimizers.schedules", False),
    ("forgeflow.metrics", "ff.metrics", False),
    ("forgeflow.callbacks", "ff.callbacks", False),
    ("forgeflow.data", "ff.data", False),
    ("forgeflow.data.csv", "ff.data.csv", False),
    ("forgeflow.data.experimental", "ff.data.experimental", False),
    ("forgeflow.data.transforms", "ff.data.transforms", False),
    ("forgeflow.utils", "ff.utils", False),
    ("forgeflow.datasets", "ff.datasets", False),
    ("forgeflow.datasets.fashion_mnist", "ff.datasets.fashion_mnist", False),
    ("forgeflow.datasets.fashion_mnist_small", "ff.datasets.fashion_mnist_small", False),
    ("forgeflow.datasets.mnist", "ff.datasets.mnist", False),
    ("forgeflow.datasets.cifar10", "ff.datasets.cifar10", False),
    ("forgeflow.datasets.cifar100", "ff.datasets.cifar100", False),
    ("forgeflow.datasets.imdb", "ff.datasets.imdb", False),
    ("forgeflow.datasets.boston_housing", "ff.datasets.boston_housing", False),
    ("forgeflow.saving", "ff.saving", False),
    ("forgeflow.train", "ff.train", False),
    ("forgeflow.tracking", "ff.tracking", False),
    ("forgeflow.debugging", "ff.debugging", False),
    ("forgeflow.distribute", "ff.distribute", False),
    ("forgeflow.distribute.experimental", "ff.distribute.experimental", False),
    ("forgeflow.config", "ff.config", False),
    ("forgeflow.config.experimental", "ff.config.experimental", False),
    ("forgeflow.config.threading", "ff.config.threading", False),
    ("forgeflow.errors", "ff.errors", False),
    ("forgeflow.mixed_precision", "ff.mixed_precision", True),
]

_SECTION = re.compile(r"^(Args|Arguments|Returns|Yields|Raises|Example|Examples|Attributes|Note|"
                      r"Notes|Call arguments|Input shape|Output shape):\s*$")
_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")
# the start of an entry in an Args:/Raises:/Attributes: section: ``name:``, ``name (type):``
_ITEM = re.compile(r"^[`*]*[A-Za-z_][\w.`*]*(\s*\([^)]*\))?:(\s|$)")


def import_module(name, optional):
    """The module, or None for an optional module that does not exist yet."""
    # ff.optimizers.schedules is an attribute (the module forgeflow.schedules): walk attributes
    # first, then import.
    obj = importlib.import_module("forgeflow")
    for part in name.split(".")[1:]:
        obj = getattr(obj, part, None)
        if obj is None:
            break
    if inspect.ismodule(obj):
        return obj
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as e:
        if optional and e.name is not None and name.startswith(e.name):
            return None
        raise


def public_names(module):
    """The module's __all__, or its public attributes defined in the forgeflow package."""
    names = getattr(module, "__all__", None)
    if names is None:
        names = sorted(n for n, v in vars(module).items()
                       if not n.startswith("_") and not inspect.ismodule(v))
    return list(names)


_MODULE_PAGES = {}   # id(module) -> its page, filled by generate()


def page_name(modname):
    return "forgeflow" if modname == "forgeflow" else modname[len("forgeflow."):]


def signature(obj, method=False):
    """``(a, b=1)`` with object reprs stripped of memory addresses (and a method's self/cls
    dropped); ``(...)`` when not introspectable."""
    try:
        sig = inspect.signature(obj)
    except (TypeError, ValueError):
        return "(...)"
    params = list(sig.parameters.values())
    if method and params and params[0].name in ("self", "cls"):
        sig = sig.replace(parameters=params[1:])
    return _ADDRESS.sub("", str(sig))


def docstring_md(doc, level_indent=""):
    """A docstring as Markdown: paragraphs kept, Google-style sections (Args:, Returns: ...) as a
    bold heading plus a bullet list, indented example code as a fenced text block."""
    if not doc:
        return ""
    lines = inspect.cleandoc(doc).splitlines()
    out, i = [], 0
    while i < len(lines):
        line = lines[i]
        m = _SECTION.match(line)
        if m:
            out.append(f"**{m.group(1)}:**")
            out.append("")
            i += 1
            while i < len(lines) and not lines[i].strip():
                i += 1
            items = []
            while i < len(lines) and (lines[i].startswith(" ") or not lines[i].strip()):
                if not lines[i].strip():
                    # a blank line ends the section unless the next line is still indented
                    if i + 1 < len(lines) and lines[i + 1].startswith(" "):
                        i += 1
                        continue
                    break
                text = lines[i].strip()
                indent = len(lines[i]) - len(lines[i].lstrip())
                starts_item = (not items or indent < items[-1][0]
                               or (indent == items[-1][0] and _ITEM.match(text)))
                if starts_item:
                    items.append((indent, [text], lines[i]))
                else:
                    items[-1][1].append(text)
                    items[-1] = (items[-1][0], items[-1][1], items[-1][2] + "\n" + lines[i])
                i += 1
            if m.group(1).startswith("Example"):
                out.append("```text")
                out.extend(inspect.cleandoc("\n".join(raw for _, _, raw in items)).splitlines())
                out.append("```")
            elif len(items) == 1 and not _ITEM.match(items[0][1][0]):
                out.append(" ".join(items[0][1]))      # a one-paragraph Returns:/Note:
            else:
                for _, text, _ in items:
                    out.append("- " + " ".join(text))
            out.append("")
            continue
        if line.startswith("    ") and (not out or not out[-1] or out[-1].endswith("::")):
            block = []
            while i < len(lines) and (lines[i].startswith("    ") or not lines[i].strip()):
                block.append(lines[i][4:])
                i += 1
            while block and not block[-1].strip():
                block.pop()
            if out and out[-1].endswith("::"):
                out[-1] = out[-1][:-1]
            out.append("```text")
            out.extend(block)
            out.append("```")
            out.append("")
            continue
        out.append(line)
        i += 1
    while out and not out[-1].strip():
        out.pop()
    text = "\n".join(out)
    return re.sub(r"\n{3,}", "\n\n", text)


def _overrides(cls, name, value):
    """True when ``name`` overrides a base-class member and adds no docstring of its own: the
    base class's entry documents it (Keras's pages do the same for hooks and get_config)."""
    if isinstance(value, property):
        own = value.fget.__doc__ if value.fget else None
    else:
        own = getattr(value, "__doc__", None)
    return not own and any(name in vars(base) for base in cls.__mro__[1:] if base is not object)


def class_members(cls):
    """Public methods and properties defined by ``cls`` itself (not inherited, not undocumented
    overrides), in source order, with __init__ documented through the class signature."""
    members = []
    for name, value in vars(cls).items():
        if name.startswith("_"):
            continue
        raw = value.__func__ if isinstance(value, (staticmethod, classmethod)) else value
        if _overrides(cls, name, raw):
            continue
        if isinstance(value, (staticmethod, classmethod)):
            members.append((name, "method", value.__func__))
        elif isinstance(value, property):
            members.append((name, "property", value))
        elif inspect.isfunction(value):
            members.append((name, "method", value))
    return members


def member_doc(cls, name, value):
    """The member's docstring, or the one it overrides in a base class (as inspect.getdoc)."""
    doc = value.__doc__ if not isinstance(value, property) else value.fget.__doc__ if value.fget else None
    if doc:
        return doc
    for base in cls.__mro__[1:]:
        inherited = base.__dict__.get(name)
        if inherited is None:
            continue
        if isinstance(inherited, property):
            inherited = inherited.fget
        elif isinstance(inherited, (staticmethod, classmethod)):
            inherited = inherited.__func__
        if getattr(inherited, "__doc__", None):
            return inherited.__doc__
    return None


def _slug(heading):
    """GitHub's anchor for a Markdown heading: lower case, punctuation other than - and _ dropped."""
    return re.sub(r"[^a-z0-9_\- ]", "", heading.lower()).replace(" ", "-")


def render_module(modname, title, module, documented):
    """The Markdown page of one module, and the list of its public names lacking a docstring.
    ``documented`` maps id(object) -> (page, anchor) for objects an earlier page documented; a
    re-exported object gets a link to that page instead of a second copy."""
    missing = []
    out = [f"# {title}", ""]
    mdoc = docstring_md(module.__doc__)
    if mdoc:
        out += [mdoc, ""]
    else:
        missing.append(modname)
    prefix = "ff" + modname[len("forgeflow"):]
    for name in public_names(module):
        obj = getattr(module, name)
        qual = f"{prefix}.{name}"
        if inspect.ismodule(obj):
            page = _MODULE_PAGES.get(id(obj), page_name(obj.__name__) + ".md")
            out += [f"## {qual}", "", f"Submodule: see [{qual}]({page}).", ""]
            continue
        if (inspect.isclass(obj) or callable(obj)) and id(obj) in documented:
            page, anchor = documented[id(obj)]
            out += [f"## {qual}", "", f"Same object as [{anchor}]({page}#{_slug(anchor)}).", ""]
            continue
        if inspect.isclass(obj) or callable(obj):
            documented[id(obj)] = (page_name(modname) + ".md", qual)
        if inspect.isclass(obj):
            kind = "exception" if issubclass(obj, BaseException) else "class"
            if issubclass(obj, enum.Enum):
                kind = "enum"
            bases = [b.__name__ for b in obj.__bases__ if b is not object]
            out += [f"## {qual}", ""]
            out += ["```python", f"{kind} {qual}{signature(obj)}" if kind == "class"
                    else f"{kind} {qual}", "```", ""]
            if bases:
                out += ["Bases: " + ", ".join(f"`{b}`" for b in bases), ""]
            doc = obj.__dict__.get("__doc__")
            if doc:
                out += [docstring_md(doc), ""]
            else:
                missing.append(qual)
            for mname, mkind, value in class_members(obj):
                if issubclass(obj, BaseException):
                    break
                mdoc = member_doc(obj, mname, value)
                if mkind == "property":
                    out += [f"### {qual}.{mname}", "", "*property*", ""]
                else:
                    out += [f"### {qual}.{mname}", "", "```python",
                            f"{qual}.{mname}{signature(value, method=True)}", "```", ""]
                if mdoc:
                    out += [docstring_md(mdoc), ""]
                else:
                    missing.append(f"{qual}.{mname}")
            continue
        if callable(obj):
            out += [f"## {qual}", "", "```python", f"{qual}{signature(obj)}", "```", ""]
            if obj.__doc__:
                out += [docstring_md(obj.__doc__), ""]
            else:
                missing.append(qual)
            continue
        # a constant; a path inside the installed package is shown relative to it, so the page
        # does not depend on where forgeflow is installed
        value = _ADDRESS.sub("", repr(obj))
        if isinstance(obj, (str, os.PathLike)):
            package_dir = os.path.dirname(os.path.abspath(importlib.import_module("forgeflow").__file__))
            path = os.path.abspath(os.fspath(obj))
            if path == package_dir or path.startswith(package_dir + os.sep):
                value = "<forgeflow package>/" + os.path.relpath(path, package_dir)
        if len(value) > 80:
            value = value[:77] + "..."
        out += [f"## {qual}", "", f"Constant: `{qual} = {value}`", ""]
    while out and not out[-1]:
        out.pop()
    return "\n".join(out) + "\n", missing


def generate():
    """{file name: Markdown text} for docs/api/, and the public names without a docstring."""
    pages, missing, index, documented = {}, [], [], {}
    modules = [(modname, title, import_module(modname, optional))
               for modname, title, optional in MODULES]
    _MODULE_PAGES.clear()
    _MODULE_PAGES.update({id(m): page_name(n) + ".md" for n, _, m in modules if m is not None})
    for modname, title, module in modules:
        if module is None:
            continue
        text, miss = render_module(modname, title, module, documented)
        fname = page_name(modname) + ".md"
        pages[fname] = text
        missing += miss
        summary = (inspect.getdoc(module) or "").split("\n\n")[0].replace("\n", " ")
        index.append(f"- [{title}]({fname}): {summary}")
    pages["README.md"] = "\n".join([
        "# forgeflow API reference",
        "",
        "Generated from the docstrings by `python3 scripts/gen_api_docs.py`; do not edit by hand "
        "(tests/python/docs/test_api_docs.py fails when these pages are out of date).",
        "",
        *index,
        "",
    ])
    return pages, missing


def write(pages, out_dir):
    os.makedirs(out_dir, exist_ok=True)
    for fname in os.listdir(out_dir):
        if fname.endswith(".md") and fname not in pages:
            os.remove(os.path.join(out_dir, fname))
    for fname, text in pages.items():
        with open(os.path.join(out_dir, fname), "w", encoding="utf-8") as f:
            f.write(text)


def stale_files(pages, out_dir):
    """The files of out_dir that differ from, lack or are not in ``pages``."""
    stale = []
    present = set(f for f in os.listdir(out_dir) if f.endswith(".md")) if os.path.isdir(out_dir) else set()
    for fname, text in sorted(pages.items()):
        path = os.path.join(out_dir, fname)
        if fname not in present:
            stale.append(f"{fname} (missing)")
            continue
        with open(path, encoding="utf-8") as f:
            if f.read() != text:
                stale.append(f"{fname} (differs)")
    stale += [f"{f} (no longer generated)" for f in sorted(present - set(pages))]
    return stale


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=DEFAULT_OUT, help="output folder (default: docs/api)")
    parser.add_argument("--check", action="store_true", help="exit 1 if the folder is out of date")
    parser.add_argument("--missing", action="store_true", help="list names without a docstring")
    args = parser.parse_args(argv)
    pages, missing = generate()
    if args.missing:
        print("\n".join(missing))
        return 1 if missing else 0
    if args.check:
        stale = stale_files(pages, args.out)
        if stale:
            print("docs/api is out of date: " + ", ".join(stale) +
                  "\nrun: python3 scripts/gen_api_docs.py", file=sys.stderr)
            return 1
        return 0
    write(pages, args.out)
    print(f"wrote {len(pages)} pages to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
