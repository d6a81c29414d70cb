"""TensorFlow imported quietly, every random generator seeded, and what a result depends on.

Nothing happens on import: TensorFlow is imported by ``import_tensorflow_quietly`` only.
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path

# TensorFlow's C++ log level 2 hides its INFO and WARNING lines (oneDNN notices, CUDA probing
# on a machine without a GPU) and keeps its ERROR lines, such as a GPU that fails to start.
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
        os.dup2(saved, 2)
        os.close(saved)


def import_tensorflow_quietly():
    """TensorFlow, imported without its start-up log on the screen.

    Its C++ runtime logs while it loads, before any log level applies, and Jupyter shows what
    C++ writes to stderr too; a learner should read the lesson, not that. Later messages go
    through the log level set here (unless you set TF_CPP_MIN_LOG_LEVEL yourself)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", QUIET_LOG_LEVEL)
    with _stderr_silenced():
        import tensorflow as tf

        tf.config.list_physical_devices()
    # Keras builds a few models in one run; TensorFlow's retracing advice is not for learners.
    tf.get_logger().setLevel("ERROR")
    return tf


def make_reproducible(seed: int) -> None:
    """Seed Python, NumPy and TensorFlow, and make TensorFlow's ops deterministic: the same
    seed gives the same numbers on the same machine and library versions."""
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()


def deterministic_ops() -> bool:
    from tensorflow.python.framework.config import is_op_determinism_enabled

    return bool(is_op_determinism_enabled())


def cpu_features() -> list[str]:
    """The vector instruction sets of this processor that matter for TensorFlow's speed and
    for its exact numbers (oneDNN and XLA pick their kernels by them)."""
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
    import platform

    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def environment() -> dict:
    """What a result depends on besides the seed: versions, processor, determinism."""
    import platform

    import keras
    import numpy as np
    import sklearn
    import tensorflow as tf

    return {
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "numpy": np.__version__,
        "scikit_learn": sklearn.__version__,
        "platform": platform.platform(),
        "processor": cpu_name(),
        "cpu_features": cpu_features(),
        "onednn_max_cpu_isa": os.environ.get("ONEDNN_MAX_CPU_ISA"),
        "cpu_count": os.cpu_count(),
        "gpus": [device.name for device in tf.config.list_physical_devices("GPU")],
        "deterministic_ops": deterministic_ops(),
    }
