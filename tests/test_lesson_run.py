"""The lesson's full default run on real MNIST, and its quick mode: what it measures, and that
every claim its prose makes about the run's own numbers holds."""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys

import numpy as np
import pytest

from benchmarks.seed_results import RUNG_SETTINGS
from conftest import ROOT, assert_clean_failure, assert_valid_png, load_metrics, run_lesson
from mnist_lesson.architecture import changed_groups

EXPECTED_FIGURES = (
    "sample_digits.png",
    "training_step.png",
    "confusion_matrix_simple.png",
    "confusion_matrix_deep.png",
    "deep_network.png",
    "training_history.png",
    "ladder.png",
    "overfitting.png",
    "vanishing_gradients.png",
    "simple_model_weights.png",
    "misclassified_deep.png",
    "softmax_scores.png",
    "shift_robustness.png",
    "own_handwriting_round_trip.png",
)


@pytest.mark.slow
def test_full_run_meets_accuracy_targets(full_run):
    _, output_dir = full_run
    models = load_metrics(output_dir)["models"]
    assert models["simple"]["test_accuracy"] >= 0.920
    assert models["deep"]["test_accuracy"] >= 0.985


@pytest.mark.slow
def test_full_run_metrics_follow_the_schema(full_run):
    _, output_dir = full_run
    metrics = load_metrics(output_dir)
    dataset = metrics["dataset"]
    assert isinstance(dataset["source"], str) and dataset["source"]
    assert dataset["standard_mnist"] is True
    assert dataset["n_train"] + dataset["n_validation"] == 60_000
    assert dataset["n_test"] == 10_000
    assert isinstance(metrics["seed"], int)
    for name in ("simple", "deep"):
        model = metrics["models"][name]
        assert isinstance(model["test_accuracy"], float) and 0 < model["test_accuracy"] <= 1
        assert isinstance(model["epochs"], int) and model["epochs"] >= 1
        assert isinstance(model["parameters"], int) and model["parameters"] > 0
        matrix = np.array(model["confusion_matrix"])
        assert matrix.shape == (10, 10) and matrix.sum() == dataset["n_test"]
        assert np.trace(matrix) / matrix.sum() == pytest.approx(model["test_accuracy"], abs=1e-6)
        assert len(model["history"]["val_categorical_accuracy"]) == model["epochs"]
    simple, deep = metrics["models"]["simple"], metrics["models"]["deep"]
    assert simple["parameters"] == 784 * 10 + 10 and simple["hidden_layers"] == []
    assert (simple["output_activation"], simple["loss"]) == ("sigmoid", "binary_crossentropy")
    assert (deep["hidden_activation"], deep["output_activation"]) == ("relu", "softmax")
    assert deep["loss"] == "categorical_crossentropy" and deep["hidden_layers"] == [512, 512]
    assert deep["layers"] == ["RandomTranslation(1 px)", "Flatten", "Dense(512, relu)",
                              "Dense(512, relu)", "Dense(10, softmax)"]  # fmt: skip
    assert deep["shift_pixels"] == 1 and simple["shift_pixels"] == 0
    environment = metrics["environment"]
    assert environment["backend"] == "tensorflow" and environment["keras"]
    assert environment["op_determinism"] is False  # a CPU: every kernel is deterministic


