"""Where a training step of the lesson's deep model goes, with and without XLA.

    python benchmarks/step_profile.py [--steps 200] [--repeats 5]

Times one batch of 250 through progressively more of the lesson's training step, each compiled
with tf.function, once as TensorFlow runs it op by op and once compiled by XLA
(``jit_compile=True``), on the same random batch, alternately, ``--repeats`` times; reports
medians in milliseconds per step and writes benchmarks/step_profile.json:

- ``forward_backward``: the three Dense layers forward, the loss and all gradients;
- ``+ adam``: the same and Adam's update of the weights;
- ``+ shift``: the same with the training digits moved by ``RandomShift`` first;
- ``model.fit``: what Keras' fit() takes per step for the lesson's model and settings
  (``steps_per_execution=20``, metrics, data handling), from a timed epoch after a warm-up;
- ``model.fit, earlier lesson``: the same for an earlier lesson (``RandomTranslation`` inside
  the model, batches of 256), as a reference measured in the same run.

The difference between consecutive lines is what that part costs. The floor is the time the
step's multiply-adds would take at the machine's NumPy float32 matmul rate. It also measures
how much resident memory one epoch of the deep model's ``model.fit`` adds to a process that
has already trained a small model, with and without XLA, each in a fresh process.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from benchmark import machine, sgemm_gflops  # noqa: E402
from recipe_search import LESSON, build  # noqa: E402

from mnist_lesson.keras_setup import import_keras_quietly  # noqa: E402

DEEP = LESSON["deep"]
BATCH = DEEP["batch_size"]
EARLIER_BATCH = 256


def earlier_lesson_model():
    """The lesson's deep model before XLA: a fractional shift XLA cannot compile."""
    import keras
    from keras import layers

    return keras.Sequential(
        [
            keras.Input(shape=(784,)),
            layers.Reshape((28, 28, 1)),
            layers.RandomTranslation(1 / 28, 1 / 28, fill_mode="constant"),
            layers.Reshape((784,)),
            layers.Dense(512, activation="relu"),
            layers.Dense(512, activation="relu"),
            layers.Dense(10, activation="softmax"),
        ]
    )


def lesson_trainer(model):
    """What the lesson's train() fits for the deep model: the shift in front of the model."""
    import keras

    from mnist_lesson.augmentation import RandomShift

    pixels = keras.Input(shape=(784,))
    return keras.Model(pixels, model(RandomShift(DEEP["shift_pixels"], seed=0)(pixels)))


def step_functions(tf, keras, jit: bool) -> dict:
    loss = keras.losses.CategoricalCrossentropy()

    def make(shift: bool, update: bool):
        from mnist_lesson.augmentation import RandomShift

        model = build(DEEP, seed=0)
        move = RandomShift(DEEP["shift_pixels"] if shift else 0, seed=0)
        optimizer = keras.optimizers.Adam(DEEP["learning_rate"])
        optimizer.build(model.trainable_variables)

        @tf.function(jit_compile=jit)
        def step(x, y):
            with tf.GradientTape() as tape:
                value = loss(y, model(move(x, training=True), training=True))
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
    step(x, y).numpy()  # traced, compiled and warmed up outside the clock
    start = time.perf_counter()
    for _ in range(steps):
        value = step(x, y)
    value.numpy()  # wait for the last step
    return (time.perf_counter() - start) / steps * 1000


def fit_ms(keras, model, x_all, y_all, batch: int, xla: bool) -> float:
    """model.fit's time per step over one epoch, as the lesson compiles and runs it (with the
    shift in front of the model while it trains), with XLA switched on or off through Keras'
    documented ``jit_compile``."""
    model.compile(
        optimizer=keras.optimizers.Adam(DEEP["learning_rate"]),
        loss="categorical_crossentropy",
        metrics=[keras.metrics.CategoricalAccuracy(name="accuracy")],
        steps_per_execution=20,
        jit_compile=xla,
    )
    warm_up = batch * 20
    model.fit(x_all[:warm_up], y_all[:warm_up], batch_size=batch, verbose=0)
    start = time.perf_counter()
    model.fit(x_all, y_all, batch_size=batch, epochs=1, verbose=0)
    return (time.perf_counter() - start) / (len(x_all) / batch) * 1000


