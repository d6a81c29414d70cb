"""Same seed, same numbers, on every backend, with Keras' documented settings only; models
paired by the seed, as the lesson pairs its rungs; and the lesson's numbers are what its models
score when trained alone, one ``fit`` each."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from conftest import ROOT, load_metrics

# Trains small models the way the lesson does (the seed set before building and before fit,
# one fit per model) and prints fingerprints of their weights.
TRAIN = """
import json, random, sys
from mnist_lesson.keras_setup import import_keras_quietly, make_reproducible
keras = import_keras_quietly()
import numpy as np
from keras import layers
from mnist_lesson.architecture import weights_fingerprint

seed = int(sys.argv[1])
op_determinism = make_reproducible(seed)
x = np.random.default_rng(0).random((1000, 28, 28, 1), dtype=np.float32)
y = np.eye(10, dtype="float32")[np.arange(1000) % 10]

def model(shift=False):
    keras.utils.set_random_seed(seed)
    moved = [layers.RandomTranslation(1 / 28, 1 / 28, fill_mode="constant", seed=seed)]
    return keras.Sequential([keras.Input((28, 28, 1)), *(moved if shift else []),
                             layers.Flatten(), layers.Dense(64, activation="relu"),
                             layers.Dense(10, activation="softmax")])

def other_cells():
    # random draws of every kind, as other cells would make them
    random.random(), np.random.random(), keras.random.uniform((1,))
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf
        tf.random.uniform((1,))

def train(m):
    m.compile(optimizer="adam", loss="categorical_crossentropy")
    keras.utils.set_random_seed(seed)
    m.fit(x, y, batch_size=100, epochs=2, verbose=0)
    return m

plain, shifted = model(), model(shift=True)
starts = [weights_fingerprint(plain), weights_fingerprint(shifted)]
other_cells()
train(plain)
again = model()
other_cells()
train(again)
train(shifted)
print(json.dumps({
    "backend": keras.backend.backend(), "xla": bool(plain.jit_compile),
    "op_determinism": op_determinism, "same_start": starts[0] == starts[1],
    "plain": weights_fingerprint(plain), "again": weights_fingerprint(again),
"shifted": weights_fingerprint(shifted),
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
    assert first["plain"] != other["plain"], "another seed, other numbers"
    # The seed before building: the same starting weights, with or without the shift in front.
    assert first["same_start"] is True
    # The seed before fit: the same batches, whatever random draws ran in between.
    assert first["again"] == first["plain"]
    assert first["shifted"] != first["plain"], "the shift changes what the model learns"


# The lesson's rungs trained alone, as the benchmark trains them (recipe_search.py), on the
# lesson's --quick digits: the same numbers as the lesson's own run, seed for seed.
SOLO = """
import json, sys
sys.path.insert(0, "benchmarks")
import numpy as np
from mnist_lesson.keras_setup import import_keras_quietly
import_keras_quietly()
from mnist_lesson.data import load_mnist
from recipe_search import LESSON, train_and_evaluate

mnist = load_mnist(sys.argv[1])
x = mnist.x_train[:3000, ..., np.newaxis].astype("float32") / 255
digits = mnist.y_train[:3000]
targets = np.eye(10, dtype="float32")
data = {"x_fit": x[:2750], "y_fit": targets[digits[:2750]], "x_val": x[2750:],
        "y_val": targets[digits[2750:]], "val_digits": digits[2750:],
        "x_test": mnist.x_test[:1000, ..., np.newaxis].astype("float32") / 255,
        "test_digits": mnist.y_test[:1000]}
softmax = LESSON["simple"] | {"output": "softmax", "loss": "categorical_crossentropy"}
recipes = {"simple": LESSON["simple"], "softmax": softmax,
           "softmax_deep_recipe": softmax | {"epochs": LESSON["deep"]["epochs"],
                                             "learning_rate": LESSON["deep"]["learning_rate"]},
           "sigmoid_hidden": LESSON["sigmoid_hidden"], "unshifted": LESSON["relu_hidden"],
           "deep": LESSON["deep"]}
print(json.dumps({name: train_and_evaluate(recipe, data, int(sys.argv[2]))
                  for name, recipe in recipes.items()}))
"""


@pytest.mark.parametrize("backend", ["tensorflow", "jax"])
def test_the_lessons_numbers_are_its_models_trained_alone(
    backend, quick_run, jax_quick_run, mnist_path
):
    """One fit per model: every rung of the lesson's quick run scores exactly what the same
    model scores trained alone by the benchmarks' code, on both backends."""
    _, output_dir = quick_run if backend == "tensorflow" else jax_quick_run
    metrics = load_metrics(output_dir)
    result = subprocess.run(
        [sys.executable, "-c", SOLO, str(mnist_path), str(metrics["seed"])], cwd=ROOT,
        capture_output=True, text=True, timeout=600, env={**os.environ, "KERAS_BACKEND": backend},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    alone = json.loads(result.stdout.strip().splitlines()[-1])
    for rung in metrics["ladder"]:
        solo = alone[rung["model"]]
        assert rung["test_accuracy"] == solo["test_accuracy"], rung["model"]
        assert rung["validation_accuracy"] == solo["validation_accuracy"], rung["model"]
