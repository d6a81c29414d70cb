"""The lesson run once per seed: how much of each number is the model, how much the seed.

    python benchmarks/ladder_seeds.py --data PATH/mnist.npz [--seeds 42 1 2 3 4 5]
        [--backend tensorflow|jax]

One run of a network is one draw: other initial weights and other batches end a little
differently. This runs the lesson itself (not a copy of its code), once per seed, each in its
own process, and collects from each run's ``metrics.json`` the ladder's rungs (their settings,
validation and test accuracy), both models' accuracies, the overfitting table, the shifted-digit
accuracies and the calibration of the deep model. The lesson reads the result,
``ladder_seeds.json`` (``ladder_seeds_jax.json`` for JAX), to show each rung's paired gain over
the seeds beside its own run's, and its prose calls a change helpful or harmful only where that
paired gain has the same sign on every seed and the test set supports it (the McNemar p-value of
each rung's fixed and broken test digits, recorded per seed).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from seed_results import RUNG_SETTINGS, ladder_file  # noqa: E402

from mnist_lesson.keras_setup import cpu_features, cpu_name  # noqa: E402

DEFAULT_SEEDS = [42, 1, 2, 3, 4, 5]  # the lesson's default seed first


def run_lesson(data: str, seed: int, backend: str, output_dir: Path, quick: bool) -> dict:
    command = [sys.executable, str(ROOT / "mnist_classification.py"), "--data", data,
               "--seed", str(seed), "--output-dir", str(output_dir)]  # fmt: skip
    if quick:
        command.append("--quick")
    env = {**os.environ, "KERAS_BACKEND": backend, "MPLBACKEND": "Agg"}
    result = subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT)
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["(no message)"])[-1]
        raise SystemExit(f"error: the lesson failed with seed {seed}: {last}")
    return json.loads((output_dir / "metrics.json").read_text())


def collect(runs: list[dict], seeds: list[int]) -> dict:
    """Per-seed lists, in the order of ``seeds``, of what the runs measured."""
    first = runs[0]
    for run in runs[1:]:
        if [r["change"] for r in run["ladder"]] != [r["change"] for r in first["ladder"]]:
            raise SystemExit("error: the runs' ladders differ from seed to seed")

    def each(get):
        return [get(run) for run in runs]

    rungs = []
    for index, rung in enumerate(first["ladder"]):
        measured = ["test_accuracy", "validation_accuracy", "loss_before_training"]
        if index:
            measured += ["fixed", "broken", "p_value"]
        rungs.append({
            "change": rung["change"],
            "model": rung["model"],
            "settings": {key: rung[key] for key in RUNG_SETTINGS},
            **{key: each(lambda run, i=index, k=key: run["ladder"][i][k]) for key in measured},
        })  # fmt: skip
    robustness = first["robustness"]
    models = [name for name in robustness if name != "shift_pixels"]
    confidence = first["calibration"]["confidence"]
    return {
        "rungs": rungs,
        "models": {
            name: {
                key: each(lambda run, n=name, k=key: run["models"][n][k])
                for key in ("test_accuracy", "before_training")
            }
            for name in ("simple", "deep")
        },
        "overfitting": {
            name: {
                key: each(lambda run, n=name, k=key: run["overfitting"][n][k])
                for key in first["overfitting"][name]
            }
            for name in first["overfitting"]
        },
        "robustness": {
            "shift_pixels": robustness["shift_pixels"],
            **{name: each(lambda run, n=name: run["robustness"][n]) for name in models},
        },
        "calibration": {
            "bins": each(lambda run: run["calibration"]["bins"]),
            **{
                condition: {
                    measure: each(
                        lambda run, c=condition, m=measure: run["calibration"]["confidence"][c][m]
                    )
                    for measure in confidence[condition]
                }
                for condition in confidence
            },
        },
        "weight_pictures": {
            name: {
                key: each(lambda run, n=name, k=key: run["weight_pictures"][n][k])
                for key in first["weight_pictures"][name]
            }
            for name in first["weight_pictures"]
        },
        "vanishing_gradient": {
            "val_accuracy": {
                name: each(
                    lambda run, n=name: run["vanishing_gradient"]["short_training"][
                        "val_accuracy"][n][-1]
                )
                for name in first["vanishing_gradient"]["short_training"]["val_accuracy"]
            },
            "spread": {
                name: each(lambda run, n=name: run["vanishing_gradient"]["activation_spread"][n])
                for name in first["vanishing_gradient"]["activation_spread"]
            },
            "gradient_norms": {
                name: each(lambda run, n=name: run["vanishing_gradient"]["gradient_norms"][n])
                for name in first["vanishing_gradient"]["gradient_norms"]
            },
        },
    }  # fmt: skip


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=os.environ.get("MNIST_PATH"))
    parser.add_argument("--seeds", type=int, nargs="+", default=DEFAULT_SEEDS)
    parser.add_argument("--backend", choices=["tensorflow", "jax"], default="tensorflow")
    parser.add_argument("--quick", action="store_true", help="a smoke test of this tool")
    parser.add_argument("--output", type=Path)
    args = parser.parse_args(argv)
    if not args.data:
        parser.error("pass --data PATH or set MNIST_PATH")
    output = args.output or HERE / ladder_file(args.backend)
    runs = []
    with tempfile.TemporaryDirectory(prefix="ladder_seeds_") as scratch:
        for seed in args.seeds:
            print(f"seed {seed} ...", end=" ", flush=True)
            start = time.perf_counter()
            runs.append(run_lesson(args.data, seed, args.backend, Path(scratch, str(seed)),
                                   args.quick))  # fmt: skip
            print(f"{time.perf_counter() - start:.0f} s", flush=True)
    environment = runs[0]["environment"]
    results = {
        "date": time.strftime("%Y-%m-%d"),
        "machine": {
            "cpu": cpu_name(),
            "cpu_features": cpu_features(),
            "cores": os.cpu_count(),
            "gpus": environment["gpus"],
        },  # fmt: skip
        "backend": environment["backend"],
        "backend_version": environment["backend_version"],
        "keras": environment["keras"],
        "python": environment["python"],
        "seeds": args.seeds,
        "run": {
            "quick": args.quick,
            "batch_size": runs[0]["models"]["deep"]["batch_size"],
            "n_train": runs[0]["dataset"]["n_train"],
        },
        **collect(runs, args.seeds),
    }
    output.write_text(json.dumps(results, indent=2) + "\n")
    for rung, above in zip(results["rungs"], [None, *results["rungs"]]):
        tests = rung["test_accuracy"]
        line = f"{rung['change']:>48}: test {min(tests):.2%} to {max(tests):.2%}"
        if above:
            gains = [b - a for a, b in zip(above["test_accuracy"], tests)]
            line += f", paired gain {100 * min(gains):+.2f} to {100 * max(gains):+.2f} points"
        print(line)
    print(f"written to {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
