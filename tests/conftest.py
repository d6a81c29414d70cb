"""Shared fixtures: real MNIST from $MNIST_PATH, and lesson runs shared between tests.

Set MNIST_REQUIRED=1 (as .ci/run does) to turn a missing dataset into a test failure instead of
a skip.
"""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
LESSON = ROOT / "mnist_classification.py"


KERAS_CACHE = Path.home() / ".keras" / "datasets" / "mnist.npz"

# Property tests: developers' runs explore new examples each time; CI (HYPOTHESIS_PROFILE=ci,
# set by .ci/run) replays the same ones, so that a failure there is never a flake that a rerun
# clears. Every example a run has found stays as an explicit @example in the tests.
settings.register_profile(
    "dev",
    max_examples=300,
    deadline=5000,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
settings.register_profile("ci", settings.get_profile("dev"), derandomize=True, database=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


def mnist_path_or_skip() -> Path:
    """$MNIST_PATH, else the copy Keras downloaded when you ran the lesson online."""
    value = os.environ.get("MNIST_PATH")
    if value and Path(value).exists():
        return Path(value)
    if not value and KERAS_CACHE.is_file():
        return KERAS_CACHE
    message = f"real MNIST not found: set MNIST_PATH (now {value!r}) to a local mnist.npz"
    if os.environ.get("MNIST_REQUIRED") == "1":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def mnist_path() -> Path:
    return mnist_path_or_skip()


def run_script(
    script: Path, *args, env: dict | None = None, timeout: float = 600, cwd=ROOT, **kwargs
):
    """Run a project script the way a user would, with a clean environment for TensorFlow."""
    full_env = {**os.environ, "PYTHONUNBUFFERED": "1", "MPLBACKEND": "Agg"}
    full_env.pop("MNIST_PATH", None)
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, str(script), *map(str, args)],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
        **kwargs,
    )


def run_notebook(notebook: Path, cwd: Path, timeout: float = 900, **parameters):
    """Run a notebook the way papermill users do: a kernel in ``cwd``, the ``parameters`` cell's
    values replaced; the executed notebook is written to ``cwd`` and returned. A failing cell
    raises papermill's PapermillExecutionError, with the cell's error in its message."""
    import papermill

    executed = cwd / f"executed_{notebook.name}"
    return papermill.execute_notebook(
        str(notebook),
        str(executed),
        parameters=parameters,
        cwd=str(cwd),
        kernel_name="python3",
        progress_bar=False,
        execution_timeout=timeout,
    )


def notebook_text(notebook) -> str:
    """Every stream and plain-text output of an executed notebook, in order."""
    texts = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            texts.append(output.get("text", "") or output.get("data", {}).get("text/plain", ""))
    return "\n".join(texts)


def assert_clean_failure(result, *fragments: str) -> None:
    """A user error: non-zero exit, no traceback, one line on stderr naming the problem."""
    assert result.returncode != 0, result.stdout[-2000:]
    assert "Traceback" not in result.stderr, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    for fragment in fragments:
        assert fragment.lower() in lines[0].lower(), lines[0]


def assert_valid_png(path) -> None:
    """A whole PNG file: signature, a sensible size, the end chunk, and Pillow can verify it."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", path
    width, height = struct.unpack(">II", data[16:24])
    assert width >= 100 and height >= 100, (path, width, height)
    assert data.rstrip(b"\x00")[-8:-4] == b"IEND", f"{path} is cut short"
    with Image.open(path) as image:
        image.verify()


def load_metrics(output_dir: Path) -> dict:
    return json.loads((output_dir / "metrics.json").read_text())


def snapshot(folder: Path) -> dict:
    """Every file under ``folder`` with its bytes: compare two to see what a run changed."""
    return {path.relative_to(folder): path.read_bytes() for path in folder.rglob("*")
            if path.is_file()}  # fmt: skip


def load_lesson_model(path: Path):
    """A model the lesson saved, loaded as a user would: with plain Keras."""
    import keras

    return keras.saving.load_model(path)


@pytest.fixture(scope="session")
def full_run(mnist_path, tmp_path_factory):
    """The lesson's default run on real MNIST, as the README says to run it offline: the script,
    MNIST_PATH set, in a folder of its own. Returns the finished process and that folder."""
    folder = tmp_path_factory.mktemp("full_run")
    result = run_script(LESSON, cwd=folder, env={"MNIST_PATH": str(mnist_path)}, timeout=1200)
    assert result.returncode == 0, result.stderr[-3000:]
    return result, folder


@pytest.fixture(scope="session")
def quick_run(mnist_path, tmp_path_factory):
    """The lesson's notebook with quick = True, run by papermill in a folder of its own (its
    figures, models and metrics.json land under outputs/ there). Returns the executed notebook
    and that folder."""
    folder = tmp_path_factory.mktemp("quick_run")
    notebook = run_notebook(LESSON.with_suffix(".ipynb"), folder, data=str(mnist_path), quick=True)
    return notebook, folder


@pytest.fixture(scope="session")
def jax_quick_run(mnist_path, tmp_path_factory):
    """The lesson's script on Keras' JAX backend, with a quick = True copy of its parameters
    cell: the script as a learner would run it after setting quick."""
    pytest.importorskip("jax")
    folder = tmp_path_factory.mktemp("jax_quick_run")
    script = folder / LESSON.name
    script.write_text(quick_copy(LESSON.read_text()))
    env = {"KERAS_BACKEND": "jax", "MNIST_PATH": str(mnist_path)}
    result = run_script(script, cwd=folder, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    return result, folder


def quick_copy(script_text: str) -> str:
    """The lesson's script with quick = True in its parameters cell: the line a learner edits."""
    assert script_text.count("\nquick = False") == 1, "the parameters cell sets quick once"
    return script_text.replace("\nquick = False", "\nquick = True")