# One epoch of the deep model in a process that has trained a small model first (so that
# TensorFlow's one-time allocations are already made): the resident memory it adds, in MB.
MEMORY_PROBE = """
import sys
sys.path[:0] = sys.argv[2:4]
from mnist_lesson.keras_setup import import_keras_quietly
import_keras_quietly()
import keras, numpy as np, tensorflow as tf
from keras import layers
from recipe_search import LESSON, build
from step_profile import lesson_trainer

def resident_mb():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * 4096 / 2**20

x = tf.constant(np.random.default_rng(0).random((55_000, 784), dtype=np.float32))
y = tf.one_hot(np.arange(55_000) % 10, 10)
small = keras.Sequential([keras.Input((784,)), layers.Dense(10, activation="softmax")])
small.compile(optimizer="adam", loss="categorical_crossentropy")
small.fit(x[:2_500], y[:2_500], batch_size=250, verbose=0)
before = resident_mb()
model = lesson_trainer(build(LESSON["deep"], seed=0))
model.compile(optimizer="adam", loss="categorical_crossentropy", steps_per_execution=20,
              jit_compile=sys.argv[1] == "xla")
model.fit(x, y, batch_size=250, epochs=1, verbose=0)
print(resident_mb() - before)
"""


def memory_added_mb(xla: bool) -> float | None:
    """What one epoch of the deep model adds to a process's resident memory (Linux only)."""
    if not Path("/proc/self/statm").exists():
        return None
    mode = "xla" if xla else "plain"
    command = [sys.executable, "-c", MEMORY_PROBE, mode, str(HERE.parent), str(HERE)]
    result = subprocess.run(command, capture_output=True, text=True, check=True)
    return float(result.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200, help="steps per timing")
    parser.add_argument("--repeats", type=int, default=5, help="timings per line (median)")
    parser.add_argument("--output", type=Path, default=HERE / "step_profile.json")
    args = parser.parse_args()

    import_keras_quietly()
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    # The lesson's fit set's size, handed to TensorFlow as tensors, as the lesson does.
    x_all = tf.constant(rng.random((55_000, 784), dtype=np.float32))
    y_all = tf.one_hot(rng.integers(0, 10, len(x_all)), 10)
    x, y = x_all[:BATCH], y_all[:BATCH]
    steps = {jit: step_functions(tf, keras, jit) for jit in (False, True)}
    names = [*steps[False], "model.fit"]
    times = {mode: {name: [] for name in names} for mode in ("without_xla", "with_xla")}
    times["earlier_lesson"] = {"model.fit": []}
    for _ in range(args.repeats):
        for jit, mode in ((False, "without_xla"), (True, "with_xla")):
            for name, step in steps[jit].items():
                times[mode][name].append(per_step_ms(step, x, y, args.steps))
            model = lesson_trainer(build(DEEP, seed=0))
            times[mode]["model.fit"].append(fit_ms(keras, model, x_all, y_all, BATCH, jit))
        times["earlier_lesson"]["model.fit"].append(
            fit_ms(keras, earlier_lesson_model(), x_all, y_all, EARLIER_BATCH, xla=False)
        )

    # Forward, and backward for the weights and (past the first layer) the layer's input.
    multiply_adds = 2 * 784 * 512 + 3 * (512 * 512 + 512 * 10)
    peak = sgemm_gflops()
    floor_ms = 2 * multiply_adds * BATCH / (peak * 1e9) * 1000
    medians = {mode: {name: statistics.median(values) for name, values in lines.items()}
               for mode, lines in times.items()}  # fmt: skip
    results = {
        "date": time.strftime("%Y-%m-%d"),
        "machine": machine(),
        "batch_size": BATCH,
        "ms_per_step_median": medians,
        "ms_per_step_all": times,
        "xla_speedup_of_fit": medians["without_xla"]["model.fit"]
        / medians["with_xla"]["model.fit"],
        # The lesson leaves XLA to Keras, which turns it off on a CPU.
        "speedup_over_earlier_lesson": (
            medians["earlier_lesson"]["model.fit"] * BATCH / EARLIER_BATCH
        )
        / medians["without_xla"]["model.fit"],
        "matmul_floor_ms": floor_ms,
        "sgemm_gflops": peak,
        "memory_added_by_one_fit_mb": {
            "without_xla": memory_added_mb(xla=False),
            "with_xla": memory_added_mb(xla=True),
        },
    }
    args.output.write_text(json.dumps(results, indent=2) + "\n")
    print(f"{'matmul floor at the NumPy peak':>32}: {floor_ms:6.2f} ms")
    for mode in ("without_xla", "with_xla", "earlier_lesson"):
        print(mode.replace("_", " "))
        previous = None
        for name, value in medians[mode].items():
            extra = f"  (+{value - previous:.2f})" if previous is not None else ""
            print(f"{name:>32}: {value:6.2f} ms{extra}")
            previous = value
    print(f"XLA makes model.fit's step {results['xla_speedup_of_fit']:.2f} times faster")
    return 0


if __name__ == "__main__":
    sys.exit(main())
