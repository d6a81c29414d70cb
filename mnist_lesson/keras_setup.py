"""Keras and its backend imported without their start-up chatter, every random generator seeded,
and what a result depends on. Keras 3 runs on TensorFlow (the default), JAX or PyTorch, chosen
with ``KERAS_BACKEND`` before Python starts. Nothing happens on import."""

from __future__ import annotations

import contextlib
import ctypes
import functools
import importlib.util
import json
import os
import platform
import re
import sys
import tempfile
from pathlib import Path

from mnist_lesson.errors import UserError

QUIET_LOG_LEVEL = "2"  # TensorFlow's C++ log level that keeps ERROR lines only

# TensorFlow's oneDNN kernels (on by default on x86) take their buffers from a pool that keeps
# every byte it ever held, so each fit's copy of the training digits stays. TensorFlow's switch
# for this (tensorflow/tensorflow#54169) sends those buffers to the system allocator instead: the
# same kernels and numbers, and each copy given back (benchmarks/README.md times both). It acts
# only if set before TensorFlow loads; a value the user set wins.
ONEDNN_SYSTEM_ALLOCATOR = "TF_ONEDNN_USE_SYSTEM_ALLOCATOR"

# glibc's malloc gives threads heaps of their own ("arenas"), up to eight per core; memory freed
# by one of TensorFlow's threads is not reused by the next fit's threads, so the process grows by
# tens of MB per fit. Capped at two heaps (glibc's documented mallopt option, what
# MALLOC_ARENA_MAX=2 does), freed memory is reused, the lesson's peak falls and its numbers stay
# the same (benchmarks/README.md, "Where the memory goes", times both). Linux with glibc only; a
# MALLOC_ARENA_MAX the user set wins, as glibc has then read it already.
MALLOC_ARENA_MAX = "MALLOC_ARENA_MAX"
MALLOC_ARENAS = 2
_M_ARENA_MAX = -8  # mallopt's parameter number for it, from glibc's <malloc.h>

# Blocks above glibc's "mmap threshold" come straight from the system and go back when freed.
# The threshold rises with each large block freed, up to 32 MB, so after the first fit the copies
# of the test digits (31 MB) are cut from the heaps, where freed memory stays resident. Fixed at
# 16 MB (glibc's documented mallopt option, what MALLOC_MMAP_THRESHOLD_=16777216 does), the peak
# falls and the numbers stay the same (benchmarks/README.md, "Where the memory goes"). Set as
# early as it can be (start_lesson does, before the data loads); a user's value wins; glibc only.
MALLOC_MMAP_THRESHOLD = "MALLOC_MMAP_THRESHOLD_"
MMAP_THRESHOLD_BYTES = 16 * 2**20
_M_MMAP_THRESHOLD = -3  # mallopt's parameter number for it, from glibc's <malloc.h>

# TensorFlow's TFLite converter imports JAX as TensorFlow loads, if installed
# (tensorflow/lite/python/util.py), and goes on without it when that import fails; the lesson
# never converts to TFLite, and JAX holds about a hundred MB. While TensorFlow loads, `import
# jax` fails (a None in sys.modules, Python's documented way to stop an import); afterwards JAX
# imports as usual. Loading TensorFlow loads Keras too, so this is done only where Keras is sure
# to run on TensorFlow: neither KERAS_BACKEND nor a keras.json where Keras looks for one
# (keras/src/backend/config.py) names another backend.
_TFLITE_OPTIONAL_IMPORT = "jax"

