"""Section 8's measurements in NumPy agree with what Keras computes: the forward pass with the
model's own outputs, the gradients with the backend's automatic differentiation."""

from __future__ import annotations

import numpy as np
import pytest

keras = pytest.importorskip("keras")
tf = pytest.importorskip("tensorflow")

from mnist_lesson.backprop import (  # noqa: E402
    activation_spread,
    dense_layers,  # noqa: E402
    forward,
    kernel_gradients,
)

ACTIVATIONS = ["sigmoid", "relu", "tanh", "linear"]


def stack(activation: str, depth: int = 4, width: int = 32, seed: int = 0):
    """A stack as the lesson builds its own: 28x28x1 digits, flattened, Dense layers."""
    keras.utils.set_random_seed(seed)
    return keras.Sequential(
        [keras.Input((28, 28, 1)), keras.layers.Flatten()]
        + [keras.layers.Dense(width, activation=activation) for _ in range(depth)]
        + [keras.layers.Dense(10, activation="softmax")]
    )


def batch(seed: int = 1, size: int = 64):
    rng = np.random.default_rng(seed)
    x = rng.random((size, 28, 28, 1), dtype=np.float32)
    return x, np.eye(10, dtype=np.float32)[rng.integers(0, 10, size)]


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_the_forward_pass_is_the_models(activation):
    model, (x, _) = stack(activation), batch()
    hidden, logits = forward(dense_layers(model), x)
    probabilities = np.exp(logits - logits.max(1, keepdims=True))
    probabilities /= probabilities.sum(1, keepdims=True)
    assert np.allclose(probabilities, model.predict(x, verbose=0), atol=1e-5)
    inside = keras.Model(model.inputs, [layer.output for layer in model.layers[1:-1]])
    for ours, theirs in zip(hidden, inside.predict(x, verbose=0)):
        assert np.allclose(ours, theirs, atol=1e-5)
    spread = activation_spread(model, x)
    assert spread == pytest.approx([float(np.std(h, axis=0).mean()) for h in hidden])


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_the_gradients_are_the_backends(activation):
    """Each activation's own slope: tanh and linear layers are not treated as ReLU."""
    model, (x, y) = stack(activation), batch()
    with tf.GradientTape() as tape:
        loss = keras.losses.CategoricalCrossentropy()(y, model(x, training=True))
    kernels = [layer.kernel for layer in model.layers[1:]]
    expected = [gradient.numpy() for gradient in tape.gradient(loss, kernels)]
    ours = kernel_gradients(model, x, y)
    assert len(ours) == len(expected)
    for mine, theirs in zip(ours, expected):
        scale = np.abs(theirs).max()
        assert scale > 0
        assert np.abs(mine - theirs).max() <= 1e-4 * scale + 1e-8


def test_only_dense_stacks_with_a_softmax_output():
    with pytest.raises(ValueError, match="softmax"):
        kernel_gradients(
            keras.Sequential([keras.Input((784,)), keras.layers.Dense(10, activation="sigmoid")]),
            *batch(),
        )
    convnet = keras.Sequential([keras.Input((784,)), keras.layers.Reshape((28, 28, 1))])
    with pytest.raises(ValueError, match="only Dense layers"):
        dense_layers(convnet)
    with pytest.raises(ValueError, match="no slope known for the elu activation"):
        dense_layers(stack("elu"))
