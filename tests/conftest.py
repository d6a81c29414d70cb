"""Shared fixtures: real MNIST from $MNIST_PATH, and lesson runs shared between tests.

Set MNIST_REQUIRED=1 (as .ci/run does) to turn a missing dataset into a test failure instead of
a skip.
"""

from __future__ import annotations

import gzip
import json
import os
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
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
    message = f"real MNIST not found: set MNIST_PATH (now {value!r}) to mnist.npz or an IDX folder"
    if os.environ.get("MNIST_REQUIRED") == "1":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def mnist_path() -> Path:
    return mnist_path_or_skip()


def idx_bytes(array: np.ndarray) -> bytes:
    """An array in the IDX format of the original MNIST files: magic, sizes, then the bytes."""
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim)
    return header + struct.pack(f">{array.ndim}I", *array.shape) + array.astype(np.uint8).tobytes()


def write_idx_folder(folder: Path, arrays: dict, gzipped: bool = False) -> Path:
    from mnist_lesson.data import IDX_FILE_NAMES

    folder.mkdir(parents=True, exist_ok=True)
    for name, file_name in IDX_FILE_NAMES.items():
        data = idx_bytes(arrays[name])
        if gzipped:
            (folder / f"{file_name}.gz").write_bytes(gzip.compress(data, compresslevel=1))
        else:
            (folder / file_name).write_bytes(data)
    return folder


@pytest.fixture(scope="session")
def mnist_idx_dir(mnist_path, tmp_path_factory) -> Path:
    """The real MNIST as the four gzipped IDX files, written from whatever $MNIST_PATH holds."""
    from mnist_lesson.data import load_mnist

    if mnist_path.is_dir():
        return mnist_path
    mnist = load_mnist(mnist_path)
    arrays = {name: getattr(mnist, name) for name in ("x_train", "y_train", "x_test", "y_test")}
    return write_idx_folder(tmp_path_factory.mktemp("mnist-idx"), arrays, gzipped=True)


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


def run_lesson(*args, **kwargs):
    return run_script(LESSON, *args, **kwargs)


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
    """The lesson's default run on real MNIST, shared by every test that reads its outputs."""
    output_dir = tmp_path_factory.mktemp("full_run")
    result = run_lesson("--data", mnist_path, "--output-dir", output_dir)
    assert result.returncode == 0, result.stderr[-3000:]
    return result, output_dir


@pytest.fixture(scope="session")
def quick_run(mnist_path, tmp_path_factory):
    output_dir = tmp_path_factory.mktemp("quick_run")
    result = run_lesson("--quick", "--data", mnist_path, "--output-dir", output_dir)
    assert result.returncode == 0, result.stderr[-3000:]
    return result, output_dir


@pytest.fixture(scope="session")
def jax_quick_run(mnist_path, tmp_path_factory):
    """The lesson's --quick run on Keras' JAX backend."""
    pytest.importorskip("jax")
    output_dir = tmp_path_factory.mktemp("jax_quick_run")
    result = run_lesson(
        "--quick", "--data", mnist_path, "--output-dir", output_dir, env={"KERAS_BACKEND": "jax"}
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result, output_dir
