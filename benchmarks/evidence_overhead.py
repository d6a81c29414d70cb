"""What the lesson's experiments (Part 2) cost in wall time, measured, not guessed.

    python benchmarks/evidence_overhead.py --data PATH/mnist.npz [--runs 5]

Builds a copy of the lesson without Part 2 (the ladder, overfitting, the vanishing signal, the
weight pictures, the failures and shifted digits, calibration), runs both versions alternately
and reports the median wall times. Writes benchmarks/evidence_overhead.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import jupytext

HERE = Path(__file__).resolve().parent
LESSON = HERE.parent / "mnist_classification.py"
FIRST_EVIDENCE, FIRST_AFTER = "# Part 2: The experiments", "# Part 3: Using it"
EVIDENCE_METRICS = "metrics |= {"  # the last cell adds the evidence's numbers, then finishes


def lesson_without_evidence(target: Path) -> None:
    notebook = jupytext.read(LESSON)
    sources = [cell.source for cell in notebook.cells]
    start = next(i for i, source in enumerate(sources) if FIRST_EVIDENCE in source)
    end = next(i for i, source in enumerate(sources) if FIRST_AFTER in source)
    del notebook.cells[start:end]
    for cell in notebook.cells:
        if EVIDENCE_METRICS in cell.source:
            cell.source = "outputs.finish(metrics)"
    jupytext.write(notebook, target, fmt="py:percent")


def wall_seconds(script: Path, data: str, output_dir: str) -> float:
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, str(script), "--data", data, "--output-dir", output_dir],
        check=True,
        capture_output=True,
        cwd=LESSON.parent,
        env={**os.environ, "MPLBACKEND": "Agg"},
    )
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=os.environ.get("MNIST_PATH"), required=False)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--output", type=Path, default=HERE / "evidence_overhead.json")
    args = parser.parse_args()
    if not args.data or not Path(args.data).exists():
        parser.error("pass --data PATH (or set MNIST_PATH) to a local MNIST")
    with tempfile.TemporaryDirectory() as scratch:
        base = LESSON.parent / f".lesson_without_evidence_{os.getpid()}.py"
        try:
            lesson_without_evidence(base)
            times = {"with_evidence": [], "without_evidence": []}
            for _ in range(args.runs):
                times["with_evidence"].append(wall_seconds(LESSON, args.data, scratch))
                times["without_evidence"].append(wall_seconds(base, args.data, scratch))
        finally:
            base.unlink(missing_ok=True)
    medians = {name: statistics.median(values) for name, values in times.items()}
    result = {
        "runs": times,
        "median_seconds": medians,
        "overhead": medians["with_evidence"] / medians["without_evidence"] - 1,
    }
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    print(f"with Part 2: {medians['with_evidence']:.1f} s, without: "
          f"{medians['without_evidence']:.1f} s, overhead {result['overhead']:.1%}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
