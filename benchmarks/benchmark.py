"""How long the lesson and its chapters take, and how much memory, on this machine.

    python benchmarks/benchmark.py [--data PATH/mnist.npz] [--repeats 3] [--quick]

One run measures, with TensorFlow on the CPU:

- the whole lesson, ``python mnist_classification.py`` as a user runs it (in a working folder
  of its own, MNIST_PATH set, its outputs/ written there), against the classic script
  ``classic_tutorial.py``: wall time and each process's peak resident memory;
- the deep model's training rate, trained as the lesson trains it (``lesson_recipe.py --time
  deep``), on TensorFlow and on JAX, as a share of NumPy's float32 matrix-multiply rate on the
  same machine; 6 floating-point operations per weight and training example (2 forward, 4
  backward);
- each chapter (``experiments.py``, ``your_handwriting.py``, ``exercises.py``) run as a script
  in the lesson's working folder after the lesson: wall time and peak memory, without a target.
  A chapter that does not exist is noted as missing.

Every measured program runs in its own process, the repeats interleaved so that a slow minute
of the shared machine hits each alike; medians over the repeats are judged against the targets
of issue #41. Writes benchmarks/results.json; ``report.py`` writes the READMEs' blocks from it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
LESSON = ROOT / "mnist_classification.py"
CHAPTERS = ("experiments", "your_handwriting", "exercises")
BACKENDS = ("tensorflow", "jax")
PARTS = ("lesson", "classic", "deep", "chapters")
FLOPS_PER_WEIGHT_AND_EXAMPLE = 6
# Entries of ROOT that a working folder does not mirror: it gets outputs/ of its own.
NOT_MIRRORED = {
    ".git",
    ".venv",
    "outputs",
    "__pycache__",
    ".pytest_cache",
    ".ruff_cache",
    ".hypothesis",
    ".ipynb_checkpoints",
}

# name: (how the value is read from the results, True: at least the limit, the limit, format)
TARGETS = {
    "whole lesson / classic script": ("lesson_over_classic", False, 0.75, "{:.2f}x"),
    "deep model on TensorFlow / NumPy matmul peak": ("deep_share_tensorflow", True, 0.50, "{:.0%}"),
    "deep model on JAX / NumPy matmul peak": ("deep_share_jax", True, 0.60, "{:.0%}"),
    "whole lesson's peak memory (GB)": ("lesson_peak_gb", False, 2.0, "{:.2f}"),
}


class BenchmarkError(Exception):
    """A problem the user can fix (data path, a program that fails); reported as one line."""


# Linux counts in a child's peak memory the parent's at the moment of the fork (execve keeps
# the larger of the two), so a child of a large process (pytest after TensorFlow) would report
# the parent's size. A small Python in between gives the program a small parent to inherit
# from; it waits for the program and writes the program's own peak (kB, from wait4's resource
# usage) to the file named first.
_OWN_PEAK = """
import os, sys
pid = os.posix_spawn(sys.argv[2], sys.argv[2:], os.environ)
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as peak:
    peak.write(str(usage.ru_maxrss))
