"""XLA where it is safe: the lesson's models compile with it, deterministic, and a model whose
ops XLA cannot run deterministically trains without it, silently."""

from __future__ import annotations

import subprocess
import sys

from conftest import ROOT

CHECK = """
import warnings
from mnist_lesson.tensorflow_setup import import_tensorflow_quietly, make_reproducible
import_tensorflow_quietly()
make_reproducible(1)
import keras, numpy as np
from keras import layers
from mnist_lesson.augmentation import RandomShift
from mnist_lesson.xla import use_xla

def trained(stack):
    model = keras.Sequential([keras.Input((784,)), *stack, layers.Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    compiled = use_xla(model)
    x = np.random.default_rng(0).random((500, 784), dtype=np.float32)
    y = keras.utils.to_categorical(np.arange(500) % 10, 10)
    model.fit(x, y, batch_size=250, epochs=2, verbose=0)
    return compiled, bool(model.jit_compile), float(np.abs(model.layers[-1].kernel.numpy()).sum())

with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    lesson_like = trained([RandomShift(1), layers.Dense(64, activation="relu")])
    convnet = trained([layers.Reshape((28, 28, 1)), layers.Conv2D(4, 3), layers.MaxPooling2D(),
                       layers.Flatten()])
    sliding = trained([layers.Reshape((28, 28, 1)), layers.RandomTranslation(0.1, 0.1),
                       layers.Flatten()])
# What a user would see: Python hides deprecation warnings (Python 3.13 gives a few, from
# TensorFlow's own code) unless asked.
shown = [w for w in caught if not issubclass(w.category, DeprecationWarning)]
print(lesson_like[:2], convnet[:2], sliding[:2], len(shown))
print(lesson_like[2])
"""


def run_check() -> list[str]:
    result = subprocess.run(
        [sys.executable, "-c", CHECK], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout.splitlines()


def test_xla_for_the_lessons_layers_and_a_silent_fallback_for_others():
    first = run_check()
    # The lesson's kind of model compiles with XLA; a convnet (MaxPool's gradient has no
    # deterministic XLA kernel) and RandomTranslation (no XLA kernel at all) train without it,
    # and nothing warns (Keras would: "Model doesn't support `jit_compile=True`").
    assert first[0] == "(True, True) (False, False) (False, False) 0"
    assert run_check()[1] == first[1], "same seed, same weights, with XLA on"
