"""The experiments chapter run once per seed: how much of each number is the model, how much
the seed.

    python benchmarks/ladder_seeds.py [--data PATH/mnist.npz] [--seeds 42 1 2 3 4 5]
        [--backend tensorflow|jax] [--quick]

One run of a network is one draw: other initial weights and other batches end a little
differently. This runs the chapter itself (``experiments.py``, not a copy of its code) once per
seed, each in its own process and working folder, the seed set in its parameters cell as a
reader would set it. From each run's ``outputs/experiments.json`` it collects the ladder's
rungs (validation and test accuracy, and for each rung below the first the test digits it fixed
and broke and McNemar's p-value), and the chapter's other sections as they are, seed by seed.
Writes ``ladder_seeds.json`` (``ladder_seeds_jax.json`` for JAX).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CHAPTER = ROOT / "experiments.py"
DEFAULT_SEEDS = [42, 1, 2, 3, 4, 5]  # the chapter's default seed first
PER_RUNG = ("validation_accuracy", "test_accuracy", "fixed", "broken", "p_value")

sys.path.insert(0, str(HERE))

from benchmark import working_folder  # noqa: E402


def ladder_file(backend: str) -> str:
    return "ladder_seeds.json" if backend == "tensorflow" else f"ladder_seeds_{backend}.json"


def with_settings(text: str, seed: int, quick: bool) -> str:
    """The chapter's script with ``seed`` (and ``quick``) set in its parameters cell."""
    text, found = re.subn(r"(?m)^seed = \d+", f"seed = {seed}", text, count=1)
    if not found:
        raise SystemExit("error: the chapter's parameters cell sets no seed = ...")
    return re.sub(r"(?m)^quick = False", "quick = True", text, count=1) if quick else text


def run_chapter(data: str, seed: int, backend: str, scratch: Path, quick: bool) -> dict:
    folder = working_folder(scratch)
    script = folder / CHAPTER.name
    script.unlink()  # the folder's link to the chapter
    script.write_text(with_settings(CHAPTER.read_text(), seed, quick))
    env = {**os.environ, "KERAS_BACKEND": backend, "MPLBACKEND": "Agg", "MNIST_PATH": data}
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                            env=env, cwd=folder)  # fmt: skip
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["(no message)"])[-1]
        raise SystemExit(f"error: the chapter failed with seed {seed}: {last}")
    return json.loads((folder / "outputs" / "experiments.json").read_text())


def collect(runs: list[dict]) -> dict:
    """The rungs with per-seed lists, in the order of the seeds; the other sections as lists."""
    changes = [[rung["change"] for rung in run["ladder"]] for run in runs]
    if any(change != changes[0] for change in changes):
        raise SystemExit("error: the runs' ladders differ from seed to seed")
    rungs = []
    for index, first in enumerate(runs[0]["ladder"]):
        rung = {"change": first["change"]}
        rung |= {key: value for key, value in first.items() if key not in (*PER_RUNG, "change")}
        for key in PER_RUNG:
            if key in first:
                rung[key] = [run["ladder"][index][key] for run in runs]
        rungs.append(rung)
    sections = {key: [run[key] for run in runs] for key in runs[0] if key != "ladder"}
    return {"rungs": rungs, "sections": sections}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=os.environ.get("MNIST_PATH"))
    parser.add_argument("--seeds", type=int, nargs="+", default=DEFAULT_SEEDS)
    parser.add_argument("--backend", choices=["tensorflow", "jax"], default="tensorflow")
    parser.add_argument("--quick", action="store_true", help="a smoke test of this tool")
    parser.add_argument("--output", type=Path)
    args = parser.parse_args(argv)
    if not args.data or not Path(args.data).is_file():
        parser.error("pass --data PATH or set MNIST_PATH to a local mnist.npz")
    output = args.output or HERE / ladder_file(args.backend)
    runs = []
    with tempfile.TemporaryDirectory(prefix="ladder_seeds_") as scratch:
        for seed in args.seeds:
            print(f"seed {seed} ...", end=" ", flush=True)
            start = time.perf_counter()
            runs.append(run_chapter(str(Path(args.data).resolve()), seed, args.backend,
                                    Path(scratch), args.quick))  # fmt: skip
            print(f"{time.perf_counter() - start:.0f} s", flush=True)
    os.environ["KERAS_BACKEND"] = args.backend
    import keras

    backend = args.backend
    results = {
        "date": time.strftime("%Y-%m-%d"),
        "chapter": CHAPTER.name,
        "backend": backend,
        "backend_version": __import__(backend).__version__,
        "keras": keras.__version__,
        "cores": os.cpu_count(),
        "seeds": args.seeds,
        "quick": args.quick,
        **collect(runs),
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
