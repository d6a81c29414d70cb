"""Sigmoid against ReLU in deep stacks, each at its own best learning rate, over several seeds:
the measurements behind the lesson's section on the vanishing signal.

    python benchmarks/depth_seeds.py --data PATH/mnist.npz [--seeds 42 1 2 3 4 5]
        [--depths 2 4 6]

For each depth and seed: a stack of that many hidden layers of 64 units with a softmax output,
built from the same initial weights for every variant (the seed before building), trained as
the lesson trains its stacks (two epochs on the first 6,000 training digits, batches of 50, the
seed before ``fit``), then measured on the 5,000 validation digits. The variants:

- ``sigmoid`` and ``relu`` with Keras' default initial weights (Glorot uniform), trained with
  plain SGD at every rate of ``SGD_RATES`` (a span of 300x, up to 3.0, where Nielsen's book
  trains sigmoid networks) and with Adam at every rate of ``ADAM_RATES``;
- ``sigmoid_scaled_init``: sigmoid units with initial weights four times as large (variance
  scaling 16), the scale Glorot and Bengio derive for the sigmoid, whose slope is at most 1/4,
  with plain SGD at every rate of ``SGD_RATES``.

Each variant's best rate is chosen on the median validation accuracy over the seeds (ties to the
smaller rate). Writes ``depth_seeds.json``; the lesson trains its six-layer stacks at the rates
chosen here and quotes what holds over the seeds.
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

from recipe_search import load_split  # noqa: E402

from mnist_lesson.keras_setup import (  # noqa: E402
    backend_version,
    cpu_features,
    cpu_name,
    import_keras_quietly,
)

WIDTH, EXAMPLES, EPOCHS, BATCH = 64, 6_000, 2, 50
SGD_RATES = (0.01, 0.03, 0.1, 0.3, 1.0, 3.0)
ADAM_RATES = (0.0003, 0.001, 0.003, 0.01)
# variant: (hidden activation, scale of the initial weights' variance, optimizers measured)
VARIANTS = {
    "sigmoid": ("sigmoid", 1.0, ("sgd", "adam")),
    "relu": ("relu", 1.0, ("sgd", "adam")),
    "sigmoid_scaled_init": ("sigmoid", 16.0, ("sgd",)),
}
RATES = {"sgd": SGD_RATES, "adam": ADAM_RATES}


def stack(depth: int, activation: str, scale: float, seed: int):
    """The lesson's stack with ``depth`` hidden layers, built right after the seed. Scale 1 is
    Keras' default initialisation (Glorot uniform); ``scale`` multiplies the weights' variance."""
    import keras
    from keras import layers

    def initializer():  # one per layer, made after the seed; scale 1 is exactly Glorot uniform
        return keras.initializers.VarianceScaling(scale, mode="fan_avg", distribution="uniform")

    keras.utils.set_random_seed(seed)
    return keras.Sequential(
        [keras.Input(shape=(28, 28, 1)), layers.Flatten()]
        + [layers.Dense(WIDTH, activation=activation, kernel_initializer=initializer())
           for _ in range(depth)]
        + [layers.Dense(10, activation="softmax")]
    )  # fmt: skip


def validation_accuracy(model, optimizer: str, rate: float, seed: int, data: dict) -> float:
    """The short training of the lesson's stacks, then the share of validation digits right."""
    import keras

    model.compile(
        optimizer=keras.optimizers.SGD(rate) if optimizer == "sgd" else keras.optimizers.Adam(rate),
        loss="categorical_crossentropy",
        metrics=["categorical_accuracy"],
    )
    keras.utils.set_random_seed(seed)
    history = model.fit(
        data["x_fit"][:EXAMPLES],
        data["y_fit"][:EXAMPLES],
        validation_data=(data["x_val"], data["y_val"]),
        epochs=EPOCHS,
        batch_size=BATCH,
        verbose=0,
    )
    return float(history.history["val_categorical_accuracy"][-1])


def best_rate(by_rate: dict[str, list[float]]) -> float:
    """The rate with the highest median over the seeds; ties go to the smaller rate."""
    return float(max(sorted(by_rate, key=float), key=lambda rate: statistics.median(by_rate[rate])))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=os.environ.get("MNIST_PATH"))
    parser.add_argument("--seeds", type=int, nargs="+", default=[42, 1, 2, 3, 4, 5])
    parser.add_argument("--depths", type=int, nargs="+", default=[2, 4, 6])
    parser.add_argument("--output", type=Path, default=HERE / "depth_seeds.json")
    args = parser.parse_args(argv)
    if not args.data:
        parser.error("pass --data PATH or set MNIST_PATH")
    import_keras_quietly()
    data = load_split(args.data)
    depths, best = {}, {}
    for depth in args.depths:
        measured = {variant: {optimizer: {} for optimizer in optimizers}
                    for variant, (_, _, optimizers) in VARIANTS.items()}  # fmt: skip
        for variant, (activation, scale, optimizers) in VARIANTS.items():
            for optimizer in optimizers:
                for rate in RATES[optimizer]:
                    measured[variant][optimizer][str(rate)] = [
                        validation_accuracy(
                            stack(depth, activation, scale, seed), optimizer, rate, seed, data
                        )
                        for seed in args.seeds
                    ]
                    values = measured[variant][optimizer][str(rate)]
                    print(f"{depth} layers, {variant}, {optimizer} {rate}: validation "
                          f"{min(values):.1%} to {max(values):.1%}", flush=True)  # fmt: skip
        depths[str(depth)] = measured
        best[str(depth)] = {
            variant: {optimizer: best_rate(by_rate) for optimizer, by_rate in runs.items()}
            for variant, runs in measured.items()
        }
    results = {
        "date": time.strftime("%Y-%m-%d"),
        "machine": {"cpu": cpu_name(), "cpu_features": cpu_features(), "cores": os.cpu_count()},
        "backend": backend_version(),
        "recipe": {"hidden_width": WIDTH, "examples": EXAMPLES, "epochs": EPOCHS,
                   "batch_size": BATCH},
        "learning_rates": {optimizer: list(rates) for optimizer, rates in RATES.items()},
        "variants": {variant: {"hidden_activation": activation, "initial_variance_scale": scale}
                     for variant, (activation, scale, _) in VARIANTS.items()},
        "seeds": args.seeds,
        "best_learning_rates": best,
        "depths": depths,
    }  # fmt: skip
    args.output.write_text(json.dumps(results, indent=2) + "\n")
    print(f"written to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
