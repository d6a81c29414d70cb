"""What a stack of Dense layers computes, forwards and backwards, in plain NumPy: how much each
hidden layer's activations differ from digit to digit, and the loss's gradient for each layer's
weights. Computed from ``layer.get_weights()``, they are the same on every Keras backend; the
tests compare them with the backends' own automatic differentiation."""

from __future__ import annotations

import numpy as np

ACTIVATIONS = {
    "relu": lambda z: np.maximum(z, 0),
    "sigmoid": lambda z: 1 / (1 + np.exp(-z)),
    "tanh": np.tanh,
    "linear": lambda z: z,
}
# Each activation's slope, written in terms of its output a (what the forward pass keeps).
SLOPES = {
    "relu": lambda a: (a > 0).astype(np.float64),
    "sigmoid": lambda a: a * (1 - a),
    "tanh": lambda a: 1 - a * a,
    "linear": np.ones_like,
}


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def dense_layers(model) -> list[tuple[np.ndarray, np.ndarray, str]]:
    """(kernel, bias, activation) of each Dense layer of ``model``, input side first, in
    float64 so that the numbers below do not depend on rounding. A ``Flatten`` in front is
    allowed (the inputs are flattened here too); hidden activations must be in ``SLOPES``."""
    import keras

    layers = []
    for index, layer in enumerate(model.layers):
        if isinstance(layer, keras.layers.Flatten) and index == 0:
            continue
        if not isinstance(layer, keras.layers.Dense):
            raise ValueError(f"only Dense layers are supported, not {type(layer).__name__}")
        kernel, bias = (weights.astype(np.float64) for weights in layer.get_weights())
        layers.append((kernel, bias, layer.activation.__name__))
    for _, _, activation in layers[:-1]:
        if activation not in SLOPES:
            raise ValueError(f"no slope known for the {activation} activation")
    return layers


def forward(layers, x: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """The activations of each hidden layer and the output layer's scores (its logits, before
    softmax) for the inputs ``x``."""
    activations, a = [], np.asarray(x, dtype=np.float64).reshape(len(x), -1)
    for kernel, bias, activation in layers[:-1]:
        a = ACTIVATIONS[activation](a @ kernel + bias)
        activations.append(a)
    kernel, bias, _ = layers[-1]
    return activations, a @ kernel + bias


def activation_spread(model, x: np.ndarray) -> list[float]:
    """For each hidden layer, how much its units' activations differ from digit to digit: the
    standard deviation of each unit's activation over the digits in ``x``, averaged over the
    layer's units. Near 0, every digit reaches the layer as the same activations."""
    activations, _ = forward(dense_layers(model), x)
    return [float(a.std(axis=0).mean()) for a in activations]


def kernel_gradients(model, x: np.ndarray, targets: np.ndarray) -> list[np.ndarray]:
    """The gradient of the mean categorical cross-entropy over ``x`` for each Dense kernel, input
    side first, of a softmax stack: the output's error (softmax minus the one-hot target) travels
    back through each layer, multiplied by its weights and its activation's slope."""
    layers = dense_layers(model)
    if layers[-1][2] != "softmax":
        raise ValueError("the last layer must be a softmax")
    activations, logits = forward(layers, x)
    inputs = [np.asarray(x, dtype=np.float64).reshape(len(x), -1), *activations]
    error = (_softmax(logits) - targets) / len(x)  # d loss / d logits
    gradients = []
    for index in range(len(layers) - 1, -1, -1):
        kernel, _, _ = layers[index]
        gradients.append(inputs[index].T @ error)
        if index:
            a, activation = activations[index - 1], layers[index - 1][2]
            error = (error @ kernel.T) * SLOPES[activation](a)
    return gradients[::-1]
