"""The lesson's full default run on real MNIST, and its quick mode."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import assert_valid_png, load_metrics, run_lesson

EXPECTED_FIGURES = (
    "sample_digits.png",
    "confusion_matrix_simple.png",
    "confusion_matrix_deep.png",
    "training_history.png",
    "vanishing_gradients.png",
    "simple_model_weights.png",
    "misclassified_deep.png",
    "softmax_probabilities.png",
)


def test_full_run_meets_accuracy_targets(full_run):
    _, output_dir = full_run
    models = load_metrics(output_dir)["models"]
    assert models["simple"]["test_accuracy"] >= 0.925
    assert models["deep"]["test_accuracy"] >= 0.983


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


def test_full_run_writes_figures_and_reports(full_run):
    result, output_dir = full_run
    for name in EXPECTED_FIGURES:
        assert_valid_png(output_dir / name)
    for name in ("simple", "deep"):
        report = (output_dir / f"classification_report_{name}.txt").read_text()
        assert "precision" in report and "recall" in report and "f1-score" in report
        assert report in result.stdout
    assert not list(output_dir.rglob(".*.part*")), "temporary files left behind"


def test_saved_models_reload_and_reproduce_the_accuracy(full_run, mnist_path):
    import keras

    from mnist_data import load_mnist

    _, output_dir = full_run
    metrics = load_metrics(output_dir)
    mnist = load_mnist(mnist_path)
    x_test = mnist.x_test.reshape(-1, 784).astype("float32") / 255.0
    for name in ("simple", "deep"):
        model = keras.saving.load_model(output_dir / "models" / f"{name}.keras", safe_mode=True)
        accuracy = float((model.predict(x_test, verbose=0).argmax(1) == mnist.y_test).mean())
        assert accuracy == pytest.approx(metrics["models"][name]["test_accuracy"], abs=1e-4)


def test_full_run_output_is_readable(full_run):
    result, _ = full_run
    assert "standard MNIST" in result.stdout
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


@pytest.mark.parametrize(
    "args, complaint",
    [
        (["--simple-epochs", "-1"], "must be at least 1"),
        (["--epochs", "0"], "must be at least 1"),
        (["--batch-size", "0"], "must be at least 1"),
        (["--batch-size", "many"], "not a whole number"),
        (["--seed", "-3"], "between 0 and"),
        (["--data", "/no/such/mnist.npz"], "no such file or folder"),
    ],
)
def test_invalid_options_are_rejected_by_the_parser(args, complaint):
    result = run_lesson(*args, timeout=120)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "usage:" in result.stderr and complaint in result.stderr
