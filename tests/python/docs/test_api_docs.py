"""The API reference in docs/api/ is generated from the docstrings (scripts/gen_api_docs.py):
these tests fail when the committed pages are out of date, when a public name has no docstring,
and when the generator stops documenting what it must (signatures, sections, links)."""
import importlib.util
import os

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
REGENERATE = "python3 scripts/gen_api_docs.py"


def _load_generator():
    spec = importlib.util.spec_from_file_location(
        "gen_api_docs", os.path.join(ROOT, "scripts", "gen_api_docs.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


gen = _load_generator()


@pytest.fixture(scope="module")
def generated():
    return gen.generate()


def test_committed_api_reference_is_up_to_date(generated):
    pages, _ = generated
    stale = gen.stale_files(pages, os.path.join(ROOT, "docs", "api"))
    assert not stale, (f"docs/api is out of date ({', '.join(stale)}); regenerate it with "
                       f"`{REGENERATE}` (from the repository root) and commit the result")


def test_every_public_name_has_a_docstring(generated):
    _, missing = generated
    assert not missing, ("public names without a docstring (add one in python/forgeflow, then run "
                         f"`{REGENERATE}`): " + ", ".join(missing))


def test_every_public_module_has_a_page(generated):
    pages, _ = generated
    import forgeflow as ff
    for name in ("layers", "losses", "optimizers", "metrics", "callbacks", "data", "utils",
                 "saving", "tracking", "train", "debugging", "models", "datasets", "activations"):
        assert f"{name}.md" in pages, name
    assert "optimizers.schedules.md" in pages
    assert "forgeflow.md" in pages
    # every name in a module's __all__ has a heading on its page
    for public in ff.layers.__all__:
        assert f"\n## ff.layers.{public}\n" in pages["layers.md"], public
    for public in ff.callbacks.__all__:
        assert f"\n## ff.callbacks.{public}\n" in pages["callbacks.md"], public
    # mixed precision is documented once it exists, and its absence is not an error
    has_mp = importlib.util.find_spec("forgeflow.mixed_precision") is not None
    assert ("mixed_precision.md" in pages) == has_mp


def test_pages_carry_signatures_docstrings_and_links(generated):
    pages, _ = generated
    import forgeflow as ff
    import inspect
    dense = pages["layers.md"]
    # the real signature, read from the class, not a copy
    for name in inspect.signature(ff.layers.Dense).parameters:
        assert name in dense.split("## ff.layers.Dense\n")[1].split("\n## ")[0], name
    assert inspect.getdoc(ff.layers.Dense).splitlines()[0] in dense
    # a re-exported object links to the page that documents it instead of a second copy
    assert "Same object as [ff.Model](forgeflow.md#ffmodel)" in pages["models.md"]
    assert pages["layers.md"].count("\n## ff.layers.InputLayer\n") == 1
    assert "class ff.InputLayer" in pages["forgeflow.md"]
    # method signatures drop self
    assert "ff.Model.summary(line_length=None" in pages["forgeflow.md"]
    # the index links every page
    for fname in pages:
        if fname != "README.md":
            assert f"]({fname})" in pages["README.md"], fname


def test_docstring_sections_become_lists():
    doc = '''Does a thing.

    Args:
        alpha: the first argument, explained
            over two lines.
        beta (int): the second.

    Returns:
        A value that is described
        in one paragraph.

    Example:

        model.fit(x, y)
    '''
    md = gen.docstring_md(doc)
    assert "- alpha: the first argument, explained over two lines." in md
    assert "- beta (int): the second." in md
    assert "A value that is described in one paragraph." in md
    assert "```text\nmodel.fit(x, y)\n```" in md


def test_check_mode_reports_a_stale_page(tmp_path, generated, capsys):
    pages, _ = generated
    gen.write(pages, str(tmp_path))
    assert gen.main(["--check", "--out", str(tmp_path)]) == 0
    with open(tmp_path / "layers.md", "a", encoding="utf-8") as f:
        f.write("edited by hand\n")
    (tmp_path / "old_module.md").write_text("# gone\n")
    assert gen.main(["--check", "--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "layers.md (differs)" in err and "old_module.md (no longer generated)" in err
    assert REGENERATE in err
