"""The notebook mirrors the script cell by cell, executes in a real kernel, and ships outputs."""

from __future__ import annotations

import json

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
    assert "standard MNIST" in text and "not the standard" not in text
    assert "fit on 55000, validate on 5000, test on 10000 digits" in text
    assert all(cell.execution_count for cell in code_cells), "every code cell was run, in order"
    counts = [cell.execution_count for cell in code_cells]
    assert counts == sorted(counts)


def test_notebook_executes_with_quick_parameters(mnist_path, tmp_path):
    papermill = pytest.importorskip("papermill")
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
    assert any("image/png" in output.get("data", {}) for output in outputs)
    metrics = load_metrics(output_dir)
    assert metrics["quick"] is True and metrics["dataset"]["n_test"] == 1_000
    assert json.loads((output_dir / "metrics.json").read_text())["models"]["deep"]["epochs"] == 1
