"""The lesson's full default run on real MNIST, and its quick mode."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import numpy as np
import pytest

from conftest import (
    ROOT,
    assert_clean_failure,
    assert_valid_png,
    load_lesson_model,
    load_metrics,
    run_lesson,
)

EXPECTED_FIGURES = (
    "sample_digits.png",
    "confusion_matrix_simple.png",
    "confusion_matrix_deep.png",
    "training_history.png",
    "ladder.png",
    "vanishing_gradients.png",
    "simple_model_weights.png",
    "misclassified_deep.png",
    "softmax_probabilities.png",
    "shift_robustness.png",
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
        assert isinstance(model["train_seconds"], float) and model["train_seconds"] > 0
        assert isinstance(model["epochs"], int) and model["epochs"] >= 1
        assert isinstance(model["parameters"], int) and model["parameters"] > 0
        matrix = np.array(model["confusion_matrix"])
        assert matrix.shape == (10, 10) and matrix.sum() == dataset["n_test"]
        assert np.trace(matrix) / matrix.sum() == pytest.approx(model["test_accuracy"], abs=1e-6)
        assert len(model["history"]["val_accuracy"]) == model["epochs"]
    simple, deep = metrics["models"]["simple"], metrics["models"]["deep"]
    assert simple["parameters"] == 784 * 10 + 10 and simple["hidden_layers"] == []
    assert (simple["output_activation"], simple["loss"]) == ("sigmoid", "binary_crossentropy")
    assert (deep["hidden_activation"], deep["output_activation"]) == ("relu", "softmax")
    assert deep["loss"] == "categorical_crossentropy" and deep["hidden_layers"] == [512, 512]
    assert metrics["environment"]["deterministic_ops"] is True


@pytest.mark.slow
def test_vanishing_gradients_are_measured_on_real_mnist(full_run):
    _, output_dir = full_run
    evidence = load_metrics(output_dir)["vanishing_gradient"]
    assert evidence["hidden_layers"] >= 6
    for activation in ("sigmoid", "relu"):
        norms = np.array(evidence[activation])
        assert len(norms) == evidence["hidden_layers"]
        assert np.all(np.isfinite(norms)) and np.all(norms > 0)
    sigmoid, relu = np.array(evidence["sigmoid"]), np.array(evidence["relu"])
    # Input-side over output-side gradient: tiny for sigmoid, of order one for ReLU.
    assert (relu[0] / relu[-1]) / (sigmoid[0] / sigmoid[-1]) > 100
    assert sigmoid[0] / sigmoid[-1] < 1e-2
    assert relu.max() / relu.min() < 10  # "within a few times of each other"
    accuracy = evidence["short_training"]["val_accuracy"]
    assert len(accuracy["sigmoid"]) == len(accuracy["relu"]) >= 2
    assert max(accuracy["sigmoid"]) < 0.2  # "stays near chance, one digit in ten"
    assert accuracy["relu"][-1] > 0.5  # "learns"


def assert_shift_robustness_is_measured(metrics: dict) -> dict:
    robustness = metrics["robustness"]
    assert robustness["shift_pixels"] == [0, 1, 2, 3, 4]
    for name in ("simple", "deep"):
        accuracy = robustness[name]
        assert len(accuracy) == 5 and all(0 <= value <= 1 for value in accuracy)
        # Not shifted at all: exactly the test accuracy the evaluation measured.
        assert accuracy[0] == pytest.approx(metrics["models"][name]["test_accuracy"], abs=1e-6)
    return robustness


# What changes from one rung of the ladder to the next: each rung changes exactly one of these.
LADDER_FACTORS = {
    "output": ("output_activation", "loss"),
    "recipe": ("epochs", "learning_rate"),
    "hidden layers": ("hidden_layers",),
    "hidden activation": ("hidden_activation",),
    "shift": ("shift_pixels",),
}
DESCRIPTION = ("hidden_layers", "hidden_activation", "output_activation", "loss", "epochs",
               "learning_rate", "shift_pixels", "parameters")  # fmt: skip


def changed(above: dict, rung: dict) -> set[str]:
    factors = {factor for factor, keys in LADDER_FACTORS.items()
               if any(above[key] != rung[key] for key in keys)}  # fmt: skip
    if not above["hidden_layers"]:  # hidden layers come with an activation: one change
        factors.discard("hidden activation")
    return factors


def assert_ladder_is_measured(metrics: dict) -> dict[str, float]:
    """The ladder's rungs: the simple model first, the deep model last, one change per rung, in
    the order the lesson tells them. Returns each change's gain in test accuracy."""
    ladder, models = metrics["ladder"], metrics["models"]
    n_test = metrics["dataset"]["n_test"]
    for rung in ladder:
        assert isinstance(rung["change"], str) and rung["change"]
        assert 0 < rung["validation_accuracy"] <= 1 and 0 < rung["test_accuracy"] <= 1
    for rung, model in ((ladder[0], models["simple"]), (ladder[-1], models["deep"])):
        assert {key: rung[key] for key in DESCRIPTION} == {key: model[key] for key in DESCRIPTION}
        assert rung["test_accuracy"] == pytest.approx(model["test_accuracy"], abs=1.5 / n_test)
    steps = [changed(above, rung) for above, rung in zip(ladder, ladder[1:])]
    assert all(len(step) == 1 for step in steps), steps
    order = [step.pop() for step in steps]
    assert order == ["output", "recipe", "hidden layers", "hidden activation", "shift"]
    # Each size of model has its recipe: the simple model's without hidden layers (but for the
    # rung that changes just the recipe), the deep model's with them.
    simple, deep = (tuple(models[name][key] for key in LADDER_FACTORS["recipe"])
                    for name in ("simple", "deep"))  # fmt: skip
    recipes = [tuple(rung[key] for key in LADDER_FACTORS["recipe"]) for rung in ladder]
    assert recipes == [simple, simple, deep, deep, deep, deep]
    return {factor: rung["test_accuracy"] - above["test_accuracy"]
            for factor, above, rung in zip(order, ladder, ladder[1:])}  # fmt: skip