def assert_ladder_is_paired(metrics: dict) -> list[dict]:
    """The ladder: the simple model first, the deep model last, each rung changing one group of
    settings, in the order the lesson tells; every rung with the same XLA setting; rungs of the
    same shapes from the same initial weights; fixed and broken digits that add up to the gain,
    with McNemar's p-value."""
    from scipy.stats import binomtest

    ladder, models = metrics["ladder"], metrics["models"]
    n_test = metrics["dataset"]["n_test"]
    for rung in ladder:
        assert isinstance(rung["change"], str) and rung["change"]
        assert 0 < rung["validation_accuracy"] <= 1 and 0 < rung["test_accuracy"] <= 1
        assert all(key in rung for key in RUNG_SETTINGS)
    for above, rung in zip(ladder, ladder[1:]):
        gain = rung["test_accuracy"] - above["test_accuracy"]
        assert (rung["fixed"] - rung["broken"]) / n_test == pytest.approx(gain, abs=1e-9)
        total = rung["fixed"] + rung["broken"]
        assert rung["p_value"] == pytest.approx(binomtest(rung["fixed"], total).pvalue)
    for rung, name in ((ladder[0], "simple"), (ladder[-1], "deep")):
        model = models[name]
        assert rung["model"] == name
        assert {key: rung[key] for key in RUNG_SETTINGS} == {
            key: model[key] for key in RUNG_SETTINGS
        }
        assert rung["test_accuracy"] == pytest.approx(model["test_accuracy"], abs=0.5 / n_test)
        assert rung["loss_before_training"] == model["before_training"]["loss"]
    steps = [changed_groups(above, rung) for above, rung in zip(ladder, ladder[1:])]
    assert steps == [["output"], ["recipe"], ["hidden layers"], ["hidden activation"], ["shift"]]
    assert [rung["change"] for rung in ladder] == [
        "the simple model",
        "softmax output, categorical cross-entropy",
        f"{models['deep']['epochs']} epochs, learning rate {models['deep']['learning_rate']}",
        "2 hidden layers of 512 sigmoid units",
        "ReLU instead of sigmoid",
        "digits shifted by up to 1 pixel in training",
    ]
    # One XLA setting for every rung but the shifted one: RandomTranslation opts out of XLA, and
    # Keras then compiles none of that model (which matters on JAX, where XLA is the default).
    assert len({rung["xla"] for rung in ladder[:-1]}) == 1
    assert ladder[-1]["xla"] is False
    starts = [rung["initial_weights"] for rung in ladder]
    assert len(set(starts[:3])) == 1 and len(set(starts[3:])) == 1 and starts[0] != starts[3]
    return ladder


def test_the_quick_ladder_is_paired(quick_run):
    _, output_dir = quick_run
    assert_ladder_is_paired(load_metrics(output_dir))


@pytest.mark.slow
def test_the_full_ladder_is_paired(full_run):
    _, output_dir = full_run
    assert_ladder_is_paired(load_metrics(output_dir))


def test_every_model_is_checked_before_training(quick_run):
    """Before the first step, a ten-way softmax scores about ln 10 and the simple model's ten
    yes/no outputs about ln 2, as sections 3 and 4 say."""
    result, output_dir = quick_run
    metrics = load_metrics(output_dir)
    simple, deep = metrics["models"]["simple"], metrics["models"]["deep"]
    assert simple["before_training"]["loss"] == pytest.approx(math.log(2), abs=0.1)
    assert deep["before_training"]["loss"] == pytest.approx(math.log(10), abs=0.15)
    assert result.stdout.count("before training: validation loss") == 2


@pytest.mark.slow
def test_section_8_measures_what_its_prose_says(full_run):
    _, output_dir = full_run
    evidence = load_metrics(output_dir)["vanishing_gradient"]
    assert evidence["hidden_layers"] == 6
    spread, norms = evidence["activation_spread"], evidence["gradient_norms"]
    for measure in (spread, norms):
        for activation in ("sigmoid", "relu"):
            values = np.array(measure[activation])
            assert len(values) == 6 and np.all(np.isfinite(values)) and np.all(values > 0)
    sigmoid_spread, relu_spread = np.array(spread["sigmoid"]), np.array(spread["relu"])
    # "the spread shrinks about four times per layer"
    ratios = sigmoid_spread[:-1] / sigmoid_spread[1:]
    assert np.all((ratios > 3) & (ratios < 5)), ratios
    # "the layers near the input, which see the differences, get the smallest gradients"
    sigmoid_norms = np.array(norms["sigmoid"])
    assert np.all(np.diff(sigmoid_norms) > 0) and sigmoid_norms[0] / sigmoid_norms[-1] < 1e-2
    # "in the ReLU stack both shrink far less, though they shrink"
    relu_norms = np.array(norms["relu"])
    assert (relu_spread[-1] / relu_spread[0]) > 10 * (sigmoid_spread[-1] / sigmoid_spread[0])
    assert relu_spread[-1] < relu_spread[0] and relu_norms.max() / relu_norms.min() < 10
    accuracy = evidence["short_training"]["val_accuracy"]
    assert set(accuracy) == {"sigmoid", "relu", "sigmoid, scaled start"}
    assert all(len(values) == 2 for values in accuracy.values())
    assert max(accuracy["sigmoid"]) < 0.12  # "stays at chance, one digit in ten"
    assert accuracy["relu"][-1] > 0.8  # "ReLU learns"
    assert 0.5 < accuracy["sigmoid, scaled start"][-1] < accuracy["relu"][-1]
    rates = evidence["short_training"]["learning_rates"]
    best = json.loads((ROOT / "benchmarks" / "depth_seeds.json").read_text())
    best = best["best_learning_rates"]["6"]
    assert rates == {"sigmoid": best["sigmoid"]["sgd"], "relu": best["relu"]["sgd"],
                     "sigmoid, scaled start": best["sigmoid_scaled_init"]["sgd"]}  # fmt: skip


