"""Runs every notebook under notebooks/ in a real Jupyter kernel (nbclient + ipykernel), as
"Run All" would, so a cell that raises (or writes a warning to stderr) fails the suite naming
the notebook and the cell. The kernel imports the forgeflow under test: the directory this test
imported forgeflow from is put first on the kernel's PYTHONPATH. Each notebook runs in a fresh
temporary working directory.

The quickstart's outputs are also checked the way Jupyter would show them: the progress bar of
the fit cell redraws in place ("\\r", no ANSI escapes, no backspaces) and, once the carriage
returns are applied, shows one "Epoch i/N" line and one finished bar per epoch; summary() prints
its table as text; the History returned by fit has a readable repr; plot_history's figure is shown
as an image. A slowed-down fit checks the intermediate redraws too."""
import os
import pathlib
import re

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

import forgeflow

NOTEBOOK_DIR = pathlib.Path(__file__).resolve().parents[2] / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
CELL_TIMEOUT_S = 600  # per cell; generous because the test machine may be busy


def _kernel_env():
    """The test process's environment with the imported forgeflow's parent directory first on
    PYTHONPATH, so the kernel imports the same package (and compiled core) as this test."""
    package_parent = str(pathlib.Path(forgeflow.__file__).resolve().parents[1])
    env = dict(os.environ)
    paths = [package_parent] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))
    env.pop("MPLBACKEND", None)  # the kernel's own inline backend, as in Jupyter
    return env


def run_notebook(path, workdir):
    """Executes every code cell of ``path`` in one kernel; returns the executed notebook. A
    failing cell raises AssertionError naming the notebook, the cell index and its first line."""
    nb = nbformat.read(str(path), as_version=4)
    client = NotebookClient(nb, timeout=CELL_TIMEOUT_S, kernel_name="python3",
                            resources={"metadata": {"path": str(workdir)}})
    with client.setup_kernel(env=_kernel_env(), cwd=str(workdir)):
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            try:
                client.execute_cell(cell, index)
            except CellExecutionError as e:
                first_line = cell.source.strip().splitlines()[0] if cell.source.strip() else ""
                traceback = re.sub(r"\x1b\[[0-9;]*m", "", e.traceback)  # IPython's colours
                raise AssertionError(
                    f"{path.name}: cell {index} ({first_line!r}) raised "
                    f"{e.ename}: {e.evalue}\n{traceback}") from None
    return nb


def stream_text(cell, name="stdout"):
    return "".join(o.get("text", "") for o in cell.get("outputs", [])
                   if o.get("output_type") == "stream" and o.get("name") == name)


# The one line a build with the CUDA backend prints at its first model where no GPU can be used
# (docs/guide-gpu.md): a fact of the machine, not a mistake of the tutorial.
PLACEMENT_NOTICE = "forgeflow: no GPU will be used, running on the CPU: "


def tutorial_stderr(cell):
    """What a cell wrote to stderr, less the placement notice."""
    return "".join(line for line in stream_text(cell, "stderr").splitlines(keepends=True)
                   if not line.startswith(PLACEMENT_NOTICE))


def rendered_lines(text):
    """What a notebook front end shows for a stream: each line keeps what follows its last \\r."""
    return [line.rsplit("\r", 1)[-1] for line in text.split("\n")]


def find_cell(nb, needle):
    cells = [c for c in nb.cells if c.cell_type == "code" and needle in c.source]
    assert cells, f"no code cell contains {needle!r}"
    return cells[0]


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    """name -> the executed notebook; each notebook runs once for all the tests that read it."""
    cache = {}

    def get(name):
        if name not in cache:
            cache[name] = run_notebook(NOTEBOOK_DIR / name, tmp_path_factory.mktemp(name[:-6]))
        return cache[name]
    return get


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs(path, executed):
    nb = executed(path.name)
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            errors = [o for o in cell.outputs if o.get("output_type") == "error"]
            assert not errors, f"{path.name}: cell {index} has an error output: {errors[0]}"
            # A tutorial runs clean: a warning there is a mistake in the tutorial or a false
            # alarm of forgeflow's checks (LikelyMistakeWarning), either way worth failing on.
            warned = tutorial_stderr(cell)
            assert not warned, f"{path.name}: cell {index} wrote to stderr: {warned}"


def test_there_are_the_five_tutorials():
    names = [p.name for p in NOTEBOOKS]
    assert len(names) == 5, names
    assert [n[:3] for n in names] == ["01_", "02_", "03_", "04_", "05_"], names


def test_failing_cell_is_named(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("x = 1"),
        nbformat.v4.new_markdown_cell("text"),
        nbformat.v4.new_code_cell("raise ValueError('broken on purpose')"),
    ])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = tmp_path / "broken.ipynb"
    nbformat.write(nb, str(path))
    with pytest.raises(AssertionError, match=r"broken\.ipynb: cell 2 .*ValueError: broken on purpose"):
        run_notebook(path, tmp_path)


