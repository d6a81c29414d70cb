"""Keras imported quietly but honestly: the backend's start-up INFO and WARNING lines go, its
ERROR lines stay; a backend that is not installed is one line saying what to install."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys

import pytest

from conftest import ROOT, assert_clean_failure, run_lesson
from mnist_lesson.keras_setup import (
    MALLOC_ARENA_MAX,
    MALLOC_ARENAS,
    MALLOC_MMAP_THRESHOLD,
    MMAP_THRESHOLD_BYTES,
    ONEDNN_SYSTEM_ALLOCATOR,
    lines_worth_showing,
)

PREAMBLE = "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR"
INFO = "I0000 00:00:1796190853.882889    4290 port.cc:153] oneDNN custom operations are on."
NO_DRIVER = (
    "I0000 00:00:1796190853.883149    4290 cudart_stub.cc:31] Could not find cuda drivers on your "
    "machine, GPU will not be used."
)
CPU_GUARD = "I0000 00:00:1796191015.448794    4598 cpu_feature_guard.cc:227] This TensorFlow binary"
CPU_GUARD_CONTINUED = "To enable the following instructions: AVX2 AVX512F, in other operations."
CUINIT = (
    "E0000 00:00:1796190856.933925    4290 cuda_platform.cc:52] failed call to cuInit: INTERNAL: "
    "CUDA error: Failed call to cuInit: UNKNOWN ERROR (303)"
)
GPU_ERROR = (
    "E0000 00:00:1796190856.933925    4290 gpu_device.cc:2344] Cannot dlopen some GPU libraries."
)
WARNING_RECORD = "W0000 00:00:1796190856.933925    4290 loader.cc:12] Could not load libnvinfer."
PYTHON_WARNING = "/x/site-packages/pkg/mod.py:12: DeprecationWarning: call it differently"


def test_info_and_warning_records_go_with_their_continuation_lines():
    text = "\n".join([PREAMBLE, INFO, CPU_GUARD, CPU_GUARD_CONTINUED, WARNING_RECORD, ""])
    assert lines_worth_showing(text) == []


def test_error_records_and_python_messages_stay():
    text = "\n".join([PREAMBLE, INFO, GPU_ERROR, "  the error's second line", CPU_GUARD,
                      PYTHON_WARNING, "  warnings.warn(...)"])  # fmt: skip
    assert lines_worth_showing(text) == [
        GPU_ERROR, "  the error's second line", PYTHON_WARNING, "  warnings.warn(...)"
    ]  # fmt: skip


def test_a_failing_cuinit_is_hidden_only_where_tensorflow_found_no_driver():
    """TensorFlow tries cuInit on machines without a CUDA driver and reports the failure as an
    error (tensorflow/tensorflow#37689); with a driver, the same failure is a real problem."""
    assert lines_worth_showing("\n".join([PREAMBLE, NO_DRIVER, CUINIT])) == []
    assert lines_worth_showing("\n".join([PREAMBLE, INFO, CUINIT])) == [CUINIT]


# What C++ writes to file descriptor 2 while Keras loads, simulated: the filter is the lesson's.
WRITES_TO_FD_2 = """
import os, sys
import mnist_lesson.keras_setup as setup
with setup._startup_output_filtered():
    os.write(2, (sys.argv[1] + "\\n").encode())
print("done", flush=True)
"""


def test_what_c_libraries_write_is_filtered_not_silenced():
    text = "\n".join([PREAMBLE, INFO, GPU_ERROR, CPU_GUARD, CPU_GUARD_CONTINUED])
    result = subprocess.run(
        [sys.executable, "-c", WRITES_TO_FD_2, text], cwd=ROOT, capture_output=True, text=True,
        timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout == "done\n"
    assert result.stderr == GPU_ERROR + "\n"


def test_keras_loads_with_nothing_on_stderr_here():
    """On this machine (no GPU) the start-up is silent: every line it printed was INFO, or the
    spurious cuInit error."""
    code = "from mnist_lesson.keras_setup import import_keras_quietly; import_keras_quietly()"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            text=True, timeout=120)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""


@pytest.mark.parametrize(
    "backend, fragments",
    [
        ("torch", ["KERAS_BACKEND=torch", "torch is not installed", "pip install torch"]),
        ("tensorflw", ["KERAS_BACKEND=tensorflw", "tensorflow", "jax"]),
    ],
)
def test_a_backend_that_is_not_there_is_one_line_before_anything_slow(backend, fragments, tmp_path):
    if backend == "torch" and __import__("importlib").util.find_spec("torch"):
        pytest.skip("PyTorch is installed here")
    result = run_lesson("--data", tmp_path / "not-read.npz", "--output-dir", tmp_path / "out",
                        env={"KERAS_BACKEND": backend}, timeout=120)  # fmt: skip
    assert result.returncode == 1
    assert_clean_failure(result, "error:", *fragments)
    assert result.stdout == "", "refused before the data is even looked at"
    assert not (tmp_path / "out").exists()


def test_jax_missing_says_which_python_it_needs(tmp_path):
    """The hint for JAX, checked without uninstalling it: a folder named jax that is not a
    package hides nothing; instead the check is called with JAX's module made unfindable."""
    code = (
        "import importlib.util, os\n"
        "real = importlib.util.find_spec\n"
        "importlib.util.find_spec = lambda name, *a: None if name == 'jax' else real(name, *a)\n"
        "os.environ['KERAS_BACKEND'] = 'jax'\n"
        "from mnist_lesson.keras_setup import check_backend\n"
        "check_backend()\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            text=True, timeout=60, env={**os.environ})  # fmt: skip
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert "jax is not installed" in last and "requirements-jax.txt" in last
    assert "Python 3.11" in last


# One fit on an array of this many MB, then the resident memory it left behind, in MB.
FIT_AND_MEASURE = """
import gc, json, os, sys
import numpy as np
from mnist_lesson.keras_setup import import_keras_quietly
keras = import_keras_quietly()
def resident_mb():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) // 1024 for line in status if line.startswith("VmRSS"))
x = np.random.default_rng(0).random((int(sys.argv[1]) * 2**20 // 3136, 28, 28, 1), "float32")
y = np.eye(10, dtype="float32")[np.arange(len(x)) % 10]
model = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(), keras.layers.Dense(10)])
model.compile(optimizer="adam", loss="mse")
model.predict(x[:10], verbose=0)
gc.collect()
before = resident_mb()
model.fit(x, y, epochs=1, batch_size=1000, verbose=0)
gc.collect()
print(json.dumps({"left": resident_mb() - before, "allocator": os.environ.get(sys.argv[2])}))
"""


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/status")
def test_a_fit_gives_its_copy_of_the_data_back():
    """TensorFlow's oneDNN pool would keep each fit's copy of the training array for good; with
    the system allocator, which the lesson turns on before TensorFlow loads, a fit on 160 MB
    leaves far less than that behind. A value the user set is kept."""

    def run(megabytes, **env):
        environment = {k: v for k, v in os.environ.items() if k != ONEDNN_SYSTEM_ALLOCATOR}
        result = subprocess.run(
            [sys.executable, "-c", FIT_AND_MEASURE, str(megabytes), ONEDNN_SYSTEM_ALLOCATOR],
            cwd=ROOT, capture_output=True, text=True, timeout=300, env={**environment, **env},
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout.splitlines()[-1])

    ours = run(160)
    assert ours["allocator"] == "1"
    assert ours["left"] < 80, f"a fit on 160 MB left {ours['left']} MB behind"
    assert run(1, **{ONEDNN_SYSTEM_ALLOCATOR: "0"})["allocator"] == "0"  # no need to measure


# glibc's own report on its heaps and mmapped blocks, as XML, for the scripts below.
MALLOC_INFO = """
import ctypes, os, re, sys, tempfile
def malloc_info():
    libc = ctypes.CDLL(None)
    libc.fopen.restype = ctypes.c_void_p
    path = os.path.join(tempfile.mkdtemp(), "malloc_info.xml")
    report = ctypes.c_void_p(libc.fopen(path.encode(), b"w"))
    libc.malloc_info(0, report)
    libc.fclose(report)
    with open(path) as xml:
        return xml.read()
"""

# Eight threads allocate at once, then the number of malloc heaps glibc made ("arenas").
COUNT_HEAPS = """
import threading
from mnist_lesson.keras_setup import cap_malloc_arenas
print(cap_malloc_arenas() if sys.argv[1] == "cap" else None)
together = threading.Barrier(8)
def allocate():
    together.wait()
    blocks = [bytearray(200_000) for _ in range(20)]
    together.wait()
threads = [threading.Thread(target=allocate) for _ in range(8)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print(len(re.findall(r'<heap nr="[0-9]+">', malloc_info())))
"""


def run_glibc_script(variable: str, script: str, mode: str, **env) -> list[str]:
    """``script``, after ``MALLOC_INFO``, run with ``mode`` in a fresh Python where
    ``variable``, the user's own glibc setting, is unset unless ``env`` sets it; the words it
    printed."""
    environment = {k: v for k, v in os.environ.items() if k != variable}
    result = subprocess.run(
        [sys.executable, "-c", MALLOC_INFO + script, mode],
        cwd=ROOT, capture_output=True, text=True, timeout=60, env={**environment, **env},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's malloc heaps")
def test_the_lesson_caps_mallocs_heaps_and_keeps_a_cap_the_user_set():
    """Capped before the backend starts its threads, glibc keeps to MALLOC_ARENAS heaps however
    many threads allocate (without the cap it makes one per thread); MALLOC_ARENA_MAX wins."""

    def run(mode, **env):
        cap, heaps = run_glibc_script(MALLOC_ARENA_MAX, COUNT_HEAPS, mode, **env)
        return cap, int(heaps)

    assert run("cap") == (str(MALLOC_ARENAS), MALLOC_ARENAS)
    assert run("none")[1] > MALLOC_ARENAS  # the test can tell
    assert run("cap", **{MALLOC_ARENA_MAX: "3"}) == ("3", 3)


# TensorFlow loaded either by the lesson or plainly; then whether JAX came with it, the resident
# memory in MB, and whether JAX still imports afterwards.
LOAD_TENSORFLOW = """
import json, sys
if sys.argv[1] == "lesson":
    from mnist_lesson.keras_setup import import_keras_quietly
    import_keras_quietly()
else:
    import tensorflow
loaded_with = "jax" in sys.modules
with open("/proc/self/status") as status:
    resident = next(int(line.split()[1]) // 1024 for line in status if line.startswith("VmRSS"))
import jax
print(json.dumps({"jax_loaded": loaded_with, "resident_mb": resident, "jax": jax.__version__}))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/status")
def test_tensorflow_loads_without_jax_and_jax_imports_afterwards():
    """Loaded plainly where JAX is installed (the tests install it), TensorFlow imports JAX for
    its TFLite converter; loaded by the lesson it does not, holds tens of MB less, and JAX
    imports as usual afterwards. Keras' JAX backend is tested by the lesson's JAX runs."""

    def load(how):
        result = subprocess.run(
            [sys.executable, "-c", LOAD_TENSORFLOW, how], cwd=ROOT, capture_output=True,
            text=True, timeout=300, env={**os.environ, "KERAS_BACKEND": "tensorflow"},
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout.splitlines()[-1])

    plain, lesson = load("plain"), load("lesson")
    assert plain["jax_loaded"], "the test can tell: TensorFlow imports JAX where it is installed"
    assert not lesson["jax_loaded"]
    assert lesson["jax"] == plain["jax"]
    assert lesson["resident_mb"] < plain["resident_mb"] - 50


def test_an_import_fails_only_inside_the_block_and_a_loaded_module_stays():
    from mnist_lesson.keras_setup import _import_failing

    with _import_failing("json"):  # loaded already: left as it is
        assert sys.modules["json"] is json
    with _import_failing("mnist_lesson_not_a_module"), pytest.raises(ImportError):
        import mnist_lesson_not_a_module  # noqa: F401
    assert "mnist_lesson_not_a_module" not in sys.modules


# A 30 MB block freed (which raises glibc's dynamic threshold above 20 MB), then blocks of 20 and
# 8 MB: the threshold reported, and whether glibc took each block from mmap (malloc_info's count).
COUNT_MMAPPED = """
from mnist_lesson.keras_setup import fix_mmap_threshold
if sys.argv[1] == "lesson":  # the lesson's first call, before the data and Keras load
    from mnist_lesson.lesson import start_lesson
    sys.argv[1:] = ["--output-dir", tempfile.mkdtemp()]
    start_lesson(data=None, seed=1, simple_epochs=1, deep_epochs=1, batch_size=250,
                 output_dir="outputs", quick=True, show=False)
    assert "keras" not in sys.modules and "tensorflow" not in sys.modules
    print("lesson")
else:
    print(fix_mmap_threshold() if sys.argv[1] == "fix" else None)
def mmapped():
    return int(re.search(r'<total type="mmap" count="([0-9]+)"', malloc_info()).group(1))
del bytearray(30 * 2**20)[:]
blocks = []
for megabytes in (20, 8):
    before = mmapped()
    blocks.append(bytearray(megabytes * 2**20))
    print(mmapped() - before)
"""


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's mmap threshold")
def test_the_lesson_fixes_mallocs_mmap_threshold_and_keeps_one_the_user_set():
    """With glibc's dynamic threshold, a block smaller than one freed before comes from the heaps;
    with the lesson's fixed threshold, a block above it comes from the system, one below it from
    the heaps; the lesson sets it as it starts. A MALLOC_MMAP_THRESHOLD_ the user set wins."""

    def run(mode, **env):
        threshold, *mmapped = run_glibc_script(MALLOC_MMAP_THRESHOLD, COUNT_MMAPPED, mode, **env)
        return threshold, [int(count) for count in mmapped]

    assert run("fix") == (str(MMAP_THRESHOLD_BYTES), [1, 0])  # 16 MB: 20 MB from mmap, 8 not
    assert run("lesson") == ("lesson", [1, 0])  # set as the lesson starts
    assert run("none") == ("None", [0, 0])  # the test can tell
    assert run("fix", **{MALLOC_MMAP_THRESHOLD: str(4 * 2**20)}) == (str(4 * 2**20), [1, 1])


@pytest.mark.parametrize(
    ("variable", "config", "expected"),
    [
        ("tensorflow", '{"backend": "jax"}', True),  # KERAS_BACKEND wins over keras.json
        ("jax", None, False),
        (None, None, True),
        (None, '{"backend": "tensorflow"}', True),
        (None, '{"backend": "jax"}', False),
        (None, "{not json", False),
    ],
)
def test_jax_is_kept_from_tensorflow_only_where_keras_is_sure_to_run_on_tensorflow(
    variable, config, expected, tmp_path, monkeypatch
):
    from mnist_lesson.keras_setup import _keras_runs_on_tensorflow

    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    if variable is None:
        monkeypatch.delenv("KERAS_BACKEND", raising=False)
    else:
        monkeypatch.setenv("KERAS_BACKEND", variable)
    if config is not None:
        (tmp_path / "keras.json").write_text(config)
    assert _keras_runs_on_tensorflow() is expected


def test_a_keras_json_that_asks_for_jax_gets_jax(tmp_path):
    """Keras reads its backend from keras.json where KERAS_BACKEND is unset: JAX must then load."""
    (tmp_path / "keras.json").write_text('{"backend": "jax"}')
    code = (
        "from mnist_lesson.keras_setup import import_keras_quietly\n"
        "keras = import_keras_quietly()\n"
        "weights = keras.Variable([1.0, 2.0])  # a variable's arithmetic needs the whole backend\n"
        "print(keras.backend.backend(), int(keras.ops.sum(weights + 1)))"
    )
    environment = {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300,
        env={**environment, "KERAS_HOME": str(tmp_path)},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["jax", "5"]
