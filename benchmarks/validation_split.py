"""Why the lesson's validation accuracy is higher than its test accuracy: which digits are held out.

    python benchmarks/validation_split.py --data PATH/mnist.npz [--seeds 42 1 2 3 4 5]

The lesson holds out the last 5,000 of MNIST's 60,000 training digits for validation. Its
models score higher on them than on the 10,000 test digits. Either held-out digits are simply
easier to score on, or these particular 5,000 are easier digits. This trains the simple model
and the deep model's unshifted ReLU sibling with the lesson's recipes, once holding out the
last 5,000 (the lesson's split) and once a random 5,000 (drawn with each seed), and records
validation and test accuracy for each. Writes ``validation_split.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from recipe_search import LESSON, load_split, train_and_evaluate  # noqa: E402

from mnist_lesson.keras_setup import (  # noqa: E402
    backend_version,
    cpu_features,
    cpu_name,
    import_keras_quietly,
)

MODELS = ("simple", "relu_hidden")
HELD_OUT = 5_000


def main(argv=None) -> int:
    import numpy as np

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=os.environ.get("MNIST_PATH"))
    parser.add_argument("--seeds", type=int, nargs="+", default=[42, 1, 2, 3, 4, 5])
    parser.add_argument("--output", type=Path, default=HERE / "validation_split.json")
    args = parser.parse_args(argv)
    if not args.data:
        parser.error("pass --data PATH or set MNIST_PATH")
    import_keras_quietly()
    lesson_split = load_split(args.data)
    results = {split: {model: {"validation_accuracy": [], "test_accuracy": []} for model in MODELS}
               for split in ("last_5000", "random_5000")}  # fmt: skip
    for seed in args.seeds:
        held_out = np.sort(np.random.default_rng(seed).choice(60_000, HELD_OUT, replace=False))
        splits = {"last_5000": lesson_split, "random_5000": load_split(args.data, held_out)}
        for split, data in splits.items():
            for model in MODELS:
                measured = train_and_evaluate(LESSON[model], data, seed)
                for key in ("validation_accuracy", "test_accuracy"):
                    results[split][model][key].append(measured[key])
                print(f"seed {seed} {split} {model}: validation "
                      f"{measured['validation_accuracy']:.2%}, test "
                      f"{measured['test_accuracy']:.2%}", flush=True)  # fmt: skip
    output = {
        "date": time.strftime("%Y-%m-%d"),
        "machine": {"cpu": cpu_name(), "cpu_features": cpu_features(), "cores": os.cpu_count()},
        "backend": backend_version(),
        "seeds": args.seeds,
        "splits": results,
    }
    args.output.write_text(json.dumps(output, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
