"""Measure the lesson against the recipes people use instead, on the same machine and data, on
both Keras backends it runs on.

    python benchmarks/benchmark.py --data PATH/mnist.npz [--seeds 1 2 3 4 5]

Every recipe runs as its own process, once per seed, interleaved so that a slow minute of the
machine hits all recipes alike. The lesson itself is run (not a copy of its code), on TensorFlow
(its default) and on JAX, so the whole-lesson numbers are those of what users run. The lesson
does not time its own trainings, so each model's training time is measured apart, by
``lesson_recipe.py``, which trains it as the lesson's cells do (and scores what the lesson
scores, seed for seed): on TensorFlow as the lesson runs it (Keras chooses: no XLA on a CPU), on
TensorFlow with XLA asked for, and on JAX; the deep model's unshifted rung too, to show what the
shifted digits cost on each backend. Writes benchmarks/results.json and benchmarks/results.md.
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
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
LESSON = ROOT / "mnist_classification.py"
sys.path.insert(0, str(ROOT))

from mnist_lesson.keras_setup import MALLOC_ARENA_MAX, ONEDNN_SYSTEM_ALLOCATOR  # noqa: E402

BACKENDS = ("tensorflow", "jax")
RECIPE_SCRIPT = str(HERE / "lesson_recipe.py")
# name: (command after the Python interpreter, what the command reports, its KERAS_BACKEND)
RECIPES = {
    "lesson": ([str(LESSON)], "lesson", "tensorflow"),
    "lesson_jax": ([str(LESSON)], "lesson", "jax"),
    "lesson_quick": ([str(LESSON), "--quick"], "lesson", "tensorflow"),
    "lesson_onednn_pool": ([str(LESSON)], "lesson", "tensorflow"),
    "lesson_malloc_default": ([str(LESSON)], "lesson", "tensorflow"),
    "deep": ([RECIPE_SCRIPT, "--model", "deep"], "recipe", "tensorflow"),
    "deep_jax": ([RECIPE_SCRIPT, "--model", "deep"], "recipe", "jax"),
    "unshifted": ([RECIPE_SCRIPT, "--model", "relu_hidden"], "recipe", "tensorflow"),
    "unshifted_jax": ([RECIPE_SCRIPT, "--model", "relu_hidden"], "recipe", "jax"),
    "unshifted_xla": ([RECIPE_SCRIPT, "--model", "relu_hidden", "--jit-compile", "true"],
                      "recipe", "tensorflow"),
    "simple": ([RECIPE_SCRIPT, "--model", "simple"], "recipe", "tensorflow"),
    "simple_jax": ([RECIPE_SCRIPT, "--model", "simple"], "recipe", "jax"),
    "classic": ([str(HERE / "classic_tutorial.py")], "classic", "tensorflow"),
    "tf_quickstart": ([str(HERE / "other_recipes.py"), "tf_quickstart"], "single", "tensorflow"),
    "sklearn_mlp": ([str(HERE / "other_recipes.py"), "sklearn_mlp"], "single", "tensorflow"),
    "sklearn_logreg": ([str(HERE / "other_recipes.py"), "sklearn_logreg"], "single",
                       "tensorflow"),
    "exercises": ([str(ROOT / "exercises.py")], "exercises", "tensorflow"),
}  # fmt: skip
# What a recipe sets in its environment besides the backend, for paired comparisons with the
# lesson's memory settings (mnist_lesson/keras_setup.py): the lesson with TensorFlow's oneDNN
# pool back on, and with glibc's default number of malloc heaps (0 asks glibc for its default).
RECIPE_ENVIRONMENT = {
    "lesson_onednn_pool": {ONEDNN_SYSTEM_ALLOCATOR: "0"},
    "lesson_malloc_default": {MALLOC_ARENA_MAX: "0"},
}
# Which entries measure the lesson's models on each backend.
ON_BACKEND = {
    "tensorflow": {"lesson": "lesson", "deep": "deep", "simple": "simple"},
    "jax": {"lesson": "lesson_jax", "deep": "deep_jax", "simple": "simple_jax"},
}

# The deep model's median over seeds 1-5 before XLA and the whole-pixel shift (2026-11-26).
EARLIER_DEEP_MEDIAN = 0.9879


@dataclass(frozen=True)
class Target:
    """A goal for the lesson, judged on medians measured in one run of the benchmark."""

    measure: Callable[[dict, str], float]  # from the results and a backend
    at_least: bool  # True: the measure must reach ``limit``; False: stay at or below it
    limit: float
    style: str  # how the measure and limit are printed

    def met_by(self, value: float) -> bool:
        return value >= self.limit if self.at_least else value <= self.limit


def _median(entry_of: str, key: str) -> Callable[[dict, str], float]:
    return lambda results, backend: results["recipes"][ON_BACKEND[backend][entry_of]][key]


def _ratio(name: str) -> Callable[[dict, str], float]:
    return lambda results, backend: results["ratios"][backend][name]


TARGETS = {
    "deep accuracy": Target(_median("deep", "test_accuracy_median"), True, 0.985, "{:.2%}"),
    "deep accuracy vs the earlier recipe's median": Target(
        _median("deep", "test_accuracy_median"), True, EARLIER_DEEP_MEDIAN, "{:.2%}"
    ),
    "simple accuracy": Target(_median("simple", "test_accuracy_median"), True, 0.920, "{:.2%}"),
    "both models' training / the classic script's (#26)": Target(
        _ratio("both_models_training"), False, 0.35, "{:.2f}x"
    ),
    "whole lesson / classic script (#26)": Target(_ratio("whole_script"), False, 1.1, "{:.2f}x"),
    "deep training rate / NumPy matmul peak": Target(
        lambda results, backend: results["deep_fraction_of_sgemm_peak"][backend],
        True,
        0.60,
        "{:.0%}",
    ),
    "peak memory of the whole lesson (MB, #26)": Target(
        _median("lesson", "peak_rss_mb"), False, 1600, "{:.0f}"
    ),
}


class BenchmarkError(Exception):
    """A problem the user can fix (data path, a recipe that fails); reported as one line."""


def ratios(recipes: dict, backend: str) -> dict:
    """The lesson's times on ``backend`` over the classic recipe's, medians over the seeds,
    measured in the same run."""
    entries = ON_BACKEND[backend]

    def over(name: str, baseline: str, key: str) -> float:
        return recipes[entries[name]][key] / recipes[baseline][key]

    def training(deep: str, simple: str) -> float:
        return recipes[deep]["train_seconds_median"] + recipes[simple]["train_seconds_median"]

    return {
        "deep_training": over("deep", "classic_deep", "train_seconds_median"),
        "simple_training": over("simple", "classic_simple", "train_seconds_median"),
        "both_models_training": training(entries["deep"], entries["simple"])
        / training("classic_deep", "classic_simple"),
        "whole_script": over("lesson", "classic_deep", "script_seconds_median"),
    }


def judge(results: dict, backend: str) -> dict:
    """Each target on ``backend``: what was measured, the limit, and whether it was met."""
    judged = {}
    for name, target in TARGETS.items():
        value = target.measure(results, backend)
        judged[name] = {
            "measured": value,
            "limit": f"{'>=' if target.at_least else '<='} {target.style.format(target.limit)}",
            "met": target.met_by(value),
            "shown": target.style.format(value),
        }
    return judged


# Linux counts in a child's peak memory the parent's at the moment of the fork (execve keeps
# the larger of the two), so a child of a large process (pytest after TensorFlow) would report
# the parent's size. A small Python in between gives the recipe a small parent to inherit from;
# it waits for the recipe and writes the recipe's own peak (kB) to the file named first.
_OWN_PEAK = """
import os, sys
pid = os.posix_spawn(sys.argv[2], sys.argv[2:], os.environ)
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as peak:
    peak.write(str(usage.ru_maxrss))
