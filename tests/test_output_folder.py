"""The output folder: whole files only, one run at a time, the user's own files left alone."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys

import pytest

from conftest import ROOT
from mnist_lesson.output_folder import OutputFolder


def files(folder) -> dict[str, str]:
    return {path.relative_to(folder).as_posix(): path.read_text()
            for path in folder.rglob("*") if path.is_file()}  # fmt: skip


def complete_run(folder, names, metrics) -> None:
    outputs = OutputFolder(folder, one_run=True)
    for name in names:
        outputs.save_text(name, f"{name} of run {metrics['run']}")
    outputs.finish(metrics)


@pytest.fixture
def earlier_run(tmp_path):
    folder = tmp_path / "outputs"
    complete_run(folder, ["a.txt", "examples/1.txt", "examples/2.txt"], {"run": 1})
    (folder / "my_notes.txt").write_text("mine")
    return folder


def test_a_new_run_is_staged_until_it_is_kept(earlier_run):
    before = files(earlier_run)
    outputs = OutputFolder(earlier_run, one_run=True)
    staged = outputs.save_text("a.txt", "a.txt of run 2")
    outputs.save_text("examples/3.txt", "3")
    assert files(earlier_run) == before | {
        f"{OutputFolder.STAGING}/a.txt": "a.txt of run 2",
        f"{OutputFolder.STAGING}/examples/3.txt": "3",
    }
    assert staged == earlier_run / OutputFolder.STAGING / "a.txt"  # where it is now
    assert "still holds the previous run's results, untouched" in outputs.describe_state()
    outputs.keep_run()
    assert files(earlier_run) == {
        "a.txt": "a.txt of run 2",
        "examples/3.txt": "3",
        "my_notes.txt": "mine",  # not the lesson's: it stays
        OutputFolder.MANIFEST: json.dumps(["a.txt", "examples/3.txt"], indent=2) + "\n",
    }
    assert "this run's results so far and nothing of the previous run" in outputs.describe_state()
    outputs.save_text("b.txt", "after keep_run: straight in, and listed at once")
    assert json.loads((earlier_run / OutputFolder.MANIFEST).read_text()) == [
        "a.txt", "b.txt", "examples/3.txt"
    ]  # fmt: skip


def test_a_run_abandoned_before_it_is_kept_leaves_the_earlier_run_untouched(earlier_run):
    before = files(earlier_run)
    outputs = OutputFolder(earlier_run, one_run=True)
    outputs.save_text("a.txt", "new")
    outputs.save_text("deep/er/b.txt", "new")
    outputs.abandon()
    assert files(earlier_run) == before
    assert not (earlier_run / OutputFolder.STAGING).exists()


def test_a_first_run_abandoned_leaves_no_folder_behind(tmp_path):
    outputs = OutputFolder(tmp_path / "new" / "outputs", one_run=True)
    outputs.save_text("a.txt", "new")
    assert outputs.describe_state() == "nothing was saved"
    outputs.abandon()
    assert list(tmp_path.iterdir()) == []


def test_a_run_abandoned_after_it_is_kept_keeps_what_it_wrote(earlier_run):
    outputs = OutputFolder(earlier_run, one_run=True)
    outputs.save_text("a.txt", "new")
    outputs.keep_run()
    outputs.save_text("late.txt", "new too")
    outputs.abandon()
    assert files(earlier_run) | {OutputFolder.MANIFEST: ""} == {
        "a.txt": "new", "late.txt": "new too", "my_notes.txt": "mine", OutputFolder.MANIFEST: ""
    }  # fmt: skip


def test_staging_left_by_a_killed_run_is_cleared_by_the_next(earlier_run):
    leftover = earlier_run / OutputFolder.STAGING / "old.txt"
    leftover.parent.mkdir()
    leftover.write_text("from a run that was killed")
    complete_run(earlier_run, ["a.txt"], {"run": 2})
    assert not (earlier_run / OutputFolder.STAGING).exists()
    assert json.loads((earlier_run / "metrics.json").read_text()) == {"run": 2}


def test_new_files_get_the_permissions_the_umask_gives(tmp_path):
    previous = os.umask(0o027)
    try:
        saved = OutputFolder(tmp_path).save_text("report.txt", "x")
    finally:
        os.umask(previous)
    assert stat.S_IMODE(saved.stat().st_mode) == 0o640


IMPORTS_WATCHED = """
import os, sys
calls = []
real_umask = os.umask
os.umask = lambda mask: calls.append(mask) or real_umask(mask)
environment = dict(os.environ)
import importlib, pkgutil
import mnist_lesson
for module in pkgutil.iter_modules(mnist_lesson.__path__):
    importlib.import_module(f"mnist_lesson.{module.name}")
import benchmarks.seed_results, handwriting, handwriting.drawing_pad, mnist_exercises
print(calls, dict(os.environ) == environment, "tensorflow" in sys.modules, "keras" in sys.modules)
"""


def test_importing_the_helpers_changes_nothing_and_loads_no_tensorflow():
    result = subprocess.run(
        [sys.executable, "-c", IMPORTS_WATCHED], cwd=ROOT, capture_output=True, text=True
    )
    assert result.stdout.split() == ["[]", "True", "False", "False"], result.stderr
