"""Same seed, same numbers; Ctrl-C loses nothing; an unusable output folder fails at once."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import time

import pytest

from conftest import (
    LESSON,
    ROOT,
    assert_clean_failure,
    assert_valid_png,
    load_metrics,
    run_lesson,
)

REPRODUCIBLE_KEYS = ("test_accuracy", "test_loss", "confusion_matrix", "history")


def comparable(metrics: dict) -> dict:
    models = {
        name: {key: model[key] for key in REPRODUCIBLE_KEYS}
        for name, model in metrics["models"].items()
    }
    return {"models": models, "vanishing_gradient": metrics["vanishing_gradient"]}


def test_same_seed_gives_identical_numbers(quick_run, mnist_path, tmp_path):
    _, first_dir = quick_run
    result = run_lesson("--quick", "--data", mnist_path, "--output-dir", tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    first, second = load_metrics(first_dir), load_metrics(tmp_path)
    assert comparable(first) == comparable(second)
    assert second["environment"]["deterministic_ops"] is True
    assert second["seed"] == 42 and second["environment"]["tensorflow"]


def test_another_seed_gives_other_numbers(quick_run, mnist_path, tmp_path):
    _, first_dir = quick_run
    result = run_lesson("--quick", "--seed", "7", "--data", mnist_path, "--output-dir", tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    other = load_metrics(tmp_path)
    assert other["seed"] == 7
    assert comparable(other)["models"] != comparable(load_metrics(first_dir))["models"]


def assert_only_complete_files(folder):
    assert not [path for path in folder.rglob("*") if ".part" in path.name], "temporary files left"
    for path in folder.rglob("*.png"):
        assert_valid_png(path)
    for path in folder.rglob("*.json"):
        json.loads(path.read_text())
    for path in folder.rglob("*.txt"):
        assert "weighted avg" in path.read_text()


def interrupt_during_training(mnist_path, output_dir, marker: str):
    """Start a long run, wait until ``marker`` is printed, then press Ctrl-C."""
    process = subprocess.Popen(
        [sys.executable, "-u", str(LESSON), "--data", str(mnist_path), "--output-dir",
         str(output_dir), "--deep-epochs", "40"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    seen = ""
    deadline = time.monotonic() + 300
    while marker not in seen and time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        seen += line
    assert marker in seen, seen[-2000:]
    time.sleep(1.0)
    interrupted_at = time.monotonic()
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=60)
    return process.returncode, stderr, time.monotonic() - interrupted_at


def test_ctrl_c_during_training_exits_130_with_one_line(mnist_path, tmp_path):
    returncode, stderr, seconds = interrupt_during_training(mnist_path, tmp_path, 'Model: "deep"')
    assert returncode == 130
    assert "Traceback" not in stderr, stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("interrupted:"), stderr
    assert "sample_digits.png" in lines[0] and "confusion_matrix_simple.png" in lines[0]
    assert seconds < 10
    assert_only_complete_files(tmp_path)
    assert not (tmp_path / "metrics.json").exists()


def test_interrupted_run_leaves_earlier_results_whole(quick_run, mnist_path, tmp_path):
    _, quick_dir = quick_run
    shutil.copytree(quick_dir, tmp_path, dirs_exist_ok=True)
    before = {path: path.read_bytes() for path in tmp_path.rglob("*") if path.is_file()}
    returncode, _, _ = interrupt_during_training(mnist_path, tmp_path, 'Model: "deep"')
    assert returncode == 130
    assert_only_complete_files(tmp_path)
    after = {path for path in tmp_path.rglob("*") if path.is_file()}
    assert after == set(before), "no file lost, none half-written under a new name"
    assert (tmp_path / "metrics.json").read_bytes() == before[tmp_path / "metrics.json"]
    replaced = tmp_path / "confusion_matrix_simple.png"  # now from the full data, not --quick
    assert replaced.read_bytes() != before[replaced]


@pytest.mark.parametrize("blocker", ["a file", "a file's child"])
def test_unusable_output_folder_fails_before_training(blocker, mnist_path, tmp_path):
    occupied = tmp_path / "results.txt"
    occupied.write_text("my notes")
    target = occupied if blocker == "a file" else occupied / "outputs"
    result = run_lesson("--data", mnist_path, "--output-dir", target, timeout=120)
    assert result.returncode == 1
    assert_clean_failure(result, "output folder", str(target))
    assert "Epoch" not in result.stdout and "Model:" not in result.stdout
    assert occupied.read_text() == "my notes"
