"""The lesson's two models trained as its cells train them: its learning-rate schedules against
Keras' default, on the lesson's validation digits, and the deep model's training time.

    python benchmarks/lesson_recipe.py [--data PATH/mnist.npz] [--seeds 42 1]
    python benchmarks/lesson_recipe.py --time deep [--quick]   # for benchmark.py

The lesson (mnist_classification.py) divides the pixels by 255, holds out a shuffled twelfth of
the training digits with ``train_test_split(..., random_state=seed)``, and trains with batches of
250: the simple model (Dense(10, sigmoid), binary cross-entropy) for 6 epochs, the deep model
(2x512 ReLU, softmax) for 5. Both use Adam with a learning rate that falls along a cosine curve,
from 0.05 and from 0.004. Keras' default, ``optimizer="adam"``, is a fixed 0.001. For each seed,
each model is trained both ways and its validation accuracy after the last epoch is recorded in
``lesson_recipe.json``. The test digits are not loaded.

With ``--time``, one model is trained once with the lesson's recipe and one ``BENCHMARK_RESULT``
JSON line gives its training seconds (the whole ``fit``, and each epoch's), for the benchmark.
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

import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras import layers  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

from mnist_lesson.data import load_mnist  # noqa: E402

BATCH_SIZE = 250
VALIDATION_FRACTION = 1 / 12
# name: (hidden layers, output activation, loss, epochs, the lesson's starting learning rate)
MODELS = {
    "simple": ((), "sigmoid", "binary_crossentropy", 6, 0.05),
    "deep": ((512, 512), "softmax", "categorical_crossentropy", 5, 0.004),
}
DEFAULT_RATE = 0.001  # keras.optimizers.Adam()'s, what optimizer="adam" gives


def lesson_split(path: str | None, seed: int, quick: bool = False) -> dict:
    """The lesson's training and validation digits for ``seed``, prepared as its cells do."""
    (x_train, y_train), _ = load_mnist(path)
    if quick:  # the lesson's quick = True: the first 4,000 training digits
        x_train, y_train = x_train[:4000], y_train[:4000]
    x_fit, x_val, digits_fit, digits_val = train_test_split(
        x_train / np.float32(255), y_train, test_size=VALIDATION_FRACTION, random_state=seed
    )
    return {
        "x_fit": x_fit,
        "y_fit": keras.utils.to_categorical(digits_fit, 10),
        "x_val": x_val,
        "y_val": keras.utils.to_categorical(digits_val, 10),
    }


def test_digits(path: str | None) -> tuple:
    """The test digits, scaled as the lesson scales them, and their labels: for the final
    verdict on a chosen recipe only."""
    _, (x_test, y_test) = load_mnist(path)
    return x_test / np.float32(255), y_test


def build(model: str, seed: int, activation: str = "relu"):
    """The lesson's model, built right after the seed, as its cells build it."""
    hidden, output, _, _, _ = MODELS[model]
    keras.utils.set_random_seed(seed)
    return keras.Sequential(
        [keras.Input(shape=(28, 28)), layers.Flatten()]
        + [layers.Dense(width, activation=activation) for width in hidden]
        + [layers.Dense(10, activation=output)],
        name=model,
    )


class EpochTimes(keras.callbacks.Callback):
    """The wall time at the end of each epoch, from the start of ``fit``."""

    def on_train_begin(self, logs=None):
        self.start, self.ends = time.perf_counter(), []

    def on_epoch_end(self, epoch, logs=None):
        self.ends.append(time.perf_counter() - self.start)


def train(
    model: str,
    data: dict,
    seed: int,
    schedule: bool = True,
    *,
    epochs: int | None = None,
    learning_rate: float | None = None,
    optimizer: str = "adam",
    activation: str = "relu",
) -> dict:
    """Train ``model`` as the lesson does: seed, build, compile with Adam and the lesson's cosine
    schedule (Keras' fixed default rate when ``schedule`` is False), the loss before training,
    ``fit`` with the validation digits. The keywords change one setting each, for the recipe
    search: the epochs, the starting rate, ``plain_sgd`` for Adam, the hidden activation."""
    _, _, loss, lesson_epochs, lesson_rate = MODELS[model]
    epochs, rate = epochs or lesson_epochs, learning_rate or lesson_rate
    network = build(model, seed, activation)
    steps_per_epoch = math.ceil(len(data["x_fit"]) / BATCH_SIZE)
    rates = (
        keras.optimizers.schedules.CosineDecay(rate, epochs * steps_per_epoch)
        if schedule
        else DEFAULT_RATE
    )
    network.compile(
        optimizer=keras.optimizers.SGD(rates)
        if optimizer == "plain_sgd"
        else keras.optimizers.Adam(rates),
        loss=loss,
        metrics=["categorical_accuracy"],
    )
    network.evaluate(data["x_val"], data["y_val"], verbose=0)  # the lesson's loss before training
    clock = EpochTimes()
    start = time.perf_counter()
    history = network.fit(
        data["x_fit"],
        data["y_fit"],
        batch_size=BATCH_SIZE,
        epochs=epochs,
        validation_data=(data["x_val"], data["y_val"]),
        verbose=0,
        callbacks=[clock],
    )
    seconds = time.perf_counter() - start
    return {
        "model": network,
        "validation_accuracy": float(history.history["val_categorical_accuracy"][-1]),
        "train_seconds": seconds,
        "epoch_seconds": [b - a for a, b in zip([0.0, *clock.ends], clock.ends)],
        "epochs": epochs,
        "train_examples": len(data["x_fit"]),
        "params": network.count_params(),
    }


