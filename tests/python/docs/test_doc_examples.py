"""Runs every ```python block of README.md and docs/*.md, so the documentation cannot rot.

The blocks of one file run in order in one namespace (a guide builds on its earlier blocks), in
a fresh temporary working directory, with a non-interactive matplotlib backend. A block preceded
by the line ``<!-- doc-test: skip (reason) -->`` is not run; the reason is required, and such
blocks are meant only for data that cannot exist offline.
"""
import glob
import os
import re
import warnings

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
_FENCE = re.compile(r"^```python[ \t]*\n(.*?)^```[ \t]*$", re.S | re.M)
_SKIP = re.compile(r"<!--\s*doc-test:\s*skip\s*\((?P<reason>[^)]+)\)\s*-->\s*$")


def doc_files():
    files = [os.path.join(ROOT, "README.md")] + sorted(glob.glob(os.path.join(ROOT, "docs", "*.md")))
    return [f for f in files if os.path.exists(f)]


def python_blocks(text):
    """[(line number, code, skip reason or None)] for each ```python block of a Markdown text."""
    blocks = []
    for m in _FENCE.finditer(text):
        line = text.count("\n", 0, m.start()) + 1
        before = text[:m.start()].rstrip("\n").rsplit("\n", 1)[-1]
        skip = _SKIP.search(before)
        blocks.append((line, m.group(1), skip.group("reason").strip() if skip else None))
    return blocks


def test_extractor_finds_blocks_and_skip_markers():
    text = ("intro\n```python\na = 1\n```\n\n```sh\nls\n```\n"
            "<!-- doc-test: skip (needs a GPU) -->\n```python\nb = 2\n```\n")
    blocks = python_blocks(text)
    assert [(line, code) for line, code, _ in blocks] == [(2, "a = 1\n"), (10, "b = 2\n")]
    assert [skip for _, _, skip in blocks] == [None, "needs a GPU"]


def test_the_guides_exist_and_have_examples():
    names = {os.path.basename(f) for f in doc_files()}
    for guide in ("guide-arrays.md", "guide-csv.md", "guide-images.md", "guide-debugging.md",
                  "guide-checkpoints.md", "guide-gpu.md", "keras-users.md"):
        assert guide in names, guide
    for f in doc_files():
        if os.path.basename(f) in ("guide-arrays.md", "guide-csv.md", "guide-images.md",
                                   "guide-debugging.md", "guide-checkpoints.md", "README.md"):
            with open(f, encoding="utf-8") as fh:
                assert python_blocks(fh.read()), f"{f} has no ```python example"


def files_with_examples():
    """The documents holding at least one runnable ```python block (the file format page has
    none, so it is not a test case at all rather than a skipped one)."""
    out = []
    for path in doc_files():
        with open(path, encoding="utf-8") as f:
            if any(skip is None for _, _, skip in python_blocks(f.read())):
                out.append(path)
    return out


@pytest.mark.parametrize("path", files_with_examples(), ids=lambda p: os.path.relpath(p, ROOT))
def test_doc_examples_run(path, tmp_path, monkeypatch):
    with open(path, encoding="utf-8") as f:
        blocks = python_blocks(f.read())
    runnable = [b for b in blocks if b[2] is None]
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    namespace = {"__name__": "__doc_example__"}
    rel = os.path.relpath(path, ROOT)
    with warnings.catch_warnings():
        warnings.simplefilter("default")          # examples that show a warning must not fail
        for line, code, _ in runnable:
            try:
                exec(compile(code, f"{rel}:{line}", "exec"), namespace)
            except Exception as e:
                raise AssertionError(f"the example at {rel}, line {line}, raised "
                                     f"{type(e).__name__}: {e}") from e


_LINK = re.compile(r"\]\(([^)\s]+)\)")


def test_relative_links_resolve():
    """Every relative link in README.md, docs/*.md and docs/api/*.md names a file that exists."""
    files = doc_files() + sorted(glob.glob(os.path.join(ROOT, "docs", "api", "*.md")))
    broken = []
    for path in files:
        with open(path, encoding="utf-8") as f:
            text = f.read()
        for target in _LINK.findall(text):
            if re.match(r"[a-z]+:", target) or target.startswith("#"):
                continue
            file_part = target.split("#", 1)[0]
            if not os.path.exists(os.path.join(os.path.dirname(path), file_part)):
                broken.append(f"{os.path.relpath(path, ROOT)} -> {target}")
    assert not broken, "broken links: " + ", ".join(broken)
