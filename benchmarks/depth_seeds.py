"""Does ReLU's lead over sigmoid grow with depth? The lesson's section 8 experiment at several
depths, over several seeds.

    python benchmarks/depth_seeds.py --data PATH/mnist.npz [--seeds 42 1 2 3 4 5]
        [--depths 2 4 6]

For each depth and seed: a stack of that many hidden layers of 64 units with a softmax output,
built twice from the same initial weights, once with sigmoid and once with ReLU units, trained
side by side exactly as the lesson's section 8 trains its six-layer stacks (plain SGD at
learning rate 0.1, batches of 50, two epochs on the first 6,000 training digits), then
measured on the 5,000 validation digits. Writes ``depth_seeds.json``; the lesson prints ReLU's
lead at each depth from it.
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

from recipe_search import load_split  # noqa: E402

from mnist_lesson.keras_setup import (  # noqa: E402
    backend_version,
    cpu_features,
    cpu_name,
    import_keras_quietly,
)

WIDTH, EXAMPLES, EPOCHS, BATCH, LEARNING_RATE = 64, 6_000, 2, 50, 0.1


def validation_accuracy(depth: int, seed: int, data: dict) -> dict[str, float]:
    """The lesson's section 8, with ``depth`` hidden layers: both stacks' validation accuracy
    after the short training."""
    import keras
    import numpy as np
    from keras import layers

    def stack(activation):
        keras.utils.set_random_seed(seed)
        return keras.Sequential(
            [keras.Input(shape=(784,))]
            + [layers.Dense(WIDTH, activation=activation) for _ in range(depth)]
            + [layers.Dense(10, activation="softmax")]
        )

    stacks = {activation: stack(activation) for activation in ("sigmoid", "relu")}
    pixels = keras.Input(shape=(784,))
    side_by_side = keras.Model(pixels, {name: s(pixels) for name, s in stacks.items()})
    side_by_side.compile(
        optimizer=keras.optimizers.SGD(learning_rate=LEARNING_RATE),
        loss={name: "categorical_crossentropy" for name in stacks},
        steps_per_execution=20,
    )
    keras.utils.set_random_seed(seed)
    for _epoch in range(EPOCHS):
        side_by_side.fit(
            data["x_fit"][:EXAMPLES],
            {name: data["y_fit"][:EXAMPLES] for name in stacks},
            epochs=1,
            batch_size=BATCH,
            verbose=0,
        )
    return {
        name: float(np.mean(
            keras.ops.convert_to_numpy(s(data["x_val"], training=False)).argmax(axis=1)
            == data["val_digits"]
        ))
        for name, s in stacks.items()
    }  # fmt: skip


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
    depths = {}
    for depth in args.depths:
        results = [validation_accuracy(depth, seed, data) for seed in args.seeds]
        depths[str(depth)] = {name: [r[name] for r in results] for name in ("sigmoid", "relu")}
        leads = [r["relu"] - r["sigmoid"] for r in results]
        print(f"{depth} hidden layers: ReLU leads by {100 * min(leads):+.1f} to "
              f"{100 * max(leads):+.1f} points", flush=True)  # fmt: skip
    results = {
        "date": time.strftime("%Y-%m-%d"),
        "machine": {"cpu": cpu_name(), "cpu_features": cpu_features(), "cores": os.cpu_count()},
        "backend": backend_version(),
        "recipe": {"hidden_width": WIDTH, "examples": EXAMPLES, "epochs": EPOCHS,
                   "batch_size": BATCH, "optimizer": f"SGD(learning_rate={LEARNING_RATE})"},
        "seeds": args.seeds,
        "depths": depths,
    }  # fmt: skip
    args.output.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
