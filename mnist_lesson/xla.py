"""Training steps compiled with XLA, where this TensorFlow can and every layer allows it.

XLA compiles a whole training step (the forward pass, the loss, the gradients and Adam's update
of every weight) into one program, fusing the element-wise work into a few loops instead of
dozens of separate operations. Compiling takes about a second per model, so it pays only when
a model trains long enough; the lesson turns it on for its large models.
"""

from __future__ import annotations

import functools


@functools.cache
def xla_available() -> bool:
    """Whether this TensorFlow can compile with XLA on its default device (asked once)."""
    import tensorflow as tf

    try:
        tf.function(lambda x: x + 1, jit_compile=True)(tf.zeros(1)).numpy()
    except Exception:  # a build or device without XLA: train as usual, silently
        return False
    return True


# Layers whose training steps have deterministic XLA kernels on every device. TensorFlow
# refuses others under op determinism (a convnet's MaxPool gradient, for one), so a model with
# any other layer trains without XLA while determinism is on, as Keras itself decides.
DETERMINISTIC_UNDER_XLA = {
    "InputLayer",
    "Dense",
    "Dropout",
    "RandomShift",
    "Reshape",
    "Flatten",
    "Activation",
}


def _leaf_layers(model):
    for layer in model.layers:
        if hasattr(layer, "layers"):  # a model used as a layer: look inside
            yield from _leaf_layers(layer)
        else:
            yield layer


def use_xla(model) -> bool:
    """Have Keras compile the compiled ``model``'s train, test and predict steps with XLA, and
    return True; or leave it as it is and return False where XLA is not available, a layer does
    not support it (Keras' ``supports_jit``, False for RandomTranslation, for one) or, with op
    determinism on, a layer is not known to have deterministic XLA kernels.

    Call it after ``model.compile``. Keras itself refuses ``jit_compile=True`` for every model
    while TensorFlow's op determinism is on, because some ops lack deterministic XLA kernels on
    GPUs, and falls back with a warning. TensorFlow does hand op determinism to XLA (it sets
    ``xla_gpu_deterministic_ops``), and the layers in ``DETERMINISTIC_UNDER_XLA`` have
    deterministic kernels: the tests check that the same seed still gives the same numbers. So
    for models made of those layers this skips that blanket refusal; other models keep it.
    """
    from mnist_lesson.tensorflow_setup import deterministic_ops

    layers = list(_leaf_layers(model))
    if not xla_available() or not all(layer.supports_jit for layer in layers):
        return False
    if deterministic_ops() and any(
        type(layer).__name__ not in DETERMINISTIC_UNDER_XLA for layer in layers
    ):
        return False
    model._jit_compile = True  # the attribute behind model.jit_compile, past its refusal
    return True