# TensorFlow's C++ runtime writes glog/absl records to file descriptor 2 as it loads, before any
# log level applies ("I0000 00:00:1700000000.123456  4290 port.cc:153] ..."). INFO (I) and WARNING
# (W) records go, with their continuation lines; ERROR (E), FATAL (F) and anything else stay.
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
    TensorFlow, when it loads here, uses the system allocator (``ONEDNN_SYSTEM_ALLOCATOR``) and
    loads without JAX (``_TFLITE_OPTIONAL_IMPORT``); glibc's malloc is capped at
    ``MALLOC_ARENAS`` heaps and its mmap threshold fixed first (``tune_malloc``)."""
    check_backend()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", QUIET_LOG_LEVEL)
    os.environ.setdefault(ONEDNN_SYSTEM_ALLOCATOR, "1")
    tune_malloc()
    with _startup_output_filtered():
        if importlib.util.find_spec("tensorflow") is not None:
            # Keras seeds TensorFlow whenever it is installed, whatever the backend
            # (keras.utils.set_random_seed), so it would load later, noisily: load it now.
            without = _TFLITE_OPTIONAL_IMPORT if _keras_runs_on_tensorflow() else None
            with _import_failing(without):
                import tensorflow  # noqa: F401
        import keras

        gpus()  # the backend looks for devices now, inside the filter, not in a later cell
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        # A lesson builds several models; TensorFlow's retracing advice is not for learners.
        tf.get_logger().setLevel("ERROR")
    return keras


def _keras_runs_on_tensorflow() -> bool:
    """Whether Keras will choose TensorFlow: KERAS_BACKEND says so, or it is unset and no
    keras.json Keras may read ($KERAS_HOME's, else ~/.keras's or /tmp/.keras's) names another
    backend or fails to read."""
    chosen = os.environ.get("KERAS_BACKEND", "").strip()
    if chosen:
        return chosen == "tensorflow"
    if os.environ.get("KERAS_HOME"):
        folders = [Path(os.environ["KERAS_HOME"])]
    else:
        folders = [Path("~/.keras").expanduser(), Path("/tmp/.keras")]
    for config in (folder / "keras.json" for folder in folders):
        try:
            if config.exists() and json.loads(config.read_text()).get("backend") != "tensorflow":
                return False
        except (OSError, ValueError, AttributeError):
            return False
    return True


@contextlib.contextmanager
def _import_failing(module: str | None):
    """Inside the block, ``import module`` raises ImportError; nothing changes where the module
    is loaded already, or for None. Afterwards it imports as usual."""
    if module is None or module in sys.modules:
        yield
        return
    sys.modules[module] = None
    try:
        yield
    finally:
        if module in sys.modules and sys.modules[module] is None:
            del sys.modules[module]


def tune_malloc() -> None:
    """Both glibc settings, before anything large is allocated: ``cap_malloc_arenas`` and
    ``fix_mmap_threshold``. Each acts once per process; later calls change nothing."""
    cap_malloc_arenas()
    fix_mmap_threshold()


@functools.cache  # once per process: later calls report the cap set the first time
def cap_malloc_arenas() -> int | None:
    """Cap glibc's malloc at ``MALLOC_ARENAS`` heaps before the backend starts its threads; the
    cap in force, or None where there is no glibc (macOS, Windows, musl) to cap."""
    return _mallopt_unless_set(MALLOC_ARENA_MAX, _M_ARENA_MAX, MALLOC_ARENAS)


@functools.cache  # once per process: later calls report the threshold set the first time
def fix_mmap_threshold() -> int | None:
    """Fix glibc's mmap threshold at ``MMAP_THRESHOLD_BYTES``; the threshold in force, or None
    where glibc's own dynamic one applies (no glibc, or a value that is not a number)."""
    return _mallopt_unless_set(MALLOC_MMAP_THRESHOLD, _M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)


def _mallopt_unless_set(variable: str, parameter: int, value: int) -> int | None:
    """glibc's mallopt(parameter, value), unless the user set ``variable``, the environment
    variable glibc reads for the same setting: then theirs stands. The value in force, or None
    where it is not a number, mallopt failed or there is no glibc."""
    if os.environ.get(variable):
        return int(os.environ[variable]) if os.environ[variable].isdigit() else None
    if platform.libc_ver()[0] != "glibc":
        return None
    try:
        return value if ctypes.CDLL(None).mallopt(parameter, value) == 1 else None
    except (OSError, AttributeError):
        return None


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
        "malloc_mmap_threshold": fix_mmap_threshold(),
        "cpu_count": os.cpu_count(),
        "gpus": gpus(),
        "op_determinism": op_determinism,
    }
