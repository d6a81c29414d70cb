"""The lesson's "Train on data of your own" lines run as they are printed, with none of the
lesson's helpers: copied into a script of their own, in an empty folder, in a fresh Python, on
NumPy arrays such as a learner has."""

from __future__ import annotations

import re
import textwrap

import jupytext
import numpy as np

from conftest import LESSON, load_lesson_model, run_script
from mnist_lesson.data import load_mnist

LOADING = """\
import numpy as np

with np.load("my_pictures.npz") as saved:
    images, labels = saved["images"], saved["labels"]
    test_images, test_labels = saved["test_images"], saved["test_labels"]
"""


def own_data_code() -> str:
    """The one Python block of "What to try next", as a learner would copy it."""
    notebook = jupytext.read(LESSON)
    text = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "markdown")
    blocks = re.findall(r"```python\n(.*?)```", text[text.index("## What to try next") :], re.S)
    assert len(blocks) == 1, blocks
    return textwrap.dedent(blocks[0])


def test_the_lines_for_data_of_your_own_train_and_test_a_model_without_the_helpers(
    mnist_path, tmp_path
):
    code = own_data_code()
    for name in ("mnist_lesson", "settings", "outputs", "plots", "reports", "handwriting"):
        assert name not in code, f"the lines use the lesson's {name}"
    for plain_keras in ("keras.Sequential(", ".compile(", ".fit(", ".evaluate(", ".predict(",
                        ".save("):  # fmt: skip
        assert plain_keras in code
    mnist = load_mnist(mnist_path)
    shuffled = np.random.default_rng(0).permutation(len(mnist.x_train))[:6000]
    np.savez(
        tmp_path / "my_pictures.npz",
        images=mnist.x_train[shuffled],
        labels=mnist.y_train[shuffled],
        test_images=mnist.x_test[:2000],
        test_labels=mnist.y_test[:2000],
    )
    script = tmp_path / "my_training.py"
    script.write_text(LOADING + code)

    result = run_script(script, cwd=tmp_path)  # the project's folder is not on its path

    assert result.returncode == 0, result.stderr[-3000:]
    epochs = re.findall(r"^Epoch \d+/5$", result.stdout, re.M)
    assert len(epochs) == 5, result.stdout
    assert "val_categorical_accuracy" in result.stdout
    found = re.search(r"^test accuracy (\d+\.\d\d)%$", result.stdout, re.M)
    assert found and float(found.group(1)) >= 90.0, result.stdout[-500:]
    saved = load_lesson_model(tmp_path / "my_model.keras")  # as the comment says: plain Keras
    x_test = mnist.x_test[:2000, ..., np.newaxis] / np.float32(255)
    _, accuracy = saved.evaluate(x_test, np.eye(10)[mnist.y_test[:2000]], verbose=0)
    assert f"{accuracy:.2%}" == f"{found.group(1)}%", "the saved model is the one tested"
