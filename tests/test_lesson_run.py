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

from conftest import ROOT, assert_clean_failure, assert_valid_png, load_metrics, run_lesson
from mnist_lesson.architecture import changed_groups
from mnist_lesson.benchmark_results import RUNG_SETTINGS

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
    assert deep["layers"] == ["Dense(512, relu)", "Dense(512, relu)", "Dense(10, softmax)"]
    environment = metrics["environment"]
    assert environment["backend"] == "tensorflow" and environment["keras"]
    assert environment["op_determinism"] is False  # a CPU: every kernel is deterministic


def assert_ladder_is_paired(metrics: dict) -> list[dict]:
    """The ladder: the simple model first, the deep model last, each rung changing one group of
    settings, in the order the lesson tells; every rung with the same XLA setting; rungs of the
    same shapes from the same initial weights."""
    ladder, models = metrics["ladder"], metrics["models"]
    n_test = metrics["dataset"]["n_test"]
    for rung in ladder:
        assert isinstance(rung["change"], str) and rung["change"]
        assert 0 < rung["validation_accuracy"] <= 1 and 0 < rung["test_accuracy"] <= 1
        assert all(key in rung for key in RUNG_SETTINGS)
    for rung, name in ((ladder[0], "simple"), (ladder[-1], "deep")):
        model = models[name]
        assert rung["model"] == name
        assert {key: rung[key] for key in RUNG_SETTINGS} == {
            key: model[key] for key in RUNG_SETTINGS
        }
        assert rung["test_accuracy"] == pytest.approx(model["test_accuracy"], abs=0.5 / n_test)
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
    assert len({rung["xla"] for rung in ladder}) == 1, "one XLA setting for every rung"
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
    """Section 3's check: before the first step, a ten-way softmax scores about ln 10 and the
    simple model's ten yes/no outputs about ln 2, as sections 4 and 5 say."""
    result, output_dir = quick_run
    metrics = load_metrics(output_dir)
    simple, deep = metrics["models"]["simple"], metrics["models"]["deep"]
    assert simple["before_training"]["val_loss"] == pytest.approx(math.log(2), abs=0.15)
    assert deep["before_training"]["val_loss"] == pytest.approx(math.log(10), abs=0.15)
    assert result.stdout.count("before training\n") == 2  # two trainings, each checked first


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
    # "the spread shrinks layer after layer": every digit reaches the last layers alike
    assert np.all(np.diff(sigmoid_spread) < 0) and sigmoid_spread[-1] / sigmoid_spread[0] < 1e-2
    # "the layers near the output get the largest gradients, those near the input the smallest"
    sigmoid_norms = np.array(norms["sigmoid"])
    assert np.all(np.diff(sigmoid_norms) > 0) and sigmoid_norms[0] / sigmoid_norms[-1] < 1e-2
    # "in the ReLU stack both shrink far less"
    relu_norms = np.array(norms["relu"])
    assert (relu_spread[-1] / relu_spread[0]) > 10 * (sigmoid_spread[-1] / sigmoid_spread[0])
    assert relu_norms.max() / relu_norms.min() < 10
    accuracy = evidence["short_training"]["val_accuracy"]
    assert len(accuracy["sigmoid"]) == len(accuracy["relu"]) == 2
    assert max(accuracy["sigmoid"]) < 0.15  # "stays at chance, one digit in ten"
    assert accuracy["relu"][-1] > 0.5  # "learns"


@pytest.mark.slow
def test_training_and_validation_digits_measured_alike(full_run):
    """Section 5's table: each model measured on both after training, the gap between them."""
    _, output_dir = full_run
    table = load_metrics(output_dir)["fit_accuracy"]
    assert set(table) == {"deep", "unshifted", "sigmoid_hidden"}
    for row in table.values():
        gap = row["training digits"] - row["validation digits"]
        assert row["gap (points)"] == pytest.approx(100 * gap)
        assert gap > 0, "a model does better on the digits it learned from"


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
    assert_section_10_claims({name: [values] for name, values in robustness.items()})


