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
    snapshot,
)
from mnist_lesson.output_folder import OutputFolder

REPRODUCIBLE_KEYS = ("test_accuracy", "test_loss", "confusion_matrix", "history")


def comparable(metrics: dict) -> dict:
    models = {
        name: {key: model[key] for key in REPRODUCIBLE_KEYS}
        for name, model in metrics["models"].items()
    }
    return {
        "models": models,
        "ladder": metrics["ladder"],
        "overfitting": metrics["overfitting"],
        "weight_pictures": metrics["weight_pictures"],
        "vanishing_gradient": metrics["vanishing_gradient"],
        "robustness": metrics["robustness"],
        "calibration": metrics["calibration"],
    }


@pytest.mark.slow
def test_same_seed_gives_identical_numbers(quick_run, mnist_path, tmp_path):
    _, first_dir = quick_run
    result = run_lesson("--quick", "--data", mnist_path, "--output-dir", tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    first, second = load_metrics(first_dir), load_metrics(tmp_path)
    assert comparable(first) == comparable(second)
    # On a CPU, without TensorFlow's op determinism and with Keras' own choice of XLA (none).
    assert second["environment"]["op_determinism"] is False
    assert second["seed"] == 42 and second["environment"]["backend"] == "tensorflow"
    assert {rung["xla"] for rung in second["ladder"]} == {False}


@pytest.mark.slow
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


# The README promises that Ctrl-C stops a run within this many seconds.
CTRL_C_SECONDS = 3


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
    try:
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
        _, stderr = process.communicate(timeout=60)
        return process.returncode, stderr, time.monotonic() - interrupted_at
    finally:
        if process.poll() is None:  # an assertion failed: no run may outlive its test
            process.kill()
            process.communicate()


@pytest.mark.slow
def test_ctrl_c_during_training_exits_130_with_one_line(mnist_path, tmp_path):
    output_dir = tmp_path / "outputs"
    returncode, stderr, seconds = interrupt_during_training(mnist_path, output_dir, 'Model: "deep"')
    assert returncode == 130
    assert "Traceback" not in stderr, stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert lines == ["interrupted: nothing was saved"], stderr
    assert seconds < CTRL_C_SECONDS
    # The figures made before Ctrl-C were this run's only: they are gone, with their folder.
    assert not output_dir.exists()


@pytest.mark.slow
def test_interrupted_run_leaves_earlier_results_untouched(quick_run, mnist_path, tmp_path):
    _, quick_dir = quick_run
    shutil.copytree(quick_dir, tmp_path, dirs_exist_ok=True)
    before = snapshot(tmp_path)
    returncode, stderr, _ = interrupt_during_training(mnist_path, tmp_path, 'Model: "deep"')
    assert returncode == 130
    untouched = f"{tmp_path}/ still holds the previous run's results, untouched"
    assert stderr.strip() == f"interrupted: {untouched}"
    assert snapshot(tmp_path) == before, "not a file added, changed or lost"


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


# A child that writes a file slowly, in chunks, with the lesson's Ctrl-C handling.
SLOW_WRITER = """
import sys, time
from pathlib import Path
from mnist_lesson.output_folder import OutputFolder
from mnist_lesson.script_handlers import install_script_handlers

install_script_handlers()

def write_slowly(path):
    with open(path, "wb") as file:
        for _ in range(600):
            file.write(b"new!" * 1024)
            file.flush()
            print("writing", flush=True)
            time.sleep(0.01)

OutputFolder(sys.argv[1]).write("results.bin", write_slowly)
"""


def test_ctrl_c_inside_a_write_keeps_the_old_file_whole(tmp_path):
    old = b"old results " * 1000
    (tmp_path / "results.bin").write_bytes(old)
    process = subprocess.Popen(
        [sys.executable, "-c", SLOW_WRITER, str(tmp_path)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        for _ in range(20):  # some chunks of the new file are on disk
            assert process.stdout.readline() == "writing\n"
        assert [p for p in tmp_path.iterdir() if ".part" in p.name], "the write is under way"
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 130
    assert stderr.strip() == "interrupted: nothing was saved yet"
    assert (tmp_path / "results.bin").read_bytes() == old
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results.bin"], "no temporary file"


@pytest.mark.slow
def test_a_run_replaces_what_an_earlier_run_wrote_and_nothing_else(quick_run, mnist_path, tmp_path):
    """Another seed picks other example digits: after the run, only its own are there."""
    _, quick_dir = quick_run
    shutil.copytree(quick_dir, tmp_path, dirs_exist_ok=True)
    earlier = sorted(p.name for p in (tmp_path / "handwriting_examples").iterdir())
    (tmp_path / "my_notes.txt").write_text("mine")
    (tmp_path / "handwriting_examples" / "my_own_digit.png").write_bytes(b"mine too")
    result = run_lesson("--quick", "--seed", "7", "--data", mnist_path, "--output-dir", tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    examples = sorted(p.name for p in (tmp_path / "handwriting_examples").iterdir())
    assert len(examples) == len(earlier) + 1 and "my_own_digit.png" in examples
    assert not set(earlier) & set(examples), "the earlier run's examples are gone"
    assert (tmp_path / "my_notes.txt").read_text() == "mine"
    assert load_metrics(tmp_path)["seed"] == 7
    listed = json.loads((tmp_path / OutputFolder.MANIFEST).read_text())
    on_disk = {p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file()}
    assert set(listed) == on_disk - {OutputFolder.MANIFEST, "my_notes.txt",
                                     "handwriting_examples/my_own_digit.png"}  # fmt: skip


def test_manifest_entries_outside_the_folder_are_never_removed(tmp_path):
    outside = tmp_path / "precious.txt"
    outside.write_text("keep")
    (tmp_path / "out").mkdir()
    listed = ["../precious.txt", str(outside), "a.txt"]
    (tmp_path / "out" / OutputFolder.MANIFEST).write_text(json.dumps(listed))
    (tmp_path / "out" / "a.txt").write_text("from an earlier run")
    folder = OutputFolder(tmp_path / "out", one_run=True)
    folder.save_text("b.txt", "new")
    folder.finish({"done": True})
    assert outside.read_text() == "keep"
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        OutputFolder.MANIFEST, "b.txt", "metrics.json"
    ]  # fmt: skip
