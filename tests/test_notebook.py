"""The notebook mirrors the script cell by cell, executes in a real kernel, and ships outputs."""

from __future__ import annotations

import json
import re

import jupytext
import nbformat
import pytest

from conftest import LESSON, ROOT, load_metrics

NOTEBOOK = ROOT / "mnist_classification.ipynb"


def cells(notebook):
    return [
        (cell.cell_type, cell.source.strip(), cell.metadata.get("tags", []))
        for cell in notebook.cells
    ]


def test_notebook_mirrors_the_script():
    from_script = jupytext.read(LESSON)
    from_notebook = nbformat.read(NOTEBOOK, as_version=4)
    assert len(from_script.cells) == len(from_notebook.cells)
    for index, (script_cell, notebook_cell) in enumerate(
        zip(cells(from_script), cells(from_notebook))
    ):
        assert script_cell == notebook_cell, f"cell {index} differs"
    parameter_cells = [
        cell for cell in from_notebook.cells if "parameters" in cell.metadata.get("tags", [])
    ]
    assert len(parameter_cells) == 1


def test_committed_notebook_carries_outputs_of_a_full_run():
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    code_cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    outputs = [output for cell in code_cells for output in cell.outputs]
    assert not [output for output in outputs if output.output_type == "error"]
    images = [output for output in outputs if "image/png" in output.get("data", {})]
    assert len(images) >= 4, "figures should be shown inline"
    text = "".join(output.get("text", "") for output in outputs)
    # What a reader's own run shows: MNIST from Keras' folder, no path of a developer's machine.
    assert "source: ~/.keras/datasets/mnist.npz (standard MNIST)" in text
    assert "shared" not in text and "/root" not in text and "/home/" not in text
    assert "train on 55000, validate on 5000, test on 10000 digits" in text
    assert all(cell.execution_count for cell in code_cells), "every code cell was run, in order"
    counts = [cell.execution_count for cell in code_cells]
    assert counts == sorted(counts)


def notebook_text(notebook) -> str:
    """Everything the committed notebook shows as text: streams and plain-text displays."""
    texts = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            texts.append(output.get("text", ""))
            texts.append(output.get("data", {}).get("text/plain", ""))
            texts.append(output.get("data", {}).get("text/html", ""))
    return "\n".join(texts)


def test_the_committed_notebook_shows_what_the_lesson_promises():
    """The untrained checks, the unshifted rung beside the deep model under shifts, the
    calibration, and its accuracies inside the ranges the lesson and the README quote."""
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    text = notebook_text(notebook)
    streams = "".join(o.get("text", "") for c in notebook.cells for o in c.get("outputs", []))
    assert not re.search(r"\x1b\[", streams), "no terminal escape codes in printed text"
    assert streams.count("before training: validation loss") == 2  # both models, checked first
    assert re.search(r"^before training: validation loss 0\.[67]\d+$", streams, re.M)  # ln 2
    assert re.search(r"^before training: validation loss 2\.[23]\d+$", streams, re.M)  # ln 10
    assert "Test accuracy on moved digits" in text and "unshifted" in text
    assert "calibration error" in text and "moved by 3 pixels" in text
    seeds = json.loads((ROOT / "benchmarks" / "ladder_seeds.json").read_text())
    assert seeds["seeds"][0] == 42
    for name in ("simple", "deep"):
        (shown,) = re.findall(rf"^{name} model: test accuracy (\d+\.\d+)%", text, re.M)
        values = seeds["models"][name]["test_accuracy"]
        assert round(100 * min(values), 2) <= float(shown) <= round(100 * max(values), 2), name


def test_the_committed_notebook_ran_where_benchmarks_readme_says():
    """benchmarks/README.md: the notebook ran on a processor without AVX-512, unlike the seed
    files' (whose seed 42 it therefore does not repeat exactly), and its ladder line says so."""
    readme = " ".join((ROOT / "benchmarks" / "README.md").read_text().split())
    assert "The committed notebook ran on an AMD EPYC without AVX-512" in readme
    seeds = json.loads((ROOT / "benchmarks" / "ladder_seeds.json").read_text())
    assert "avx512f" in seeds["machine"]["cpu_features"]
    text = notebook_text(nbformat.read(NOTEBOOK, as_version=4))
    assert "than this one (avx, avx2, fma), and with other instructions the same seed" in text