def assert_section_10_claims(robustness: dict[str, list[list[float]]]) -> None:
    """Section 10's prose, on each run given (one list of accuracies per run and model)."""
    for simple, unshifted, deep in zip(
        robustness["simple"], robustness["unshifted"], robustness["deep"]
    ):
        # "far better at one and two pixels, and better at every shift measured"
        assert all(d > u for d, u in zip(deep[1:], unshifted[1:]))
        assert deep[1] - unshifted[1] > 0.01 and deep[2] - unshifted[2] > 0.05
        # "beyond the shifts it trained on it still loses ground fast"
        assert deep[2] - deep[4] > 0.2
        # "the simple model loses most"
        assert all(s < min(u, d) for s, u, d in zip(simple[1:], unshifted[1:], deep[1:]))


def assert_section_9_claims(weight_pictures: dict[str, list[float]]) -> None:
    """ "The darkest colours sit ... on pixels that few digits ink", on each run given."""
    for strongest, drawn in zip(
        weight_pictures["the tenth with the strongest weights"], weight_pictures["all pixels drawn"]
    ):
        assert strongest < drawn / 2


@pytest.mark.slow
def test_the_simple_models_strongest_weights_sit_where_few_digits_ink(full_run):
    _, output_dir = full_run
    pictures = load_metrics(output_dir)["weight_pictures"]
    assert 0.05 <= pictures["the tenth with the strongest weights"] < pictures["all pixels drawn"]
    assert_section_9_claims({key: [value] for key, value in pictures.items()})


@pytest.mark.slow
def test_calibration_is_measured(full_run):
    _, output_dir = full_run
    metrics = load_metrics(output_dir)
    calibration = metrics["calibration"]
    assert sum(row["digits"] for row in calibration["bins"]) == metrics["dataset"]["n_test"]
    as_they_are = calibration["confidence"]["as they are"]
    assert as_they_are["right"] == pytest.approx(metrics["models"]["deep"]["test_accuracy"])
    assert as_they_are["calibration error"] == calibration["expected_calibration_error"]
    assert 0 < as_they_are["wrong among them"] < as_they_are["top score >= 0.9"]
    assert_section_11_claims(
        {condition: {key: [value] for key, value in numbers.items()}
         for condition, numbers in calibration["confidence"].items()}
    )  # fmt: skip


def assert_section_11_claims(confidence: dict[str, dict[str, list]]) -> None:
    """Section 11's prose, on each run given."""
    plain, moved = confidence["as they are"], confidence["moved by 3 pixels"]
    for run in range(len(plain["right"])):
        # "the mean top score and the share of right answers are close"
        assert abs(plain["mean top score"][run] - plain["right"][run]) < 0.005
        assert plain["calibration error"][run] < 0.01
        # moved: "the mean top score is higher than its share of right answers, and more of
        # its mistakes come with a top score of 0.9 or more"
        assert moved["mean top score"][run] > moved["right"][run] + 0.01
        assert moved["wrong among them"][run] > plain["wrong among them"][run]


@pytest.mark.slow
def test_most_confused_pairs_come_from_the_confusion_matrix(full_run):
    result, output_dir = full_run
    metrics = load_metrics(output_dir)
    deep = metrics["models"]["deep"]
    matrix = np.array(deep["confusion_matrix"])
    pairs = metrics["most_confused_pairs"]
    counts = [pair["times"] for pair in pairs]
    assert counts == sorted(counts, reverse=True)
    for pair in pairs:
        assert pair["true digit"] != pair["predicted as"]
        assert matrix[pair["true digit"], pair["predicted as"]] == pair["times"]
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


# A fresh Python, outside the project, with nothing of it on the path: plain Keras only.
LOAD_IN_A_FRESH_PYTHON = """
import json, sys
import keras, numpy as np
x_test, y_test = np.load(sys.argv[2]), np.load(sys.argv[3])
model = keras.saving.load_model(sys.argv[1])
print(json.dumps({"accuracy": float((model.predict(x_test, verbose=0).argmax(1) == y_test).mean()),
                  "project": any("mnist_lesson" in name for name in sys.modules)}))
"""


