"""Same seed, same numbers, on every backend, with Keras' documented settings only: no op
determinism needed on a CPU, no private switch, and the models the lesson trains together
start from the same weights and see the same batches."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from conftest import ROOT

# Trains two small models the way the lesson's train() does (a shift in front of one, the seed
# set before building and before fitting) and prints the fingerprint of their final weights.
TRAIN = """
import json, sys
from mnist_lesson.keras_setup import import_keras_quietly, make_reproducible
keras = import_keras_quietly()
import numpy as np
from keras import layers
from mnist_lesson.architecture import weights_fingerprint
from mnist_lesson.augmentation import RandomShift

seed = int(sys.argv[1])
op_determinism = make_reproducible(seed)
x = np.random.default_rng(0).random((1000, 784), dtype=np.float32)
y = np.eye(10, dtype="float32")[np.arange(1000) % 10]

def model(name):
    keras.utils.set_random_seed(seed)
    return keras.Sequential([keras.Input((784,)), layers.Dense(64, activation="relu"),
                             layers.Dense(10, activation="softmax")], name=name)

def train(models, shifted=()):
    pixels = keras.Input((784,))
    moved = RandomShift(1, seed=seed)(pixels)
    together = keras.Model(pixels, {n: m(moved if n in shifted else pixels)
                                    for n, m in models.items()})
    together.compile(optimizer="adam", loss={n: "categorical_crossentropy" for n in models},
                     steps_per_execution=2)
    keras.utils.set_random_seed(seed)
    together.fit(x, {n: y for n in models}, batch_size=100, epochs=2, verbose=0)
    return bool(together.jit_compile)

alone, with_shift = model("alone"), model("with_shift")
start = weights_fingerprint(alone)
xla = train({"alone": alone})
side_a, side_b = model("side_a"), model("side_b")
train({"side_a": side_a, "side_b": side_b}, shifted={"side_b"})
print(json.dumps({
    "backend": keras.backend.backend(), "xla": xla, "op_determinism": op_determinism,
    "same_start": start == weights_fingerprint(model("fresh")),
    "alone": weights_fingerprint(alone), "side_a": weights_fingerprint(side_a),
    "side_b": weights_fingerprint(side_b),
}))
"""


def trained(backend: str, seed: int) -> dict:
    env = {**os.environ, "KERAS_BACKEND": backend}
    result = subprocess.run(
        [sys.executable, "-c", TRAIN, str(seed)],
        cwd=ROOT, capture_output=True, text=True, timeout=300, env=env,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stderr == "", result.stderr  # quiet, on every backend
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("backend", ["tensorflow", "jax"])
def test_same_seed_same_weights_and_pairing_by_seed(backend):
    pytest.importorskip(backend)
    first, again, other = trained(backend, 1), trained(backend, 1), trained(backend, 2)
    assert first["backend"] == backend
    # Keras chooses XLA as it documents: not for TensorFlow on a CPU, always for JAX.
    assert first["xla"] is (backend == "jax")
    assert first["op_determinism"] is False  # a CPU: nothing to turn on
    assert first == again, "same seed, same numbers"
    assert first["alone"] != other["alone"], "another seed, other numbers"
    # Built after the same seed: the same initial weights. Trained from the same seed: the
    # same batches, so a model trained alone ends exactly as its twin trained side by side.
    assert first["same_start"] is True
    assert first["side_a"] == first["alone"]
    assert first["side_b"] != first["alone"], "the shift changes what the shifted twin learns"


def lesson_training_code() -> str:
    """The lesson's own cell that defines its recipes and train(), as the lesson runs it."""
    import jupytext

    from conftest import LESSON

    cells = [cell.source for cell in jupytext.read(LESSON).cells if cell.cell_type == "code"]
    (cell,) = [source for source in cells if "\ndef train(" in source]
    return cell


# Runs the lesson's train() (its cell, passed in as argv[1]) on a small set.
LESSON_TRAIN = """
import json, math, random, sys, time
from types import SimpleNamespace
from mnist_lesson.keras_setup import import_keras_quietly
keras = import_keras_quietly()
import numpy as np
from keras import layers
from mnist_lesson.architecture import weights_fingerprint
from mnist_lesson.augmentation import RandomShift
from mnist_lesson.training_log import per_model, training_log

rng = np.random.default_rng(0)
x = keras.ops.convert_to_tensor(rng.random((600, 784), dtype=np.float32))
y = keras.ops.convert_to_tensor(np.eye(10, dtype="float32")[np.arange(600) % 10])
settings = SimpleNamespace(seed=3, simple_epochs=2, deep_epochs=2, batch_size=100)
namespace = {"settings": settings, "math": math, "time": time, "keras": keras, "np": np,
             "RandomShift": RandomShift, "weights_fingerprint": weights_fingerprint,
             "per_model": per_model, "training_log": training_log,
             "x_fit": x[:500], "y_fit": y[:500], "x_val": x[500:], "y_val": y[500:]}
exec(sys.argv[1], namespace)
train, recipe = namespace["train"], namespace["deep_recipe"]

def model(name):
    keras.utils.set_random_seed(settings.seed)
    return keras.Sequential([keras.Input((784,)), layers.Dense(32, activation="relu"),
                             layers.Dense(10, activation="softmax")], name=name)

alone = train({"alone": model("alone")}, "categorical_crossentropy", recipe)["alone"]
twins = {"twin": model("twin"), "shifted": model("shifted"), "other": model("other")}
random.random(), np.random.random(), keras.random.uniform((1,))  # as other cells would
together = train(twins, "categorical_crossentropy", recipe, shifted={"shifted"})
print(json.dumps({
    "same_start": alone["initial_weights"] == together["twin"]["initial_weights"]
                  == together["shifted"]["initial_weights"],
    "twins_alike": weights_fingerprint(twins["twin"]) == weights_fingerprint(twins["other"]),
    "alone_as_twin": alone["history"] == together["twin"]["history"],
    "shift_differs": together["shifted"]["history"] != together["twin"]["history"],
}))
"""


@pytest.mark.parametrize("backend", ["tensorflow", "jax"])
def test_the_lessons_train_pairs_its_models(backend):
    """The lesson's train(): models built after the seed start alike, and a model trained alone
    ends exactly as its twin trained side by side with others, whatever ran in between, so the
    ladder's rungs see the same batches in the same order however they are trained."""
    pytest.importorskip(backend)
    result = subprocess.run(
        [sys.executable, "-c", LESSON_TRAIN, lesson_training_code()], cwd=ROOT,
        capture_output=True, text=True, timeout=300, env={**os.environ, "KERAS_BACKEND": backend},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {
        "same_start": True, "twins_alike": True, "alone_as_twin": True, "shift_differs": True
    }  # fmt: skip
