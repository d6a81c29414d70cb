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
    [ROOT / "mnist_classification.py", ROOT / "predict_digits.py", ROOT / "exercises.py",
     ROOT / "exercises_solutions.py", *PACKAGE.glob("*.py"), *(ROOT / "handwriting").glob("*.py"),
     *(ROOT / "mnist_exercises").glob("*.py"), *(ROOT / "benchmarks").glob("*.py")]
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


def lesson_cells() -> list:
    import jupytext

    return jupytext.read(LESSON).cells


def lesson_markdown() -> str:
    return "\n\n".join(cell.source for cell in lesson_cells() if cell.cell_type == "markdown")


def part_1_cells() -> list:
    cells = lesson_cells()
    start = next(i for i, c in enumerate(cells) if c.source.startswith("# Part 1: The basics"))
    end = next(i for i, c in enumerate(cells) if c.source.startswith("# Part 2: The experiments"))
    return cells[start:end]


def test_the_lesson_has_three_parts_a_recap_and_what_to_try_next():
    headings = [line for line in lesson_markdown().splitlines() if line.startswith("#")]
    top = [heading for heading in headings if heading.startswith("# ")]
    assert top == ["# Classifying handwritten digits with neural networks",
                   "# Part 1: The basics", "# Part 2: The experiments", "# Part 3: Using it",
                   "# Recap"]  # fmt: skip
    assert headings[-1] == "## What to try next"


def test_the_lessons_prose_is_about_networks_not_machinery():
    text = lesson_markdown()
    for word in ("XLA", "jit_compile", "steps_per_execution", "_get_logits", "keras/src",
                 "keras.src", "tensorflow.python", "tf.function"):  # fmt: skip
        assert word not in text, word


def test_the_basics_are_short():
    """The introduction and Part 1: at most 1,300 words of prose."""
    text = lesson_markdown()
    basics = text[: text.index("# Part 2: The experiments")]
    words = len(basics.split())
    assert words <= 1_300, f"{words} words of prose before Part 2"


def test_the_basics_are_plain_keras_a_learner_can_repeat():
    """Each model of Part 1 is a keras.Sequential, compiled and fitted (with validation data)
    in the lesson's own cells, with no function of the lesson's around compile or fit."""
    code = [cell.source for cell in part_1_cells() if cell.cell_type == "code"]
    joined = "\n".join(code)
    for model in ("simple_model", "deep_model"):
        assert f"{model} = keras.Sequential(" in joined
        assert f"{model}.compile(" in joined
        assert re.search(rf"{model}\.fit\([^)]*validation_data=\(x_val, y_val\)", joined, re.S)
        assert f"{model}.evaluate(x_test, y_test" in joined
    # The lesson may name a bookkeeping step (what metrics.json keeps), never the training.
    tree = ast.parse(joined)
    functions = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)
    definitions = [node for node in ast.walk(tree) if isinstance(node, functions)]
    assert [getattr(node, "name", "lambda") for node in definitions] == ["recipe", "model_record"]
    for node in definitions:
        assert ast.get_docstring(node), f"{node.name} says what it is for"
        names = {n.attr for n in ast.walk(node) if isinstance(n, ast.Attribute)}
        names |= {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
        names |= {n.value for n in ast.walk(node) if isinstance(n, ast.Constant)}
        assert not names & {"compile", "fit", "evaluate", "predict", "getattr"}, node.name
    first_training = next(source for source in code if ".fit(" in source)
    assert len(first_training.splitlines()) <= 15, first_training


def test_the_first_test_accuracy_comes_within_the_first_third_of_the_cells():
    cells = lesson_cells()
    first = next(i for i, c in enumerate(cells) if c.cell_type == "code"
                 and ".evaluate(x_test" in c.source)  # fmt: skip
    assert first < len(cells) / 3, (first, len(cells))


def test_pairing_is_explained_in_two_sentences():
    text = " ".join(lesson_markdown().split())
    assert "the same seed before building gives the same starting weights" in text
    assert "the same seed before `fit` gives every model the same batches" in text


def test_the_recap_has_five_to_eight_sentences_and_the_list_points_at_the_exercises():
    text = lesson_markdown()
    recap = text[text.index("# Recap") + len("# Recap") : text.index("## What to try next")]
    sentences = re.findall(r"[^.!?]+[.!?](?:\s|$)", " ".join(recap.split()))
    assert 5 <= len(sentences) <= 8, sentences
    items = [line for line in text[text.index("## What to try next"):].splitlines()
             if line.startswith("- ")]  # fmt: skip
    assert len(items) >= 4
    assert "exercises.ipynb" in text[text.index("## What to try next") :]


def test_the_helpers_are_small():
    lines = sum(len(path.read_text().splitlines()) for path in PACKAGE.glob("*.py"))
    assert lines <= 2_000, f"{lines} lines of Python in mnist_lesson/"


def test_the_helpers_ask_keras_rather_than_read_names():
    """Layers are recognised with isinstance, losses looked up with keras.losses.get."""
    for path in [*PACKAGE.glob("*.py"), *(ROOT / "handwriting").glob("*.py")]:
        text = path.read_text()
        assert '__name__ == "Dense"' not in text, path.name
        assert "getattr(keras.losses" not in text, path.name


# Each term a beginner needs, with the forms it takes: its first use in the prose is where it
# is defined, in bold.
TERMS = {
    "pixel": r"pixels?",
    "backend": r"backends?",
    "channel": r"channels?",
    "validation set": r"validation",
    "target": r"targets?",
    "one-hot": r"one-hot",
    "layer": r"layers?",
    "unit": r"units?",
    "weight": r"weights?",
    "bias": r"bias(?:es)?",
    "logits": r"logits?",
    "sigmoid": r"sigmoid",
    "activation": r"activations?",
    "seed": r"seeds?",
    "batch": r"batch(?:es)?",
    "step": r"steps?",
    "loss": r"loss(?:es)?",
    "gradient": r"gradients?",
    "optimizer": r"optimi[sz]ers?",
    "learning rate": r"learning rates?",
    "epoch": r"epochs?",
    "accuracy": r"accurac(?:y|ies)",
    "confusion matrix": r"confusion matri(?:x|ces)",
    "precision": r"precision",
    "recall": r"recall",
    "F1": r"F1(?:-score)?",
    "support": r"support",
    "macro avg": r"macro avg",
    "weighted avg": r"weighted avg",
    "hidden layer": r"hidden layers?",
    "feature": r"features?",
    "ReLU": r"ReLU",
    "softmax": r"softmax",
    "overfitting": r"overfitting",
    "recipe": r"recipes?",
    "ladder": r"ladder",
    "paired": r"paired|pairing",
    "p-value": r"p-values?",
    "generalisation gap": r"generali[sz]ation gap",
    "backpropagation": r"backpropagation",
    "kernel": r"kernels?",
    "gradient norm": r"gradient norms?",
    "stochastic gradient descent": r"stochastic gradient descent",
    "calibration": r"calibration|calibrated",
    "saliency": r"saliency",
    "convolution": r"convolutions?|convolutional",
}


@pytest.mark.parametrize("term", TERMS)
def test_every_term_is_defined_where_it_is_first_used(term):
    """Headings name a topic; the prose under them defines its terms."""
    text = "\n".join(line for line in lesson_markdown().splitlines() if not line.startswith("#"))
    first = re.search(rf"(\*\*)?\b(?:{TERMS[term]})\b", text, re.I)
    assert first, f"{term} is never used"
    context = text[first.start() - 80 : first.end() + 20]
    assert first.group(1) == "**", f"{term} is first used before its definition: ...{context}"