@pytest.mark.slow
def test_overfitting_is_shown_and_cured(full_run):
    _, output_dir = full_run
    runs = load_metrics(output_dir)["overfitting"]
    assert set(runs) == {"unshifted", "shifted"}
    for history in runs.values():
        assert {"loss", "val_loss", "categorical_accuracy", "val_categorical_accuracy"} <= set(
            history
        )
        assert len(history["loss"]) == 25
    val_loss, loss = np.array(runs["unshifted"]["val_loss"]), np.array(runs["unshifted"]["loss"])
    best = int(np.argmin(val_loss))
    assert best < 20 and val_loss[-1] > 1.1 * val_loss[best] and loss[-1] < loss[best]
    assert runs["shifted"]["val_loss"][-1] < val_loss[-1]


@pytest.mark.slow
def test_shifted_digits_cost_what_section_10_says(full_run):
    _, output_dir = full_run
    metrics = load_metrics(output_dir)
    robustness = metrics["robustness"]
    assert robustness["shift_pixels"] == [0, 1, 2, 3, 4]
    assert set(robustness) == {"shift_pixels", "simple", "unshifted", "deep"}
    for name in ("simple", "deep"):
        # Not shifted at all: exactly the test accuracy the evaluation measured.
        assert robustness[name][0] == pytest.approx(metrics["models"][name]["test_accuracy"])
    for name in ("simple", "unshifted", "deep"):
        accuracy = robustness[name]
        assert all(a > b for a, b in zip(accuracy, accuracy[1:])), (name, accuracy)
    deep, unshifted = np.array(robustness["deep"]), np.array(robustness["unshifted"])
    assert np.all(deep[1:] > unshifted[1:])


@pytest.mark.slow
def test_the_weight_pictures_compare_the_optimizers(full_run):
    result, output_dir = full_run
    pictures = load_metrics(output_dir)["weight_pictures"]
    adam, sgd = pictures["Adam (the simple model)"], pictures["plain SGD"]
    assert adam["the tenth with the strongest weights"] < adam["all pixels drawn"] / 3
    assert sgd["the tenth with the strongest weights"] > 2.5 * adam[
        "the tenth with the strongest weights"]  # fmt: skip
    accuracies = re.findall(r"^(Adam|plain SGD): validation accuracy ([\d.]+)%$", result.stdout,
                            re.M)  # fmt: skip
    assert len(accuracies) == 2
    assert abs(float(accuracies[0][1]) - float(accuracies[1][1])) < 1.5, "about as well"


@pytest.mark.slow
def test_calibration_is_measured(full_run):
    _, output_dir = full_run
    metrics = load_metrics(output_dir)
    calibration = metrics["calibration"]
    assert sum(row["digits"] for row in calibration["bins"]) == metrics["dataset"]["n_test"]
    as_they_are = calibration["confidence"]["as they are"]
    assert as_they_are["right"] == pytest.approx(metrics["models"]["deep"]["test_accuracy"])
    assert as_they_are["calibration error"] == calibration["expected_calibration_error"]
    assert 0 < as_they_are["wrong among them"] < as_they_are["top score at least"]
    moved = calibration["confidence"]["moved by 3 pixels"]
    assert moved["mean top score"] > moved["right"] + 0.03
    assert moved["wrong among them"] > 5 * as_they_are["wrong among them"]