def test_no_cell_of_the_committed_notebook_shows_a_stray_value():
    """A cell's last expression is shown under it: only the drawing pad is meant to be (a
    figure cell ending in a call that returns a path would show that path). No output is
    empty, no table wider than 8 columns, no memory address, no warning, no timing of the
    lesson's own."""
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    results = [(index, output) for index, cell in enumerate(notebook.cells)
               if cell.cell_type == "code" for output in cell.outputs
               if output.output_type == "execute_result"]  # fmt: skip
    assert len(results) == 1, [(index, output.data.get("text/plain")) for index, output in results]
    index, output = results[0]
    assert notebook.cells[index].source.endswith(
        "drawing_pad  # in a notebook, the pad itself is this cell's output"
    )
    assert "digit-pad" in output.data["text/html"]
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    for o in outputs:
        shown = o.get("text", "") + "".join(str(value) for value in o.get("data", {}).values())
        assert shown.strip(), "an empty output"
        assert " at 0x" not in shown, "a memory address"
        assert o.get("name") != "stderr", o.get("text")
    streams = "".join(o.get("text", "") for o in outputs)
    assert "PosixPath" not in streams and "warning" not in streams.lower()
    tables = [o.data["text/html"] for o in outputs
              if "<table" in o.get("data", {}).get("text/html", "") and "digit-pad" not in
              o.data["text/html"] and "<caption" in o.data["text/html"]]  # fmt: skip
    assert len(tables) >= 9
    for table in tables:
        header = re.search(r"<thead>.*?</tr>", table, re.S).group(0)
        assert header.count("<th") <= 9, "at most 8 columns beside the index"
    timed = [line for line in streams.splitlines() if re.search(r"\d+\.\d+ ?s\b", line)]
    assert not timed, timed


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["tensorflow", "jax"])
def test_notebook_executes_with_quick_parameters(backend, mnist_path, tmp_path, monkeypatch):
    """The notebook, cell by cell in a kernel started with KERAS_BACKEND set, to the end."""
    papermill = pytest.importorskip("papermill")
    pytest.importorskip(backend)
    monkeypatch.setenv("KERAS_BACKEND", backend)  # the kernel inherits it
    output_dir = tmp_path / "outputs"
    executed = tmp_path / "executed.ipynb"
    papermill.execute_notebook(
        str(NOTEBOOK),
        str(executed),
        parameters={"quick": True, "data": str(mnist_path), "output_dir": str(output_dir)},
        kernel_name="python3",
        cwd=str(ROOT),
        progress_bar=False,
    )
    notebook = nbformat.read(executed, as_version=4)
    outputs = [
        output for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs
    ]
    assert not [output for output in outputs if output.output_type == "error"]
    assert not [output for output in outputs if output.get("name") == "stderr"]
    assert any("image/png" in output.get("data", {}) for output in outputs)
    metrics = load_metrics(output_dir)
    assert metrics["environment"]["backend"] == backend
    assert metrics["quick"] is True and metrics["dataset"]["n_test"] == 1_000
    # quick means the same as --quick: fewer digits, the epochs as the parameter cell sets them
    assert json.loads((output_dir / "metrics.json").read_text())["models"]["deep"]["epochs"] == 5
    assert (output_dir / "models" / "deep.keras").stat().st_size > 0


@pytest.mark.slow
def test_papermill_parameters_reach_the_models(mnist_path, tmp_path):
    """-p deep_epochs 3 as the README shows it, on a small subset of MNIST."""
    import numpy as np

    from mnist_lesson.data import load_mnist

    papermill = pytest.importorskip("papermill")
    mnist = load_mnist(mnist_path)
    small = tmp_path / "small.npz"
    np.savez(small, x_train=mnist.x_train[:1200], y_train=mnist.y_train[:1200],
             x_test=mnist.x_test[:300], y_test=mnist.y_test[:300])  # fmt: skip
    output_dir = tmp_path / "outputs"
    papermill.execute_notebook(
        str(NOTEBOOK),
        str(tmp_path / "executed.ipynb"),
        parameters={
            "data": str(small),
            "output_dir": str(output_dir),
            "simple_epochs": 2,
            "deep_epochs": 3,
            "batch_size": 100,
            "seed": 5,
        },  # fmt: skip
        kernel_name="python3",
        cwd=str(ROOT),
        progress_bar=False,
    )
    metrics = load_metrics(output_dir)
    assert metrics["seed"] == 5 and metrics["dataset"]["n_test"] == 300
    assert [metrics["models"][name]["epochs"] for name in ("simple", "deep")] == [2, 3]
    assert len(metrics["models"]["deep"]["history"]["loss"]) == 3
    assert metrics["models"]["deep"]["batch_size"] == 100
