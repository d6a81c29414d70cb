"""Keras and its backend imported quietly, every random generator seeded, and what a result
depends on.

Keras 3 runs on TensorFlow (the lesson's default), JAX or PyTorch: set ``KERAS_BACKEND`` before
Python starts (``KERAS_BACKEND=jax python mnist_classification.py``). Nothing here is specific
to one backend except where a backend's own public API is the only way to ask (its version, its
GPUs). Nothing happens on import: Keras is imported by ``import_keras_quietly`` only.
"""

from __future__ import annotations

import contextlib
import os
import platform
import sys
from pathlib import Path

# TensorFlow's C++ log level 2 hides its INFO and WARNING lines (oneDNN notices, CUDA probing
# on a machine without a GPU) and keeps its ERROR lines, such as a GPU that fails to start.
# Keras imports TensorFlow when it is installed, whatever the backend, so this applies to all.
QUIET_LOG_LEVEL = "2"


@contextlib.contextmanager
def _stderr_silenced():
    """Hide what C++ libraries write straight to file descriptor 2 (Python errors still show)."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no real stderr (some IDEs): nothing to silence
        yield
        return
    try:
        with open(os.devnull, "wb") as devnull:
            os.dup2(devnull.fileno(), 2)
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)


def import_keras_quietly():
    """Keras, imported with its backend and without their start-up log on the screen.

    TensorFlow's C++ runtime logs while it loads, before any log level applies, and Jupyter
    shows what C++ writes to stderr too; a learner should read the lesson, not that. Later
    messages go through the log level set here (unless you set TF_CPP_MIN_LOG_LEVEL yourself)."""
    import importlib.util

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", QUIET_LOG_LEVEL)
    with _stderr_silenced():
        import keras

        if importlib.util.find_spec("tensorflow") is not None:
            # Keras seeds TensorFlow whenever it is installed, whatever the backend
            # (keras.utils.set_random_seed), so it would load later, noisily: load it now.
            import tensorflow  # noqa: F401
        gpus()  # the backend looks for devices now, quietly, rather than in the first cell
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        # A lesson builds several models; TensorFlow's retracing advice is not for learners.
        tf.get_logger().setLevel("ERROR")
    return keras


def gpus() -> list[str]:
    """The GPUs the backend computes on (an empty list on a CPU-only machine)."""
    import keras

    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        return [device.name for device in tf.config.list_physical_devices("GPU")]
    if backend == "jax":
        import jax

        return [str(device) for device in jax.devices() if device.platform == "gpu"]
    if backend == "torch":
        import torch

        return [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    return []


def make_reproducible(seed: int) -> bool:
    """Seed Python, NumPy, the backend and Keras: the same seed gives the same numbers on the
    same machine and library versions. Returns whether TensorFlow's op determinism was turned on.

    On a CPU every backend's kernels are deterministic (the tests check that two runs end with
    identical weights). On a GPU some TensorFlow kernels are not, so there TensorFlow's op
    determinism is turned on; Keras then trains without XLA, by its own rule."""
    import keras

    keras.utils.set_random_seed(seed)
    if keras.backend.backend() == "tensorflow" and gpus():
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()
        return True
    return False


def backend_version() -> str:
    """The backend's name and version, as in ``tensorflow 2.21.0`` or ``jax 0.10.2``."""
    import importlib

    import keras

    backend = keras.backend.backend()
    return f"{backend} {importlib.import_module(backend).__version__}"


def cpu_features() -> list[str]:
    """The vector instruction sets of this processor that matter for the backends' speed and
    for their exact numbers (oneDNN and XLA pick their kernels by them)."""
    wanted = ("avx", "avx2", "fma", "avx512f", "avx512_bf16", "avx512_vnni", "amx_tile")
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return []
    flags = next((line.split(":", 1)[1].split() for line in text.splitlines()
                  if line.startswith("flags")), [])  # fmt: skip
    return [flag for flag in wanted if flag in flags]


def cpu_name() -> str:
    """The processor's model name, as lscpu shows it."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def environment(op_determinism: bool) -> dict:
    """What a result depends on besides the seed: backend, versions, processor, GPUs."""
    import keras
    import numpy as np
    import sklearn

    backend, version = backend_version().split(" ", 1)
    return {
        "backend": backend,
        "backend_version": version,
        "keras": keras.__version__,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scikit_learn": sklearn.__version__,
        "platform": platform.platform(),
        "processor": cpu_name(),
        "cpu_features": cpu_features(),
        "onednn_max_cpu_isa": os.environ.get("ONEDNN_MAX_CPU_ISA"),
        "cpu_count": os.cpu_count(),
        "gpus": gpus(),
        "op_determinism": op_determinism,
    }
