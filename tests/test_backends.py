"""The same lesson on Keras' JAX backend: it runs to the end with the same structure, its tools
take its models, the same seed gives the same numbers, and its models load anywhere."""

from __future__ import annotations

import json
import re

import pytest

from conftest import ROOT, load_metrics, run_lesson, run_script

PREDICT = ROOT / "predict_digits.py"


def structure(metrics: dict) -> dict:
    """What must not depend on the backend: the sections' keys, the ladder's rungs and their
    settings (but XLA, which Keras turns on for JAX), the models' layers."""
    settings = ("change", "hidden_layers", "hidden_activation", "output_activation", "loss",
                "epochs", "learning_rate", "batch_size", "shift_pixels")  # fmt: skip
    return {
        "keys": sorted(metrics),
        "ladder": [{key: rung[key] for key in settings} for rung in metrics["ladder"]],
        "layers": {name: model["layers"] for name, model in metrics["models"].items()},
        "dataset": metrics["dataset"],
    }


def lines_without_numbers(stdout: str) -> list[str]:
    """The lines with their digits masked; the calibration table's rows go, as a run has one
    per score bin its digits fall in."""
    masked = [re.sub(r"\d", "#", line) for line in stdout.splitlines()
              if not line.startswith(("Keras ", "source: "))]  # fmt: skip
    return [line for line in masked if not line.startswith("#.#-#.#")]


def test_the_quick_lesson_on_jax_matches_tensorflow_in_structure(jax_quick_run, quick_run):
    jax_result, jax_dir = jax_quick_run
    tf_result, tf_dir = quick_run
    jax_metrics, tf_metrics = load_metrics(jax_dir), load_metrics(tf_dir)
    assert jax_metrics["environment"]["backend"] == "jax"
    assert tf_metrics["environment"]["backend"] == "tensorflow"
    assert structure(jax_metrics) == structure(tf_metrics)
    # Keras compiles every model with XLA on JAX, but for the one with RandomTranslation,
    # which opts out of XLA.
    assert [rung["xla"] for rung in jax_metrics["ladder"]] == [True] * 5 + [False]
    assert jax_result.stderr == "", jax_result.stderr
    keras_line = next(line for line in jax_result.stdout.splitlines() if line.startswith("Keras "))
    assert keras_line.endswith(" on jax")
    # The same lines in the same order; only the numbers differ.
    assert len(lines_without_numbers(jax_result.stdout)) == len(
        lines_without_numbers(tf_result.stdout)
    )
    for name in ("simple", "deep"):
        assert jax_metrics["models"][name]["test_accuracy"] > 0.8
        assert (jax_dir / "models" / f"{name}.keras").stat().st_size > 0
    assert (jax_dir / "draw_a_digit.html").read_text().startswith("<!DOCTYPE html>")


@pytest.mark.slow
def test_same_seed_same_numbers_on_jax(jax_quick_run, mnist_path, tmp_path):
    _, first_dir = jax_quick_run
    result = run_lesson(
        "--quick", "--data", mnist_path, "--output-dir", tmp_path, env={"KERAS_BACKEND": "jax"}
    )
    assert result.returncode == 0, result.stderr[-2000:]
    first, second = load_metrics(first_dir), load_metrics(tmp_path)
    for key in ("ladder", "overfitting", "vanishing_gradient", "robustness", "calibration"):
        assert first[key] == second[key], key
    for name in ("simple", "deep"):
        for key in ("test_accuracy", "test_loss", "confusion_matrix", "history"):
            assert first["models"][name][key] == second["models"][name][key], (name, key)


def test_predict_digits_and_the_pad_on_jax_models(jax_quick_run, tmp_path):
    _, jax_dir = jax_quick_run
    models = jax_dir / "models"
    env = {"KERAS_BACKEND": "jax"}
    result = run_script(
        PREDICT, jax_dir / "handwriting_examples", "--json", "--model", models / "deep.keras",
        env=env,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    entries = json.loads(result.stdout)
    assert len(entries) == 6 and all(entry["error"] is None for entry in entries)
    right = [entry["digit"] == int(entry["path"].rsplit("_", 1)[1][0]) for entry in entries]
    assert sum(right) >= 4
    page = tmp_path / "pad.html"
    result = run_script(
        PREDICT, "--drawing-pad", page, "--model", models / "deep.keras", "--compare",
        models / "simple.keras", env=env,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert page.read_text().startswith("<!DOCTYPE html>")


@pytest.mark.slow
def test_models_trained_on_jax_load_with_plain_keras_on_tensorflow(jax_quick_run, mnist_path,
                                                                    tmp_path):  # fmt: skip
    from test_lesson_run import accuracy_in_a_fresh_python

    _, jax_dir = jax_quick_run
    metrics = load_metrics(jax_dir)
    for name in ("simple", "deep"):
        loaded = accuracy_in_a_fresh_python(
            jax_dir / "models" / f"{name}.keras", mnist_path, tmp_path, count=1_000
        )
        assert loaded["project"] is False
        assert loaded["accuracy"] == pytest.approx(metrics["models"][name]["test_accuracy"])