sys.exit(os.waitstatus_to_exitcode(status))
"""


def run_measured(command: list[str], env: dict, cwd: Path = ROOT) -> tuple[str, float, float]:
    """Run ``command`` in ``cwd``; return its stdout, wall seconds and its own peak resident
    memory in MB. A failing command raises BenchmarkError with its last line of stderr."""
    with (
        tempfile.TemporaryFile("w+") as stdout,
        tempfile.TemporaryFile("w+") as stderr,
        tempfile.TemporaryDirectory() as scratch,
    ):
        peak_file = Path(scratch, "peak_kb")
        launcher = [sys.executable, "-c", _OWN_PEAK, str(peak_file)]
        start = time.perf_counter()
        process = subprocess.run(launcher + command, stdout=stdout, stderr=stderr, env=env, cwd=cwd)
        wall = time.perf_counter() - start
        stdout.seek(0)
        stderr.seek(0)
        output, errors = stdout.read(), stderr.read()
        peak_kb = float(peak_file.read_text()) if peak_file.exists() else 0.0
    if process.returncode != 0:
        last = errors.strip().splitlines()[-1:] or ["(no message)"]
        name = next((Path(part).name for part in command[1:] if part.endswith(".py")), command[0])
        raise BenchmarkError(f"{name} failed: {last[0]}")
    return output, wall, peak_kb / 1024


def reported(output: str) -> dict:
    for line in output.splitlines():
        if line.startswith("BENCHMARK_RESULT "):
            return json.loads(line.removeprefix("BENCHMARK_RESULT "))
    raise BenchmarkError("a program printed no BENCHMARK_RESULT line")


def quick_copy(script: Path, folder: Path) -> Path:
    """``script`` with ``quick = True`` in its parameters cell, written into ``folder``; the
    script itself where it has no such line."""
    text = script.read_text()
    if "\nquick = False" not in text:
        return script
    copy = folder / script.name
    copy.unlink(missing_ok=True)  # the mirror's link to the original
    copy.write_text(text.replace("\nquick = False", "\nquick = True", 1))
    return copy


def working_folder(parent: Path) -> Path:
    """A folder that looks like the project's root to a script run in it (its entries linked),
    with an outputs/ of its own: a chapter finds the project's files and the lesson's outputs."""
    folder = Path(tempfile.mkdtemp(prefix="run_", dir=parent))
    for entry in ROOT.iterdir():
        if entry.name not in NOT_MIRRORED:
            (folder / entry.name).symlink_to(entry)
    return folder


def environment(data: str, backend: str = "tensorflow") -> dict:
    return {
        **os.environ,
        "MNIST_PATH": data,
        "KERAS_BACKEND": backend,
        "MPLBACKEND": "Agg",
    }


def run_lesson(data: str, quick: bool, folder: Path) -> dict:
    """The lesson as a user runs it, in ``folder``; its outputs/ stay there for the chapters."""
    script = quick_copy(LESSON, folder) if quick else LESSON
    _, seconds, peak = run_measured([sys.executable, str(script)], environment(data), folder)
    metrics = json.loads((folder / "outputs" / "metrics.json").read_text())
    return {
        "lesson": {
            "seconds": seconds,
            "peak_rss_mb": peak,
            "simple_test_accuracy": metrics["models"]["simple"]["test_accuracy"],
            "deep_test_accuracy": metrics["models"]["deep"]["test_accuracy"],
        }
    }


def run_chapters(data: str, quick: bool, folder: Path) -> dict:
    """Each chapter as a script, in the lesson's folder; a missing or failing one is noted."""
    measured = {}
    for name in CHAPTERS:
        path = ROOT / f"{name}.py"
        if not path.exists():
            measured[name] = {"missing": f"{path.name} does not exist"}
            continue
        chapter = quick_copy(path, folder) if quick else path
        try:
            _, seconds, peak = run_measured(
                [sys.executable, str(chapter)], environment(data), folder
            )
            measured[name] = {"seconds": seconds, "peak_rss_mb": peak}
        except BenchmarkError as error:  # reported, not fatal: the lesson's numbers stand
            measured[name] = {"failed": str(error)}
    return measured


def run_classic(data: str, quick: bool, scratch: Path) -> dict:
    command = [
        sys.executable,
        str(HERE / "classic_tutorial.py"),
        "--data",
        data,
        "--output-dir",
        tempfile.mkdtemp(dir=scratch),
    ] + ["--quick"] * quick
    output, seconds, peak = run_measured(command, environment(data))
    result = reported(output)
    return {
        "classic": {
            "seconds": seconds,
            "peak_rss_mb": peak,
            "simple_test_accuracy": result["simple"]["test_accuracy"],
            "deep_test_accuracy": result["deep"]["test_accuracy"],
        }
    }


def run_deep(data: str, quick: bool, backend: str) -> dict:
    """The deep model trained alone as the lesson trains it, timed inside its process."""
    command = [sys.executable, str(HERE / "lesson_recipe.py"), "--time", "deep", "--data", data]
    output, _, peak = run_measured(command + ["--quick"] * quick, environment(data, backend))
    result = reported(output)
    flops = FLOPS_PER_WEIGHT_AND_EXAMPLE * result["params"] * result["train_examples"]
    steady = result["epoch_seconds"][1:] or result["epoch_seconds"]
    return {
        f"deep_{backend}": {
            **result,
            "peak_rss_mb": peak,
            "gflops": flops * result["epochs"] / result["train_seconds"] / 1e9,
            "gflops_after_first_epoch": flops * len(steady) / sum(steady) / 1e9,
        }
    }


