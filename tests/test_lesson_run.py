"""The lesson's full default run on real MNIST, and its quick mode."""

from __future__ import annotations

import re
import subprocess
import sys

import numpy as np
import pytest

from conftest import ROOT, assert_clean_failure, assert_valid_png, load_metrics, run_lesson

EXPECTED_FIGURES = (
    "sample_digits.png",
    "confusion_matrix_simple.png",
    "confusion_matrix_deep.png",
    "training_history.png",
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
    assert models["simple"]["test_accuracy"] >= 0.925
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
    for name, activation in (("simple", "sigmoid"), ("deep", "relu")):
        model = metrics["models"][name]
        assert model["activation"] == activation
        assert isinstance(model["test_accuracy"], float) and 0 < model["test_accuracy"] <= 1
        assert isinstance(model["train_seconds"], float) and model["train_seconds"] > 0
        assert isinstance(model["epochs"], int) and model["epochs"] >= 1
        assert isinstance(model["params"], int) and model["params"] > 0
        matrix = np.array(model["confusion_matrix"])
        assert matrix.shape == (10, 10) and matrix.sum() == dataset["n_test"]
        assert np.trace(matrix) / matrix.sum() == pytest.approx(model["test_accuracy"], abs=1e-6)
        assert len(model["history"]["val_accuracy"]) == model["epochs"]
    assert metrics["models"]["simple"]["params"] == 784 * 10 + 10
    assert metrics["models"]["deep"]["output_activation"] == "softmax"
    assert metrics["models"]["simple"]["output_activation"] == "sigmoid"
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
    accuracy = evidence["short_training"]["val_accuracy"]
    assert len(accuracy["sigmoid"]) == len(accuracy["relu"]) >= 2
    assert accuracy["relu"][-1] > accuracy["sigmoid"][-1] + 0.2


def assert_shift_robustness_is_measured(metrics: dict) -> dict:
    robustness = metrics["robustness"]
    assert robustness["shift_pixels"] == [0, 1, 2, 3, 4]
    for name in ("simple", "deep"):
        accuracy = robustness[name]
        assert len(accuracy) == 5 and all(0 <= value <= 1 for value in accuracy)
        # Not shifted at all: exactly the test accuracy the evaluation measured.
        assert accuracy[0] == pytest.approx(metrics["models"][name]["test_accuracy"], abs=1e-6)
    return robustness


@pytest.mark.slow
def test_shifted_digits_cost_the_dense_models_accuracy(full_run):
    _, output_dir = full_run
    robustness = assert_shift_robustness_is_measured(load_metrics(output_dir))
    for name in ("simple", "deep"):
        accuracy = robustness[name]
        assert all(a > b for a, b in zip(accuracy, accuracy[1:])), (name, accuracy)
    assert robustness["deep"][4] < robustness["deep"][0] - 0.2  # what the lesson's prose says


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
    import keras

    from mnist_lesson.data import load_mnist

    _, output_dir = full_run
    metrics = load_metrics(output_dir)
    mnist = load_mnist(mnist_path)
    x_test = mnist.x_test.reshape(-1, 784).astype("float32") / 255.0
    for name in ("simple", "deep"):
        model = keras.saving.load_model(output_dir / "models" / f"{name}.keras", safe_mode=True)
        accuracy = float((model.predict(x_test, verbose=0).argmax(1) == mnist.y_test).mean())
        assert accuracy == pytest.approx(metrics["models"][name]["test_accuracy"], abs=1e-4)


@pytest.mark.slow
def test_full_run_output_is_readable(full_run):
    result, _ = full_run
    assert "(standard MNIST)" in result.stdout and "not the standard" not in result.stdout
    assert "test accuracy" in result.stdout
    assert result.stderr.count("\n") < 20, result.stderr  # no TensorFlow start-up log flood
    assert "oneDNN" not in result.stderr and "cuInit" not in result.stderr


def test_quick_mode_runs_on_a_subset(quick_run):
    _, output_dir = quick_run
    metrics = load_metrics(output_dir)
    assert metrics["quick"] is True
    assert metrics["dataset"]["n_train"] + metrics["dataset"]["n_validation"] == 3_000
    assert metrics["dataset"]["n_test"] == 1_000
    assert metrics["dataset"]["standard_mnist"] is True  # the file loaded is still the standard
    assert metrics["models"]["simple"]["epochs"] == metrics["models"]["deep"]["epochs"] == 1
    for name in EXPECTED_FIGURES:
        assert_valid_png(output_dir / name)
    assert (output_dir / "models" / "deep.keras").stat().st_size > 0
    assert_shift_robustness_is_measured(metrics)
    page = output_dir / "draw_a_digit.html"
    assert page.read_text().startswith("<!DOCTYPE html>")
    result, _ = quick_run
    assert result.stdout.splitlines()[-1] == f"draw a digit: open {page} in a browser"


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
    epoch_lines = [line for line in result.stdout.splitlines() if line.startswith("Epoch ")]
    assert epoch_lines == [line for line in epoch_lines if re.match(r"Epoch 1/1: .*\(\d", line)]
    assert len(epoch_lines) == 2  # one epoch of each model in --quick
    for done, total in re.findall(r"\b(\d+)/(\d+)\b", result.stdout):
        assert int(done) <= int(total)


def test_live_progress_in_a_terminal_never_counts_past_the_total(monkeypatch, capsys):
    from mnist_lesson import runtime

    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    log = runtime.training_log()
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
        "--quick", "--simple-epochs", "2", "--deep-epochs", "3", "--batch-size", "128",
        "--data", mnist_path, "--output-dir", tmp_path / "a", timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    models = load_metrics(tmp_path / "a")["models"]
    assert [models[name]["epochs"] for name in ("simple", "deep")] == [2, 3]
    assert [len(models[name]["history"]["loss"]) for name in ("simple", "deep")] == [2, 3]
    assert models["simple"]["batch_size"] == models["deep"]["batch_size"] == 128
    # --epochs sets both models' epochs.
    result = run_lesson(
        "--quick", "--epochs", "2", "--data", mnist_path, "--output-dir", tmp_path / "b",
        timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    models = load_metrics(tmp_path / "b")["models"]
    assert models["simple"]["epochs"] == models["deep"]["epochs"] == 2
    assert models["deep"]["batch_size"] == 256
