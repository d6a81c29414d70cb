"""The house rules a fork relies on: imports only downward, CI apart from the user's venv, a
README that starts with the lesson, a lesson that says what it needs when opened alone."""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys

import nbformat
import pytest

from conftest import LESSON, ROOT

PACKAGE = ROOT / "mnist_lesson"
README = ROOT / "README.md"


def project_imports(path) -> set[str]:
    """The mnist_lesson modules ``path`` imports, at the top or inside functions."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            base = node.module
            names = [base] + [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        for name in names:
            if name.startswith("mnist_lesson."):
                module = name.split(".")[1]
                if (PACKAGE / f"{module}.py").exists():
                    found.add(module)
    return found - {path.stem}


def test_the_helpers_import_only_downward():
    graph = {path.stem: project_imports(path) for path in PACKAGE.glob("*.py")}
    order, done = [], set()

    def visit(module, path=()):
        if module in path:
            pytest.fail("import circle: " + " -> ".join([*path, module]))
        if module not in done:
            for imported in sorted(graph[module]):
                visit(imported, (*path, module))
            done.add(module)
            order.append(module)

    for module in sorted(graph):
        visit(module)
    assert graph["errors"] == set(), "the errors module is the bottom: it imports no helper"
    assert "errors" in graph["data"] and "errors" in graph["output_folder"]


def test_ci_builds_its_own_environment_from_the_readme():
    ci = (ROOT / ".ci" / "run").read_text()
    readme = README.read_text()
    commands = [line for line in ci.splitlines() if not line.lstrip().startswith("#")]
    assert not [line for line in commands if ".venv" in line], "never the user's virtual env"
    assert re.search(r'venv="\$\(mktemp -d', ci)
    install = re.search(r"pip install (-r requirements-dev\.txt)", readme).group(1)
    test_command = re.search(r"\.venv/bin/(python -m pytest)\b", readme).group(1)
    assert f'"$venv/bin/pip" install --quiet {install}' in ci
    assert f'"$venv/bin/{test_command.split()[0]}" {" ".join(test_command.split()[1:])}' in ci


def test_the_readme_starts_with_the_lesson():
    lines = README.read_text().splitlines()
    assert len(lines) <= 200
    first_screen = "\n".join(lines[:45])
    assert "pip install -r requirements.txt" in first_screen
    assert "python mnist_classification.py" in first_screen
    assert "python -m pytest" in first_screen
    assert "benchmarks/README.md" in README.read_text()
    assert "tests/README.md" in README.read_text()


def test_the_lesson_alone_says_in_one_line_what_it_needs(tmp_path):
    """A script copied out of its folder: one line, exit status 1, before anything else."""
    shutil.copy(LESSON, tmp_path)
    result = subprocess.run(
        [sys.executable, tmp_path / LESSON.name, "--quick"], cwd=tmp_path,
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 1
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: this lesson needs the mnist_lesson")
    assert "clone" in lines[0] and "Colab" in lines[0]


@pytest.mark.slow
def test_the_notebook_alone_says_in_one_line_what_it_needs(tmp_path):
    """The notebook opened without its folder (Colab, Kaggle, a download): Run All stops at the
    first code cell, whose output is that one line, not a traceback."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    notebook = nbformat.read(ROOT / "mnist_classification.ipynb", as_version=4)
    notebook.cells = notebook.cells[:4]
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    client = NotebookClient(notebook, timeout=120, resources={"metadata": {"path": str(tmp_path)}})
    with pytest.raises(CellExecutionError):
        client.execute()
    errors = [output for cell in notebook.cells if cell.cell_type == "code"
              for output in cell.outputs if output.output_type == "error"]  # fmt: skip
    assert len(errors) == 1
    assert errors[0].traceback == [errors[0].traceback[0]]  # one line
    assert errors[0].traceback[0].startswith("error: this lesson needs the mnist_lesson folder")
    first_code = next(cell for cell in notebook.cells if cell.cell_type == "code")
    assert first_code.outputs == [errors[0]], "the very first code cell answers"


PROJECT_CODE = sorted(
    [ROOT / "mnist_classification.py", ROOT / "predict_digits.py", *PACKAGE.glob("*.py"),
     *(ROOT / "benchmarks").glob("*.py")]
)  # fmt: skip


# Documented Python functions whose names start with an underscore.
PUBLIC_DESPITE_THE_UNDERSCORE = {("os", "_exit")}


def private_uses(path) -> list[str]:
    """Imports of TensorFlow's or Keras' internals, and private attributes read or set on an
    object other than the code's own (``self``)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            modules = [node.module or ""]
        else:
            modules = []
        found += [f"import {m}" for m in modules
                  if m.startswith(("tensorflow.python", "keras.src", "keras._"))]  # fmt: skip
        owner = node.value.id if isinstance(node, ast.Attribute) and isinstance(
            node.value, ast.Name
        ) else None  # fmt: skip
        if (
            isinstance(node, ast.Attribute)
            and node.attr.startswith("_")
            and not node.attr.startswith("__")
            and owner not in ("self", "cls")
            and (owner, node.attr) not in PUBLIC_DESPITE_THE_UNDERSCORE
        ):
            found.append(f"line {node.lineno}: .{node.attr}")
    return found


@pytest.mark.parametrize("path", PROJECT_CODE, ids=lambda path: path.relative_to(ROOT).as_posix())
def test_only_public_apis(path):
    assert private_uses(path) == []


def test_the_private_api_check_finds_what_it_looks_for(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text(
        "from tensorflow.python.framework import config\nimport keras.src.trainers\n"
        "model._jit_compile = True\nprint(self._fine, error._render_traceback_)\n"
    )
    assert private_uses(sample) == [
        "import tensorflow.python.framework", "import keras.src.trainers", "line 3: ._jit_compile",
        "line 4: ._render_traceback_",
    ]  # fmt: skip


def lesson_markdown() -> str:
    import jupytext

    notebook = jupytext.read(LESSON)
    return "\n\n".join(cell.source for cell in notebook.cells if cell.cell_type == "markdown")


def test_the_lessons_prose_is_about_networks_not_machinery():
    text = lesson_markdown()
    for word in ("XLA", "jit_compile", "steps_per_execution", "_get_logits", "keras/src",
                 "keras.src", "tensorflow.python", "tf.function"):  # fmt: skip
        assert word not in text, word
    words = len(text.split())
    assert words <= 3_200, f"{words} words of prose"


# Each term a beginner needs, with the forms it takes: its first use in the prose is where it
# is defined, in bold.
TERMS = {
    "logits": r"logits?",
    "epoch": r"epochs?",
    "batch": r"batch(?:es)?",
    "step": r"steps?",
    "gradient": r"gradients?",
    "loss": r"loss(?:es)?",
    "accuracy": r"accurac(?:y|ies)",
    "validation set": r"validation",
    "overfitting": r"overfitting",
    "precision": r"precision",
    "recall": r"recall",
    "calibration": r"calibration|calibrated",
    "softmax": r"softmax",
    "sigmoid": r"sigmoid",
    "ReLU": r"ReLU",
}


@pytest.mark.parametrize("term", TERMS)
def test_every_term_is_defined_where_it_is_first_used(term):
    text = lesson_markdown()
    first = re.search(rf"(\*\*)?\b(?:{TERMS[term]})\b", text, re.I)
    assert first, f"{term} is never used"
    context = text[first.start() - 80 : first.end() + 20]
    assert first.group(1) == "**", f"{term} is first used before its definition: ...{context}"