def summarize(runs: list[dict]) -> dict:
    """Medians over the repeats (and each repeat's numbers); a note where none was measured."""
    measured = [run for run in runs if "seconds" in run or "train_seconds" in run]
    if not measured:
        return {"note": runs[0].get("missing") or runs[0].get("failed"), "runs": runs}
    summary = {}
    for key, value in measured[0].items():
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            summary[key] = statistics.median(run[key] for run in measured)
        elif isinstance(value, str):  # such as the backend: the same in every repeat
            summary[key] = value
    summary["peak_rss_mb_max"] = max(run["peak_rss_mb"] for run in measured)
    if len(measured) < len(runs):
        summary["note"] = next(run.get("failed") for run in runs if run not in measured)
    return {**summary, "runs": runs}


def judge(results: dict) -> dict:
    """Each target: what was measured, the limit, and whether it was met; targets whose
    measurements this run lacks are left out."""
    programs = results["programs"]
    values = {}
    if "seconds" in programs.get("lesson", {}):
        values["lesson_peak_gb"] = programs["lesson"]["peak_rss_mb"] / 1024
        if "seconds" in programs.get("classic", {}):
            values["lesson_over_classic"] = (
                programs["lesson"]["seconds"] / programs["classic"]["seconds"]
            )
    for backend in BACKENDS:
        deep = programs.get(f"deep_{backend}", {})
        if "gflops" in deep:
            values[f"deep_share_{backend}"] = deep["gflops"] / deep["sgemm_gflops"]
    judged = {}
    for name, (key, at_least, limit, style) in TARGETS.items():
        if key not in values:
            continue
        value = values[key]
        judged[name] = {
            "measured": value,
            "shown": style.format(value),
            "limit": f"{'>=' if at_least else '<='} {style.format(limit)}",
            "met": value >= limit if at_least else value <= limit,
        }
    return judged


VERSIONS_SCRIPT = """
import json, keras, numpy, sklearn, tensorflow as tf
try:
    import jax
    jax_version = jax.__version__
except ImportError:
    jax_version = None
print(json.dumps({"tensorflow": tf.__version__, "jax": jax_version, "keras": keras.__version__,
                  "numpy": numpy.__version__, "scikit_learn": sklearn.__version__,
                  "gpus": [gpu.name for gpu in tf.config.list_physical_devices("GPU")]}))
"""


def processor() -> tuple[str, list[str]]:
    """The processor's name and its vector instructions (AVX and FMA families), where Linux
    lists them; the numbers of a seed depend on them (oneDNN and XLA choose kernels by them)."""
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor() or "unknown", []
    fields = dict(line.split(":", 1) for line in cpuinfo.splitlines() if ":" in line)
    fields = {key.strip(): value.strip() for key, value in fields.items()}
    flags = fields.get("flags", "").split()
    vector = [flag for flag in flags if flag.startswith(("avx", "fma", "amx"))]
    return fields.get("model name", "unknown"), vector


def machine() -> dict:
    name, vector = processor()
    info = {
        "cpu": name,
        "cpu_features": vector,
        "cores": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
    }
    versions = subprocess.run(
        [sys.executable, "-c", VERSIONS_SCRIPT],
        capture_output=True,
        text=True,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    if versions.returncode == 0:
        info.update(json.loads(versions.stdout.strip().splitlines()[-1]))
    return info


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--data",
        default=os.environ.get("MNIST_PATH"),
        help="a local mnist.npz (default: $MNIST_PATH)",
    )
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--only",
        nargs="+",
        choices=PARTS,
        default=list(PARTS),
        metavar="PART",
        help=f"what to measure, of {', '.join(PARTS)}",
    )
    parser.add_argument("--output", type=Path, default=HERE / "results.json")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="the lesson (and the chapters) with quick = True, the classic "
        "script and the deep model on a few digits: a smoke test of this tool",
    )
    args = parser.parse_args(argv)
    if not args.data:
        parser.error("pass --data PATH or set MNIST_PATH to a local mnist.npz")
    if not Path(args.data).is_file():
        parser.error(f"--data {args.data}: no such file")
    args.data = str(Path(args.data).resolve())
    if "chapters" in args.only and "lesson" not in args.only:
        args.only.append("lesson")  # the chapters run after the lesson, in its folder
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    runs: dict[str, list[dict]] = {}
    with tempfile.TemporaryDirectory(prefix="mnist_benchmark_") as scratch:
        for repeat in range(1, args.repeats + 1):
            folder = working_folder(Path(scratch))
            steps = []  # the lesson and the classic script one after the other, for the ratio
            if "lesson" in args.only:
                steps.append(("the lesson", lambda f=folder: run_lesson(args.data, args.quick, f)))
            if "classic" in args.only:
                steps.append(
                    (
                        "the classic script",
                        lambda: run_classic(args.data, args.quick, Path(scratch)),
                    )
                )
            if "deep" in args.only:
                for backend in BACKENDS:
                    steps.append(
                        (
                            f"the deep model on {backend}",
                            lambda b=backend: run_deep(args.data, args.quick, b),
                        )
                    )
            if "chapters" in args.only:
                steps.append(
                    ("the chapters", lambda f=folder: run_chapters(args.data, args.quick, f))
                )
            for label, step in steps:
                print(f"repeat {repeat}: {label} ...", end=" ", flush=True)
                for name, measured in step().items():
                    runs.setdefault(name, []).append(measured)
                print("done", flush=True)
    results = {
        "date": time.strftime("%Y-%m-%d"),
        "machine": machine(),
        "repeats": args.repeats,
        "quick": args.quick,
        "programs": {name: summarize(entries) for name, entries in runs.items()},
    }
    results["targets"] = judge(results)
    args.output.write_text(json.dumps(results, indent=2) + "\n")
    print(markdown_table(results))
    return 0