sys.exit(os.waitstatus_to_exitcode(status))
"""


def run_measured(command: list[str], env: dict) -> tuple[str, float, float]:
    """Run ``command``; return its stdout, wall seconds and its own peak resident memory in MB."""
    with (
        tempfile.TemporaryFile("w+") as stdout,
        tempfile.TemporaryFile("w+") as stderr,
        tempfile.TemporaryDirectory() as scratch,
    ):
        peak_file = Path(scratch, "peak_kb")
        launcher = [sys.executable, "-c", _OWN_PEAK, str(peak_file)]
        start = time.perf_counter()
        process = subprocess.run(
            launcher + command, stdout=stdout, stderr=stderr, env=env, cwd=ROOT
        )
        wall = time.perf_counter() - start
        stdout.seek(0)
        stderr.seek(0)
        output, errors = stdout.read(), stderr.read()
        peak_kb = float(peak_file.read_text()) if peak_file.exists() else 0.0
    if process.returncode != 0:
        last = errors.strip().splitlines()[-1:] or ["(no message)"]
        raise BenchmarkError(f"{' '.join(command[1:3])} failed: {last[0]}")
    return output, wall, peak_kb / 1024


def reported(output: str) -> dict:
    for line in output.splitlines():
        if line.startswith("BENCHMARK_RESULT "):
            return json.loads(line.removeprefix("BENCHMARK_RESULT "))
    raise BenchmarkError("a recipe printed no BENCHMARK_RESULT line")


def run_recipe(name: str, data: str, seed: int, quick: bool, scratch: Path) -> dict[str, dict]:
    """One run of one recipe: {entry name: measurements}."""
    arguments, kind, backend = RECIPES[name]
    command = [sys.executable, *arguments, "--data", data, "--seed", str(seed)]
    env = {**os.environ, "MPLBACKEND": "Agg", "TF_CPP_MIN_LOG_LEVEL": "3",
           "KERAS_BACKEND": backend, **RECIPE_ENVIRONMENT.get(name, {})}  # fmt: skip
    if kind == "exercises":  # the untouched notebook as a script: MNIST from $MNIST_PATH
        _, wall, rss = run_measured(command[:2], {**env, "MNIST_PATH": data})
        return {name: {"test_accuracy": None, "train_seconds": None, "script_seconds": wall,
                       "peak_rss_mb": rss}}  # fmt: skip
    if quick and kind in ("lesson", "classic", "recipe") and "--quick" not in command:
        command.append("--quick")
    if kind == "lesson":
        output_dir = scratch / f"{name}_{seed}"
        command += ["--output-dir", str(output_dir)]
        _, wall, rss = run_measured(command, env)
        metrics = json.loads((output_dir / "metrics.json").read_text())
        models = metrics["models"]
        return {
            name: {
                "test_accuracy": models["deep"]["test_accuracy"],
                "simple_test_accuracy": models["simple"]["test_accuracy"],
                "train_seconds": None,  # the lesson prints no timings of its own
                "script_seconds": wall,
                "peak_rss_mb": rss,
            }
        }
    output, wall, rss = run_measured(command, env)
    result = reported(output)
    script = {"script_seconds": wall, "peak_rss_mb": rss}
    if kind == "classic":
        return {f"classic_{model}": {**result[model], **script} for model in ("simple", "deep")}
    return {name: {**result, **script}}


def summarize(runs: list[dict]) -> dict:
    """Medians and ranges over seeds, and every run's numbers for whoever wants to look closer."""
    accuracies = [run["test_accuracy"] for run in runs]
    measured = None not in accuracies
    summary = {
        "test_accuracy_median": statistics.median(accuracies) if measured else None,
        "test_accuracy_min": min(accuracies) if measured else None,
        "test_accuracy_max": max(accuracies) if measured else None,
        "train_seconds_median": _median_or_none([run["train_seconds"] for run in runs]),
        "script_seconds_median": statistics.median(run["script_seconds"] for run in runs),
        "peak_rss_mb": statistics.median(run["peak_rss_mb"] for run in runs),
        "peak_rss_mb_max": max(run["peak_rss_mb"] for run in runs),
        "runs": runs,
    }
    for key in ("params", "epochs", "train_examples", "xla", "backend"):
        if key in runs[0]:
            summary[key] = runs[0][key]
    return summary