def accuracy_in_a_fresh_python(model_path, mnist_path, tmp_path, count=None) -> dict:
    """The saved model's accuracy on the first ``count`` test digits (all by default), in a new
    Python outside the project, on TensorFlow, Keras' default backend."""
    from mnist_lesson.data import load_mnist

    mnist = load_mnist(mnist_path)
    np.save(tmp_path / "x.npy", mnist.x_test[:count].reshape(-1, 784).astype("float32") / 255.0)
    np.save(tmp_path / "y.npy", mnist.y_test[:count])
    result = subprocess.run(
        [sys.executable, "-c", LOAD_IN_A_FRESH_PYTHON, model_path, tmp_path / "x.npy",
         tmp_path / "y.npy"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "KERAS_BACKEND": "tensorflow"},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_saved_models_load_with_plain_keras_and_score_as_in_the_run(full_run, mnist_path, tmp_path):
    _, output_dir = full_run
    metrics = load_metrics(output_dir)
    for name in ("simple", "deep"):
        loaded = accuracy_in_a_fresh_python(
            output_dir / "models" / f"{name}.keras", mnist_path, tmp_path
        )
        assert loaded["project"] is False
        assert loaded["accuracy"] == pytest.approx(metrics["models"][name]["test_accuracy"])


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
    backspaces or carriage returns, and no step count past its total."""
    result, _ = quick_run
    for stream in (result.stdout, result.stderr):
        assert not re.search(r"[\x1b\x08\r]", stream), repr(stream[:500])
    assert result.stderr == "", result.stderr
    epoch_lines = re.findall(r"^epoch (\d+)/(\d+) \(\d+\.\d s\)$", result.stdout, re.M)
    # the simple recipe's 6 epochs, the deep recipe's 5
    assert len(epoch_lines) == 11, epoch_lines
    model_lines = re.findall(r"^  (\w+) +loss [\d.]+  accuracy [\d.]+ +\| validation loss [\d.]+"
                             r"  accuracy [\d.]+$", result.stdout, re.M)  # fmt: skip
    assert len(model_lines) == 2 * 6 + 4 * 5  # the simple model and its twin; the deep four
    for done, total in re.findall(r"\b(\d+)/(\d+)\b", result.stdout):
        assert int(done) <= int(total)


def test_models_side_by_side_log_one_line_each():
    from mnist_lesson.training_log import format_lines, per_model

    alone = {"accuracy": 0.9, "loss": 0.3, "val_accuracy": 0.91, "val_loss": 0.28}
    assert per_model(alone, ["simple"]) == {"simple": alone}
    pair = {
        "loss": 0.7, "deep_accuracy": 0.93, "deep_loss": 0.2, "sigmoid_accuracy": 0.85,
        "sigmoid_loss": 0.5, "val_loss": 0.2, "val_deep_accuracy": 0.97, "val_deep_loss": 0.1,
        "val_sigmoid_accuracy": 0.96, "val_sigmoid_loss": 0.15,
    }  # fmt: skip
    split = per_model(pair, ["deep", "sigmoid"])
    assert split["sigmoid"] == {"loss": 0.5, "accuracy": 0.85, "val_loss": 0.15,
                                "val_accuracy": 0.96}  # fmt: skip
    assert format_lines(split) == [
        "  deep     loss 0.2000  accuracy 0.9300  | validation loss 0.1000  accuracy 0.9700",
        "  sigmoid  loss 0.5000  accuracy 0.8500  | validation loss 0.1500  accuracy 0.9600",
    ]


def test_live_progress_in_a_terminal_never_counts_past_the_total(monkeypatch, capsys):
    from mnist_lesson.training_log import training_log

    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    log = training_log(["deep"], {"loss": 2.3, "accuracy": 0.1})
    log.set_params({"epochs": 1, "steps": 215})
    log.on_epoch_begin(0)
    for step in range(19, 220, 20):  # steps_per_execution=20: 20, 40, ..., 220 of 215
        log.on_train_batch_end(step)
    log.on_epoch_end(0, {"loss": 0.5, "accuracy": 0.9})
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