@pytest.mark.slow
def test_most_confused_pairs_come_from_the_confusion_matrix(full_run):
    result, output_dir = full_run
    metrics = load_metrics(output_dir)
    deep = metrics["models"]["deep"]
    matrix = np.array(deep["confusion_matrix"])
    pairs = metrics["most_confused_pairs"]
    counts = [pair["times"] for pair in pairs]
    assert counts == sorted(counts, reverse=True) and len(pairs) == 8
    for pair in pairs:
        assert pair["true digit"] != pair["read as"]
        assert matrix[pair["true digit"], pair["read as"]] == pair["times"]
    off_diagonal = matrix - np.diag(np.diag(matrix))
    assert counts[0] == off_diagonal.max() == deep["most_frequent_mistake"]["count"]
    mistake = deep["most_frequent_mistake"]
    assert off_diagonal[mistake["true"], mistake["predicted"]] == mistake["count"]
    assert f"read as {'an' if mistake['predicted'] == 8 else 'a'} {mistake['predicted']}, " \
        f"{mistake['count']} times" in result.stdout  # fmt: skip


@pytest.mark.slow
def test_the_weakest_digit_is_read_out_from_the_report(full_run):
    result, output_dir = full_run
    for name in ("simple", "deep"):
        model = load_metrics(output_dir)["models"][name]
        weakest, matrix = model["weakest_digit"], np.array(model["confusion_matrix"])
        d = weakest["digit"]
        assert weakest["predicted_as_it"] == matrix[:, d].sum()
        assert weakest["right_among_them"] == matrix[d, d]
        assert weakest["true_count"] == matrix[d].sum()
        assert weakest["precision"] == pytest.approx(matrix[d, d] / matrix[:, d].sum())
        assert weakest["recall"] == pytest.approx(matrix[d, d] / matrix[d].sum())
        report = (output_dir / f"classification_report_{name}.txt").read_text()
        f1_scores = [float(line.split()[3]) for line in report.splitlines()[2:12]]
        assert d == int(np.argmin(f1_scores))
        assert f"weakest digit: {d} (F1 {weakest['f1']:.3f})" in result.stdout


@pytest.mark.slow
def test_full_run_writes_figures_and_reports(full_run):
    result, output_dir = full_run
    for name in EXPECTED_FIGURES:
        assert_valid_png(output_dir / name)
    for name in ("simple", "deep"):
        report = (output_dir / f"classification_report_{name}.txt").read_text()
        assert "precision" in report and "recall" in report and "f1-score" in report
        assert report in result.stdout
    assert not list(output_dir.rglob(".*.part*")), "temporary files left behind"


# A fresh Python, outside the project, with nothing of it on the path: plain Keras only. The
# saved models were compiled by the lesson's own compile(): evaluate works as it loads.
LOAD_IN_A_FRESH_PYTHON = """
import json, sys
import keras, numpy as np
x_test, y_test = np.load(sys.argv[2]), np.load(sys.argv[3])
model = keras.saving.load_model(sys.argv[1])
loss, accuracy = model.evaluate(x_test, np.eye(10, dtype="float32")[y_test], verbose=0)
print(json.dumps({"accuracy": float((model.predict(x_test, verbose=0).argmax(1) == y_test).mean()),
                  "evaluated": float(accuracy), "loss": float(loss),
                  "project": any("mnist_lesson" in name for name in sys.modules)}))
"""


