"""The exercises check themselves: untouched, every check says "not yet"; with the solutions,
"done"; each check turns down a mistake a learner would make, in one line, never raising, and
with a hint that points the way without giving the answer. The exercises follow the chapters,
and MNIST's test digits stay out of them."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from types import SimpleNamespace

import jupytext
import nbformat
import numpy as np
import pytest
from scipy.stats import binomtest

import mnist_exercises as check
from conftest import ROOT

EXERCISES = ROOT / "exercises.py"
SOLUTIONS = ROOT / "exercises_solutions.py"
NOTEBOOK = ROOT / "exercises.ipynb"
LESSON = ROOT / "mnist_classification.py"
CHECK_LINE = re.compile(r"^Exercise (\d+): (done|not yet) \((.+)\)$")
CHAPTERS = ["the lesson", "the experiments chapter", "the handwriting chapter"]
GROUPS = ["after the lesson", "after the experiments chapter", "after the handwriting chapter"]


def check_lines(text: str) -> list[tuple[int, str]]:
    return [(int(m.group(1)), m.group(2)) for m in map(CHECK_LINE.match, text.splitlines()) if m]


def printed(notebook) -> str:
    return "".join(o.get("text", "") for c in notebook.cells for o in c.get("outputs", []))


def exercises(path=EXERCISES) -> list[dict]:
    """Each exercise: its number, its group, the chapter it builds on, and its three cells."""
    cells, found, group = jupytext.read(path).cells, [], None
    for i, cell in enumerate(cells):
        if cell.cell_type != "markdown":
            continue
        group = (re.findall(r"^## Group \d+: (.+)$", cell.source, re.M) or [group])[0]
        heading = re.search(r"^### Exercise (\d+): .+$", cell.source, re.M)
        if heading:
            line = (re.findall(r"^\*Builds on (.+)\*$", cell.source, re.M) or [""])[0]
            chapter = next((c for c in CHAPTERS if line.startswith(c)), None)
            answer, checked = cells[i + 1], cells[i + 2]
            found.append({"number": int(heading.group(1)), "group": group, "chapter": chapter,
                          "task": cell.source, "answer": answer, "check": checked})  # fmt: skip
    return found


# --- the notebook, its structure and its data ---------------------------------------------------


def test_the_notebook_is_the_script_cell_by_cell_with_the_outputs_of_a_real_run():
    script, notebook = jupytext.read(EXERCISES), nbformat.read(NOTEBOOK, as_version=4)
    assert [(c.cell_type, c.source) for c in script.cells] == [
        (c.cell_type, c.source) for c in notebook.cells
    ]
    parameters = [c for c in notebook.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(parameters) == 1 and parameters[0].source.startswith("data = os.environ.get(")
    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert all(c.execution_count for c in code), "every cell run, in the handed-out state"
    assert not [o for c in code for o in c.outputs if o.output_type == "error"]
    checks = [c for c in code if c.source.startswith("check.check_")]
    assert all(o.output_type == "stream" for c in checks for o in c.outputs), "one line each"
    assert check_lines(printed(notebook)) == [(e["number"], "not yet") for e in exercises()]


def test_the_exercises_follow_the_chapters_and_each_says_which_it_builds_on():
    found = exercises()
    assert [e["number"] for e in found] == list(range(1, len(found) + 1))
    assert all(e["chapter"] in CHAPTERS for e in found), [e["task"][:80] for e in found]
    order = [CHAPTERS.index(e["chapter"]) for e in found]
    assert order == sorted(order) and set(order) == {0, 1, 2}, "grouped in the chapters' order"
    for e in found:
        assert e["group"] == GROUPS[CHAPTERS.index(e["chapter"])], e["number"]
        assert e["answer"].cell_type == e["check"].cell_type == "code"
        assert re.fullmatch(r"check\.check_\w+\(.*\)", e["check"].source.strip(), re.S)
    first_lab = [e for e in found if e["group"] == GROUPS[0]]
    assert len(first_lab) >= 4, "the lesson and group 1 make one lab"


def test_the_sections_the_exercises_cite_are_there_in_the_chapters_order():
    files = dict(zip(CHAPTERS, ["mnist_classification", "experiments", "your_handwriting"]))
    cited = []
    for e in exercises():
        text = (ROOT / f"{files[e['chapter']]}.py").read_text()
        line = re.search(r"^\*Builds on .*\*$", e["task"], re.M)[0]
        numbers = [int(n) for n in re.findall(r"\d+", re.search(r"sections? [\d and]+", line)[0])]
        for number in numbers:
            assert re.search(rf"^# ## {number}\. ", text, re.M), (e["number"], number)
        cited.append((CHAPTERS.index(e["chapter"]), numbers[0]))
    assert cited == sorted(cited), "in the order of the chapters and their sections"
    assert "sigmoid * (1 - sigmoid)" in LESSON.read_text(), "exercise 5 quotes the lesson"


def test_the_solutions_differ_from_the_exercises_in_the_answer_cells_only():
    given, solved = jupytext.read(EXERCISES).cells, jupytext.read(SOLUTIONS).cells
    assert len(given) == len(solved)
    differing = {i for i, (a, b) in enumerate(zip(given, solved)) if a.source != b.source}
    answers = {i - 1 for i, c in enumerate(given) if c.source.startswith("check.check_")}
    assert differing == {0} | answers, "the title, then answer cells only"
    assert "solutions" in solved[0].source and "instructors" in solved[0].source.lower()


def test_mnist_test_digits_stay_out_and_the_held_out_digits_out_of_training():
    """The loading cell, run on a stand-in MNIST whose images carry their own index."""
    for path in (EXERCISES, SOLUTIONS, ROOT / "mnist_exercises" / "__init__.py"):
        assert not re.search(r"x_test|y_test|test_digits", path.read_text()), path
    source = next(
        c.source for c in jupytext.read(EXERCISES).cells if "load_mnist(data)" in c.source
    )
    index = np.arange(60_000, dtype=np.float64).reshape(-1, 1, 1) * 255
    test_split = (np.zeros((10, 1, 1)), np.zeros(10, dtype=int))
    utils = SimpleNamespace(to_categorical=lambda labels, n: np.eye(n)[labels])
    scope = {"np": np, "keras": SimpleNamespace(utils=utils), "data": None,
             "load_mnist": lambda path: ((index, np.arange(60_000) % 10), test_split),
             "print": lambda *args: None}  # fmt: skip
    exec(source, scope)
    used = {name: set(scope[name][:, 0, 0].round().astype(int)) for name in ("x_train", "x_val")}
    held = set(scope["held_out"][0][:, 0, 0].round().astype(int))
    assert len(used["x_train"]) == 10_000 and len(used["x_val"]) == 2_000 and len(held) == 5_000
    assert not held & (used["x_train"] | used["x_val"]) and not used["x_train"] & used["x_val"]
    assert not any(value is test_split[0] for value in scope.values())


def test_the_prose_keeps_the_lessons_sentence_rules():
    prose = pytest.importorskip("prose")
    for path in (EXERCISES, SOLUTIONS):
        stats = prose.prose_stats(path)
        assert stats["average"] <= 20 and stats["longest"] <= 40, stats


# --- each check against right answers and the mistakes a learner would make --------------------


def verdict(capsys, function, *args) -> tuple[bool, str]:
    done = function(*args)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1 and CHECK_LINE.match(lines[0]), lines
    assert isinstance(done, check.Verdict) and done in (0, 1)
    assert bool(done) is (CHECK_LINE.match(lines[0]).group(2) == "done")
    return bool(done), lines[0]


def test_a_notebook_shows_the_checks_line_and_no_value_after_it():
    from IPython.core.formatters import DisplayFormatter

    assert DisplayFormatter().format(check.Verdict(True)) == ({}, {})
    assert DisplayFormatter().format(1) != ({}, {}), "a plain number would show"


def tanh_slope(t):
    return 1 - t**2


@pytest.mark.parametrize(
    "function, right, wrong, hint",
    [
        (check.check_parameter_count, [784 * 512 + 512], [784 * 512], "bias"),
        (check.check_untrained_losses, [np.log(26), np.log(2)], [np.log(10), np.log(2)], "1/26"),
        (check.check_untrained_losses, [np.log(26), np.log(2)], [np.log(26), np.log(26)],
         "yes/no"),
        (check.check_tanh_slope, [tanh_slope, 1.0], [lambda t: t * (1 - t), 0.25], "measured"),
        (check.check_tanh_slope, [tanh_slope, 1.0], [lambda z: 1 - np.tanh(z) ** 2, 1.0],
         "not z"),
        (check.check_tanh_slope, [tanh_slope, 1.0], [tanh_slope, 0.25], "steepest"),
        (check.check_p_value, [binomtest(28, 45).pvalue, False, 30],
         [binomtest(28, 45, alternative="greater").pvalue, False, 30], "one-sided"),
        (check.check_p_value, [binomtest(28, 45).pvalue, False, 30],
         [binomtest(28, 45).pvalue, True, 30], "0.05"),
        (check.check_p_value, [binomtest(28, 45).pvalue, False, 30],
         [binomtest(28, 45).pvalue, False, 29], "same test"),
    ],
    ids=["weights without the biases", "ln 10 for 26 letters", "ln 26 for the sigmoid outputs",
         "the sigmoid's slope for tanh's", "a function of z", "the sigmoid's top slope",
         "one-sided p", "28 against 17 called a finding", "the fewest fixes one-sided"],
)  # fmt: skip
def test_numbers_are_checked_and_a_plausible_mistake_is_turned_down(
    capsys, function, right, wrong, hint
):
    assert verdict(capsys, function, *right)[0] is True
    done, line = verdict(capsys, function, *wrong)
    assert done is False and hint in line, line


def test_no_hint_gives_the_answer_away(capsys):
    """Exercise 5 (the old exercise 7 printed its formula) and exercise 6: the hints point the
    way, never the answer."""
    for answers in ([lambda t: t * (1 - t), 0.25], [lambda t: t, 0.5], [lambda t: 1 - t, 1.0]):
        line = verdict(capsys, check.check_tanh_slope, *answers)[1]
        assert not re.search(r"t ?\*\* ?2|t²|t\^2|cosh|sech|1 - t|1 − t", line), line
    for answers in ([0.5, False, 30], [binomtest(28, 45).pvalue, False, 31]):
        line = verdict(capsys, check.check_p_value, *answers)[1]
        assert "0.135" not in line and "30" not in line, line


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
        (check.check_tanh_slope, [lambda t: t.nope, 1.0]),
        (check.check_p_value, ["p", True, 30]),
        (check.check_overfitting, [{"loss": [1]}, 3]),
        (check.check_calibration, [object(), ([], []), 0.5, 0.5]),
        (check.check_prepare, [lambda photo: "no", (np.zeros((4, 28, 28)), None)]),
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


class Scores:
    """A stand-in model: fixed scores, whatever the images."""

    def __init__(self, scores):
        self.scores = scores

    def predict(self, images, verbose=0):
        return self.scores


def test_calibration_over_the_sure_digits_only(capsys):
    rng = np.random.default_rng(0)
    scores = rng.dirichlet(np.full(10, 0.2), size=500)
    digits = np.where(rng.random(500) < 0.8, scores.argmax(axis=1), rng.integers(0, 10, 500))
    top, right = scores.max(axis=1), scores.argmax(axis=1) == digits
    sure = top >= 0.9
    assert 0 < sure.sum() < 500
    validation = (np.zeros((500, 28, 28)), digits)
    model = Scores(scores)
    answer = (top[sure].mean(), right[sure].mean())
    assert verdict(capsys, check.check_calibration, model, validation, *answer)[0] is True
    done, line = verdict(capsys, check.check_calibration, model, validation, top.mean(),
                         right.mean())  # fmt: skip
    assert done is False and "at least 0.9" in line


def digit_images(count=40) -> np.ndarray:
    """Digit-like images: a ring of ink, placed near the middle of the 28x28 field."""
    rows, cols = np.indices((28, 28))
    rng = np.random.default_rng(1)
    images = []
    for row, col in rng.uniform(11, 17, size=(count, 2)):
        distance = np.hypot(rows - row, cols - col)
        images.append(np.clip(1 - np.abs(distance - 5) / 1.5, 0, 1).astype(np.float32))
    return np.stack(images)


def prepare(photo):
    ink = 1 - photo / 255
    rows, cols = np.indices(ink.shape)
    row, col = (ink * rows).sum() / ink.sum(), (ink * cols).sum() / ink.sum()
    return np.roll(ink, (round(14 - row), round(14 - col)), axis=(0, 1))


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda photo: photo / 255, "light ink on black"),
        (lambda photo: 255 - photo, "0 to 1"),
        (lambda photo: 1 - photo / 255, "centre of mass"),
        (lambda photo: prepare(photo)[:27], "28x28"),
        (lambda photo: np.clip(prepare(photo) * 3, 0, 1), "without losing"),
    ],
    ids=["not inverted", "not scaled", "not centred", "cropped", "ink changed"],
)
def test_a_photo_must_come_out_in_mnists_form(capsys, wrong, hint):
    held_out = (digit_images(), None)
    done, line = verdict(capsys, check.check_prepare, prepare, held_out)
    assert done is True, line
    done, line = verdict(capsys, check.check_prepare, wrong, held_out)
    assert done is False and hint in line, line


def stack_accuracy_of(accuracy_by_rate):
    """A stand-in for exercise 7's training: each rate's accuracy, as a table gives it."""
    return lambda rate: accuracy_by_rate.get(rate, 0.1)


SIGMOID_GRID = {0.0001: 0.11, 0.001: 0.23, 0.01: 0.56, 0.1: 0.10}  # as the solutions read


@pytest.mark.parametrize(
    ("best", "grid", "trained", "hint"),
    [
        (None, {}, SIGMOID_GRID, "try three rates or more"),
        (0.01, {0.001: 0.23, 0.01: 0.56}, SIGMOID_GRID, "try three rates or more"),
        (0.03, SIGMOID_GRID, SIGMOID_GRID, "missing from accuracy_by_rate"),
        (0.001, SIGMOID_GRID, SIGMOID_GRID, "0.001 is not the best rate you tried"),
        (0.1, {0.0001: 0.1, 0.001: 0.1, 0.1: 0.5}, {0.1: 0.5}, "edge of your grid"),
        (0.01, {**SIGMOID_GRID, 0.01: 0.70}, SIGMOID_GRID, "record what it returns"),
        (0.001, {0.0001: 0.2, 0.001: 0.3, 0.01: 0.1}, {0.001: 0.3}, "chance is 10%"),
    ],
)
def test_exercise_7_wants_the_best_of_a_grid_that_brackets_it(capsys, best, grid, trained, hint):
    check_7 = check.check_sigmoid_stack_learning_rate
    done, line = verdict(capsys, check_7, best, grid, stack_accuracy_of(trained))
    assert done is False and hint in line, line
    done, line = verdict(capsys, check_7, 0.01, SIGMOID_GRID, stack_accuracy_of(SIGMOID_GRID))
    assert done is True and "between rates 0.0001 and 0.1" in line, line


# --- the checks that train or read a Keras model (slow: Keras and MNIST) ------------------------


@pytest.fixture(scope="module")
def digits(mnist_path):
    from mnist_lesson.data import load_mnist

    (images, labels), _ = load_mnist(mnist_path)
    x = images[:7000] / np.float32(255)
    return {"x": x[:5000], "y": np.eye(10, dtype="float32")[labels[:5000]],
            "x_val": x[5000:6000], "val": labels[5000:6000],
            "held_out": (x[6000:], labels[6000:7000])}  # fmt: skip


def trained(layers_list, data, epochs=3):
    import keras

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((28, 28)), *layers_list])
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    model.fit(data["x"], data["y"], epochs=epochs, batch_size=100, verbose=0)
    return model


@pytest.mark.slow
def test_a_model_without_a_hidden_layer_or_untrained_is_turned_down(capsys, digits):
    from keras import layers

    flat = trained([layers.Flatten(), layers.Dense(10, activation="softmax")], digits)
    done, line = verdict(capsys, check.check_own_model, flat, digits["held_out"])
    assert done is False and "hidden layer" in line

    def hidden():
        return [layers.Flatten(), layers.Dense(128, activation="relu"),
                layers.Dense(10, activation="softmax")]  # fmt: skip

    untrained = trained(hidden(), digits, epochs=0)
    done, line = verdict(capsys, check.check_own_model, untrained, digits["held_out"])
    assert done is False and "held-out digits" in line
    model = trained(hidden(), digits, epochs=5)
    done, line = verdict(capsys, check.check_own_model, model, digits["held_out"], 0.85)
    assert done is True and "1,000 held-out digits" in line


@pytest.mark.slow
def test_a_dense_model_is_not_a_convnet_and_a_weak_one_loses(capsys, digits):
    from keras import layers

    training = (digits["x"], digits["y"])
    dense = trained([layers.Flatten(), layers.Dense(10, activation="softmax")], digits)
    done, line = verdict(capsys, check.check_convnet, dense, training, digits["held_out"])
    assert done is False and "Conv2D" in line
    tiny = trained([layers.Reshape((28, 28, 1)), layers.Conv2D(2, 3, activation="relu"),
                    layers.Flatten(), layers.Dense(10, activation="softmax")], digits,
                   epochs=1)  # fmt: skip
    done, line = verdict(capsys, check.check_convnet, tiny, training, digits["held_out"])
    assert done is False and "deep model" in line


# --- whole runs (slow) ----------------------------------------------------------------------------


@pytest.mark.slow
def test_run_all_on_the_untouched_notebook_says_not_yet_to_each(mnist_path):
    from nbclient import NotebookClient

    notebook = jupytext.read(EXERCISES)
    for cell in notebook.cells:
        if "parameters" in cell.metadata.get("tags", []):
            cell.source = f"data = {str(mnist_path)!r}"
    NotebookClient(notebook, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(ROOT)}}).execute()  # fmt: skip
    errors = [o for c in notebook.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors, errors
    assert check_lines(printed(notebook)) == [(e["number"], "not yet") for e in exercises()]


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["tensorflow", "jax"])
def test_the_solutions_say_done_to_each(mnist_path, backend):
    if backend == "jax":
        pytest.importorskip("jax")
    env = {**os.environ, "MNIST_PATH": str(mnist_path), "MPLBACKEND": "Agg",
           "KERAS_BACKEND": backend}  # fmt: skip
    result = subprocess.run([sys.executable, str(SOLUTIONS)], cwd=ROOT, capture_output=True,
                            text=True, timeout=1200, env=env)  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    expected = [(e["number"], "done") for e in exercises(SOLUTIONS)]
    assert check_lines(result.stdout) == expected, result.stdout[-3000:]
