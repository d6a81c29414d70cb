"""How the lesson's training recipes were chosen: by validation accuracy, over seeds.

    python benchmarks/recipe_search.py --data PATH/mnist.npz
        --model simple|deep|sigmoid_hidden|relu_hidden [--seeds 1 2 3 4 5] [--variants ...]

Each variant is the lesson's recipe for the simple or the deep model with one or a few settings
changed (``sigmoid_hidden`` and ``relu_hidden`` are the deep model's two unshifted siblings,
searched apart so that each gets its own best learning rate). They all use the lesson's data
split: the model learns from 55,000 training digits and is judged on the 5,000 validation
digits it never learns from. The choice is made on validation
accuracy only; the 10,000 test digits are evaluated too and recorded beside it, for the record,
but decide nothing. The rule: among the variants within the lesson's training budget (no more
epochs than the lesson's recipe: the benchmark's speed targets leave no room for more), the
highest median validation accuracy over the seeds; a tie (within ``TIE``) goes to the lesson's
recipe, so that a recipe changes only on evidence. Variants beyond the budget are measured too,
to show what more time would buy: for the two siblings, the best within a budget of
``LONGER_EPOCHS`` epochs is chosen the same way. All variants run in one process, seed by
seed, so a slow minute of the machine hits them alike; training seconds are also given as ratios
to the lesson's recipe measured in the same run. Each invocation adds a round to
benchmarks/recipe_search.json.
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

from mnist_lesson.keras_setup import (  # noqa: E402
    backend_version,
    cpu_features,
    cpu_name,
    import_keras_quietly,
)

VALIDATION_FRACTION = 1 / 12  # the lesson's split: 5,000 of the 60,000 training digits
TIE = 0.0005  # 0.05 points: 2 or 3 of the 5,000 validation digits

# The lesson's recipes, as the lesson trains them (mnist_classification.py, Part 1).
LESSON = {
    "simple": {
        "hidden": [],
        "hidden_activation": None,
        "output": "sigmoid",
        "loss": "binary_crossentropy",
        "epochs": 6,
        "learning_rate": 0.05,
        "batch_size": 250,
        "optimizer": "adam",
        "shift_pixels": 0,
        "shift_interpolation": "bilinear",
        "dropout": 0.0,
    },
    "deep": {
        "hidden": [512, 512],
        "hidden_activation": "relu",
        "output": "softmax",
        "loss": "categorical_crossentropy",
        "epochs": 5,
        "learning_rate": 0.004,
        "batch_size": 250,
        "optimizer": "adam",
        "shift_pixels": 1,
        "shift_interpolation": "bilinear",
        "dropout": 0.0,
    },
}
# The deep model's two unshifted siblings (the ladder's rungs 4 and 5), for the fair comparison
# of sigmoid and ReLU hidden units: each gets the learning rate validation chooses for it, within
# the lesson's budget of 5 epochs and within a budget four times longer.
for _activation in ("sigmoid", "relu"):
    LESSON[f"{_activation}_hidden"] = LESSON["deep"] | {
        "hidden_activation": _activation,
        "shift_pixels": 0,
    }
LONGER_EPOCHS = 20
_HIDDEN_VARIANTS = {
    "lesson": {},
    **{f"lr_{rate}": {"learning_rate": rate} for rate in (0.001, 0.002, 0.008, 0.016, 0.032)},
    **{f"epochs_{LONGER_EPOCHS}_lr_{rate}": {"epochs": LONGER_EPOCHS, "learning_rate": rate}
       for rate in (0.001, 0.002, 0.004, 0.008)},
}  # fmt: skip

VARIANTS = {
    "simple": {
        "lesson": {},
        "lr_0.02": {"learning_rate": 0.02},
        "lr_0.1": {"learning_rate": 0.1},
        "epochs_4": {"epochs": 4},
        "epochs_10": {"epochs": 10},
        "batch_1000_lr_0.1": {"batch_size": 1000, "learning_rate": 0.1},
        # The same layer with plain SGD, for the lesson's weight pictures: its own best rate.
        **{
            f"plain_sgd_lr_{rate}": {"optimizer": "plain_sgd", "learning_rate": rate}
            for rate in (1.0, 3.0, 10.0, 30.0, 100.0)
        },
    },
    "deep": {
        "lesson": {},
        "no_shift": {"shift_pixels": 0},
        "shift_2": {"shift_pixels": 2},
        "shift_whole_pixels": {"shift_interpolation": "nearest"},
        "epochs_4": {"epochs": 4},
        "epochs_6": {"epochs": 6},
        "epochs_8": {"epochs": 8},
        "lr_0.002": {"learning_rate": 0.002},
        "lr_0.003": {"learning_rate": 0.003},
        "lr_0.005": {"learning_rate": 0.005},
        "lr_0.006": {"learning_rate": 0.006},
        "batch_500_lr_0.005": {"batch_size": 500, "learning_rate": 0.005},
        "dropout_0.2": {"dropout": 0.2},
        "sgd_momentum": {"optimizer": "sgd", "learning_rate": 0.1},
    },
    "sigmoid_hidden": _HIDDEN_VARIANTS,
    "relu_hidden": _HIDDEN_VARIANTS,
}


def build(recipe: dict, seed: int):
    """The recipe's model, built right after seeding as the lesson builds its models: the digit
    moved by up to ``shift_pixels`` pixels (in training only), flattened, the Dense layers."""
    import keras
    from keras import layers

    keras.utils.set_random_seed(seed)
    stack = [keras.Input(shape=(28, 28, 1))]
    if recipe["shift_pixels"]:
        factor = recipe["shift_pixels"] / 28
        stack.append(layers.RandomTranslation(
            factor, factor, fill_mode="constant", interpolation=recipe["shift_interpolation"],
            seed=seed,
        ))  # fmt: skip
    stack.append(layers.Flatten())
    for width in recipe["hidden"]:
        stack.append(layers.Dense(width, activation=recipe["hidden_activation"]))
        if recipe["dropout"]:
            stack.append(layers.Dropout(recipe["dropout"]))
    stack.append(layers.Dense(10, activation=recipe["output"]))
    return keras.Sequential(stack)


def train_and_evaluate(recipe: dict, data: dict, seed: int, jit_compile="auto") -> dict:
    """The lesson's training, as its cells write it: the model built after the seed, Adam (or
    SGD) with a cosine schedule, ``compile``, the loss before training, the seed again,
    ``fit``; then both accuracies from ``predict``. ``jit_compile`` is Keras' documented switch
    for XLA ("auto", as the lesson leaves it, lets Keras choose)."""
    import keras
    import numpy as np

    model = build(recipe, seed)
    steps_per_epoch = math.ceil(len(data["x_fit"]) / recipe["batch_size"])
    schedule = keras.optimizers.schedules.CosineDecay(
        recipe["learning_rate"], decay_steps=recipe["epochs"] * steps_per_epoch
    )
    optimizer = {
        "adam": lambda: keras.optimizers.Adam(learning_rate=schedule),
        "sgd": lambda: keras.optimizers.SGD(learning_rate=schedule, momentum=0.9),
        "plain_sgd": lambda: keras.optimizers.SGD(learning_rate=schedule),
    }[recipe["optimizer"]]()
    model.compile(
        optimizer=optimizer,
        loss=recipe["loss"],
        metrics=["categorical_accuracy"],
        jit_compile=jit_compile,
    )
    # The lesson checks each model's loss before training. On JAX that call changes which
    # batches fit draws afterwards (Keras 3.15, whatever the seed), so it is made here too.
    model.evaluate(data["x_val"], data["y_val"], verbose=0)
    keras.utils.set_random_seed(seed)
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
        return float(np.mean(model.predict(images, verbose=0).argmax(axis=1) == digits))

    return {
        "validation_accuracy": accuracy(data["x_val"], data["val_digits"]),
        "test_accuracy": accuracy(data["x_test"], data["test_digits"]),
        "train_seconds": seconds,
        "xla": bool(model.jit_compile),
        "params": model.count_params(),
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


def within_budget(recipe: dict, budget_epochs: int, lesson: dict) -> bool:
    """No more epochs than ``budget_epochs`` (nor smaller batches than the lesson's, which mean
    more steps)."""
    return recipe["epochs"] <= budget_epochs and recipe["batch_size"] >= lesson["batch_size"]


def choose(
    summary: dict, recipes: dict, lesson: dict, budget_epochs: int, optimizer: str | None = None
) -> str | None:
    """Within the budget and with ``optimizer`` (the lesson's by default), the highest median
    validation accuracy; a tie (within TIE of it) goes to the lesson's recipe where it is among
    them, so that a recipe changes only on evidence, else to the fewest epochs, then the first
    measured."""
    optimizer = optimizer or lesson["optimizer"]
    eligible = [name for name in summary if within_budget(recipes[name], budget_epochs, lesson)
                and recipes[name]["optimizer"] == optimizer]  # fmt: skip
    if not eligible:
        return None
    best = max(summary[name]["validation_accuracy_median"] for name in eligible)
    close = [name for name in eligible if summary[name]["validation_accuracy_median"] >= best - TIE]
    if "lesson" in close:
        return "lesson"
    return min(close, key=lambda name: recipes[name]["epochs"])


def load_split(path: str, held_out=None) -> dict:
    """The lesson's data split, as the lesson prepares it: images of 28x28x1 pixels in [0, 1],
    labels one-hot; with ``held_out`` (indices into the 60,000 training digits), those digits
    are the validation set instead of the last 5,000."""
    import numpy as np

    from mnist_lesson.data import load_mnist

    mnist = load_mnist(path)
    x_train = mnist.x_train[..., np.newaxis].astype("float32") / 255.0
    digits = mnist.y_train
    if held_out is None:
        held_out = np.arange(len(x_train) - round(len(x_train) * VALIDATION_FRACTION), len(x_train))
    kept = np.setdiff1d(np.arange(len(x_train)), held_out)
    one_hot = np.eye(10, dtype="float32")
    return {
        "x_fit": x_train[kept],
        "y_fit": one_hot[digits[kept]],
        "x_val": x_train[held_out],
        "y_val": one_hot[digits[held_out]],
        "val_digits": digits[held_out],
        "x_test": mnist.x_test[..., np.newaxis].astype("float32") / 255.0,
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

    import_keras_quietly()
    data = load_split(args.data)
    runs = {name: [] for name in names}
    for seed in args.seeds:
        for name in names:
            result = train_and_evaluate(LESSON[args.model] | variants[name], data, seed)
            runs[name].append({"seed": seed, **result})
            print(f"seed {seed} {name:>32}: validation {result['validation_accuracy']:.2%}, "
                  f"test {result['test_accuracy']:.2%}, {result['train_seconds']:.1f} s",
                  flush=True)  # fmt: skip

    summary = summarize(runs, {name: variants[name] for name in names})
    recipes = {name: LESSON[args.model] | variants[name] for name in names}
    lesson = LESSON[args.model]
    for name, entry in summary.items():
        entry["within_budget"] = within_budget(recipes[name], lesson["epochs"], lesson)
    chosen = choose(summary, recipes, lesson, lesson["epochs"])
    longer = choose(summary, recipes, lesson, LONGER_EPOCHS)
    by_optimizer = {
        optimizer: choose(summary, recipes, lesson, lesson["epochs"], optimizer)
        for optimizer in sorted({recipe["optimizer"] for recipe in recipes.values()})
    }
    import keras

    results = {
        "date": time.strftime("%Y-%m-%d"),
        "model": args.model,
        "cpu": cpu_name(),
        "cpu_features": cpu_features(),
        "cores": os.cpu_count(),
        "onednn_max_cpu_isa": os.environ.get("ONEDNN_MAX_CPU_ISA"),
        "backend": backend_version(),
        "keras": keras.__version__,
        "seeds": args.seeds,
        "lesson_recipe": LESSON[args.model],
        "chosen": chosen,
        "chosen_recipe": recipes[chosen],
        "longer_budget_epochs": LONGER_EPOCHS,
        "chosen_within_longer_budget": longer,
        "chosen_by_optimizer": by_optimizer,
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
