"""How the lesson's learning rates were chosen: on validation digits, over seeds.

    python benchmarks/recipe_search.py --model simple|deep|sigmoid_hidden
        [--data PATH/mnist.npz] [--seeds 42 1 2 3 4 5]

Each variant is one of the lesson's models trained as the lesson trains it
(``lesson_recipe.train``: its shuffled split for each seed, batches of 250, Adam with a cosine
schedule, the lesson's budget of epochs) with its starting learning rate changed; the simple
model also with plain SGD. ``sigmoid_hidden`` is the deep model with sigmoid hidden units,
searched apart so that it gets its own best rates. On 2 cores a round trains for about 12
minutes (deep, sigmoid_hidden) or 27 (simple, two grids).

Selection reads the validation digits only. For each grid (an optimizer and a budget of
epochs), the rate with the highest median validation accuracy over the seeds is chosen; a tie
within ``TIE`` goes to the lesson's rate, so that the lesson changes only on evidence. A choice
counts only where the grid brackets it: a smaller and a larger rate measured beside it (a test
fails otherwise: widen the grid). Where every rate of a grid stays at chance, no rate is
chosen, and the round says so. The test digits are scored after the choice, once, for each
chosen recipe only: each trained model waits on disk until then.

Each invocation adds a round to ``recipe_search.json``, replacing an earlier round of the same
model.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import keras
import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from lesson_recipe import MODELS, backend_version, build, lesson_split, test_digits, train  # noqa: E402

TIE = 0.0005  # 0.05 points: 2 or 3 of the 5,000 validation digits
AT_CHANCE = 0.2  # a median validation accuracy below twice chance: nothing was learned
# model: {(optimizer, epochs): starting learning rates}; the lesson's rate inside each Adam grid.
GRIDS = {
    "simple": {
        ("adam", 6): (0.01, 0.02, 0.05, 0.1, 0.2),
        ("plain_sgd", 6): (3.0, 10.0, 30.0, 100.0, 300.0),
    },
    "deep": {
        ("adam", 5): (0.001, 0.002, 0.004, 0.008, 0.016),
    },
    "sigmoid_hidden": {
        ("adam", 5): (0.002, 0.004, 0.008, 0.016, 0.032),
    },
}
BASE = {"simple": "simple", "deep": "deep", "sigmoid_hidden": "deep"}  # lesson_recipe's model
ACTIVATION = {"simple": "relu", "deep": "relu", "sigmoid_hidden": "sigmoid"}


def grid_name(optimizer: str, epochs: int) -> str:
    return f"{optimizer.replace('_', ' ')}, {epochs} epochs"


def variant_name(optimizer: str, epochs: int, rate: float) -> str:
    return f"{optimizer}_{epochs}_epochs_lr_{rate:g}"


def choose(medians: dict[float, float], lesson_rate: float | None) -> dict:
    """The rate with the highest median (a tie within TIE to ``lesson_rate``, else to the
    smaller rate), whether the grid brackets it, or no rate where all stayed at chance."""
    rates = sorted(medians)
    best = max(medians.values())
    if best < AT_CHANCE:
        return {"learning_rate": None, "bracketed": None,
                "note": "every rate stayed at chance: no best rate"}  # fmt: skip
    close = [rate for rate in rates if medians[rate] >= best - TIE]
    rate = lesson_rate if lesson_rate in close else close[0]
    return {"learning_rate": rate, "bracketed": rates[0] < rate < rates[-1]}


def search(model: str, path: str | None, seeds: list[int]) -> dict:
    base, activation = BASE[model], ACTIVATION[model]
    _, _, _, lesson_epochs, lesson_rate = MODELS[base]
    grids = GRIDS[model]
    validation = {grid: {rate: [] for rate in rates} for grid, rates in grids.items()}
    seconds = {grid: {rate: [] for rate in rates} for grid, rates in grids.items()}
    with tempfile.TemporaryDirectory(prefix="recipe_search_") as kept:
        for seed in seeds:
            data = lesson_split(path, seed)
            for (optimizer, epochs), rates in grids.items():
                for rate in rates:
                    result = train(base, data, seed, epochs=epochs, learning_rate=rate,
                                   optimizer=optimizer, activation=activation)  # fmt: skip
                    name = variant_name(optimizer, epochs, rate)
                    result["model"].save_weights(Path(kept, f"{name}_{seed}.weights.h5"))
                    validation[optimizer, epochs][rate].append(result["validation_accuracy"])
                    seconds[optimizer, epochs][rate].append(result["train_seconds"])
                    print(f"seed {seed} {name}: validation {result['validation_accuracy']:.2%}, "
                          f"{result['train_seconds']:.1f} s", flush=True)  # fmt: skip
        chosen = {}
        x_test, y_test = test_digits(path)
        for (optimizer, epochs), by_rate in validation.items():
            medians = {rate: statistics.median(values) for rate, values in by_rate.items()}
            choice = choose(medians, lesson_rate)
            if choice["learning_rate"] is not None:  # the test digits, once, for the chosen
                name = variant_name(optimizer, epochs, choice["learning_rate"])
                tests = []
                for seed in seeds:
                    network = build(base, seed, activation)
                    network.load_weights(Path(kept, f"{name}_{seed}.weights.h5"))
                    answers = network.predict(x_test, verbose=0).argmax(axis=1)
                    tests.append(float(np.mean(answers == y_test)))
                choice |= {"variant": name, "test_accuracy": tests}
            chosen[grid_name(optimizer, epochs)] = choice
    return {
        "date": time.strftime("%Y-%m-%d"),
        "model": model,
        "backend": backend_version(),
        "keras": keras.__version__,
        "cores": os.cpu_count(),
        "seeds": seeds,
        "lesson_recipe": {
            "model": base,
            "hidden_activation": activation,
            "epochs": lesson_epochs,
            "learning_rate": lesson_rate,
            "optimizer": "adam",
            "schedule": "cosine to 0",
            "batch_size": 250,
        },  # fmt: skip
        "grids": {
            grid_name(optimizer, epochs): {
                "optimizer": optimizer,
                "epochs": epochs,
                "learning_rates": list(by_rate),
                "validation_accuracy": {f"{rate:g}": values for rate, values in by_rate.items()},
                "train_seconds_median": {
                    f"{rate:g}": statistics.median(seconds[optimizer, epochs][rate])
                    for rate in by_rate
                },
            }
            for (optimizer, epochs), by_rate in validation.items()
        },
        "chosen": chosen,
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=os.environ.get("MNIST_PATH"))
    parser.add_argument("--model", choices=sorted(GRIDS), required=True)
    parser.add_argument("--seeds", type=int, nargs="+", default=[42, 1, 2, 3, 4, 5])
    parser.add_argument("--output", type=Path, default=HERE / "recipe_search.json")
    args = parser.parse_args(argv)
    result = search(args.model, args.data, args.seeds)
    rounds = json.loads(args.output.read_text())["rounds"] if args.output.exists() else []
    rounds = [entry for entry in rounds if entry["model"] != args.model] + [result]
    args.output.write_text(json.dumps({"rounds": rounds}, indent=2) + "\n")
    for grid, choice in result["chosen"].items():
        tests = choice.get("test_accuracy")
        verdict = f", test {min(tests):.2%} to {max(tests):.2%}" if tests else ""
        print(
            f"{grid}: chosen {choice['learning_rate']} (bracketed: {choice['bracketed']}){verdict}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
