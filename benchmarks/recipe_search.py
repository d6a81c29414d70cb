"""How the lesson's training recipes were chosen: by validation accuracy, over seeds.

    python benchmarks/recipe_search.py --data PATH/mnist.npz --model simple|deep
        [--seeds 1 2 3 4 5] [--variants lesson no_shift ...]

Each variant is the lesson's recipe for the simple or the deep model with one or a few settings
changed. They all use the lesson's data split: the model learns from 55,000 training digits and
is judged on the 5,000 validation digits it never learns from. The choice is made on validation
accuracy only; the 10,000 test digits are evaluated too and recorded beside it, for the record,
but decide nothing. The rule: among the variants within the lesson's training budget (no more
epochs than the lesson's recipe: the benchmark's speed targets leave no room for more), the
highest median validation accuracy over the seeds; a variant within ``TIE`` of it that trains
faster wins the tie. Variants beyond the budget are measured too, to show what more time would
buy. All variants run in one process, seed by seed, so a slow minute of the machine hits them
alike; training seconds are also given as ratios to the lesson's recipe measured in the same
run. Each invocation adds a round to benchmarks/recipe_search.json.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from mnist_lesson.tensorflow_setup import (  # noqa: E402
    cpu_features,
    cpu_name,
    import_tensorflow_quietly,
    make_reproducible,
)

VALIDATION_FRACTION = 1 / 12  # the lesson's split: 5,000 of the 60,000 training digits
TIE = 0.0005  # 0.05 points: 2 or 3 of the 5,000 validation digits

# The lesson's recipes, as the lesson trains them (mnist_classification.py, sections 3 to 5).
LESSON = {
    "simple": {
        "hidden": [],
        "output": "sigmoid",
        "loss": "binary_crossentropy",
        "epochs": 6,
        "learning_rate": 0.05,
        "batch_size": 250,
        "optimizer": "adam",
        "shift_pixels": 0,
        "shift_fractional": False,
        "dropout": 0.0,
        "xla": False,
    },
    "deep": {
        "hidden": [512, 512],
        "output": "softmax",
        "loss": "categorical_crossentropy",
        "epochs": 5,
        "learning_rate": 0.004,
        "batch_size": 250,
        "optimizer": "adam",
        "shift_pixels": 1,
        "shift_fractional": False,
        "dropout": 0.0,
        "xla": True,
    },
}

VARIANTS = {
    "simple": {
        "lesson": {},
        "lr_0.01": {"learning_rate": 0.01},
        "lr_0.02": {"learning_rate": 0.02},
        "lr_0.1": {"learning_rate": 0.1},
        "epochs_4": {"epochs": 4},
        "epochs_10": {"epochs": 10},
        "batch_1000_lr_0.1": {"batch_size": 1000, "learning_rate": 0.1},
        "xla": {"xla": True},
    },
    "deep": {
        "lesson": {},
        "no_shift": {"shift_pixels": 0},
        "shift_2": {"shift_pixels": 2},
        "shift_fractional": {"shift_fractional": True},
        "shift_fractional_lr_0.003": {"shift_fractional": True, "learning_rate": 0.003},
        "epochs_4": {"epochs": 4},
        "epochs_6": {"epochs": 6},
        "epochs_8": {"epochs": 8},
        "lr_0.002": {"learning_rate": 0.002},
        "lr_0.003": {"learning_rate": 0.003},
        "lr_0.005": {"learning_rate": 0.005},
        "lr_0.006": {"learning_rate": 0.006},
        "batch_500_lr_0.005": {"batch_size": 500, "learning_rate": 0.005},
        "dropout_0.2": {"dropout": 0.2},
        "dropout_0.2_no_shift_epochs_6": {"dropout": 0.2, "shift_pixels": 0, "epochs": 6},
        "sgd_momentum": {"optimizer": "sgd", "learning_rate": 0.1},
        "no_xla": {"xla": False},
    },
}


def build(recipe: dict):
    import keras
    from keras import layers

    from mnist_lesson.augmentation import RandomShift

    stack = [keras.Input(shape=(784,))]
    if recipe["shift_pixels"]:
        stack.append(RandomShift(recipe["shift_pixels"], recipe["shift_fractional"]))
    for width in recipe["hidden"]:
        stack.append(layers.Dense(width, activation="relu"))
        if recipe["dropout"]:
            stack.append(layers.Dropout(recipe["dropout"]))
    stack.append(layers.Dense(10, activation=recipe["output"]))
    return keras.Sequential(stack)


def train_and_evaluate(recipe: dict, data: dict) -> dict:
    """The lesson's train(): Adam (or SGD) with cosine decay, then both accuracies."""
    import keras
    import numpy as np

    from mnist_lesson.xla import use_xla

    steps_per_epoch = math.ceil(len(data["x_fit"]) / recipe["batch_size"])
    schedule = keras.optimizers.schedules.CosineDecay(
        recipe["learning_rate"], recipe["epochs"] * steps_per_epoch
    )
    optimizer = (
        keras.optimizers.Adam(schedule)
        if recipe["optimizer"] == "adam"
        else keras.optimizers.SGD(schedule, momentum=0.9)
    )
    model = build(recipe)
    model.compile(
        optimizer=optimizer,
        loss=recipe["loss"],
        metrics=[keras.metrics.CategoricalAccuracy(name="accuracy")],
        steps_per_execution=min(20, steps_per_epoch),
    )
    if recipe["xla"]:
        use_xla(model)
    start = time.perf_counter()
    model.fit(
        data["x_fit"],
        data["y_fit"],
        validation_data=(data["x_val"], data["y_val"]),
        epochs=recipe["epochs"],
        batch_size=recipe["batch_size"],
        verbose=0,
    )
    seconds = time.perf_counter() - start

    def accuracy(images, digits):
        return float(np.mean(np.argmax(model(images, training=False), axis=1) == digits))

    return {
        "validation_accuracy": accuracy(data["x_val"], data["val_digits"]),
        "test_accuracy": accuracy(data["x_test"], data["test_digits"]),
        "train_seconds": seconds,
    }