def _number(entry: dict, key: str, style: str) -> str:
    return style.format(entry[key]) if key in entry else "-"


def markdown_table(results: dict) -> str:
    """The whole result, machine details included: for benchmarks/README.md."""
    machine, programs = results["machine"], results["programs"]
    versions = ", ".join(
        f"{label} {machine[key]}"
        for label, key in (
            ("Python", "python"),
            ("TensorFlow", "tensorflow"),
            ("JAX", "jax"),
            ("Keras", "keras"),
            ("NumPy", "numpy"),
        )
        if machine.get(key)
    )
    lines = [
        f"{machine['cpu']}, {machine['cores']} cores "
        f"({', '.join(machine.get('cpu_features', [])) or 'no vector instructions listed'}), "
        f"{'GPU ' + ', '.join(machine['gpus']) if machine.get('gpus') else 'no GPU'}; "
        f"{versions}; {results['date']}; medians of {results['repeats']} "
        f"repeat{'s' * (results['repeats'] > 1)}{' (quick mode)' if results['quick'] else ''}.",
        "",
        "| program | wall time s | peak memory MB | simple model, test | deep model, test |",
        "|---|---:|---:|---:|---:|",
    ]
    for name in ("lesson", "classic", *CHAPTERS):
        if name not in programs:
            continue
        entry = programs[name]
        if "note" in entry and "seconds" not in entry:
            lines.append(f"| {name} | {entry['note']} | | | |")
            continue
        lines.append(
            f"| {name} | {entry['seconds']:.1f} | {entry['peak_rss_mb']:.0f} | "
            f"{_number(entry, 'simple_test_accuracy', '{:.2%}')} | "
            f"{_number(entry, 'deep_test_accuracy', '{:.2%}')} |"
        )
    deep = [
        (backend, programs[f"deep_{backend}"])
        for backend in BACKENDS
        if f"deep_{backend}" in programs
    ]
    if deep:
        lines += [
            "",
            "The deep model's training: the whole `fit` (after its first epoch in brackets), "
            "against NumPy's float32 matmul rate measured in the same process just before and "
            "after it (the better of the two):",
            "",
            "| backend | fit s | GFLOP/s | NumPy matmul GFLOP/s | share of matmul | validation |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        for backend, entry in deep:
            peak = entry["sgemm_gflops"]
            lines.append(
                f"| {backend} | {entry['train_seconds']:.1f} | {entry['gflops']:.0f} "
                f"({entry['gflops_after_first_epoch']:.0f}) | {peak:.0f} | "
                f"{entry['gflops'] / peak:.0%} ({entry['gflops_after_first_epoch'] / peak:.0%}) | "
                f"{entry['validation_accuracy']:.2%} |"
            )
    if results["targets"]:
        lines += ["", "| target (#41) | measured | goal |", "|---|---:|---:|"]
        for name, target in results["targets"].items():
            verdict = "met" if target["met"] else "missed"
            lines.append(f"| {name} | {target['shown']} ({verdict}) | {target['limit']} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchmarkError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        print("\ninterrupted: no results written", file=sys.stderr)
        sys.exit(130)
