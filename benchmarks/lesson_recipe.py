"""One of the lesson's models trained alone with its recipe, for the benchmark to time.

    python benchmarks/lesson_recipe.py --model deep --data PATH/mnist.npz --seed 1
        [--jit-compile auto|true|false]

The lesson does not time its trainings; this trains one of its models alone, as the lesson's
cells do (``recipe_search.train_and_evaluate``, which gives the lesson's numbers for the same
seed), so that its training time can be set against other recipes'. ``relu_hidden`` is the
deep model's unshifted rung. Run
with ``KERAS_BACKEND`` set to choose the backend; ``--jit-compile true`` asks Keras for XLA on
TensorFlow, where the lesson leaves the choice to Keras (no XLA on a CPU). Prints one
``BENCHMARK_RESULT`` JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from recipe_search import LESSON, load_split, train_and_evaluate  # noqa: E402


def quick_split(data: dict) -> dict:
    return {
        **data,
        "x_fit": data["x_fit"][:2_750],
        "y_fit": data["y_fit"][:2_750],
        "x_val": data["x_val"][:250],
        "y_val": data["y_val"][:250],
        "val_digits": data["val_digits"][:250],
        "x_test": data["x_test"][:1_000],
        "test_digits": data["test_digits"][:1_000],
    }


from mnist_lesson.keras_setup import import_keras_quietly  # noqa: E402

JIT_COMPILE = {"auto": "auto", "true": True, "false": False}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=["simple", "deep", "relu_hidden"], default="deep")
    parser.add_argument("--data", default=os.environ.get("MNIST_PATH"))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--jit-compile", choices=sorted(JIT_COMPILE), default="auto")
    parser.add_argument("--quick", action="store_true", help="3,000/1,000 digits: a smoke test")
    args = parser.parse_args(argv)
    keras = import_keras_quietly()
    data = load_split(args.data)
    if args.quick:  # a smoke test of the tool: a few digits, as in the lesson's --quick
        data = quick_split(data)
    recipe = LESSON[args.model]
    result = train_and_evaluate(recipe, data, args.seed, JIT_COMPILE[args.jit_compile])
    result |= {
        "backend": keras.backend.backend(),
        "epochs": recipe["epochs"],
        "train_examples": int(data["x_fit"].shape[0]),
    }
    print("BENCHMARK_RESULT " + json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