@pytest.mark.slow
def test_the_ladder_measures_what_the_lesson_says(full_run):
    """The prose after the ladder, kept true: read as gains in test accuracy."""
    _, output_dir = full_run
    gains = assert_ladder_is_measured(load_metrics(output_dir))
    assert 0 < gains["output"] < 0.02, gains  # softmax: "a little better"
    assert gains["recipe"] < 0, gains  # "suits the softmax layer less well"
    others = [gain for factor, gain in gains.items() if factor != "hidden layers"]
    assert gains["hidden layers"] > 2 * max(others), gains  # "by far the biggest step"
    assert 0.005 <= gains["hidden activation"] <= 0.02, gains  # ReLU: "about another point"
    assert 0 < gains["shift"] < gains["hidden activation"], gains  # "a little more on top"
    assert (output_dir / "ladder.png").exists()


@pytest.mark.slow
def test_the_simple_models_ten_answers_need_not_sum_to_one(full_run):
    _, output_dir = full_run
    sums = load_metrics(output_dir)["simple_output_sums"]
    assert sums["percentile_5"] < sums["median"] < sums["percentile_95"]
    assert sums["percentile_95"] - sums["percentile_5"] > 0.3  # far from always 1


@pytest.mark.slow
def test_validation_accuracy_starts_above_training_accuracy_then_they_meet(full_run):
    """What the lesson explains after the deep model's log."""
    _, output_dir = full_run
    history = load_metrics(output_dir)["models"]["deep"]["history"]
    assert history["val_accuracy"][0] > history["accuracy"][0] + 0.02, history
    assert abs(history["val_accuracy"][-1] - history["accuracy"][-1]) < 0.005, history


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
        for key in ("epochs", "learning_rate", "batch_size", "shift_pixels", "xla"):
            assert model[key] == chosen[key], (name, key)


@pytest.mark.slow
def test_shifted_digits_cost_the_dense_models_accuracy(full_run):
    _, output_dir = full_run
    robustness = assert_shift_robustness_is_measured(load_metrics(output_dir))
    for name in ("simple", "deep"):
        accuracy = robustness[name]
        assert all(a > b for a, b in zip(accuracy, accuracy[1:])), (name, accuracy)
    # What the lesson's prose says about them.
    deep, simple = robustness["deep"], robustness["simple"]
    assert deep[0] - deep[1] < 0.01  # one pixel: "under a point"
    assert deep[0] - deep[2] >= 0.01  # two pixels: "a point or more"
    assert 0.25 <= 1 - deep[4] <= 0.42  # four: "about one digit in three wrong"
    assert simple[0] - simple[1] > 0.03  # "several points at one pixel already"
    assert simple[4] < 0.25  # "fewer than one digit in four at four"


@pytest.mark.slow
def test_most_confused_pairs_come_from_the_confusion_matrix(full_run):
    _, output_dir = full_run
    metrics = load_metrics(output_dir)
    matrix = np.array(metrics["models"]["deep"]["confusion_matrix"])
    pairs = metrics["most_confused_pairs"]
    assert pairs, "the deep model is not perfect, so some pair is confused"
    counts = [pair["times"] for pair in pairs]
    assert counts == sorted(counts, reverse=True)
    for pair in pairs:
        assert pair["true digit"] != pair["predicted as"]
        assert matrix[pair["true digit"], pair["predicted as"]] == pair["times"]
    off_diagonal = matrix - np.diag(np.diag(matrix))
    assert counts[0] == off_diagonal.max()


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


@pytest.mark.slow
def test_saved_models_reload_and_reproduce_the_accuracy(full_run, mnist_path):
    from mnist_lesson.data import load_mnist

    _, output_dir = full_run
    metrics = load_metrics(output_dir)
    mnist = load_mnist(mnist_path)
    x_test = mnist.x_test.reshape(-1, 784).astype("float32") / 255.0
    for name in ("simple", "deep"):
        model = load_lesson_model(output_dir / "models" / f"{name}.keras")
        accuracy = float((model.predict(x_test, verbose=0).argmax(1) == mnist.y_test).mean())
        assert accuracy == pytest.approx(metrics["models"][name]["test_accuracy"], abs=1e-4)


