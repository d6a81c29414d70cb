"""Every notebook mirrors its script cell by cell (jupytext) and carries the outputs of a real run:
every code cell run in order, no error, nothing on stderr, no path of a developer's machine, no
processor name, under 4 MB."""

from __future__ import annotations

import re

import jupytext
import nbformat
import pytest

from conftest import ROOT

PAIRS = sorted(
    path
    for path in ROOT.glob("*.py")
    if path.with_suffix(".ipynb").exists() and "formats: ipynb,py:percent" in path.read_text()
)


# What TensorFlow's CUDA-enabled wheel prints while it starts on a machine without a GPU, before
# its logging reads TF_CPP_MIN_LOG_LEVEL: the lesson says these lines are harmless.
TENSORFLOW_START_UP = re.compile(
    r"WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR$"
    r"|[IWE]\d{4} [\d:. ]+\d+ (cudart_stub|cuda_platform|cuda_executor|cuda_diagnostics)\.cc:\d+\] "
    r"|$"
)


def test_only_tensorflows_gpu_notes_pass_for_start_up_lines():
    assert TENSORFLOW_START_UP.match(
        "I0000 00:00:1796648168.362172   19639 cudart_stub.cc:31] Could not find cuda drivers"
    )
    assert not TENSORFLOW_START_UP.match("UserWarning: something the lesson should fix")
    assert not TENSORFLOW_START_UP.match(
        "I0000 00:00:1796648490.198490   26739 cpu_feature_guard.cc:227] This TensorFlow binary"
    )


def test_the_lesson_and_its_chapters_are_notebook_pairs():
    names = {path.stem for path in PAIRS}
    assert {"mnist_classification", "experiments", "your_handwriting", "exercises"} <= names


def sources(notebook):
    return [(cell.cell_type, cell.source.strip(), cell.metadata.get("tags", []))
            for cell in notebook.cells]  # fmt: skip


@pytest.mark.parametrize("script", PAIRS, ids=lambda path: path.stem)
def test_the_notebook_mirrors_its_script(script):
    assert sources(jupytext.read(script)) == sources(
        nbformat.read(script.with_suffix(".ipynb"), as_version=4)
    )


@pytest.mark.parametrize("script", PAIRS, ids=lambda path: path.stem)
def test_the_notebook_carries_a_clean_run(script):
    path = script.with_suffix(".ipynb")
    assert path.stat().st_size < 4_000_000
    notebook = nbformat.read(path, as_version=4)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    counts = [cell.execution_count for cell in code]
    assert all(counts) and counts == sorted(counts), "every code cell run, in order"
    outputs = [output for cell in code for output in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    stderr = [line for o in outputs if o.get("name") == "stderr" for line in o.text.splitlines()]
    assert not [line for line in stderr if not TENSORFLOW_START_UP.match(line)], stderr
    shown = "\n".join(  # what a reader sees as text (pictures' base64 aside)
        o.get("text", "")
        + o.get("data", {}).get("text/plain", "")
        + o.get("data", {}).get("text/html", "")
        for o in outputs
    )
    for private in ("/work/", "/root", "/home/", "/tmp/", "shared/data"):
        assert private not in shown, private
    printed = "\n".join(
        o.get("text", "") + o.get("data", {}).get("text/plain", "") for o in outputs
    )
    assert not re.search(r"avx|AMD EPYC|Intel\(R\)|Xeon", printed), "no processor details"
    for cell in notebook.cells:  # no timings recorded by the tool that ran it
        assert "papermill" not in cell.metadata and "execution" not in cell.metadata
