"""Keras and its backend imported without their start-up chatter, every random generator seeded,
and what a result depends on. Keras 3 runs on TensorFlow (the default), JAX or PyTorch, chosen
with ``KERAS_BACKEND`` before Python starts. Nothing happens on import."""

from __future__ import annotations

import contextlib
import ctypes
import functools
import importlib.util
import os
import platform
import re
import sys
import tempfile
from pathlib import Path

from mnist_lesson.errors import UserError

QUIET_LOG_LEVEL = "2"  # TensorFlow's C++ log level that keeps ERROR lines only

# TensorFlow's oneDNN kernels (on by default on x86) take their buffers from a pool, a BFC
# allocator, that keeps every byte it ever held. Each fit on NumPy arrays copies the training
# digits into the backend, so after a few fits the pool holds hundreds of MB it never returns.
# TensorFlow's switch for this (tensorflow/tensorflow#54169, read by its oneDNN allocator) sends
# those buffers to the system allocator instead: the same kernels and the same numbers, and
# each fit's copy of the data given back (benchmarks/README.md times the lesson with and
# without it). It acts only if set before TensorFlow loads; a value the user set wins.
ONEDNN_SYSTEM_ALLOCATOR = "TF_ONEDNN_USE_SYSTEM_ALLOCATOR"

# The system allocator, glibc's malloc, gives threads heaps of their own ("arenas"), up to eight
# per core. TensorFlow's threads each allocate and free a fit's buffers, so freed memory ends up
# spread over many heaps, where the next fit, running on other threads, cannot reuse it: the
# process grows by tens of MB per fit. Capped at two heaps (glibc's documented mallopt option,
# what MALLOC_ARENA_MAX=2 does), freed memory is reused, the lesson's peak falls and its numbers
# stay the same (benchmarks/README.md, "Where the memory goes", times the lesson with and
# without the cap). Linux with glibc only; a MALLOC_ARENA_MAX the user set wins, as glibc has
# then read it already.
MALLOC_ARENA_MAX = "MALLOC_ARENA_MAX"
MALLOC_ARENAS = 2
_M_ARENA_MAX = -8  # mallopt's parameter number for it, from glibc's <malloc.h>

# TensorFlow's C++ runtime writes glog/absl records to file descriptor 2 while it loads, before
# any log level applies ("I0000 00:00:1700000000.123456  4290 port.cc:153] ..."), after a line
# announcing them. INFO (I) and WARNING (W) records go, with their continuation lines; ERROR (E)
# and FATAL (F) records and anything else (Python's own messages) stay.
LOG_RECORD = re.compile(r"^([IWEF])\d{4} \d\d:\d\d:[\d.]+\s+\d+ \S+:\d+\] ")
ABSL_PREAMBLE = "WARNING: All log messages before absl::InitializeLog() is called are written"
# One ERROR line is spurious: TensorFlow tries cuInit where it has just found no CUDA driver
# (tensorflow/tensorflow#37689). It goes only after that INFO line; with a driver, it is real.
NO_CUDA_DRIVER = "Could not find cuda drivers on your machine"
# Python's own warnings and tracebacks are never taken for a hidden record's continuation.
PYTHON_MESSAGE = re.compile(r"^(Traceback \(most recent call last\)|\S+\.py:\d+: \w+)")
SPURIOUS_WITHOUT_DRIVER = "failed call to cuInit"

# What to install for each backend Keras can be asked for.
BACKEND_MODULES = {"tensorflow": "tensorflow", "jax": "jax", "torch": "torch"}
INSTALL_HINTS = {
    "tensorflow": "pip install -r requirements.txt",
    "jax": "pip install -r requirements-jax.txt (JAX 0.10 needs Python 3.11 or newer)",
    "torch": "pip install torch (the lesson is tested on tensorflow and jax only)",
}


def check_backend() -> None:
    """Fail in one line, before anything slow, when ``KERAS_BACKEND`` asks for a backend that is
    not installed (``~/.keras/keras.json`` is Keras' to read and report on)."""
    backend = os.environ.get("KERAS_BACKEND", "").strip() or "tensorflow"
    if backend not in BACKEND_MODULES:
        raise UserError(
            f"KERAS_BACKEND={backend} is not a backend Keras knows: use tensorflow (the default), "
            "jax or torch"
        )
    if importlib.util.find_spec(BACKEND_MODULES[backend]) is None:
        raise UserError(
            f"KERAS_BACKEND={backend}, but {backend} is not installed: {INSTALL_HINTS[backend]}, "
            "or unset KERAS_BACKEND for TensorFlow"
        )


