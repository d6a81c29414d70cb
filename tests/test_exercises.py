"""The exercises check themselves: untouched, every check says "not yet"; with the solutions,
"done"; and each check turns down a mistake a learner would make, in one line, never raising."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import jupytext
import nbformat
import numpy as np
import pytest

from conftest import ROOT

EXERCISES = ROOT / "exercises.py"
SOLUTIONS = ROOT / "exercises_solutions.py"
NOTEBOOK = ROOT / "exercises.ipynb"
CHECK_LINE = re.compile(r"^Exercise (\d+): (done|not yet) \((.+)\)$")


def check_lines(text: str) -> list[tuple[int, str]]:
    return [(int(m.group(1)), m.group(2)) for m in map(CHECK_LINE.match, text.splitlines()) if m]


def test_the_notebook_is_the_script_cell_by_cell():
    script, notebook = jupytext.read(EXERCISES), nbformat.read(NOTEBOOK, as_version=4)
    assert [(c.cell_type, c.source) for c in script.cells] == [
        (c.cell_type, c.source) for c in notebook.cells
    ]
    assert all(not c.get("outputs") for c in notebook.cells), "handed out without outputs"
    parameters = [c for c in notebook.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(parameters) == 1


def test_ten_exercises_in_the_order_of_the_lesson_each_with_a_task_a_cell_and_a_check():
    cells = jupytext.read(EXERCISES).cells
    tasks = [i for i, c in enumerate(cells) if c.cell_type == "markdown"
             and re.search(r"^### Exercise \d+: .+ \(sections? \d+", c.source, re.M)]  # fmt: skip
    assert len(tasks) == 10
    sections = []
    for number, index in enumerate(tasks, 1):
        assert f"### Exercise {number}:" in cells[index].source
        sections.append(int(re.search(r"\(sections? (\d+)", cells[index].source).group(1)))
        answer, check = cells[index + 1], cells[index + 2]
        assert answer.cell_type == check.cell_type == "code"
        assert re.match(r"check\.check_\w+\(", check.source.strip()), check.source
    assert sections == sorted(sections), "in the order of the lesson's sections"


def test_the_solutions_differ_from_the_exercises_in_the_answer_cells_only():
    exercises, solutions = jupytext.read(EXERCISES).cells, jupytext.read(SOLUTIONS).cells
    assert len(exercises) == len(solutions)
    differing = [i for i, (a, b) in enumerate(zip(exercises, solutions)) if a.source != b.source]
    checks = [i for i, c in enumerate(exercises) if c.source.startswith("check.check_")]
    assert set(differing) == {0} | {i - 1 for i in checks}, "the title, then answer cells only"
    assert "solutions" in solutions[0].source and "instructors" in solutions[0].source.lower()


def run_notebook(path, mnist_path, tmp_path) -> str:
    """Run All, as Jupyter would, with the digits from ``mnist_path``; the text it printed."""
    from nbclient import NotebookClient

    notebook = jupytext.read(path)
    for cell in notebook.cells:
        if "parameters" in cell.metadata.get("tags", []):
            cell.source = f"data = {str(mnist_path)!r}"
    NotebookClient(notebook, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(ROOT)}}).execute()  # fmt: skip
    errors = [o for c in notebook.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors, errors
    return "".join(o.get("text", "") for c in notebook.cells for o in c.get("outputs", []))


@pytest.mark.slow
def test_run_all_on_the_untouched_notebook_says_not_yet_ten_times(mnist_path, tmp_path):
    text = run_notebook(NOTEBOOK, mnist_path, tmp_path)
    assert check_lines(text) == [(n, "not yet") for n in range(1, 11)]


@pytest.mark.slow
def test_the_solutions_say_done_ten_times(mnist_path):
    result = subprocess.run(
        [sys.executable, str(SOLUTIONS)], cwd=ROOT, capture_output=True, text=True, timeout=900,
        env={**os.environ, "MNIST_PATH": str(mnist_path), "MPLBACKEND": "Agg"},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert check_lines(result.stdout) == [(n, "done") for n in range(1, 11)], result.stdout[-3000:]


# --- each check against the mistakes a learner would make ---------------------------------------

import mnist_exercises as check  # noqa: E402


def verdict(capsys, function, *args) -> tuple[bool, str]:
    done = function(*args)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1 and CHECK_LINE.match(lines[0]), lines
    assert done is (CHECK_LINE.match(lines[0]).group(2) == "done")
    return done, lines[0]


@pytest.mark.parametrize(
    "function, right, wrong",
    [
        (check.check_parameter_count, [784 * 512 + 512], [784 * 512]),
        (check.check_untrained_losses, [np.log(10), np.log(2)], [np.log(10), np.log(10)]),
        (check.check_p_value, [0.0357, True], [0.0179, True]),
        (check.check_sigmoid_slope, [lambda z: 1 / (1 + np.exp(-z)) * (1 - 1 / (1 + np.exp(-z))),
                                     0.25], [lambda z: 1 / (1 + np.exp(-z)), 0.5]),
    ],
    ids=["weights without the biases", "ln 10 for the sigmoid outputs too", "one-sided p",
         "the sigmoid for its slope"],
)  # fmt: skip
def test_numbers_are_checked_and_a_plausible_mistake_is_turned_down(capsys, function, right, wrong):
    from scipy.stats import binomtest

    if function is check.check_p_value:
        right = [binomtest(30, 45).pvalue, True]
        wrong = [binomtest(30, 45, alternative="greater").pvalue, True]
    assert verdict(capsys, function, *right)[0] is True
    done, line = verdict(capsys, function, *wrong)
    assert done is False and "not yet" in line


MATRIX = np.diag([90] * 10)
MATRIX[8, 3] = 10  # ten 8s read as 3: recall of 8 is 0.9
MATRIX[5, 8] = 30  # thirty 5s read as 8: precision of 8 is 0.75


def test_precision_and_recall_swapped_are_turned_down(capsys):
    assert verdict(capsys, check.check_precision_and_recall, MATRIX, 8, 0.75, 0.9)[0] is True
    done, line = verdict(capsys, check.check_precision_and_recall, MATRIX, 8, 0.9, 0.75)
    assert done is False and "column" in line


def test_a_check_never_raises_whatever_the_answer(capsys):
    for function, answers in [
        (check.check_parameter_count, ["401920"]),
        (check.check_untrained_losses, ["a", "b"]),
        (check.check_precision_and_recall, [MATRIX, 8, "x", 1]),
        (check.check_sigmoid_slope, [lambda z: z.nope, 0.25]),
        (check.check_overfitting, [{"loss": [1]}, 3]),
        (check.check_calibration, [object(), ([], []), 0.5, 0.5]),
    ]:
        done, line = verdict(capsys, function, *answers)
        assert done is False and "not yet" in line


def histories(turns_up: bool) -> dict:
    loss = list(np.linspace(1.0, 0.01, 20))
    val = [1.0 - 0.05 * e if e < 8 or not turns_up else 0.6 + 0.05 * (e - 8) for e in range(20)]
    return {"loss": loss, "val_loss": val}


def test_overfitting_must_turn_up_and_the_cure_end_lower(capsys):
    overfit, steady = histories(True), histories(False)
    assert verdict(capsys, check.check_overfitting, overfit, steady)[0] is True
    done, line = verdict(capsys, check.check_overfitting, steady, steady)
    assert done is False and "turns up" in line
    done, line = verdict(capsys, check.check_overfitting, overfit, overfit)
    assert done is False and "lower validation loss" in line


@pytest.fixture(scope="module")
def digits(mnist_path):
    from mnist_lesson.data import load_mnist
    from mnist_lesson.keras_setup import import_keras_quietly

    import_keras_quietly()
    mnist = load_mnist(mnist_path)
    targets = np.eye(10, dtype="float32")
    x = mnist.x_train[:6000, ..., np.newaxis].astype("float32") / 255
    return {"x": x, "y": targets[mnist.y_train[:6000]], "x_val": x[-1000:],
            "val": mnist.y_train[5000:6000],
            "x_test": mnist.x_test[:2000, ..., np.newaxis].astype("float32") / 255,
            "test": mnist.y_test[:2000]}  # fmt: skip


def trained(layers_list, data, epochs=3):
    import keras

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((28, 28, 1)), *layers_list])
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    model.fit(data["x"][:5000], data["y"][:5000], epochs=epochs, batch_size=100, verbose=0)
    return model


def test_a_model_without_a_hidden_layer_or_untrained_is_turned_down(capsys, digits):
    from keras import layers

    held_out = (digits["x_test"], digits["test"])
    flat = trained([layers.Flatten(), layers.Dense(10, activation="softmax")], digits)
    done, line = verdict(capsys, check.check_own_model, flat, held_out)
    assert done is False and "hidden layer" in line

    def hidden():
        return [layers.Flatten(), layers.Dense(128, activation="relu"),
                layers.Dense(10, activation="softmax")]  # fmt: skip

    untrained = trained(hidden(), digits, epochs=0)
    done, line = verdict(capsys, check.check_own_model, untrained, held_out)
    assert done is False and "held-out digits" in line
    model = trained(hidden(), digits, epochs=5)
    done, line = verdict(capsys, check.check_own_model, model, held_out, 0.85)
    assert done is True and "2,000 digits it never saw" in line
    # Exercise 10 on the same model: the mean over every digit is a plausible mistake.
    scores = model.predict(digits["x_test"], verbose=0)
    top, right = scores.max(axis=1), scores.argmax(axis=1) == digits["test"]
    sure = top >= 0.9
    assert verdict(capsys, check.check_calibration, model, held_out, top[sure].mean(),
                   right[sure].mean())[0] is True  # fmt: skip
    done, line = verdict(capsys, check.check_calibration, model, held_out, top.mean(),
                         right.mean())  # fmt: skip
    assert done is False and "at least 0.9" in line


def test_a_dense_model_is_not_a_convnet_and_a_weak_one_loses(capsys, digits):
    from keras import layers

    training, held_out = (
        (digits["x"][:5000], digits["y"][:5000]),
        (digits["x_test"], digits["test"]),
    )
    dense = trained([layers.Flatten(), layers.Dense(10, activation="softmax")], digits)
    done, line = verdict(capsys, check.check_convnet, dense, training, held_out)
    assert done is False and "Conv2D" in line
    tiny = trained([layers.Conv2D(2, 3, activation="relu"), layers.Flatten(),
                    layers.Dense(10, activation="softmax")], digits, epochs=1)  # fmt: skip
    done, line = verdict(capsys, check.check_convnet, tiny, training, held_out)
    assert done is False and "the deep model" in line


def test_a_learning_rate_too_small_leaves_the_sigmoid_stack_at_chance(capsys, digits):
    data = (digits["x"], digits["y"], digits["x_val"], digits["val"])
    done, line = verdict(capsys, check.check_sigmoid_stack_learning_rate, 1e-5, data)
    assert done is False and "chance is 10%" in line
    assert verdict(capsys, check.check_sigmoid_stack_learning_rate, 0.01, data)[0] is True
