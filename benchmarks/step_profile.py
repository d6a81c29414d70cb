"""Where a training step of the lesson's deep model goes: matmuls, shift, optimizer, Keras.

    python benchmarks/step_profile.py [--steps 200] [--repeats 5]

Times one batch of 256 through progressively more of the lesson's training step, each compiled
with tf.function and run on the same random batch, alternately, ``--repeats`` times; reports
medians in milliseconds per step and writes benchmarks/step_profile.json:

- ``forward_backward``: the three Dense layers forward, the loss and all gradients;
- ``+ adam``: the same and Adam's update of the weights;
- ``+ shift``: the same with the training digits shifted by RandomTranslation first;
- ``model.fit``: what Keras' fit() takes per step for the lesson's model and settings
  (``steps_per_execution=20``, metrics, data handling), from a timed epoch.

The difference between consecutive lines is what that part costs. The floor is the time the
step's multiply-adds would take at the machine's NumPy float32 matmul rate.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from benchmark import machine, sgemm_gflops  # noqa: E402
from deep_recipe_search import LESSON, VARIANTS, build  # noqa: E402

from mnist_lesson.runtime import import_tensorflow_quietly  # noqa: E402

BATCH = 256


# The lesson's deep model and its training settings (section 5).
LESSON_NOW = LESSON | VARIANTS["shift_1_no_dropout_epochs_5"]


def deep_model(shift: bool):
    """The lesson's deep model, with or without its training-only shift."""
    return build(LESSON_NOW | {"shift_pixels": LESSON_NOW["shift_pixels"] if shift else 0})


def step_functions(tf, keras) -> dict:
    loss = keras.losses.SparseCategoricalCrossentropy()

    def make(shift: bool, update: bool):
        model = deep_model(shift)
        optimizer = keras.optimizers.Adam(LESSON_NOW["learning_rate"])
        optimizer.build(model.trainable_variables)

        @tf.function
        def step(x, y):
            with tf.GradientTape() as tape:
                value = loss(y, model(x, training=True))
            gradients = tape.gradient(value, model.trainable_variables)
            if update:
                optimizer.apply(gradients, model.trainable_variables)
            return value

        return step

    return {
        "forward_backward": make(shift=False, update=False),
        "+ adam": make(shift=False, update=True),
        "+ shift": make(shift=True, update=True),
    }


def per_step_ms(step, x, y, steps: int) -> float:
    step(x, y)  # traced and warmed up outside the clock
    start = time.perf_counter()
    for _ in range(steps):
        value = step(x, y)
    value.numpy()  # wait for the last step
    return (time.perf_counter() - start) / steps * 1000


def fit_ms(tf, keras, x_all, y_all) -> float:
    """model.fit's time per step over one epoch, as the lesson compiles and runs it."""
    model = deep_model(shift=True)
    model.compile(
        optimizer=keras.optimizers.Adam(LESSON_NOW["learning_rate"]),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
        steps_per_execution=20,
    )
    model.fit(x_all[: BATCH * 20], y_all[: BATCH * 20], batch_size=BATCH, verbose=0)  # warm-up
    start = time.perf_counter()
    model.fit(x_all, y_all, batch_size=BATCH, epochs=1, verbose=0)
    return (time.perf_counter() - start) / (len(x_all) / BATCH) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200, help="steps per timing")
    parser.add_argument("--repeats", type=int, default=5, help="timings per line (median)")
    parser.add_argument("--output", type=Path, default=HERE / "step_profile.json")
    args = parser.parse_args()

    tf = import_tensorflow_quietly()
    import keras

    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    # The lesson's fit set's size, handed to TensorFlow as tensors, as the lesson does.
    x_all = tf.constant(rng.random((55_000, 784), dtype=np.float32))
    y_all = tf.constant(rng.integers(0, 10, len(x_all)))
    x, y = x_all[:BATCH], y_all[:BATCH]
    steps = step_functions(tf, keras)
    times: dict[str, list[float]] = {name: [] for name in [*steps, "model.fit"]}
    for _ in range(args.repeats):
        for name, step in steps.items():
            times[name].append(per_step_ms(step, x, y, args.steps))
        times["model.fit"].append(fit_ms(tf, keras, x_all, y_all))

    # Forward, and backward for the weights and (past the first layer) the layer's input.
    multiply_adds = 2 * 784 * 512 + 3 * (512 * 512 + 512 * 10)
    peak = sgemm_gflops()
    floor_ms = 2 * multiply_adds * BATCH / (peak * 1e9) * 1000
    medians = {name: statistics.median(values) for name, values in times.items()}
    results = {
        "date": time.strftime("%Y-%m-%d"),
        "machine": machine(),
        "batch_size": BATCH,
        "ms_per_step_median": medians,
        "ms_per_step_all": times,
        "matmul_floor_ms": floor_ms,
        "sgemm_gflops": peak,
    }
    args.output.write_text(json.dumps(results, indent=2) + "\n")
    previous = None
    print(f"{'matmul floor at the NumPy peak':>32}: {floor_ms:6.2f} ms")
    for name, value in medians.items():
        extra = f"  (+{value - previous:.2f})" if previous is not None else ""
        print(f"{name:>32}: {value:6.2f} ms{extra}")
        previous = value
    return 0


if __name__ == "__main__":
    sys.exit(main())