def summarize(runs: dict[str, list[dict]], variants: dict) -> dict:
    baseline = None
    if "lesson" in runs:
        baseline = statistics.median(run["train_seconds"] for run in runs["lesson"])
    summary = {}
    for name, entries in runs.items():
        seconds = statistics.median(entry["train_seconds"] for entry in entries)
        summary[name] = {"changes": variants[name], "train_seconds_median": seconds}
        for measure in ("validation_accuracy", "test_accuracy"):
            values = [entry[measure] for entry in entries]
            summary[name] |= {
                f"{measure}_median": statistics.median(values),
                f"{measure}_min": min(values),
                f"{measure}_max": max(values),
            }
        summary[name]["train_time_vs_lesson"] = seconds / baseline if baseline else None
    return summary


def within_budget(recipe: dict, lesson: dict) -> bool:
    """No more epochs than the lesson's recipe (nor smaller batches, which mean more steps)."""
    return recipe["epochs"] <= lesson["epochs"] and recipe["batch_size"] >= lesson["batch_size"]


def choose(summary: dict, recipes: dict, lesson: dict) -> str:
    """Within the budget, the highest median validation accuracy; within TIE of it, the
    fastest to train."""
    eligible = {name: entry for name, entry in summary.items()
                if within_budget(recipes[name], lesson)}  # fmt: skip
    best = max(entry["validation_accuracy_median"] for entry in eligible.values())
    close = [name for name, entry in eligible.items()
             if entry["validation_accuracy_median"] >= best - TIE]  # fmt: skip
    return min(close, key=lambda name: eligible[name]["train_seconds_median"])


def load_split(path: str, tf) -> dict:
    """The lesson's data split, labels one-hot for training as the lesson trains."""
    import numpy as np

    from mnist_lesson.data import load_mnist

    mnist = load_mnist(path)
    x_train = mnist.x_train.reshape(-1, 784).astype("float32") / 255.0
    validation_size = round(len(x_train) * VALIDATION_FRACTION)
    digits = mnist.y_train
    return {
        "x_fit": tf.constant(x_train[:-validation_size]),
        "y_fit": tf.one_hot(digits[:-validation_size], 10),
        "x_val": tf.constant(x_train[-validation_size:]),
        "y_val": tf.one_hot(digits[-validation_size:], 10),
        "val_digits": digits[-validation_size:],
        "x_test": tf.constant(mnist.x_test.reshape(-1, 784).astype("float32") / 255.0),
        "test_digits": np.asarray(mnist.y_test),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=os.environ.get("MNIST_PATH"))
    parser.add_argument("--model", choices=sorted(LESSON), required=True)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4, 5])
    parser.add_argument("--variants", nargs="+", metavar="NAME")
    parser.add_argument("--output", type=Path, default=HERE / "recipe_search.json")
    args = parser.parse_args()
    if not args.data:
        parser.error("pass --data PATH or set MNIST_PATH")
    variants = VARIANTS[args.model]
    names = args.variants or list(variants)
    unknown = sorted(set(names) - set(variants))
    if unknown:
        parser.error(f"unknown variants for {args.model}: {', '.join(unknown)}")

    tf = import_tensorflow_quietly()
    data = load_split(args.data, tf)
    runs = {name: [] for name in names}
    for seed in args.seeds:
        for name in names:
            make_reproducible(seed)
            result = train_and_evaluate(LESSON[args.model] | variants[name], data)
            runs[name].append({"seed": seed, **result})
            print(f"seed {seed} {name:>32}: validation {result['validation_accuracy']:.2%}, "
                  f"test {result['test_accuracy']:.2%}, {result['train_seconds']:.1f} s",
                  flush=True)  # fmt: skip

    summary = summarize(runs, {name: variants[name] for name in names})
    recipes = {name: LESSON[args.model] | variants[name] for name in names}
    for name, entry in summary.items():
        entry["within_budget"] = within_budget(recipes[name], LESSON[args.model])
    chosen = choose(summary, recipes, LESSON[args.model])
    import keras

    results = {
        "date": time.strftime("%Y-%m-%d"),
        "model": args.model,
        "cpu": cpu_name(),
        "cpu_features": cpu_features(),
        "cores": os.cpu_count(),
        "onednn_max_cpu_isa": os.environ.get("ONEDNN_MAX_CPU_ISA"),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "seeds": args.seeds,
        "lesson_recipe": LESSON[args.model],
        "chosen": chosen,
        "chosen_recipe": recipes[chosen],
        "summary": summary,
        "runs": runs,
    }
    rounds = json.loads(args.output.read_text())["rounds"] if args.output.exists() else []
    args.output.write_text(json.dumps({"rounds": [*rounds, results]}, indent=2) + "\n")
    ranking = sorted(summary, key=lambda name: -summary[name]["validation_accuracy_median"])
    for name in ranking:
        entry = summary[name]
        print(f"{name:>32}: validation {entry['validation_accuracy_median']:.2%} "
              f"[{entry['validation_accuracy_min']:.2%}, {entry['validation_accuracy_max']:.2%}], "
              f"test {entry['test_accuracy_median']:.2%}, "
              f"{entry['train_seconds_median']:.1f} s"
              f"{'' if entry['within_budget'] else ' (beyond the budget)'}")  # fmt: skip
    print(f"chosen by validation: {chosen}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