@pytest.mark.slow
def test_full_run_output_is_readable(full_run):
    result, _ = full_run
    assert "(standard MNIST)" in result.stdout and "not the standard" not in result.stdout
    assert "test accuracy" in result.stdout
    assert result.stderr == "", result.stderr  # no TensorFlow log lines, no warnings


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
    assert_shift_robustness_is_measured(metrics)
    assert_ladder_is_measured(metrics)
    page = output_dir / "draw_a_digit.html"
    assert page.read_text().startswith("<!DOCTYPE html>")
    result, _ = quick_run
    assert f"draw a digit: open {page} in a browser" in result.stdout.splitlines()
    assert result.stdout.splitlines()[-1] == f"results saved in {output_dir}/"


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
except SystemExit as stop:
    print("exit", stop.code, "tensorflow" in sys.modules, "keras" in sys.modules)
"""


@pytest.mark.parametrize("script", ["mnist_classification.py", "predict_digits.py"])
@pytest.mark.parametrize("args", [["--help"], ["--no-such-option"], ["--seed", "x"]])
def test_help_and_option_errors_answer_before_tensorflow_is_imported(script, args):
    result = subprocess.run(
        [sys.executable, "-c", ANSWERED_WITHOUT_TENSORFLOW, ROOT / script, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    expected = "0" if args == ["--help"] else "2"
    assert result.stdout.splitlines()[-1] == f"exit {expected} False False", result.stdout


@pytest.mark.parametrize(
    "args, complaint",
    [
        (["--simple-epochs", "-1"], "must be at least 1"),
        (["--epochs", "0"], "must be at least 1"),
        (["--batch-size", "0"], "must be at least 1"),
        (["--batch-size", "many"], "not a whole number"),
        (["--seed", "-3"], "between 0 and"),
        (["--data", "/no/such/mnist.npz"], "no such file or folder"),
        (["--no-such-option"], "unrecognized arguments"),
    ],
)
def test_invalid_options_are_one_line(args, complaint):
    result = run_lesson(*args, timeout=120)
    assert result.returncode == 2
    assert_clean_failure(result, "error:", complaint, "--help")
    assert "usage:" not in result.stderr


def test_redirected_log_is_plain_text(quick_run):
    """stdout is a pipe here, as in CI, tee or nohup: one line per epoch, no escape codes,
    no backspaces or carriage returns, and no step count past its total."""
    result, _ = quick_run
    for stream in (result.stdout, result.stderr):
        assert not re.search(r"[\x1b\x08\r]", stream), repr(stream[:500])
    assert result.stderr == "", result.stderr
    epoch_lines = [line for line in result.stdout.splitlines() if " epoch " in line]
    assert all(re.match(r"\w+ epoch \d+/\d+: .*\(\d+\.\d s\)$", line) for line in epoch_lines)
    # simple 6, deep 5, and the ladder's softmax models 6 and 5, the two hidden-layer ones 5
    assert len(epoch_lines) == 27, epoch_lines
    for done, total in re.findall(r"\b(\d+)/(\d+)\b", result.stdout):
        assert int(done) <= int(total)


def test_models_side_by_side_log_their_accuracies_only():
    from mnist_lesson.training_log import shown

    alone = {"accuracy": 0.9, "loss": 0.3, "val_accuracy": 0.91, "val_loss": 0.28}
    assert shown(alone) == alone
    pair = {
        "loss": 0.7, "relu_accuracy": 0.93, "relu_loss": 0.2, "sigmoid_accuracy": 0.85,
        "sigmoid_loss": 0.5, "val_loss": 0.2, "val_relu_accuracy": 0.97, "val_relu_loss": 0.1,
        "val_sigmoid_accuracy": 0.96, "val_sigmoid_loss": 0.15,
    }  # fmt: skip
    assert list(shown(pair)) == [
        "relu_accuracy", "sigmoid_accuracy", "val_relu_accuracy", "val_sigmoid_accuracy"
    ]  # fmt: skip


def test_live_progress_in_a_terminal_never_counts_past_the_total(monkeypatch, capsys):
    from mnist_lesson.training_log import training_log

    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    log = training_log("deep")
    log.set_params({"epochs": 1, "steps": 215})
    log.on_epoch_begin(0)
    for step in range(19, 220, 20):  # steps_per_execution=20: 20, 40, ..., 220 of 215
        log.on_train_batch_end(step)
    log.on_epoch_end(0, {"loss": 0.5})
    counts = [(int(a), int(b)) for a, b in re.findall(r"(\d+)/(\d+)", capsys.readouterr().out)]
    assert (215, 215) in counts
    assert all(done <= total for done, total in counts), counts


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