def lines_worth_showing(captured: str) -> list[str]:
    """The lines of a backend's start-up output a user should see; see ``LOG_RECORD``."""
    kept, level = [], None
    no_driver = NO_CUDA_DRIVER in captured
    for line in captured.splitlines():
        record = LOG_RECORD.match(line)
        if record:
            level = record.group(1)
            if no_driver and SPURIOUS_WITHOUT_DRIVER in line:
                level = "I"  # shown as what it is here: information, not a failure
        elif line.startswith(ABSL_PREAMBLE):
            level = "I"
        elif not line.strip() or PYTHON_MESSAGE.match(line):
            level = None  # not a continuation of a hidden record
        if level not in ("I", "W") and line.strip():
            kept.append(line)
    return kept


@contextlib.contextmanager
def _startup_output_filtered():
    """What C++ libraries write to file descriptor 2 inside the block goes to a temporary file;
    afterwards the lines worth showing are written to stderr."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no real stderr (some IDEs): nothing to filter
        yield
        return
    with tempfile.TemporaryFile() as captured:
        try:
            os.dup2(captured.fileno(), 2)
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            text = captured.read().decode("utf-8", errors="replace")
            for line in lines_worth_showing(text):
                print(line, file=sys.stderr)


def import_keras_quietly():
    """Keras, imported with its backend, without the start-up INFO and WARNING lines (which
    Jupyter would show); ERROR lines still show, later messages follow the log level set here.
    TensorFlow, when it loads here, uses the system allocator (``ONEDNN_SYSTEM_ALLOCATOR``), and
    glibc's malloc is capped at ``MALLOC_ARENAS`` heaps first (``cap_malloc_arenas``)."""
    check_backend()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", QUIET_LOG_LEVEL)
    os.environ.setdefault(ONEDNN_SYSTEM_ALLOCATOR, "1")
    cap_malloc_arenas()
    with _startup_output_filtered():
        import keras

        if importlib.util.find_spec("tensorflow") is not None:
            # Keras seeds TensorFlow whenever it is installed, whatever the backend
            # (keras.utils.set_random_seed), so it would load later, noisily: load it now.
            import tensorflow  # noqa: F401
        gpus()  # the backend looks for devices now, inside the filter, not in a later cell
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        # A lesson builds several models; TensorFlow's retracing advice is not for learners.
        tf.get_logger().setLevel("ERROR")
    return keras


@functools.cache  # once per process: later calls report the cap set the first time
def cap_malloc_arenas() -> int | None:
    """Cap glibc's malloc at ``MALLOC_ARENAS`` heaps before the backend starts its threads; the
    cap in force, or None where there is no glibc (macOS, Windows, musl) to cap."""
    if os.environ.get(MALLOC_ARENA_MAX):
        return int(os.environ[MALLOC_ARENA_MAX]) if os.environ[MALLOC_ARENA_MAX].isdigit() else None
    if platform.libc_ver()[0] != "glibc":
        return None
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return None
    return MALLOC_ARENAS if mallopt(_M_ARENA_MAX, MALLOC_ARENAS) == 1 else None


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
    """Seed Python, NumPy, the backend and Keras; on a GPU, where some TensorFlow kernels are not
    deterministic (on a CPU all are), turn on op determinism too and return True."""
    import keras

    keras.utils.set_random_seed(seed)
    if keras.backend.backend() == "tensorflow" and gpus():
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()
        return True
    return False


def backend_version() -> str:
    """The backend's name and version, as in ``tensorflow 2.21.0`` or ``jax 0.10.2``."""
    import keras

    backend = keras.backend.backend()
    return f"{backend} {importlib.import_module(backend).__version__}"


def _cpuinfo(field: str) -> str | None:
    """The value of the first ``field`` line of /proc/cpuinfo, None without one."""
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return None
    return next((line.split(":", 1)[1] for line in lines if line.startswith(field)), None)


def cpu_features() -> list[str]:
    """The vector instruction sets of this processor (oneDNN and XLA pick kernels by them)."""
    wanted = ("avx", "avx2", "fma", "avx512f", "avx512_bf16", "avx512_vnni", "amx_tile")
    flags = (_cpuinfo("flags") or "").split()
    return [flag for flag in wanted if flag in flags]


def cpu_name() -> str:
    """The processor's model name, as lscpu shows it."""
    name = _cpuinfo("model name")
    return name.strip() if name is not None else platform.processor() or platform.machine()


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
        "onednn_system_allocator": os.environ.get(ONEDNN_SYSTEM_ALLOCATOR),
        "malloc_arenas": cap_malloc_arenas(),
        "cpu_count": os.cpu_count(),
        "gpus": gpus(),
        "op_determinism": op_determinism,
    }