def sgemm_gflops(size: int = 4096, repeats: int = 3) -> float:
    """NumPy's float32 matrix-multiply rate on this machine: the best of ``repeats`` products."""
    rng = np.random.default_rng(0)
    a = rng.random((size, size), dtype=np.float32)
    b = rng.random((size, size), dtype=np.float32)
    a @ b  # warm up threads and caches
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        a @ b
        seconds.append(time.perf_counter() - start)
    return 2 * size**3 / min(seconds) / 1e9


def backend_version() -> str:
    backend = keras.backend.backend()
    module = __import__(backend)
    return f"{backend} {module.__version__}"


def compare(path: str | None, seeds: list[int]) -> dict:
    """Each model with its schedule and with Keras' default, seed by seed: validation only."""
    models = {}
    for name, (_, _, _, epochs, rate) in MODELS.items():
        models[name] = {"epochs": epochs, "schedule_start_rate": rate,
                        "schedule": [], "default": []}  # fmt: skip
    for seed in seeds:
        data = lesson_split(path, seed)
        for name, entry in models.items():
            for recipe in ("schedule", "default"):
                result = train(name, data, seed, schedule=recipe == "schedule")
                entry[recipe].append(result["validation_accuracy"])
                print(f"seed {seed}, {name} model, {recipe}: validation "
                      f"{result['validation_accuracy']:.2%}", flush=True)  # fmt: skip
    for entry in models.values():
        entry["gain_points"] = [
            round(100 * (a - b), 2) for a, b in zip(entry["schedule"], entry["default"])
        ]
        entry["gain_points_median"] = round(statistics.median(entry["gain_points"]), 2)
    return {
        "date": time.strftime("%Y-%m-%d"),
        "backend": backend_version(),
        "keras": keras.__version__,
        "cores": os.cpu_count(),
        "seeds": seeds,
        "recipe": {
            "batch_size": BATCH_SIZE,
            "validation": "train_test_split(x_train / 255, y_train, test_size=1/12, "
            "random_state=seed)",
            "schedule": "Adam with CosineDecay from the start rate to 0 over the whole fit",
            "default": f"Adam at a fixed {DEFAULT_RATE} (optimizer='adam')",
            "measure": "validation accuracy after the last epoch",
        },
        "models": models,
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=os.environ.get("MNIST_PATH"))
    parser.add_argument("--seeds", type=int, nargs="+", default=[42, 1])
    parser.add_argument("--output", type=Path, default=HERE / "lesson_recipe.json")
    parser.add_argument("--time", choices=sorted(MODELS), help="time one training of this model")
    parser.add_argument("--quick", action="store_true", help="with --time: 4,000 digits only")
    args = parser.parse_args(argv)
    if args.data and not Path(args.data).exists():
        parser.error(f"--data {args.data}: no such file")
    if args.time:  # the matmul peak measured just before and just after, in the same process
        seed, size = args.seeds[0], 1024 if args.quick else 4096
        data = lesson_split(args.data, seed, args.quick)
        before = sgemm_gflops(size)
        result = train(args.time, data, seed)
        del result["model"]
        result["sgemm_gflops"] = max(before, sgemm_gflops(size))
        print("BENCHMARK_RESULT " + json.dumps({**result, "backend": backend_version()}))
        return 0
    results = compare(args.data, args.seeds)
    args.output.write_text(json.dumps(results, indent=2) + "\n")
    for name, entry in results["models"].items():
        print(f"{name} model: the schedule minus the default, validation points by seed: "
              f"{entry['gain_points']}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
