"""A student changes the lesson: a convnet for the deep model, or a bug half-way. The lesson
keeps its results first, steps around what it cannot show, and a failed run never leaves a mix
of two runs behind."""

from __future__ import annotations

import json
import re
import shutil

import pytest

from conftest import LESSON, ROOT, load_metrics, run_script, snapshot
from mnist_lesson.output_folder import OutputFolder

# The lesson's own deep model, as its source defines it: what a student would replace.
DEEP_MODEL = re.search(
    r"^deep_model = keras\.Sequential\(\n.*?^\)\n", LESSON.read_text(), re.S | re.M
).group(0)

# The README's fork, as a new user writes it.
CONVNET = """\
deep_model = keras.Sequential(
    [
        keras.Input(shape=(28, 28, 1)),
        layers.Conv2D(16, 3, activation="relu"),
        layers.MaxPooling2D(),
        layers.Flatten(),
        layers.Dense(10, activation="softmax"),
    ],
    name="deep",
)
"""
CONVNET_LAYERS = ["Conv2D(16, 3x3, relu)", "MaxPooling2D(2x2)", "Flatten", "Dense(10, softmax)"]


def changed_lesson(folder, old: str, new: str):
    """The lesson with ``old`` replaced by ``new``, saved in ``folder`` (run with the helpers
    on PYTHONPATH, as a student's copy next to the repository would be)."""
    source = LESSON.read_text()
    assert source.count(old) == 1, old
    path = folder / "student_lesson.py"
    path.write_text(source.replace(old, new))
    return path


def run_changed(script, *args):
    return run_script(script, *args, env={"PYTHONPATH": str(ROOT)}, cwd=script.parent, timeout=600)


@pytest.mark.slow
def test_a_convnet_as_the_deep_model_runs_to_the_end(mnist_path, tmp_path):
    script = changed_lesson(tmp_path, DEEP_MODEL, CONVNET)
    output_dir = tmp_path / "outputs"
    result = run_changed(script, "--quick", "--data", mnist_path, "--output-dir", output_dir)
    assert result.returncode == 0, result.stderr[-3000:]
    pad_lines = [line for line in result.stdout.splitlines() if "drawing pad" in line]
    assert len(pad_lines) == 1 and pad_lines[0].startswith("no drawing pad for this model:")
    assert "is a Conv2D" in pad_lines[0] and "Dense" in pad_lines[0]
    assert not (output_dir / "draw_a_digit.html").exists()
    metrics = load_metrics(output_dir)
    deep = metrics["models"]["deep"]
    assert deep["test_accuracy"] > 0.5
    assert "robustness" in metrics and "vanishing_gradient" in metrics  # it went on to the end
    # The student's model shows as what it is, in metrics.json and in the ladder.
    assert deep["layers"] == CONVNET_LAYERS and deep["hidden_layers"] == CONVNET_LAYERS[:2]
    rung = metrics["ladder"][-1]
    assert rung["model"] == "deep" and rung["hidden_layers"] == CONVNET_LAYERS[:2]
    # Above it, the unshifted rung: same output, recipe and no shift, so the hidden layers are
    # the one change.
    assert rung["change"] == "hidden layers: " + ", ".join(CONVNET_LAYERS[:2])
    assert rung["change"] in result.stdout
    assert rung["hidden_activation"] == "relu" and rung["shift_pixels"] == 0
    # The network picture, drawn for stacks of Dense layers, steps aside in one line.
    picture = [line for line in result.stdout.splitlines() if "network picture" in line]
    assert picture == ["no network picture for this model: it draws stacks of Dense layers, "
                       "and this one has a Conv2D"]  # fmt: skip
    assert not (output_dir / "deep_network.png").exists()
    # It trains as every other rung does, with the XLA setting Keras chose for them all.
    assert {r["xla"] for r in metrics["ladder"]} == {rung["xla"]}
    assert (output_dir / "models" / "deep.keras").stat().st_size > 0
    assert result.stdout.splitlines()[-1] == f"results saved in {output_dir}/"


BUG = '\nraise RuntimeError("a bug in the student\'s change")\n'


def run_with_a_bug_after(code: str, quick_dir, mnist_path, tmp_path):
    """Over a complete earlier run (--quick, seed 42), the lesson with a bug after ``code``,
    run with another seed; returns its result, its output folder and the folder before."""
    output_dir = tmp_path / "outputs"
    shutil.copytree(quick_dir, output_dir)
    (output_dir / "my_notes.txt").write_text("mine")
    before = snapshot(output_dir)
    script = changed_lesson(tmp_path, code, code + BUG)
    result = run_changed(script, "--quick", "--seed", "7", "--data", mnist_path,
                         "--output-dir", output_dir)  # fmt: skip
    assert result.returncode == 1
    assert "RuntimeError: a bug in the student's change" in result.stderr  # a bug keeps its trace
    return result, output_dir, before


@pytest.mark.slow
def test_a_run_that_fails_before_its_results_are_kept_leaves_the_earlier_run_untouched(
    quick_run, mnist_path, tmp_path
):
    # The bug strikes after the simple model's figures were written, before keep_run.
    result, output_dir, before = run_with_a_bug_after(
        DEEP_MODEL, quick_run[1], mnist_path, tmp_path
    )
    last = result.stderr.strip().splitlines()[-1]
    assert last == f"({output_dir}/ still holds the previous run's results, untouched)"
    assert snapshot(output_dir) == before


@pytest.mark.slow
def test_a_run_that_fails_after_its_results_are_kept_leaves_nothing_of_the_earlier_run(
    quick_run, mnist_path, tmp_path
):
    result, output_dir, _ = run_with_a_bug_after(
        "outputs.keep_run()\n", quick_run[1], mnist_path, tmp_path
    )
    last = result.stderr.strip().splitlines()[-1]
    state = f"{output_dir}/ holds this run's results so far and nothing of the previous run"
    assert last == f"({state})"
    metrics = load_metrics(output_dir)
    # This run's, as kept: Part 1's models, saved before the experiments.
    assert metrics["seed"] == 7 and set(metrics["models"]) == {"simple", "deep"}
    assert "ladder" not in metrics
    assert (output_dir / "models" / "deep.keras").exists()
    on_disk = set(snapshot(output_dir))
    listed = json.loads((output_dir / OutputFolder.MANIFEST).read_text())
    # Everything there is this run's (or the user's); the earlier run's sample photos, named
    # after other test digits, are gone rather than mixed with this run's.
    assert {path.as_posix() for path in on_disk} == set(listed) | {
        OutputFolder.MANIFEST, "my_notes.txt"
    }  # fmt: skip
    assert not (output_dir / "handwriting_examples").exists()