def _median_or_none(values: list) -> float | None:
    return None if None in values else statistics.median(values)


def sgemm_gflops(size: int = 4096, repeats: int = 5) -> float:
    """The machine's float32 matrix-multiply rate with NumPy: median of ``repeats`` products."""
    import numpy as np

    rng = np.random.default_rng(0)
    a = rng.random((size, size), dtype=np.float32)
    b = rng.random((size, size), dtype=np.float32)
    a @ b  # warm up threads and caches
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        a @ b
        seconds.append(time.perf_counter() - start)
    return 2 * size**3 / statistics.median(seconds) / 1e9


VERSIONS_SCRIPT = """
import json, keras, sklearn, tensorflow as tf
gpus = [device.name for device in tf.config.list_physical_devices("GPU")]
try:
    import jax
    jax_version = jax.__version__
except ImportError:
    jax_version = None
print(json.dumps({"tensorflow": tf.__version__, "jax": jax_version, "keras": keras.__version__,
                  "scikit_learn": sklearn.__version__, "gpus": gpus}))
"""


def machine() -> dict:
    import numpy as np

    from mnist_lesson.keras_setup import cpu_features, cpu_name

    info = {
        "cpu": cpu_name(),
        "cpu_features": cpu_features(),
        "onednn_max_cpu_isa": os.environ.get("ONEDNN_MAX_CPU_ISA"),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cores": os.cpu_count(),
        "numpy": np.__version__,
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


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def markdown_table(results: dict) -> str:
    recipes = results["recipes"]
    machine = results["machine"]
    features = ", ".join(machine.get("cpu_features", [])) or "unknown"
    lines = [
        f"Measured on {machine['cpu']} ({machine['cores']} cores; {features}), seeds "
        f"{', '.join(map(str, results['seeds']))}: medians, accuracy with its range; "
        f"{results['date']}.",
        "",
        "| recipe | test accuracy (min - max) | training s | whole script s | peak RSS MB |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, entry in recipes.items():
        if entry["test_accuracy_median"] is None:
            continue  # the exercises: a time only, in the README's block
        lines.append(
            f"| {name} | {entry['test_accuracy_median']:.2%} "
            f"({entry['test_accuracy_min']:.2%} - {entry['test_accuracy_max']:.2%}) | "
            f"{_seconds(entry['train_seconds_median'])} | {entry['script_seconds_median']:.1f} | "
            f"{entry['peak_rss_mb']:.0f} |"
        )
    peak = results["sgemm_gflops"]
    rates = ", ".join(
        f"{backend} {results['deep_gflops'][backend]:.0f} GFLOP/s "
        f"({results['deep_fraction_of_sgemm_peak'][backend]:.0%})"
        for backend in results["targets"]
    )
    lines += [
        "",
        f"NumPy float32 matmul peak: {peak:.0f} GFLOP/s; the deep model trains at {rates}.",
        "",
        "| target | " + " | ".join(results["targets"]) + " | goal |",
        "|---|" + "---:|" * len(results["targets"]) + "---:|",
    ]
    first = next(iter(results["targets"].values()))
    for name, target in first.items():
        cells = []
        for judged in results["targets"].values():
            verdict = "met" if judged[name]["met"] else "missed"
            cells.append(f"{judged[name]['shown']} ({verdict})")
        lines.append(f"| {name} | {' | '.join(cells)} | {target['limit']} |")
    return "\n".join(lines) + "\n"


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Benchmark the lesson's models against the classic tutorial, TensorFlow's "
        "quickstart and scikit-learn, on real MNIST.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--data",
        default=os.environ.get("MNIST_PATH"),
        help="mnist.npz or a folder of IDX files (default: $MNIST_PATH)",
    )
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4, 5])
    parser.add_argument(
        "--recipes", nargs="+", choices=sorted(RECIPES), default=list(RECIPES), metavar="NAME"
    )
    parser.add_argument("--output", type=Path, default=HERE / "results.json")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="the lesson and the classic recipe on small subsets: a smoke test of this tool",
    )
    args = parser.parse_args(argv)
    if not args.data:
        parser.error("pass --data PATH or set MNIST_PATH (a keras mnist.npz or an IDX folder)")
    if not Path(args.data).exists():
        parser.error(f"--data {args.data}: no such file or folder")
    lesson_recipes = {"lesson", "lesson_jax", "lesson_quick", "lesson_onednn_pool",
                      "lesson_malloc_default", "deep", "deep_jax", "simple", "simple_jax",
                      "unshifted", "unshifted_jax"}  # fmt: skip
    if lesson_recipes & set(args.recipes) and "classic" not in args.recipes:
        args.recipes.append("classic")  # the targets are ratios to the classic recipe
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    runs: dict[str, list[dict]] = {}
    with tempfile.TemporaryDirectory(prefix="mnist_benchmark_") as scratch:
        for seed in args.seeds:
            for name in args.recipes:
                print(f"seed {seed}: {name} ...", end=" ", flush=True)
                for entry, measured in run_recipe(
                    name, args.data, seed, args.quick, Path(scratch)
                ).items():
                    runs.setdefault(entry, []).append(measured)
                print("done", flush=True)
    gflops = sgemm_gflops()
    recipes = {name: summarize(entries) for name, entries in runs.items()}
    results = {
        "date": time.strftime("%Y-%m-%d"),
        "machine": machine(),
        "seeds": args.seeds,
        "quick": args.quick,
        "sgemm_gflops": gflops,
        "recipes": recipes,
    }
    results["deep_gflops"], results["deep_fraction_of_sgemm_peak"] = {}, {}
    results["ratios"], results["targets"] = {}, {}
    for backend in BACKENDS:
        entries = ON_BACKEND[backend]
        if not all(name in recipes for name in (*entries.values(), "classic_deep")):
            continue
        deep = recipes[entries["deep"]]
        rate = 6 * deep["params"] * deep["train_examples"] * deep["epochs"]
        results["deep_gflops"][backend] = rate / deep["train_seconds_median"] / 1e9
        results["deep_fraction_of_sgemm_peak"][backend] = results["deep_gflops"][backend] / gflops
        results["ratios"][backend] = ratios(recipes, backend)
        results["targets"][backend] = judge(results, backend)
    from mnist_lesson.output_folder import OutputFolder

    folder = OutputFolder(args.output.parent)
    folder.save_json(args.output.name, results)
    if results["targets"]:
        table = markdown_table(results)
        folder.save_text(args.output.with_suffix(".md").name, table)
        print(table)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchmarkError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        print("\ninterrupted: no results written", file=sys.stderr)
        sys.exit(130)