def accuracy_in_a_fresh_python(model_path, mnist_path, tmp_path, count=None, backend="tensorflow"):
    """The saved model's accuracy on the first ``count`` test digits (all by default), in a new
    Python outside the project, on ``backend``."""
    from mnist_lesson.data import load_mnist

    mnist = load_mnist(mnist_path)
    images = mnist.x_test[:count, ..., np.newaxis].astype("float32") / 255.0
    np.save(tmp_path / "x.npy", images)
    np.save(tmp_path / "y.npy", mnist.y_test[:count])
    result = subprocess.run(
        [sys.executable, "-c", LOAD_IN_A_FRESH_PYTHON, model_path, tmp_path / "x.npy",
         tmp_path / "y.npy"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "KERAS_BACKEND": backend},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_saved_models_load_with_plain_keras_and_evaluate_as_in_the_run(
    full_run, mnist_path, tmp_path
):
    _, output_dir = full_run
    metrics = load_metrics(output_dir)
    for name in ("simple", "deep"):
        loaded = accuracy_in_a_fresh_python(
            output_dir / "models" / f"{name}.keras", mnist_path, tmp_path
        )
        assert loaded["project"] is False
        assert loaded["accuracy"] == pytest.approx(metrics["models"][name]["test_accuracy"])
        assert loaded["evaluated"] == pytest.approx(metrics["models"][name]["test_accuracy"])
        assert loaded["loss"] == pytest.approx(metrics["models"][name]["test_loss"], rel=1e-4)


@pytest.mark.slow
def test_full_run_output_is_readable(full_run):
    result, _ = full_run
    assert "(standard MNIST)" in result.stdout and "not the standard" not in result.stdout
    assert "test accuracy" in result.stdout
    assert result.stderr == "", result.stderr  # no TensorFlow log lines, no warnings


def test_the_lessons_recipes_are_the_ones_validation_chose(quick_run):
    """benchmarks/recipe_search.py chose each recipe on validation digits; the lesson uses it."""
    _, output_dir = quick_run
    models = load_metrics(output_dir)["models"]
    rounds = json.loads((ROOT / "benchmarks" / "recipe_search.json").read_text())["rounds"]
    for name in ("simple", "deep"):
        chosen = [entry for entry in rounds if entry["model"] == name][-1]["chosen_recipe"]
        model = models[name]
        assert model["hidden_layers"] == chosen["hidden"]
        assert model["output_activation"] == chosen["output"] and model["loss"] == chosen["loss"]
        for key in ("epochs", "learning_rate", "batch_size", "shift_pixels"):
            assert model[key] == chosen[key], (name, key)


def test_quick_mode_runs_on_a_subset(quick_run):
    _, output_dir = quick_run
    metrics = load_metrics(output_dir)
    assert metrics["quick"] is True
    assert metrics["dataset"]["n_train"] + metrics["dataset"]["n_validation"] == 3_000
    assert metrics["dataset"]["n_test"] == 1_000
    assert metrics["dataset"]["standard_mnist"] is True  # the file loaded is still the standard
    # --quick means fewer digits, in a script as in a notebook; the epochs stay as they are.
    assert [metrics["models"][name]["epochs"] for name in ("simple", "deep")] == [6, 5]
    for name in EXPECTED_FIGURES:
        assert_valid_png(output_dir / name)
    assert (output_dir / "models" / "deep.keras").stat().st_size > 0
    assert metrics["robustness"]["shift_pixels"] == [0, 1, 2, 3, 4]
    page = output_dir / "draw_a_digit.html"
    assert page.read_text().startswith("<!DOCTYPE html>")
    result, _ = quick_run
    assert f"draw a digit: open {page} in a browser" in result.stdout.splitlines()
    assert result.stdout.splitlines()[-1] == f"results saved in {output_dir}/"
    # The benchmark's gains over seeds are for the full run: a quick run says so, in one line.
    lines = [line for line in result.stdout.splitlines() if "gains over seeds" in line]
    assert lines == [
        "no gains over seeds shown: benchmarks/ladder_seeds.json was measured on the full "
        "default run"
    ]


def test_help_lists_the_options():
    result = run_lesson("--help", timeout=120)
    assert result.returncode == 0
    for option in (
        "--data",
        "--seed",
        "--epochs",
        "--batch-size",
        "--output-dir",
        "--quick",
        "--show",
    ):
        assert option in result.stdout
    assert "MNIST_PATH" in result.stdout


# Runs a script's command-line handling in this process and reports whether TensorFlow was
# imported by the time it answered: no clock needed, and no flaky timing bound.
ANSWERED_WITHOUT_TENSORFLOW = """
import runpy, sys
sys.argv = [sys.argv[1], *sys.argv[2:]]
try:
    runpy.run_path(sys.argv[0], run_name="__main__")
    outcome = "finished"
except SystemExit as stop:
    outcome = f"exit {stop.code}"
except Exception as error:  # what the script's excepthook turns into one line and status 1
    outcome = f"raised {type(error).__name__}"
print(outcome, "tensorflow" in sys.modules, "keras" in sys.modules)
"""


def answer_without_tensorflow(script, *args, env=None) -> str:
    result = subprocess.run(
        [sys.executable, "-c", ANSWERED_WITHOUT_TENSORFLOW, ROOT / script, *args],
        cwd=ROOT, capture_output=True, text=True, timeout=60, env=env,
    )  # fmt: skip
    return result.stdout.splitlines()[-1]


@pytest.mark.parametrize("script", ["mnist_classification.py", "predict_digits.py"])
@pytest.mark.parametrize("args", [["--help"], ["--no-such-option"], ["--seed", "x"]])
def test_help_and_option_errors_answer_before_tensorflow_is_imported(script, args):
    expected = "0" if args == ["--help"] else "2"
    assert answer_without_tensorflow(script, *args) == f"exit {expected} False False"


@pytest.mark.parametrize("how", ["--data", "MNIST_PATH"])
@pytest.mark.parametrize("bad", ["missing", "an HTML page"])
def test_bad_data_is_refused_before_keras_is_imported_one_status_per_mistake(how, bad, tmp_path):
    """A missing path is the same mistake whether it comes from --data or from MNIST_PATH, and
    bad data is refused before Keras (and TensorFlow) load: within a second or two."""
    import os

    path = tmp_path / "mnist.npz"
    if bad == "an HTML page":
        path.write_text("<!DOCTYPE html><html><body>Not found</body></html>")
    args = ["--output-dir", str(tmp_path / "out")]
    env = {**os.environ, "MPLBACKEND": "Agg"}
    if how == "--data":
        args += ["--data", str(path)]
    else:
        env["MNIST_PATH"] = str(path)
    assert answer_without_tensorflow("mnist_classification.py", *args, env=env) == (
        "raised DataError False False"
    )
    result = run_lesson(*args, env={"MNIST_PATH": str(path)} if how == "MNIST_PATH" else None)
    assert result.returncode == 1
    assert_clean_failure(result, "error:", "no such file" if bad == "missing" else "HTML")


@pytest.mark.parametrize(
    "args, complaint",
    [
        (["--simple-epochs", "-1"], "must be at least 1"),
        (["--epochs", "0"], "must be at least 1"),
        (["--batch-size", "0"], "must be at least 1"),
        (["--batch-size", "many"], "not a whole number"),
        (["--seed", "-3"], "between 0 and"),
        (["--no-such-option"], "unrecognized arguments"),
    ],
)
def test_invalid_options_are_one_line(args, complaint):
    result = run_lesson(*args, timeout=120)
    assert result.returncode == 2
    assert_clean_failure(result, "error:", complaint, "--help")
    assert "usage:" not in result.stderr


def test_redirected_log_is_plain_text(quick_run):
    """stdout is a pipe here, as in CI, tee or nohup: plain lines, no escape codes, no
    backspaces or carriage returns; Keras' own line per epoch (verbose=2)."""
    result, _ = quick_run
    for stream in (result.stdout, result.stderr):
        assert not re.search(r"[\x1b\x08\r]", stream), repr(stream[:500])
    assert result.stderr == "", result.stderr
    epochs = re.findall(r"^Epoch (\d+)/(\d+)$", result.stdout, re.M)
    assert [total for _, total in epochs] == ["6"] * 6 + ["5"] * 5  # the two models of Part 1
    keras_lines = re.findall(r"^\d+/\d+ - \d+s - \d+ms/step - categorical_accuracy: [\d.]+ - "
                             r"loss: [\d.]+ - val_categorical_accuracy: [\d.]+ - val_loss: "
                             r"[\d.]+$", result.stdout, re.M)  # fmt: skip
    assert len(keras_lines) == 11


def test_the_lesson_prints_no_timings_of_its_own(quick_run):
    """Only Keras' per-epoch lines show a time: the lesson's own lines carry none."""
    result, _ = quick_run
    timed = [line for line in result.stdout.splitlines()
             if re.search(r"\d+\.\d+ ?s\b|\d+ s\b|\d+ ?ms\b|\bseconds?\b", line)]  # fmt: skip
    assert timed and all(re.match(r"^\d+/\d+ - \d+s - \d+ms/step - ", line) for line in timed)


def markdown_headings() -> list[str]:
    """The lesson's part and section headings, as its markdown cells write them."""
    import jupytext

    from conftest import LESSON

    headings = []
    for cell in jupytext.read(LESSON).cells:
        if cell.cell_type == "markdown":
            headings += [line.lstrip("#").strip() for line in cell.source.splitlines()
                         if re.match(r"^#{1,2} (Part \d|\d+\.|Recap)", line)]  # fmt: skip
    return headings


def test_in_a_terminal_each_section_starts_with_its_heading(quick_run):
    """A script user can find "section 8": every part's and section's heading is printed, in
    order and as the notebook writes it, before that section's output; each table is titled."""
    result, _ = quick_run
    lines = result.stdout.splitlines()
    printed = [line for line, rule in zip(lines, lines[1:])
               if rule and set(rule) <= {"=", "-"} and len(rule) == len(line)]  # fmt: skip
    assert printed == markdown_headings()
    assert lines[0:3] == ["", "Part 1: The basics", "=================="]
    from conftest import LESSON

    titles = [line for before, line in zip(lines, lines[1:]) if not before and line.endswith(":")]
    assert len(titles) == LESSON.read_text().count("reports.show_table(") >= 9
    assert "The ladder, test accuracy:" in lines


def test_the_ladder_table_has_at_most_seven_columns(quick_run):
    result, _ = quick_run
    lines = result.stdout.splitlines()
    header = lines[lines.index("The ladder, test accuracy:") + 1]
    assert header.split() == ["change", "test", "accuracy", "gain", "(points)", "gain", "over",
                              "seeds", "(points)"]  # fmt: skip


@pytest.mark.slow
def test_options_reach_the_models(mnist_path, tmp_path):
    result = run_lesson(
        "--quick", "--simple-epochs", "2", "--deep-epochs", "3", "--batch-size", "125",
        "--data", mnist_path, "--output-dir", tmp_path / "a", timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    models = load_metrics(tmp_path / "a")["models"]
    assert [models[name]["epochs"] for name in ("simple", "deep")] == [2, 3]
    assert [len(models[name]["history"]["loss"]) for name in ("simple", "deep")] == [2, 3]
    assert models["simple"]["batch_size"] == models["deep"]["batch_size"] == 125
    ladder = load_metrics(tmp_path / "a")["ladder"]
    assert [rung["epochs"] for rung in ladder] == [2, 2, 3, 3, 3, 3]  # each rung's own recipe
    assert {rung["batch_size"] for rung in ladder} == {125}
    # --epochs sets both models' epochs.
    result = run_lesson(
        "--quick", "--epochs", "2", "--data", mnist_path, "--output-dir", tmp_path / "b",
        timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    models = load_metrics(tmp_path / "b")["models"]
    assert models["simple"]["epochs"] == models["deep"]["epochs"] == 2
    assert models["deep"]["batch_size"] == 250


PARAMETERS = {"data": None, "seed": 42, "simple_epochs": 6, "deep_epochs": 5, "batch_size": 250,
              "output_dir": "outputs", "quick": False, "show": False}  # fmt: skip


@pytest.mark.parametrize(
    "change, complaint",
    [
        ({"deep_epochs": 0}, "deep_epochs must be a whole number of at least 1, not 0"),
        ({"batch_size": 2.5}, "batch_size must be a whole number of at least 1, not 2.5"),
        ({"seed": -1}, "seed must be a whole number from 0 to 2**32 - 1, not -1"),
    ],
)
def test_the_parameter_cell_is_checked_as_the_command_line_is(change, complaint):
    """In a notebook a bad setting is one line too: Jupyter shows the error's own rendering."""
    from mnist_lesson.errors import UserError
    from mnist_lesson.settings import settings_from_parameters

    assert settings_from_parameters(PARAMETERS).deep_epochs == 5
    with pytest.raises(UserError) as caught:
        settings_from_parameters(PARAMETERS | change)
    assert str(caught.value) == complaint
    assert caught.value._render_traceback_() == [f"error: {complaint}"]