def test_kernel_imports_the_forgeflow_under_test(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("import forgeflow, os\nprint(os.path.realpath(forgeflow.__file__))")])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = tmp_path / "which.ipynb"
    nbformat.write(nb, str(path))
    out = run_notebook(path, tmp_path)
    assert stream_text(out.cells[0]).strip() == os.path.realpath(forgeflow.__file__)


@pytest.fixture
def quickstart(executed):
    return executed("01_quickstart.ipynb")


def test_quickstart_progress_bar_updates_in_place(quickstart):
    cell = find_cell(quickstart, "model.fit(")
    epochs = int(re.search(r"epochs=(\d+)", cell.source).group(1))
    raw = stream_text(cell)
    assert "\r" in raw, "the bar did not redraw in place (no carriage return in a kernel)"
    assert "\x1b" not in raw and "\b" not in raw, f"escape codes or backspaces in {raw!r}"
    assert not tutorial_stderr(cell).strip()
    lines = rendered_lines(raw)
    assert lines[-1] == "", "the last bar line is not finished by a newline"
    lines = lines[:-1]
    assert len(lines) == 2 * epochs, lines
    bar = re.compile(r"^(\d+)/\1 \u2501{20} \d+s \d+(s|ms|us)/step - accuracy: \d\.\d{4} - "
                     r"loss: \d\.\d{4} - val_accuracy: \d\.\d{4} - val_loss: \d\.\d{4}$")
    for epoch in range(epochs):
        assert lines[2 * epoch] == f"Epoch {epoch + 1}/{epochs}"
        assert bar.match(lines[2 * epoch + 1]), lines[2 * epoch + 1]


def test_quickstart_summary_is_text(quickstart):
    cell = find_cell(quickstart, "model.summary()")
    text = stream_text(cell)
    assert "\x1b" not in text
    assert 'Model: "sequential' in text
    assert "Total params: 101,770" in text  # 784*128+128 + 128*10+10


def test_quickstart_history_repr(quickstart):
    cell = find_cell(quickstart, "model.fit(")
    results = [o for o in cell.outputs if o.get("output_type") == "execute_result"]
    assert results, "the fit cell displays nothing"
    shown = results[-1]["data"]["text/plain"]
    assert shown.startswith("<History"), shown
    assert "epochs=" in shown and "val_loss" in shown and "0x" not in shown, shown


def test_quickstart_plot_history_is_shown(quickstart):
    cell = find_cell(quickstart, "plot_history(")
    images = [o for o in cell.outputs if o.get("output_type") == "display_data"
              and "image/png" in o.get("data", {})]
    assert len(images) == 1, [o.get("output_type") for o in cell.outputs]


def test_progress_bar_intermediate_redraws_in_a_kernel(tmp_path):
    # 12 steps of >= 60 ms each (a batch callback sleeps) so the bar redraws mid-epoch (it redraws
    # at most every 50 ms); the front end must end up showing only the finished bar.
    source = """
import time
import numpy as np
import forgeflow as ff
x = np.random.default_rng(0).normal(size=(96, 3)).astype(np.float32)
y = (x[:, 0] > 0).astype(np.int64)
model = ff.Sequential([ff.layers.Dense(2, input_shape=(3,))])
model.compile("sgd", ff.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
slow = ff.callbacks.LambdaCallback(on_train_batch_end=lambda batch, logs: time.sleep(0.06))
model.fit(x, y, batch_size=8, epochs=1, callbacks=[slow])
"""
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = tmp_path / "slow.ipynb"
    nbformat.write(nb, str(path))
    raw = stream_text(run_notebook(path, tmp_path).cells[0])
    assert "\x1b" not in raw and "\b" not in raw, repr(raw)
    frames = raw.rstrip("\n").split("\r")
    assert frames[0] == "" and "\n" not in raw.rstrip("\n"), repr(raw)
    frames = frames[1:]
    assert len(frames) >= 3, f"expected redraws during the epoch, got {frames}"
    counters = [int(re.match(r"^\s*(\d+)/12 ", f).group(1)) for f in frames]
    assert counters == sorted(counters) and counters[-1] == 12 and counters[0] < 12, counters
    for frame in frames[:-1]:  # the unfinished bars
        assert re.match(r"^\s*\d+/12 [\u2501\u2500]{20} \d+s \d+(s|ms|us)/step - accuracy: ", frame), frame
    assert rendered_lines(raw)[:-1] == [frames[-1]]
    assert re.match(r"^12/12 \u2501{20} \d+s \d+(s|ms|us)/step - accuracy: \d\.\d{4} - loss: \d\.\d{4}$",
                    frames[-1]), frames[-1]
