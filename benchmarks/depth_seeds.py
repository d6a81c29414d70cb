"""Sigmoid against ReLU in deep stacks, each at its own best learning rate, over several seeds:
the measurements behind the experiments chapter's section on the vanishing signal.

    python benchmarks/depth_seeds.py [--data PATH/mnist.npz] [--seeds 42 1 2 3 4 5]
        [--depths 2 4 6] [--missing-only]

For each depth and seed: a stack of that many hidden layers of 64 units with a softmax output,
built from the same initial weights for every variant (the seed before building), trained
briefly (two epochs on the first 6,000 training digits, batches of 50, the seed before
``fit``), then measured on the last 5,000 training digits, which it never learns from. The
variants:

- ``sigmoid`` and ``relu`` with Keras' default initial weights (Glorot uniform), trained with
  plain SGD and with Adam, each at every rate of its grid in ``RATES``;
- ``sigmoid_scaled_init``: sigmoid units with initial weights four times as large (variance
  scaling 16), the scale Glorot and Bengio derive for the sigmoid, whose slope is at most 1/4,
  with plain SGD.

Each grid's best rate is chosen on the median validation accuracy over the seeds (ties to the
smaller rate). A grid must bracket its best rate, with a smaller and a larger rate measured
beside it; a test fails otherwise, and the grid is widened. Where every rate of a grid stays at
chance (a median below ``AT_CHANCE``), there is no best rate: the file records null and says
so. ``--missing-only`` measures only the rates that ``depth_seeds.json`` lacks (a widened grid)
and adds them, with the date, to the file.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras import layers  # noqa: E402

from mnist_lesson.data import load_mnist  # noqa: E402

WIDTH, EXAMPLES, VALIDATION, EPOCHS, BATCH = 64, 6_000, 5_000, 2, 50
AT_CHANCE = 0.2  # a median validation accuracy below twice chance: nothing was learned
SGD_RATES = (0.01, 0.03, 0.1, 0.3, 1.0, 3.0)
ADAM_RATES = (0.0003, 0.001, 0.003, 0.01)
# variant: (hidden activation, scale of the initial weights' variance)
VARIANTS = {"sigmoid": ("sigmoid", 1.0), "relu": ("relu", 1.0),
            "sigmoid_scaled_init": ("sigmoid", 16.0)}  # fmt: skip
# variant: {optimizer: its grid of learning rates}, widened until each brackets its best rate
RATES = {
    "sigmoid": {"sgd": (*SGD_RATES, 10.0, 30.0), "adam": (*ADAM_RATES, 0.03, 0.1)},
    "relu": {"sgd": SGD_RATES, "adam": ADAM_RATES},
    "sigmoid_scaled_init": {"sgd": SGD_RATES},
}


def depth_split(path: str | None) -> dict:
    """The first 6,000 training digits to learn from, the last 5,000 to validate on; pixels
    divided by 255, labels one-hot."""
    (x_train, y_train), _ = load_mnist(path)
    x, y = x_train / np.float32(255), keras.utils.to_categorical(y_train, 10)
    return {"x_fit": x[:EXAMPLES], "y_fit": y[:EXAMPLES],
            "x_val": x[-VALIDATION:], "y_val": y[-VALIDATION:]}  # fmt: skip


def stack(depth: int, activation: str, scale: float, seed: int):
    """The lesson's stack with ``depth`` hidden layers, built right after the seed. Scale 1 is
    Keras' default initialisation (Glorot uniform); ``scale`` multiplies the weights' variance."""

    def initializer():  # one per layer, made after the seed; scale 1 is exactly Glorot uniform
        return keras.initializers.VarianceScaling(scale, mode="fan_avg", distribution="uniform")

    keras.utils.set_random_seed(seed)
    return keras.Sequential(
        [keras.Input(shape=(28, 28)), layers.Flatten()]
        + [layers.Dense(WIDTH, activation=activation, kernel_initializer=initializer())
           for _ in range(depth)]
        + [layers.Dense(10, activation="softmax")]
    )  # fmt: skip


def validation_accuracy(model, optimizer: str, rate: float, seed: int, data: dict) -> float:
    """The short training of the stacks, then the share of validation digits right."""
    model.compile(
        optimizer=keras.optimizers.SGD(rate) if optimizer == "sgd" else keras.optimizers.Adam(rate),
        loss="categorical_crossentropy",
        metrics=["categorical_accuracy"],
    )
    keras.utils.set_random_seed(seed)
    history = model.fit(
        data["x_fit"],
        data["y_fit"],
        validation_data=(data["x_val"], data["y_val"]),
        epochs=EPOCHS,
        batch_size=BATCH,
        verbose=0,
    )
    return float(history.history["val_categorical_accuracy"][-1])


def best_rate(by_rate: dict[str, list[float]]) -> float | None:
    """The rate with the highest median over the seeds (ties go to the smaller rate); None
    where every rate stayed at chance."""
    # Rounded, so that equal counts of right digits tie: float32 accuracies of the same count
    # can differ in their last bits, and that would break the tie by accident.
    medians = {float(rate): round(statistics.median(values), 6) for rate, values in by_rate.items()}
    best = max(sorted(medians), key=medians.get)
    return None if medians[best] < AT_CHANCE else best


def backend_version() -> str:
    backend = keras.backend.backend()
    return f"{backend} {__import__(backend).__version__}"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=os.environ.get("MNIST_PATH"))
    parser.add_argument("--seeds", type=int, nargs="+", default=[42, 1, 2, 3, 4, 5])
    parser.add_argument("--depths", type=int, nargs="+", default=[2, 4, 6])
    parser.add_argument("--output", type=Path, default=HERE / "depth_seeds.json")
    parser.add_argument(
        "--missing-only", action="store_true", help="measure only the rates the file lacks"
    )
    args = parser.parse_args(argv)
    earlier = json.loads(args.output.read_text()) if args.missing_only else {}
    if earlier and earlier["seeds"] != args.seeds:
        parser.error(f"--missing-only: {args.output} has seeds {earlier['seeds']}")
    data = depth_split(args.data)
    depths, added = earlier.get("depths", {}), {}
    for depth in args.depths:
        measured = depths.setdefault(str(depth), {})
        for variant, (activation, scale) in VARIANTS.items():
            for optimizer, rates in RATES[variant].items():
                by_rate = measured.setdefault(variant, {}).setdefault(optimizer, {})
                for rate in rates:
                    if str(rate) in by_rate:
                        continue
                    by_rate[str(rate)] = [
                        validation_accuracy(
                            stack(depth, activation, scale, seed), optimizer, rate, seed, data
                        )
                        for seed in args.seeds
                    ]
                    added.setdefault(str(depth), []).append(f"{variant} {optimizer} {rate}")
                    values = by_rate[str(rate)]
                    print(f"{depth} layers, {variant}, {optimizer} {rate}: validation "
                          f"{min(values):.1%} to {max(values):.1%}", flush=True)  # fmt: skip
    best = {
        depth: {variant: {optimizer: best_rate(by_rate) for optimizer, by_rate in runs.items()}
                for variant, runs in measured.items()}
        for depth, measured in depths.items()
    }  # fmt: skip
    no_best = [f"{depth} hidden layers, {variant}, {optimizer}: every rate stayed at chance"
               for depth, variants in best.items() for variant, rates in variants.items()
               for optimizer, rate in rates.items() if rate is None]  # fmt: skip
    first = {"date": earlier.get("date", time.strftime("%Y-%m-%d")), "added": "the first grids"}
    history = earlier.get("history") or [first]
    results = {
        "date": time.strftime("%Y-%m-%d") if not earlier else earlier["date"],
        "backend": backend_version() if not earlier else earlier["backend"],
        "cores": os.cpu_count(),
        "recipe": {"hidden_width": WIDTH, "examples": EXAMPLES, "validation": VALIDATION,
                   "epochs": EPOCHS, "batch_size": BATCH,
                   "split": "the first 6,000 training digits; the last 5,000 validate"},
        "at_chance": AT_CHANCE,
        "learning_rates": {variant: {optimizer: list(rates) for optimizer, rates in grids.items()}
                           for variant, grids in RATES.items()},
        "variants": {variant: {"hidden_activation": activation, "initial_variance_scale": scale}
                     for variant, (activation, scale) in VARIANTS.items()},
        "seeds": args.seeds,
        "best_learning_rates": best,
        "no_best_rate": no_best,
        "history": history + [{"date": time.strftime("%Y-%m-%d"), "backend": backend_version(),
                               "added": added}] * bool(earlier and added),
        "depths": depths,
    }  # fmt: skip
    args.output.write_text(json.dumps(results, indent=2) + "\n")
    print(f"written to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
