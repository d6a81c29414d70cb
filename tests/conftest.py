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
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
LESSON = ROOT / "mnist_classification.py"


KERAS_CACHE = Path.home() / ".keras" / "datasets" / "mnist.npz"


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


@pytest.fixture(scope="session")
def mnist_idx_dir(mnist_path) -> Path:
    """The IDX folder shipped beside the npz (as in ../shared/data), else made from the npz."""
    candidate = mnist_path.parent / "mnist-idx" if mnist_path.is_file() else mnist_path
    if candidate.is_dir():
        return candidate
    message = f"no IDX folder beside {mnist_path}"
    if os.environ.get("MNIST_REQUIRED") == "1":
        pytest.fail(message)
    pytest.skip(message)


def run_script(script: Path, *args, env: dict | None = None, timeout: float = 600, **kwargs):
    """Run a project script the way a user would, with a clean environment for TensorFlow."""
    full_env = {**os.environ, "PYTHONUNBUFFERED": "1", "MPLBACKEND": "Agg"}
    full_env.pop("MNIST_PATH", None)
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, str(script), *map(str, args)],
        cwd=ROOT,
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
